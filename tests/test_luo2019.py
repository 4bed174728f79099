"""Library tests for luo2019: PN/BN forward passes, the paired Monte Carlo, the second-order gamma-decay
prediction and the batched single-neuron SGD."""

import numpy as np
import pytest

from bnrepro import stats
from bnrepro.luo2019 import decomposition as dec
from bnrepro.luo2019 import neuron


def test_pn_forward_by_hand():
    h = np.array([[1.0, 2.0, 3.0, 4.0]])
    # mean 2.5, population (ddof=0) std sqrt(1.25)
    expected = 2.0 * (h - 2.5) / np.sqrt(1.25) + 0.5
    np.testing.assert_allclose(dec.pn_forward(h, np.array([2.0]), np.array([0.5])), expected, rtol=0, atol=1e-15)


def test_bn_forward_uses_each_batch_statistics():
    hb = np.array([[[0.0, 2.0], [10.0, 14.0]]])  # one seed, two batches of M=2
    out = dec.bn_forward(hb, np.array([3.0]), np.array([1.0]))
    np.testing.assert_allclose(out, [[[-2.0, 4.0], [-2.0, 4.0]]], atol=1e-15)


def _tiny_population(p, seed=3):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal(p) * 2 + 1
    y = 0.7 * (h - 1) / 2 + 0.3 * rng.standard_normal(p)
    return h, y


def test_paired_monte_carlo_matches_exact_enumeration():
    h, y = _tiny_population(10)
    gamma, beta, m = 0.6, 0.1, 4
    exact = dec.exact_delta(h, y, gamma, beta, m, "softplus")  # all C(10, 4) = 210 batches
    pop = dec.Population(h[None], y[None], "softplus")
    mc, err = dec.paired_delta(pop, np.array([gamma]), np.array([beta]), [m], draws=400000, seeds=[0])
    assert err[0, 0] > 0
    assert abs(mc[0, 0] - exact) <= 4 * err[0, 0]


@pytest.mark.parametrize("activation", ["linear", "softplus"])
def test_second_order_prediction_against_large_monte_carlo(activation):
    # P = 20000, M = 32, 1.6M paired sample-draws: the Monte Carlo standard error of M*Delta/gamma^2 is about
    # 2%, the O(1/M^2) remainder a few per cent; stated tolerance 10%.
    pop = dec.population([0], 20000, 50, activation)
    gamma, beta = dec.fit_pn(pop.h, pop.y, activation)
    grad = np.abs(np.stack(dec.pn_gradient(pop.h, pop.y, gamma, beta, activation)))
    assert grad.max() < 1e-5  # PN-stationary
    m = 32
    delta, err = dec.paired_delta(pop, gamma, beta, [m], draws=1600000, seeds=[0])
    measured = m * delta[0, 0] / gamma[0] ** 2
    predicted = dec.zeta_times_m(pop.h, pop.y, gamma, beta, activation)[0]
    assert delta[0, 0] > 5 * err[0, 0]
    assert abs(measured / predicted - 1) <= 0.1


def test_zeta_linear_closed_form():
    # linear g: l'' = 1, so zeta*M = 1/2 + (kappa - 1)/8 * mean(u^2) = 1/2 + (kappa - 1)/8
    h, y = _tiny_population(1000)
    u = (h - h.mean()) / h.std()
    kappa = np.mean(u**4)
    got = dec.zeta_times_m(h[None], y[None], np.array([0.8]), np.array([0.0]), "linear")[0]
    assert got == pytest.approx(0.5 + (kappa - 1) / 8, rel=1e-12)


def test_shared_loglog_slope_per_seed_rows():
    # the pn-gamma-decay notebook takes one slope per seed from Delta of shape (S, len(M))
    m = np.array([8.0, 16, 32, 64])
    slopes = stats.loglog_slope(m, np.stack([3 / m, 0.5 / m**2]))
    np.testing.assert_allclose(slopes, [-1.0, -2.0], rtol=0, atol=1e-12)


def test_batch_stream_is_epochs_of_permutations():
    idx = neuron.batch_stream(5, 12, 4, 9)  # 3 epochs of 12 samples in blocks of 4
    assert idx.shape == (9, 4)
    for e in range(3):
        assert sorted(idx[3 * e : 3 * e + 3].ravel()) == list(range(12))
    np.testing.assert_array_equal(neuron.batch_stream(5, 12, 4, 20)[:9], idx)  # prefix-stable


@pytest.fixture(scope="module")
def data():
    return neuron.teacher_data([0, 1], 40, 6, noise=0.5, n_test=50)


def test_masked_batches_equal_separate_training(data):
    # a BN model with M=4 trained alongside an M=8 model (padded, masked) equals it trained alone
    joint = neuron.train(data, ["bn", "bn"], [0, 0], [40, 40], [4, 8], [30, 30], lr=0.05, record_every=10)
    alone = neuron.train(data, ["bn"], [0], [40], [4], [30], lr=0.05, record_every=10)
    np.testing.assert_allclose(joint.w[0], alone.w[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(joint.gamma[0], alone.gamma[0], rtol=1e-12)


def test_models_stop_after_their_steps(data):
    short = neuron.train(data, ["wn", "wn"], [1, 1], [40, 40], [8, 8], [5, 20], lr=0.05, record_every=5)
    alone = neuron.train(data, ["wn"], [1], [40], [8], [5], lr=0.05, record_every=5)
    np.testing.assert_allclose(short.w[0], alone.w[0], rtol=1e-12, atol=1e-14)
    assert not np.allclose(short.w[1], short.w[0])


def test_scale_invariant_students_grow_their_norm(data):
    # grad_w is orthogonal to w for WN and BN, so ||w - lr g||^2 = ||w||^2 + lr^2 ||g||^2 >= ||w||^2
    run = neuron.train(data, ["wn", "bn"], [0, 0], [40, 40], [8, 8], [40, 40], lr=0.1, record_every=10)
    w0 = np.linalg.norm(data.w0[0])
    assert (np.linalg.norm(run.w, axis=1) >= w0 - 1e-12).all()


def test_gamma_decay_shrinks_gamma(data):
    run = neuron.train(data, ["wn", "wn+gd"], [0, 0], [40, 40], [8, 8], [200, 200], lr=0.05, record_every=50)
    assert run.gamma[1] < run.gamma[0]


def test_bn_prediction_uses_training_population_statistics(data):
    run = neuron.train(data, ["bn", "wn"], [1, 1], [30, 30], [6, 6], [10, 10], lr=0.05, record_every=5)
    out = neuron.predict(data, run, data.x_test)
    h_train = data.x[1, :30] @ run.w[0]
    h = data.x_test[1] @ run.w[0]
    expected = np.maximum(run.gamma[0] * (h - h_train.mean()) / h_train.std() + run.beta[0], 0)
    np.testing.assert_allclose(out[0], expected, rtol=1e-12)
    z_wn = run.gamma[1] * data.x_test[1] @ run.w[1] / np.linalg.norm(run.w[1]) + run.beta[1]
    np.testing.assert_allclose(out[1], np.maximum(z_wn, 0), rtol=1e-12)


def test_lr_grid_models_share_their_seed_start():
    # model (i, s) of the sweep starts from seed s whatever its learning rate; BN rows only grow (scale invariance)
    from bnrepro.luo2019 import mlp

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = rng.integers(0, 10, 40)
    out = mlp.train_lr_grid(x, y, x[:10], y[:10], "batch", "learnable", seeds=[0, 1], lr_grid=[0.01, 1.0], width=8,
                            epochs=2, batch_size=8)
    assert out["rows"].shape == (3, 2, 2, 8) and out["loss"].shape == out["acc"].shape == (2, 2)
    assert out["net"].models == 4
    np.testing.assert_array_equal(out["rows"][0, 0], out["rows"][0, 1])  # same start per seed
    assert not np.array_equal(out["rows"][0, 0, 0], out["rows"][0, 0, 1])  # different seeds differ
    growth = out["rows"][-1] / out["rows"][0]
    assert (growth >= 1 - 1e-5).all()
    assert growth[1].max() > growth[0].max()  # the larger step grows the norm more
