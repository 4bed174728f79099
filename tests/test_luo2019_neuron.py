"""Tests for the luo2019 teacher-student experiments: the generalization curves over sample ratios and the
gamma-versus-batch-size sweep (bookkeeping against direct training, and the constant-predictor floor)."""

import numpy as np
import pytest

from bnrepro.luo2019 import neuron


@pytest.fixture(scope="module")
def data():
    return neuron.teacher_data([3, 4], 40, 6, noise=0.5, n_test=50)


def test_constant_predictor_error_is_the_best_constant(data):
    floor = neuron.constant_predictor_error(data)
    by_hand = ((data.y_test - data.y_test.mean(1, keepdims=True)) ** 2).mean(1)
    np.testing.assert_allclose(floor, by_hand, rtol=1e-14)
    for c in (-0.3, 0.0, 0.2, 0.5):  # any other constant does worse
        assert (((data.y_test - c) ** 2).mean(1) >= floor).all()


def test_predict_matches_the_forward_pass_by_hand(data):
    run = neuron.train(data, ["plain", "wn+gd"], [0, 1], [40, 20], [8, 4], [15, 15], lr=0.05, record_every=5)
    out = neuron.predict(data, run, data.x_test)
    np.testing.assert_allclose(out[0], np.maximum(data.x_test[0] @ run.w[0] + run.beta[0], 0), rtol=1e-12)
    z = run.gamma[1] * data.x_test[1] @ run.w[1] / np.linalg.norm(run.w[1]) + run.beta[1]
    np.testing.assert_allclose(out[1], np.maximum(z, 0), rtol=1e-12)


def test_generalization_equals_direct_training():
    seeds, d, alphas = [7, 8, 9], 5, [2.0, 4.0]
    res = neuron.generalization(seeds, d, alphas, noise=0.3, batch_size=4, steps=25, lr=0.05, n_test=30)
    assert res.error.shape == res.gamma.shape == (len(neuron.KINDS), 2, 3)
    data = neuron.teacher_data(seeds, 20, d, noise=0.3, n_test=30)  # same draws: P_max = 4 d
    k, a, s = neuron.KINDS.index("bn"), 0, 2
    run = neuron.train(data, ["bn"], [s], [10], [4], [25], lr=0.05, record_every=25)
    assert res.error[k, a, s] == pytest.approx(neuron.test_error(data, run)[0], rel=1e-12)
    assert res.gamma[k, a, s] == pytest.approx(run.gamma[0], rel=1e-12)
    assert (res.gamma[neuron.KINDS.index("plain")] == 1).all()
    np.testing.assert_allclose(res.constant_error, neuron.constant_predictor_error(data), rtol=1e-14)


def test_batch_size_sweep_equals_direct_training():
    seeds = [1, 2]
    sweep = neuron.batch_size_sweep(seeds, 6, 24, [4, 8], noise=0.5, steps=40, lr=0.05, n_test=20, average_last=0.5,
                                    record_every=10)
    assert sweep.gamma.shape == sweep.error.shape == (2, 2, 2) and sweep.history.shape == (4, 2, 2, 2)
    assert sweep.averaged_records == 2
    data = neuron.teacher_data(seeds, 24, 6, noise=0.5, n_test=20)
    run = neuron.train(data, ["wn"], [1], [24], [8], [40], lr=0.05, record_every=10)
    np.testing.assert_allclose(sweep.history[:, 1, 1, 1], run.gamma_history[:, 0], rtol=1e-12)
    assert sweep.gamma[1, 1, 1] == pytest.approx(run.gamma_history[-2:, 0].mean(), rel=1e-12)
    assert sweep.error[1, 1, 1] == pytest.approx(neuron.test_error(data, run)[0], rel=1e-12)


def test_bn_gamma_shrinks_at_small_batches():
    # the claim's mechanism at toy size: BN's batch noise acts as a gamma decay ~ 1/M, WN has none
    sweep = neuron.batch_size_sweep([0, 1, 2, 3], 20, 80, [2, 40], noise=0.5, steps=1500, lr=0.05, n_test=10)
    bn, wn = sweep.gamma[0], sweep.gamma[1]
    assert (bn[:, 0] < bn[:, 1]).all()
    assert (bn[:, 0] / bn[:, 1]).mean() < (wn[:, 0] / wn[:, 1]).mean()
