"""cao2023.uniform: the span reduction is the same trajectory, the fits recover known curves exactly."""

import numpy as np
import pytest

from bnrepro import cao2023
from bnrepro.cao2023 import uniform
from bnrepro.data import gaussian_classification


def test_training_in_span_coordinates_is_the_same_trajectory():
    X, y, w0 = gaussian_classification([4, 9], n=8, d=20)
    Xr, coords, frozen = uniform.reduce_to_span(X, w0)
    assert Xr.shape == (2, 8, 8)
    full = cao2023.train(X, y, w0, lr=0.05, steps=400, batchnorm=True)
    reduced = cao2023.train(Xr, y, coords, lr=0.05, steps=400, batchnorm=True)
    # sqrt(D) is the spread of margins of size ~1: equal to rounding of the margins
    np.testing.assert_allclose(np.sqrt(reduced.discrepancy), np.sqrt(full.discrepancy), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(reduced.gamma, full.gamma, rtol=1e-12)
    Q = cao2023.span_basis(X)
    np.testing.assert_allclose(np.einsum("sdr,sr->sd", Q, reduced.final_w), cao2023.project_onto_span(full.final_w, X),
                               rtol=1e-9, atol=1e-12)
    # the frozen part: ||w||^2 = ||P_X w||^2 + ||w0 - P_X w0||^2 at every step
    np.testing.assert_allclose(full.w_norm**2, reduced.w_norm**2 + frozen**2, rtol=1e-11)
    plain_full = cao2023.train(X, y, w0, lr=0.05, steps=400, batchnorm=False)
    plain_reduced = cao2023.train(Xr, y, coords, lr=0.05, steps=400, batchnorm=False)
    np.testing.assert_allclose(plain_reduced.margins, plain_full.margins, rtol=1e-10, atol=1e-12)


def test_log_spaced_window():
    window = uniform.log_spaced_window(10, 1000, 3)
    assert window.tolist() == [10, 100, 1000]
    assert uniform.log_spaced_window(5, 5, 10).tolist() == [5]
    with pytest.raises(ValueError):
        uniform.log_spaced_window(0, 10, 3)


def test_line_fits_recover_known_curves():
    steps = np.arange(100001)
    t = steps.astype(float)
    lr = 0.01
    log_squared = np.exp(-2.0 * np.log(lr * t + 1) ** 2)
    power = np.where(t > 0, 1e3 * np.maximum(t, 1) ** -3.0, 1.0)
    curves = np.stack([log_squared, power], axis=1)
    first, last = np.array([100, 100]), np.array([50000, 50000])
    fits = uniform.line_fits(curves, steps, first, last, lr)
    assert fits.r2_log_squared[0] == pytest.approx(1.0, abs=1e-12)
    assert fits.log_squared_coef[0] == pytest.approx(2.0, rel=1e-10)
    assert fits.r2_power[1] == pytest.approx(1.0, abs=1e-12)
    assert fits.power_exponent[1] == pytest.approx(3.0, rel=1e-10)
    assert fits.log_squared_wins.tolist() == [True, False]
    # no window: nan, and never counted as a win
    none = uniform.line_fits(curves, steps, np.array([-1, 100]), np.array([50000, 50]), lr)
    assert np.isnan(none.r2_power).all() and none.log_squared_wins.tolist() == [False, False]
    assert none.first.tolist() == [-1, -1]


def test_direction_error():
    w = np.array([[3.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    target = np.array([[1.0, 0.0]])
    np.testing.assert_allclose(uniform.direction_error(w, target), [0.0, np.sqrt(2), np.sqrt(2 - np.sqrt(2))], atol=1e-15)


def test_inverse_log_fit_recovers_soudry_rate():
    steps = np.unique(np.round(np.geomspace(1, 1e5, 400)).astype(int))
    log_t = np.log(steps.astype(float))
    delta = np.stack([1.0 / (2.0 + 0.5 * log_t), 5.0 * steps ** -0.4], axis=1)
    r2_inv, slope, r2_pow, (rss_inv, rss_pow) = uniform.inverse_log_fit(delta, steps, 100, 100000)
    assert r2_inv[0] == pytest.approx(1.0, abs=1e-12) and slope[0] == pytest.approx(0.5, rel=1e-10)
    assert rss_inv[0] == pytest.approx(0.0, abs=1e-20) and rss_pow[0] > 1e-4
    assert r2_pow[1] == pytest.approx(1.0, abs=1e-12) and rss_pow[1] < 1e-20 < rss_inv[1]  # inv: finite or inf


def test_experiment_matches_direct_training():
    X, y, w0 = gaussian_classification([1, 2, 3], n=10, d=20)
    result = uniform.uniform_margin_experiment(X, y, w0, w0_scale=1.0, lr=0.05, steps=3000, sweep=[(0.3, 0.02, 2000)],
                                               asymptotic_from=1000, plain_from=100, record_every=100)
    assert [(r.w0_scale, r.lr, r.steps) for r in result.sweep] == [(1.0, 0.05, 3000), (0.3, 0.02, 2000)]
    assert result.sweep[1].discrepancy.shape == (len(result.sweep[1].recorded_steps), 3)
    assert result.main.recorded_steps[-1] == 3000
    direct = cao2023.train(X, y, 0.3 * w0, lr=0.02, steps=2000, batchnorm=True)
    np.testing.assert_allclose(np.sqrt(result.sweep[1].final_discrepancy), np.sqrt(direct.discrepancy[-1]), rtol=1e-6, atol=1e-13)
    np.testing.assert_allclose(result.sweep[1].init_norm, cao2023.project_onto_span(0.3 * w0, X).__pow__(2).sum(-1) ** 0.5,
                               rtol=1e-12)
    mm = cao2023.max_margin(X, y)
    np.testing.assert_allclose(result.max_margin_discrepancy, cao2023.margin_discrepancy(mm.w, X, y), rtol=1e-9)
    main = cao2023.train(X, y, w0, lr=0.05, steps=3000, batchnorm=True)
    w_star = cao2023.min_norm_interpolator(X, y)
    projected = cao2023.project_onto_span(main.final_w, X)
    cos = np.sum(projected * w_star, -1) / (np.linalg.norm(projected, axis=-1) * np.linalg.norm(w_star, axis=-1))
    np.testing.assert_allclose(result.cos_uniform, cos, rtol=1e-12)
    t = np.arange(1000, 3001)
    np.testing.assert_allclose(result.eta_t_loss[1], (0.05 * t[:, None] * main.loss[t]).max(axis=0), rtol=1e-9)
    assert (result.w_norm_min_increase >= -1e-12).all()  # Lemma 4.4
    assert result.plain_direction_error.shape == (len(result.plain_steps), 3)
    np.testing.assert_allclose(result.frozen_norm**2 + np.sum(cao2023.project_onto_span(w0, X) ** 2, -1), np.sum(w0**2, -1),
                               rtol=1e-12)
