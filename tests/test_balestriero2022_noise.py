"""The three normalization arms of minibatch-margin and the refined grid margins, against exact answers."""

import numpy as np
import pytest
import torch

from bnrepro.balestriero2022 import datasets
from bnrepro.balestriero2022 import margins as mg
from bnrepro.balestriero2022 import noise
from bnrepro.nets import SwitchableMLP, sgd

from conftest import two_linear_classifiers


def _linear(w, b):
    def classify(points):
        return (np.einsum("mpd,md->mp", points, w) + b[:, None] > 0).astype(int)
    return classify


def test_refined_margin_of_a_linear_classifier_is_bounded_by_the_exact_distance():
    """The samples lie on the line: exact <= |margin| <= sqrt(exact^2 + h^2/2) (a cell diagonal apart)."""
    x, w, b, score, y = two_linear_classifiers()
    resolution, pad = 40, 0.5
    margins = noise.refined_margins(_linear(w, b), x, y, resolution=resolution, pad=pad)
    gx, gy = mg.grid_axes(x, resolution, pad)
    h = np.maximum(gx[:, 1] - gx[:, 0], gy[:, 1] - gy[:, 0])[:, None]
    exact = np.abs(score) / np.linalg.norm(w, axis=1)[:, None]
    assert np.all(np.abs(margins) >= exact - 1e-9)
    assert np.all(np.abs(margins) <= np.sqrt(exact**2 + h**2 / 2) + 1e-9)
    assert np.all(margins[:, :5] < 0) and np.all(margins[:, 5:] > 0)
    # far from the line the error is second order, far below the nearest boundary pixel's (up to h*sqrt(2))
    far = exact > 0.3
    assert np.all(np.abs(margins)[far] - exact[far] <= (h**2 / (4 * 0.3) + 1e-9).repeat(60, 1)[far])
    points, valid = noise.boundary_points(_linear(w, b), gx, gy)
    on_line = np.einsum("med,md->me", points, w) + b[:, None]
    assert valid.sum() > 0 and np.abs(on_line[valid]).max() < 1e-5


def test_no_boundary_gives_infinite_margins():
    x = np.zeros((1, 3, 2)) + [[[0.0, 0.0], [1.0, 1.0], [0.5, 0.2]]]
    m = noise.refined_margins(lambda p: np.ones(p.shape[:2], int), x, np.array([[1, 1, 0]]), resolution=10, pad=0.1)
    assert np.array_equal(m, [[np.inf, np.inf, -np.inf]])


def test_bn_equals_popgrad_at_full_batch_and_pop_differs():
    """At B = N the mini-batch is the training set: BN's statistics are the full set's, gradient included,
    so `bn` and `popgrad` take the same steps (to rounding); `pop` drops the gradient through them and drifts."""
    seeds = [3, 4]
    x, y = datasets.moons_sets(seeds, 24, 0.15)
    run = noise.train_arms(x, y, seeds, [2, 8, 8, 2], batch_size=24, epochs=30, lr=0.1)
    w = {arm: v for arm, v in run.split(run.net.weights[1].detach().numpy()).items()}
    np.testing.assert_allclose(w["bn"], w["popgrad"], rtol=0, atol=1e-10)
    assert np.abs(w["pop"] - w["bn"]).max() > 1e-3


def test_arms_match_the_shared_trainer():
    """`bn` and `pop` arms reproduce `nets.sgd` in "batch" and "population" mode (same init, same mini-batches)."""
    seeds = [0, 1]
    x, y = datasets.moons_sets(seeds, 32, 0.15)
    run = noise.train_arms(x, y, seeds, [2, 8, 8, 2], batch_size=4, epochs=3, lr=0.05, arms=("bn", "pop"))
    got = run.split(run.net.weights[0].detach().numpy())
    for arm, mode in (("bn", "batch"), ("pop", "population")):
        net = SwitchableMLP([2, 8, 8, 2], 2, seeds=seeds)
        sgd(net, torch.as_tensor(x), torch.as_tensor(y), mode=mode, epochs=3, batch_size=4, lr=0.05, order_seeds=seeds)
        np.testing.assert_allclose(got[arm], net.weights[0].detach().numpy(), rtol=0, atol=1e-12)


def test_popgrad_differs_from_pop_and_bn_below_full_batch():
    seeds = [7]
    x, y = datasets.moons_sets(seeds, 24, 0.15)
    run = noise.train_arms(x, y, seeds, [2, 8, 8, 2], batch_size=4, epochs=5, lr=0.1)
    w = run.split(run.net.weights[1].detach().numpy())
    assert np.abs(w["popgrad"] - w["pop"]).max() > 1e-4 and np.abs(w["popgrad"] - w["bn"]).max() > 1e-4


def test_arm_accuracy_and_margins_shapes_and_test_draws():
    seeds = [5, 6]
    x, y = datasets.moons_sets(seeds, 20, 0.15)
    run = noise.train_arms(x, y, seeds, [2, 4, 2], batch_size=5, epochs=2, lr=0.05)
    xt, yt = noise.moons_test_sets(seeds, 30, 0.15)
    acc = noise.arm_accuracy(run, xt, yt)
    assert set(acc) == set(noise.ARMS) and all(a.shape == (2,) for a in acc.values())
    margins = noise.arm_margins(run, x, y, resolution=30, pad=0.5)
    assert all(m.shape == (2, 20) for m in margins.values())
    assert not np.array_equal(xt[:, :20], datasets.moons_sets(seeds, 30, 0.15)[0][:, :20])
    assert noise.held_out_seed(5) != 5
    with pytest.raises(ValueError):
        noise.train_arms(x, y, seeds, [2, 4, 2], batch_size=5, epochs=1, lr=0.05, arms=("bn", "dropout"))


def test_wilcoxon_p_matches_the_exact_signed_rank_distribution():
    """Six positive differences: the exact two-sided p is 2 / 2**6."""
    assert noise.wilcoxon_p([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) == pytest.approx(2 / 64)
    assert noise.wilcoxon_p([0.0, 0.0]) == 1.0


def test_refined_margins_do_not_depend_on_the_chunk():
    """The chunk only bounds memory: a trained network's margins are bit-identical for any chunk."""
    seeds = [1, 2]
    x, y = datasets.moons_sets(seeds, 40, 0.15)
    run = noise.train_arms(x, y, seeds, [2, 16, 16, 2], batch_size=8, epochs=3, lr=0.05)
    classify = mg.classifier(run.net, "population", run.stats)
    xx, yy = np.tile(x, (3, 1, 1)), np.tile(y, (3, 1))
    whole = noise.refined_margins(classify, xx, yy, resolution=50, pad=0.5, chunk=2500)
    pieces = noise.refined_margins(classify, xx, yy, resolution=50, pad=0.5, chunk=97)
    np.testing.assert_array_equal(whole, pieces)
