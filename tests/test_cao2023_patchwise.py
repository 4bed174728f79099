"""cao2023.patchwise against closed forms and the model's own trainer."""

import numpy as np
import pytest

from bnrepro import cao2023
from bnrepro.cao2023 import patchwise
from bnrepro.cao2023.examples import Example31
from bnrepro.data import gaussian_classification


def test_uniformity_floor_is_zero_iff_assumption_3_1_holds():
    under, y_under, _ = gaussian_classification([1, 2], n=5, d=30, patches=3)  # nP = 15 < d: holds
    np.testing.assert_allclose(patchwise.uniformity_floor(under, y_under), 0.0, atol=1e-12)
    X31, y31 = Example31(d=10, P=4, sigma=2.0).training_sets([0], n=8)  # nP = 32 > d, but w = u solves every equation
    np.testing.assert_allclose(patchwise.uniformity_floor(X31, y31), 0.0, atol=1e-12)
    over, y_over, _ = gaussian_classification([3], n=8, d=10, patches=4)  # nP = 32 > d, generic: fails
    assert patchwise.uniformity_floor(over, y_over)[0] > 0.1


def test_uniformity_floor_is_the_minimum_of_the_patch_discrepancy():
    X, y, _ = gaussian_classification([4, 5], n=8, d=10, patches=4)
    floor = patchwise.uniformity_floor(X, y)
    w_ls = cao2023.min_norm_interpolator(X, y)  # least squares where the system has no solution
    np.testing.assert_allclose(cao2023.margin_discrepancy(w_ls, X, y), floor, rtol=1e-10)
    random_w = np.random.default_rng(0).standard_normal((200, 2, 10))
    assert all((cao2023.margin_discrepancy(w, X, y) >= floor - 1e-12).all() for w in random_w)
    # one hand-computed case: two scalar "patches" 1 and 3 (n = 1, P = 2, d = 1): m = (1, 3)/sqrt(5), mean 2/sqrt(5),
    # D = 2 (1 - 4/5) = 0.4 whatever w (d = 1)
    assert patchwise.uniformity_floor(np.array([[[[1.0], [3.0]]]]), np.array([[1.0]]))[0] == pytest.approx(0.4, rel=1e-12)


def test_loss_rate_fits_recover_an_exact_inverse_linear_loss():
    t = np.arange(1000, dtype=float)[:, None]
    lr, P = 0.01, 4
    loss = 1.0 / (lr * P * (np.array([2.0, 5.0]) + np.array([3.0, 0.5]) * t))
    r2, slope = patchwise.loss_rate_fits(loss, lr, P, start=100)
    np.testing.assert_allclose(r2, 1.0, atol=1e-12)
    np.testing.assert_allclose(slope, [3.0, 0.5], rtol=1e-10)
    r2_bad, _ = patchwise.loss_rate_fits(np.exp(-t / 200.0) + 0 * loss, lr, P, start=100)  # exponential decay: 1/L is not linear
    assert (r2_bad < 0.9).all()


def test_sensitivity_equals_the_models_trainer_per_configuration():
    X, y, direction = gaussian_classification([6, 7], n=5, d=24, patches=3)
    grid = patchwise.sensitivity(X, y, direction, lrs=[0.003, 0.02], w0_scales=[0.1, 1.0], steps=400)
    assert grid.final_discrepancy.shape == (2, 2, 2)
    for a, lr in enumerate([0.003, 0.02]):
        for b, scale in enumerate([0.1, 1.0]):
            w0 = scale * direction / np.linalg.norm(direction, axis=-1, keepdims=True)
            run = cao2023.train(X, y, w0, lr=lr, steps=400, batchnorm=True)
            np.testing.assert_allclose(grid.final_discrepancy[a, b], run.discrepancy[-1], rtol=1e-9, atol=1e-25)
            np.testing.assert_allclose(grid.norm_growth[a, b], run.w_norm[-1] / run.w_norm[0], rtol=1e-12)
            for level, first in grid.first_step.items():
                np.testing.assert_array_equal(first[a, b], cao2023.first_step_below(run.discrepancy, level))
            np.testing.assert_allclose(grid.discrepancy[:, a, b], run.discrepancy[grid.snapshot_steps], rtol=1e-9, atol=1e-25)


def test_sensitivity_rejects_bad_arguments():
    X, y, direction = gaussian_classification([6], n=3, d=8, patches=2)
    with pytest.raises(ValueError):
        patchwise.sensitivity(X, y, direction, lrs=[0.0], w0_scales=[1.0], steps=10)


def test_crossing_slopes_per_seed_on_known_curves():
    t = np.arange(1, 300001, dtype=float)
    power = 10.0 * t**-3.0  # slope -3 everywhere
    log_squared = np.exp(-0.5 * np.log(t) ** 2)  # slope -log t: steeper later
    too_slow = np.full_like(t, 0.5)  # never crosses
    D = np.stack([power, log_squared, too_slow], axis=1)
    D = np.concatenate([D[:1], D])  # index = step, step 0 included
    early = patchwise.crossing_slopes(D, 1e-3, 1e-6)
    late = patchwise.crossing_slopes(D, 1e-12, 1e-15)
    assert early[0] == pytest.approx(-3.0, rel=0.02) and late[0] == pytest.approx(-3.0, rel=1e-3)  # first crossings are whole steps
    assert late[1] / early[1] > 1.5  # exp(-c log^2 t) steepens
    assert np.isnan(early[2]) and np.isnan(late[2])
