"""lee2022.convergence and lee2022.init_order against hand-built cases and the plain integrator: the trap
certificate on a configuration worked out by hand (and confirmed by a long run), the early-stopping integrator
against `lee2022.flow`, the adversarial inits' defining properties, and the init-order reductions against the
trajectories they reduce."""

import numpy as np
import pytest

from bnrepro import lee2022, stats

cv = lee2022.convergence


def _hand_case():
    """v = e1; two positive points right of the origin, three zero-label points on the left spread vertically, so
    that M_A (all three active) has its slowest eigenvector along e1: from w = (-1, 0.1) the flow turns to -e1."""
    X = np.array([[[1.0, 0.2], [1.0, -0.2], [-0.5, 2.0], [-0.5, -2.0], [-1.0, 0.0]]])
    v = np.array([[1.0, 0.0]])
    y = np.maximum(np.einsum("snd,sd->sn", X, v), 0.0)
    return X, y, v


def test_trap_certificate_on_a_hand_built_trap_and_its_long_run():
    X, y, _ = _hand_case()
    w = np.array([[-1.0, 0.1]])
    assert cv.trap_certificate(X, y, w).tolist() == [True]
    f = lee2022.flow(X, y, w, eta=0.05, steps=20000, record_every=1000)
    floor = 0.5 * np.mean(y**2, axis=1)
    assert np.all(f.loss >= floor * (1 - 1e-12))
    assert f.norm[-1, 0] < 1e-10 * f.norm[0, 0]


def test_trap_certificate_refuses_when_the_arc_crosses_a_kink_or_a_positive_point_is_active():
    X, y, _ = _hand_case()
    X2 = X.copy()
    X2[0, 2:4] = [[-0.5, 0.3], [-0.5, -0.3]]  # now the slowest direction is vertical: the arc reaches the positives
    w = np.array([[-1.0, 0.1]])
    assert cv.trap_certificate(X2, y, w).tolist() == [False]
    assert cv.trap_certificate(X, y, np.array([[1.0, 0.0]])).tolist() == [False]  # positives active
    with pytest.raises(ValueError):
        cv.trap_certificate(np.zeros((1, 3, 3)), np.zeros((1, 3)), np.zeros((1, 3)))


def test_outcomes_agree_with_the_plain_integrator():
    seeds = list(range(40))
    X, y, v = lee2022.teacher_data(seeds, 20, 2)
    w0 = lee2022.init_weights(seeds, 2, 1.0)
    w0[:10] = -v[:10] * 0.5 + 0.05 * w0[:10]  # near -v, where traps live
    o = cv.outcomes(X, y, w0, eta=0.05, steps=4000, loss_threshold=1e-10, chunk=20)
    assert not o.undetermined.any() and o.trapped.sum() >= 2 and o.converged.sum() >= 20
    f = lee2022.flow(X, y, w0, eta=0.05, steps=4000, record_every=4000)
    np.testing.assert_array_equal(o.converged, f.loss[-1] < 1e-10)
    floor = 0.5 * np.mean(y**2, axis=1)
    assert np.all(f.loss[-1][o.trapped] >= floor[o.trapped] * (1 - 1e-12))
    # a converged run stopped at its hitting time; restarting the plain integrator there lands on the same w
    for s in np.flatnonzero(o.converged)[:5]:
        k = int(round(o.t_stop[s] / 0.05))
        g = lee2022.flow(X[s:s + 1], y[s:s + 1], w0[s:s + 1], eta=0.05, steps=max(k, 1), record_every=max(k, 1))
        np.testing.assert_allclose(g.w[-1, 0], o.w[s], rtol=1e-9, atol=1e-12)
    assert o.positive_active_init.tolist() == np.any((np.einsum("snd,sd->sn", X, w0) > 0) & (y > 0), axis=1).tolist()


def test_single_positive_inits_have_exactly_one_active_positive_point():
    seeds = list(range(30))
    X, y, v = lee2022.teacher_data(seeds, 50, 2)
    w0 = cv.single_positive_inits(X, y, v, [0.1, 3.0])
    assert w0.shape == (2, 2, 30, 2)
    for k in range(2):
        for j in range(2):
            active_positive = (np.einsum("snd,sd->sn", X, w0[k, j]) > 0) & (y > 0)
            assert np.all(active_positive.sum(axis=1) == 1)
    np.testing.assert_allclose(np.linalg.norm(w0[1], axis=-1), 3.0)


def test_angle_grid_and_random_inits_layout():
    seeds = [4, 9, 13]
    _, _, v = lee2022.teacher_data(seeds, 10, 2)
    angles = np.array([-3.0, -0.5, 0.0, 1.0, np.pi])
    w0 = cv.angle_grid_inits(v, angles, [0.5, 2.0])
    for k, r in enumerate([0.5, 2.0]):
        for a, phi in enumerate(angles):
            np.testing.assert_allclose(np.linalg.norm(w0[k, a], axis=1), r)
            np.testing.assert_allclose(np.cos(cv.signed_angle(w0[k, a], v)), np.cos(phi), atol=1e-12)
            np.testing.assert_allclose(np.sin(cv.signed_angle(w0[k, a], v)), np.sin(phi), atol=1e-12)
    e = cv.random_inits(seeds, 10, [0.01, 5.0], eta=0.05, steps=50, loss_threshold=1e-10)
    np.testing.assert_allclose(e.w0[3:], lee2022.init_weights(seeds, 2, 5.0))
    np.testing.assert_array_equal(e.seed, seeds * 2)
    np.testing.assert_array_equal(e.norm, [0.01] * 3 + [5.0] * 3)


def test_init_norm_order_reduces_the_sweep_it_runs():
    seeds = [1, 2, 3, 4]
    norms = [1e-3, 3.0]
    order = lee2022.init_order.init_norm_order(seeds, 30, 3, norms, eta=0.02, steps=3000, record_every=10, align_cos=0.9)
    f, vv, _ = lee2022.init_norm_sweep(seeds, 30, 3, norms, eta=0.02, steps=3000, record_every=10)
    np.testing.assert_array_equal(order.alpha, lee2022.alignment_first(f.w, vv).reshape(2, 4))
    cos = stats.cosine(f.w, vv[None])
    for run in range(8):
        t_align = f.t[np.argmax(cos[:, run] > 0.9)] if np.any(cos[:, run] > 0.9) else np.inf
        t_norm = f.t[np.argmax(f.norm[:, run] > 0.5)] if np.any(f.norm[:, run] > 0.5) else np.inf
        assert order.cos_first.ravel()[run] == (t_align < t_norm)
    np.testing.assert_array_equal(order.direction_first, order.alpha >= 0.5)
    np.testing.assert_allclose(order.final_loss.ravel(), f.loss[-1])
