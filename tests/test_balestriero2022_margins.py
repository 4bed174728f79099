"""The jitter law and the grid margins of the minibatch-margin claim, against exact answers."""

import numpy as np
import torch

from bnrepro import stats
from bnrepro.balestriero2022 import datasets
from bnrepro.balestriero2022 import margins as mg
from bnrepro.nets import SwitchableMLP

from conftest import two_linear_classifiers


def test_batch_offsets_are_the_bn_centring_of_the_shared_network():
    x, _ = datasets.moons_sets([3], 300, 0.1, 3.0)
    net = SwitchableMLP([2, 16, 1], 1, seeds=[3])
    w = net.weights[0][0].detach().numpy()
    idx = mg.batch_indices(np.random.default_rng(0), 300, 8, 5)
    offsets = mg.batch_offsets(x[0], w, idx)
    for b in range(5):
        mu = net.statistics(torch.as_tensor(x[0][idx[b]])).mean[0][0].numpy()
        np.testing.assert_allclose(offsets[b], mu / np.linalg.norm(w, axis=1), rtol=1e-12)
    assert all(len(set(row)) == 8 for row in idx.tolist())  # without replacement within a batch


def test_predicted_jitter_is_rms_distance_over_sqrt_b():
    x, _ = datasets.moons_sets([1], 500, 0.1)
    w = np.random.default_rng(1).standard_normal((7, 2))
    fpc = (500 - 20) / 499
    np.testing.assert_allclose(mg.predicted_jitter(x[0], w, 20), mg.rms_distance(x[0], w) / np.sqrt(20) * np.sqrt(fpc), rtol=1e-12)
    np.testing.assert_allclose(mg.predicted_jitter(x[0], w, 20, without_replacement=False) ** 2 * fpc,
                               mg.predicted_jitter(x[0], w, 20) ** 2, rtol=1e-12)


def test_measured_jitter_matches_the_exact_law():
    """N = 40, B = 30: the finite-population factor is 10/39, far from 1, so only the exact law passes.

    With 20000 batches the measured variance of each unit has relative standard error about
    sqrt(2/20000) = 1%, so the std about 0.5%; 3% is six standard errors, while dropping the factor
    (ratio 1/sqrt(10/39) = 1.97) or the sqrt(B) fails by far.
    """
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 2)) * [1.0, 3.0] + 2.0
    w = rng.standard_normal((6, 2))
    idx = mg.batch_indices(np.random.default_rng(6), 40, 30, 20000)
    ratio = mg.measured_jitter(x, w, idx) / mg.predicted_jitter(x, w, 30)
    np.testing.assert_allclose(ratio, 1.0, atol=0.03)
    assert abs(stats.loglog_slope([4, 16, 64], [1 / 2, 1 / 4, 1 / 8]) + 0.5) < 1e-12


def test_grid_margin_of_a_linear_classifier():
    """Exact distance |w.x + b| / ||w||, negative for misclassified points, within a cell diagonal."""
    x, w, b, score, y = two_linear_classifiers()

    def classify(points):
        return (np.einsum("mpd,md->mp", points, w) + b[:, None] > 0).astype(int)

    margins, step = mg.signed_margins(classify, x, y, resolution=300, pad=0.5)
    exact = np.abs(score) / np.linalg.norm(w, axis=1)[:, None]
    exact = np.where(np.arange(60) < 5, -exact, exact)
    assert np.all(np.abs(margins - exact) <= step[:, None] * np.sqrt(2))
    assert np.all(margins[:, :5] <= 0) and np.all(margins[:, 5:] >= 0)


def test_network_margins_and_flips_are_deterministic():
    x, y = datasets.moons_sets([0, 1], 40, 0.15)
    runs = []
    for _ in range(2):
        net = SwitchableMLP([2, 8, 8, 2], 2, seeds=[0, 1])
        stats = net.statistics(torch.as_tensor(x))
        m, _ = mg.signed_margins(mg.classifier(net, "population", stats), x, y, resolution=60)
        f = mg.flip_rates(net, 1, x[1], mg.batch_indices(np.random.default_rng(0), 40, 4, 10))
        runs.append((m, f))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert np.isfinite(runs[0][0]).all()


def test_replicate_copies_one_model():
    x, _ = datasets.moons_sets([0, 1], 30, 0.15)
    net = SwitchableMLP([2, 8, 8, 2], 2, seeds=[4, 9])
    rep = mg.replicate(net, 1, 3)
    xt = torch.as_tensor(x[1])
    out = rep(xt, "batch").detach()
    np.testing.assert_allclose(out, net(torch.as_tensor(x), "batch").detach()[1].expand(3, -1, -1), atol=1e-13)
