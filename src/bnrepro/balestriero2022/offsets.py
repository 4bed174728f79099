"""Data-aware offsets that are not BN's: the control of claim partition-adaptation.

BN sets every unit's offset to the mean of its pre-activation over the data, c_k = mu_k = w_k^T g, and its
scale to the standard deviation, b_k = sigma_k (see `partition`). To ask whether BN's *mean* is what brings the
partition to the data, or whether any offset computed from the data would do as well, the same weights get
other data-aware offsets, layer by layer on each variant's own layer inputs, with BN's scale kept:

- "mean": c_k = mean_i w_k^T z_i (this is BN itself: the construction reproduces `hyperplanes(net, "population")`);
- "median": c_k = median_i w_k^T z_i (the L1 centre: half the points on each side of every hyperplane);
- "point": c_k = w_k^T z_r, one data point r drawn per unit (every hyperplane passes through a data point).

b_k is the standard deviation of w_k^T z over the data (biased), as in BN, so the variants differ only in c.
"""

from __future__ import annotations

import numpy as np
import torch

from bnrepro.balestriero2022.partition import Comparison, Hyperplanes, boundary_distances, hyperplanes, stack
from bnrepro.nets import SwitchableMLP, leaky_relu

RULES = ("mean", "median", "point")
OFFSET_VARIANTS = ("BN", "median", "data point")


def point_indices(seed: int, layer: int, units: int, n: int) -> np.ndarray:
    """The data point each unit of one layer passes through (rule "point"): `units` indices in [0, n).

    One generator per (seed, layer), so a model's draws do not depend on the other models.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, layer, 7])).integers(0, n, size=units)


@torch.no_grad()
def data_aware_hyperplanes(net: SwitchableMLP, x, rule: str, seeds: list[int]) -> Hyperplanes:
    """The hidden layers of `net` (one model per seed) with offsets by `rule` and BN's scales.

    x is (N, d), shared by all models, or (M, N, d). Layer l's offsets and scales are computed on the layer
    inputs that this variant itself produces (as BN's statistics are), so layer l >= 2 differs from BN
    through its inputs as well as its own offsets.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if len(seeds) != net.models:
        raise ValueError(f"need one seed per model ({net.models}), got {len(seeds)}")
    z = net._inputs(x)
    n = z.shape[1]
    weights, offsets, scales = [], [], []
    for layer in range(net.depth):
        w = net.weights[layer].detach()
        h = z @ w.transpose(1, 2)  # (M, N, out)
        if rule == "mean":
            c = h.mean(dim=1)
        elif rule == "median":
            c = torch.quantile(h, 0.5, dim=1)
        else:
            idx = torch.as_tensor(np.stack([point_indices(s, layer, h.shape[2], n) for s in seeds]))  # (M, out)
            c = torch.gather(h, 1, idx[:, None, :]).squeeze(1)
        b = h.var(dim=1, unbiased=False).add(net.eps).sqrt()
        weights.append(w)
        offsets.append(c.clone())
        scales.append(b.clone())
        z = leaky_relu((h - c[:, None, :]) / b[:, None, :], net.slope)
    return Hyperplanes(weights, offsets, scales, net.slope)


def compare_offsets(x, seeds: list[int], sizes: list[int], slope: float) -> Comparison:
    """Boundary distances for BN, the median offset and the data-point offset on the same He-normal weights:
    distances (3, S, N, depth) in `OFFSET_VARIANTS` order; `ratios()` gives med(other) / med(BN).

    x is (N, d), shared by all seeds, or (S, N, d), one data set per seed. The weights are those of
    `partition.compare` for the same seeds and sizes.
    """
    s = len(seeds)
    net = SwitchableMLP(sizes, s, seeds=seeds, slope=slope, bias="torch")
    stats = net.statistics(x)
    hp = stack(hyperplanes(net, "population", stats), data_aware_hyperplanes(net, x, "median", seeds),
               data_aware_hyperplanes(net, x, "point", seeds))
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    xs = x.expand(s, *x.shape) if x.ndim == 2 else x
    dist = boundary_distances(hp, xs.repeat(3, 1, 1))
    return Comparison(dist.reshape(3, s, *dist.shape[1:]), net, stats)
