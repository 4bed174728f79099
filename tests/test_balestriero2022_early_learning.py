"""The smart-initialization learning curves: batched trainer, early area, Holm's correction, per-seed data."""

import numpy as np
import pytest
import torch

from bnrepro import stats
from bnrepro.balestriero2022 import datasets, early_learning as el, initialization
from bnrepro.nets import SwitchableMLP, accuracy, sgd

P = np.array([0.01, 0.04, 0.03, 0.005])


def test_holm_adjusted_p_values_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> monotone 0.06
    np.testing.assert_allclose(stats.holm_adjusted(P), [0.03, 0.06, 0.06, 0.02])
    assert stats.holm_adjusted([0.5, 0.9]).max() == 1.0  # capped


def test_holm_confidences_by_hand():
    # levels 0.05/4, 0.05/3 reject; 0.03 > 0.05/2 stops: it and every later rank get 0.05/2
    np.testing.assert_allclose(stats.holm_confidences(P), [1 - 0.05 / 3, 1 - 0.025, 1 - 0.025, 1 - 0.0125])
    np.testing.assert_allclose(stats.holm_confidences([0.001, 0.002]), [1 - 0.025, 1 - 0.05])  # all rejected


@pytest.mark.parametrize("seed", range(20))
def test_interval_decisions_at_holm_confidences_are_holm_decisions(seed):
    rng = np.random.default_rng(seed)
    samples = [rng.normal(rng.uniform(-1.5, 1.5), 1.0, 12) for _ in range(8)]
    p = np.array([stats.t_pvalue(s, 0.0) for s in samples])
    conf = stats.holm_confidences(p)
    decided = [not (lo <= 0.0 <= hi) for lo, hi in (stats.t_interval(s, c) for s, c in zip(samples, conf))]
    np.testing.assert_array_equal(decided, stats.holm_adjusted(p) <= 0.05)


def test_t_pvalue_is_the_test_dual_to_the_t_interval():
    values = np.array([0.3, 1.2, 0.8, -0.1, 0.9])
    p = stats.t_pvalue(values, 0.2)
    lo, hi = stats.t_interval(values - 0.2, 1 - p)
    assert lo == pytest.approx(0.0, abs=1e-12)  # at confidence 1 - p the interval just touches the threshold
    assert stats.t_pvalue([2.0, 2.0], 1.0) == 0.0 and stats.t_pvalue([1.0, 1.0], 1.0) == 1.0


def test_eval_steps_grid():
    np.testing.assert_array_equal(el.eval_steps(10, 5, 2, 4), [0, 2, 5, 8, 10, 12, 15, 18, 20, 30, 40, 50])
    np.testing.assert_array_equal(el.eval_steps(10, 7, 1, 2, late_every=3), [0, 5, 10, 30, 60, 70])
    with pytest.raises(ValueError):
        el.eval_steps(10, 2, 3, 4)


def test_early_area_is_the_trapezoid_mean():
    acc = np.zeros((4, 5, 1))
    acc[:, 0, 0] = [0.0, 0.5, 1.0, 0.2]  # steps 0, 1, 3, 10
    curves = el.Curves(np.array([0, 1, 3, 10]), 1, acc, np.zeros((5, 1)), 0.0)
    # (0 + 0.5)/2 * 1 + (0.5 + 1)/2 * 2 = 1.75 over 3 steps
    assert el.early_area(curves, 3)[0, 0] == pytest.approx(1.75 / 3)
    with pytest.raises(ValueError):
        el.early_area(curves, 2)


class _Images:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.x_train, self.y_train = rng.random((60, 1, 2, 2)).astype(np.float32), np.repeat(np.arange(3), 20)
        self.x_test, self.y_test = rng.random((30, 1, 2, 2)).astype(np.float32), np.repeat(np.arange(3), 10)


def test_per_seed_images_are_balanced_seeded_and_differ_between_seeds():
    ds = _Images()
    a, b = el.per_seed_images(ds, [1, 2], 4, 3), el.per_seed_images(ds, [2], 4, 3)
    assert a.x_train.shape == (2, 12, 4) and a.x_test.shape == (2, 9, 4) and a.x_train.dtype == np.float64
    assert all(np.bincount(y).tolist() == [4, 4, 4] for y in a.y_train)
    np.testing.assert_array_equal(a.x_train[1], b.x_train[0])  # a seed's subset does not depend on the others
    assert not np.array_equal(a.x_train[0], a.x_train[1])
    rows = [np.flatnonzero((ds.x_train.reshape(60, 4) == r).all(axis=1))[0] for r in a.x_train[0].astype(np.float32)]
    np.testing.assert_array_equal(ds.y_train[rows], a.y_train[0])  # labels travel with their images


def test_per_seed_digits_splits_all_digits_anew_per_seed():
    d = el.per_seed_digits([0, 1])
    assert d.x_train.shape[0] == 2 and d.x_train.shape[1] + d.x_test.shape[1] == 1797 and d.x_train.shape[2] == 64
    assert not np.array_equal(d.x_train[0], d.x_train[1])
    np.testing.assert_array_equal(np.bincount(d.y_train[0]), np.bincount(d.y_train[1]))  # stratified


@pytest.fixture(scope="module")
def moons():
    return datasets.moons_batch([3, 4], 120, 0.2, shift=3.0)


@pytest.fixture(scope="module")
def curves(moons):
    return el.train_curves([2, 8, 8, 1], [3, 4], moons, slope=0.0, epochs=3, batch_size=16, lr=0.05, momentum=0.9,
                           early_epochs=2, evals_per_epoch=2)


def test_fold_equals_bn_at_initialization_and_shapes(curves):
    assert curves.fold_mismatch < 1e-12
    assert curves.test_accuracy.shape == (len(curves.steps), 5, 2) and curves.steps_per_epoch == 3
    np.testing.assert_array_equal(curves.test_accuracy[0, 2], curves.test_accuracy[0, 4])  # same function at init


def test_each_arm_trains_exactly_as_the_reference_trainer(moons, curves):
    """Arm by arm, the batched trainer reproduces `nets.sgd` on one seed (same weights, batches, momentum SGD)."""
    seed = 4
    one = datasets.moons_batch([seed], 120, 0.2, shift=3.0)
    plain, bn = initialization.initializations([2, 8, 8, 1], [seed], one.x_train, slope=0.0)
    kw = dict(epochs=3, batch_size=16, lr=0.05, momentum=0.9)
    sgd(plain, np.concatenate([one.x_train] * 4), np.concatenate([one.y_train] * 4), mode="none", order_seeds=[seed] * 4, **kw)
    sgd(bn, one.x_train, one.y_train, mode="batch", order_seeds=[seed], **kw)
    x_te, y_te = one.x_test, one.y_test
    expected = np.concatenate([accuracy(plain, np.concatenate([x_te] * 4), np.concatenate([y_te] * 4), "none").numpy(),
                               accuracy(bn, x_te, y_te, "population", bn.statistics(one.x_train)).numpy()])
    np.testing.assert_array_equal(curves.test_accuracy[-1, :, 1], expected)


def test_seeds_are_independent(curves):
    alone = el.train_curves([2, 8, 8, 1], [4], datasets.moons_batch([4], 120, 0.2, shift=3.0), slope=0.0, epochs=3,
                            batch_size=16, lr=0.05, momentum=0.9, early_epochs=2, evals_per_epoch=2)
    np.testing.assert_allclose(alone.test_accuracy[:, :, 0], curves.test_accuracy[:, :, 1])


def test_bad_data_is_rejected(moons):
    with pytest.raises(ValueError):
        el.train_curves([2, 4, 1], [1], moons, slope=0.0, epochs=1, batch_size=8, lr=0.1, momentum=0.0,
                        early_epochs=1, evals_per_epoch=1)


def test_reference_net_is_the_one_used():  # the trainer starts from initialization's weights, not a new draw
    net = SwitchableMLP([2, 3, 1], 1, seeds=[7])
    again = SwitchableMLP([2, 3, 1], 1, seeds=[7])
    assert torch.equal(net.weights[0], again.weights[0])


def test_float32_training_starts_from_the_float64_initialization_and_follows_it(moons, curves):
    """dtype=float32: the fold check and the step-0 accuracies are the float64 ones; training then tracks float64
    up to rounding (here, on well-separated moons, to within one test point per arm and seed)."""
    single = el.train_curves([2, 8, 8, 1], [3, 4], moons, slope=0.0, epochs=3, batch_size=16, lr=0.05, momentum=0.9,
                             early_epochs=2, evals_per_epoch=2, dtype=torch.float32)
    assert single.fold_mismatch == curves.fold_mismatch
    np.testing.assert_array_equal(single.test_accuracy[0], curves.test_accuracy[0])
    np.testing.assert_allclose(single.test_accuracy, curves.test_accuracy, atol=1.5 / moons.x_test.shape[1])


def test_first_layer_layout_is_the_matmul_layout():
    w = torch.arange(2 * 3 * 4 * 5, dtype=torch.float64).reshape(2, 3, 4, 5)  # (K, S, o, d)
    laid = el._first_layer_layout(w)
    assert laid.shape == (3, 5, 2, 4) and laid.is_contiguous()
    assert laid[1, 4, 0, 2] == w[0, 1, 2, 4]
