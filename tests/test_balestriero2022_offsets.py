"""Data-aware non-BN offsets (median, a data point) with BN's scale: the control of partition-adaptation."""

import numpy as np
import pytest
import torch

from bnrepro.balestriero2022 import offsets
from bnrepro.balestriero2022 import partition as P
from bnrepro.nets import SwitchableMLP


def _data(seed=0, n=200, d=3):
    return np.random.default_rng(seed).standard_normal((n, d)) * [1.0, 2.0, 0.5][:d] + 1.5


def test_mean_rule_reproduces_bn_hyperplanes():
    x, seeds = _data(), [0, 1]
    net = SwitchableMLP([3, 6, 6, 1], 2, seeds=seeds, slope=0.1)
    bn = P.hyperplanes(net, "population", net.statistics(x))
    mine = offsets.data_aware_hyperplanes(net, x, "mean", seeds)
    for a, b in zip(bn.offsets + bn.scales, mine.offsets + mine.scales, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_median_rule_splits_every_unit_in_half_with_unit_variance():
    x, seeds = _data(1), [0, 1, 2]
    net = SwitchableMLP([3, 5, 5, 1], 3, seeds=seeds, slope=0.1)
    hp = offsets.data_aware_hyperplanes(net, x, "median", seeds)
    hs, _ = P.forward(hp, x)
    for h in hs:
        np.testing.assert_array_equal((h > 0).sum(dim=1).numpy(), 100)  # N = 200, no ties: 100 on each side
        torch.testing.assert_close(h.var(dim=1, unbiased=False), torch.ones_like(h[:, 0]), rtol=1e-12, atol=0)


def test_point_rule_passes_through_the_drawn_point_and_draws_per_seed():
    x = _data(2)
    net = SwitchableMLP([3, 5, 5, 1], 2, seeds=[7, 8], slope=0.1)
    hp = offsets.data_aware_hyperplanes(net, x, "point", [7, 8])
    hs, _ = P.forward(hp, x)
    for layer, h in enumerate(hs):
        for m, seed in enumerate([7, 8]):
            idx = offsets.point_indices(seed, layer, 5, 200)
            assert np.abs(h[m, idx, np.arange(5)].numpy()).max() < 1e-12
    # seed 8's draws do not depend on seed 7 being in the batch
    alone = offsets.data_aware_hyperplanes(SwitchableMLP([3, 5, 5, 1], 1, seeds=[8], slope=0.1), x, "point", [8])
    for a, b in zip(hp.offsets, alone.offsets, strict=True):
        torch.testing.assert_close(a[1:], b)


def test_compare_offsets_shares_bn_with_partition_compare_and_layer_one_distances_are_exact():
    x, seeds = _data(3, d=2), [0, 1]
    sizes = [2, 4, 4, 1]
    mine = offsets.compare_offsets(x, seeds, sizes, 0.1)
    base = P.compare(x, seeds, sizes, 0.1)
    np.testing.assert_allclose(mine.distances[0], base.distances[0], rtol=1e-12)  # the BN variant is the same
    hp = offsets.data_aware_hyperplanes(mine.net, x, "median", seeds)
    w, c = hp.weights[0].numpy(), hp.offsets[0].numpy()
    exact = (np.abs(x @ w.transpose(0, 2, 1) - c[:, None, :]) / np.linalg.norm(w, axis=2)[:, None, :]).min(axis=2)
    np.testing.assert_allclose(mine.distances[1, :, :, 0], exact, rtol=1e-10)
    assert mine.ratios().shape == (2, 2, 2)


def test_bad_rule_and_seed_count():
    net = SwitchableMLP([3, 4, 1], 1, seeds=[0])
    with pytest.raises(ValueError):
        offsets.data_aware_hyperplanes(net, _data(), "mode", [0])
    with pytest.raises(ValueError):
        offsets.data_aware_hyperplanes(net, _data(), "median", [0, 1])
