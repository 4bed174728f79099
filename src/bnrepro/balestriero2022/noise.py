"""BN's mini-batch noise isolated: three normalizations of one network, trained side by side (minibatch-margin).

The arms differ only in the statistics a hidden layer normalizes its mini-batch with:

- ``bn``: the mini-batch's own mean and standard deviation (standard BN; gradient through them);
- ``pop``: the whole training set's, recomputed at every step, **without** gradient through them
  (the noise-free arm of version 1; it also lacks BN's gradient through mu and sigma);
- ``popgrad``: the whole training set's, recomputed at every step, **with** gradient through them
  (full-batch BN applied to a mini-batch): the same computation as ``bn`` except that the statistics
  carry no mini-batch noise. ``bn`` against ``popgrad`` isolates the noise.

At B = N (one mini-batch holding the whole training set) ``bn`` and ``popgrad`` are the same
computation, step for step, and ``pop`` differs only by the missing gradient: `train_arms`'s
tests check both.

All arms and seeds are one stacked network (a leading model axis, arm-major: model a*S + s is arm a
of seed s), trained with batched matmuls: every arm of a seed starts from the same weights and sees
the same mini-batches (the order generator of seed s, as `bnrepro.nets.sgd` draws it), so the arms
of a seed differ only in the statistics. Plain SGD on each model's mean logistic/cross-entropy loss
of the mini-batch; the last incomplete mini-batch of an epoch is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree
from sklearn.datasets import make_moons

from bnrepro.nets import Stats, SwitchableMLP, accuracy, leaky_relu, loss_fn

from .margins import classifier, grid_axes, predict_grid

ARMS = ("bn", "pop", "popgrad")
GRID_VALUES_PER_CALL = 400_000  # grid points x models classified at once by `arm_margins` (memory only)


@dataclass
class ArmRun:
    """The trained arms: `net` holds A*S models (arm-major), `stats` their training-set statistics."""

    arms: tuple[str, ...]
    seeds: list[int]
    net: SwitchableMLP
    stats: Stats

    def split(self, values) -> dict[str, np.ndarray]:
        """Per-model values (A*S, ...) -> {arm: (S, ...)}."""
        values = np.asarray(values)
        s = len(self.seeds)
        return {arm: values[a * s:(a + 1) * s] for a, arm in enumerate(self.arms)}


def held_out_seed(seed: int) -> int:
    """The seed of a training seed's test draw: derived, so it never equals another claim seed's training draw."""
    return int(np.random.SeedSequence([int(seed), 1]).generate_state(1)[0])


def moons_test_sets(seeds: list[int], n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Fresh two-moons draws, one per seed (from `held_out_seed`): x (S, n, 2) float64, y (S, n) int64."""
    data = [make_moons(n, noise=noise, random_state=held_out_seed(s)) for s in seeds]
    return np.stack([d[0] for d in data]).astype(np.float64), np.stack([d[1] for d in data]).astype(np.int64)


def _layer(net: SwitchableMLP, layer: int, h: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, models: slice) -> torch.Tensor:
    """Normalize h with (mean, std), apply gamma, beta of `models` and the activation."""
    h = (h - mean) / std
    if net.gammas[layer].requires_grad:
        h = h * net.gammas[layer][models, None, :] + net.betas[layer][models, None, :]
    return leaky_relu(h, net.slope)


def _moments(h: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    return h.mean(dim=1, keepdim=True), h.var(dim=1, unbiased=False, keepdim=True).add(eps).sqrt()


def _forward(net: SwitchableMLP, batch: torch.Tensor, full: torch.Tensor, arms: tuple[str, ...]) -> torch.Tensor:
    """Logits (M, B, d_out) of the mini-batch rows, each arm normalizing with its own statistics:
    batch (M, B, d), full (M, N, d) (the whole training set of each model).

    `popgrad` sends the full training set through every layer with the mini-batch (normalized with its own
    statistics), so that each layer's statistics are the full set's, as full-batch BN computes them, and the
    gradient flows through them; `pop` computes the same statistics without a graph; `bn` needs only the batch.
    """
    per_arm = batch.shape[0] // len(arms)
    rows = batch.shape[1]
    out = []
    for a, arm in enumerate(arms):
        models = slice(a * per_arm, (a + 1) * per_arm)
        weights = [w[models] for w in net.weights]
        if arm == "pop":
            with torch.no_grad():  # the full set's statistics, layer by layer, without a graph
                zf, moments = full[models], []
                for layer in range(net.depth):
                    hf = zf @ weights[layer].transpose(1, 2)
                    moments.append(_moments(hf, net.eps))
                    zf = _layer(net, layer, hf, *moments[-1], models)
            z = batch[models]
            for layer in range(net.depth):
                z = _layer(net, layer, z @ weights[layer].transpose(1, 2), *moments[layer], models)
        else:
            z = batch[models] if arm == "bn" else torch.cat([batch[models], full[models]], dim=1)
            for layer in range(net.depth):
                h = z @ weights[layer].transpose(1, 2)
                z = _layer(net, layer, h, *_moments(h if arm == "bn" else h[:, rows:], net.eps), models)
            z = z[:, :rows]
        out.append(z @ weights[-1].transpose(1, 2) + net.biases[-1][models, None, :])
    return torch.cat(out)


def train_arms(x: np.ndarray, y: np.ndarray, seeds: list[int], sizes: list[int], *, batch_size: int, epochs: int,
               lr: float, arms: tuple[str, ...] = ARMS, dtype: torch.dtype = torch.float64, on_epoch: Callable[[int], None] | None = None) -> ArmRun:
    """Train every arm on one data set per seed, x (S, N, d), y (S, N); plain SGD, all models at once.

    Model a*S + s is arm `arms[a]` of seed s: initialized from seed s (`SwitchableMLP`'s He-normal
    weights) and shuffled by `torch.Generator().manual_seed(s)` each epoch, as `bnrepro.nets.sgd` does.
    """
    unknown = set(arms) - set(ARMS)
    if unknown or len(set(arms)) != len(arms) or not arms:
        raise ValueError(f"arms must be distinct names from {ARMS}, got {arms}")
    seeds = [int(s) for s in seeds]
    s_count, a_count = len(seeds), len(arms)
    xt = torch.as_tensor(x, dtype=dtype).repeat(a_count, 1, 1)
    yt = torch.as_tensor(y, dtype=torch.long).repeat(a_count, 1)
    n = xt.shape[1]
    if xt.shape[0] != s_count * a_count:
        raise ValueError(f"x must hold one data set per seed: {len(x)} sets, {s_count} seeds")
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
    net = SwitchableMLP(sizes, s_count * a_count, seeds=seeds * a_count, dtype=dtype)
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    optimizer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=lr)
    rows = torch.arange(s_count * a_count)[:, None]
    if on_epoch:
        on_epoch(0)
    for epoch in range(1, epochs + 1):
        order = torch.stack([torch.randperm(n, generator=g) for g in generators]).repeat(a_count, 1)
        for step in range(n // batch_size):
            idx = order[:, step * batch_size:(step + 1) * batch_size]
            loss = loss_fn(_forward(net, xt[rows, idx], xt, arms), yt[rows, idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if on_epoch:
            on_epoch(epoch)
    return ArmRun(tuple(arms), seeds, net, net.statistics(xt))


def boundary_points(classify: Callable[[np.ndarray], np.ndarray], gx: np.ndarray, gy: np.ndarray, *,
                    bisections: int = 20, chunk: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    """Points on each model's decision boundary: where it crosses the grid's lines, located by bisection.

    Every pair of 4-neighbour pixels of the grid (gx, gy: (M, R) axes) whose predicted classes differ holds
    a boundary crossing on the segment between them; `bisections` halvings locate it to (step / 2**bisections).
    Returns points (M, E, 2) and a validity mask (M, E) (models have different numbers of crossings; the
    padding repeats a model's first crossing, or is the grid's corner where a model shows no boundary).
    The grid is classified `chunk` points (per model) at a time: it bounds the memory, not the result.
    """
    m, r = gx.shape
    labels = predict_grid(classify, gx, gy, chunk)  # (M, R, R), row = y
    starts, ends = [], []
    for model in range(m):
        # horizontal neighbours (row i, columns j, j+1), then vertical ones (rows i, i+1, column j)
        i, j = np.nonzero(labels[model, :, 1:] != labels[model, :, :-1])
        a = np.stack([gx[model, j], gy[model, i]], axis=1)
        b = np.stack([gx[model, j + 1], gy[model, i]], axis=1)
        i2, j2 = np.nonzero(labels[model, 1:, :] != labels[model, :-1, :])
        a = np.concatenate([a, np.stack([gx[model, j2], gy[model, i2]], axis=1)])
        b = np.concatenate([b, np.stack([gx[model, j2], gy[model, i2 + 1]], axis=1)])
        starts.append(a)
        ends.append(b)
    counts = np.array([len(a) for a in starts])
    width = max(1, counts.max())
    valid = np.arange(width)[None, :] < counts[:, None]
    corner = np.stack([gx[:, 0], gy[:, 0]], axis=1)[:, None, :]
    pad = lambda arrays: np.stack([np.concatenate([a, np.repeat(a[:1] if len(a) else corner[k], width - len(a), 0)])  # noqa: E731
                                   for k, a in enumerate(arrays)])
    lo, hi = pad(starts), pad(ends)
    side = classify(lo)
    for _ in range(bisections):
        mid = (lo + hi) / 2
        same = (classify(mid) == side)[..., None]
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return (lo + hi) / 2, valid


def refined_margins(classify: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, *, resolution: int,
                    pad: float, bisections: int = 20, chunk: int = 20000) -> np.ndarray:
    """Signed distance of every point of x (M, N, 2) to its model's decision boundary: (M, N), negative where
    misclassified, +-inf where the grid shows no boundary.

    The boundary is sampled where it crosses the lines of a resolution x resolution grid over the data's box
    +- pad (`boundary_points`). The samples lie on the boundary, so the margin is never below the exact distance
    (up to step / 2**bisections); along a straight boundary they are at most a cell diagonal h*sqrt(2) apart,
    so it exceeds the exact distance d by at most sqrt(d**2 + h**2 / 2) - d (about h**2 / (4 d) for d >> h):
    a far finer margin than the nearest boundary pixel's at the same grid.
    """
    gx, gy = grid_axes(x, resolution, pad)
    points, valid = boundary_points(classify, gx, gy, bisections=bisections, chunk=chunk)
    correct = classify(x) == y
    distance = np.full(y.shape, np.inf)
    for model in range(x.shape[0]):  # one KD-tree per model
        if valid[model].any():
            distance[model] = cKDTree(points[model][valid[model]]).query(x[model])[0]
    return np.where(correct, distance, -distance)


def arm_margins(run: ArmRun, x: np.ndarray, y: np.ndarray, *, resolution: int, pad: float) -> dict[str, np.ndarray]:
    """Signed margins {arm: (S, N)} of every arm on its seed's training data, evaluated with training-set statistics."""
    a_count = len(run.arms)
    chunk = max(1000, GRID_VALUES_PER_CALL // run.net.models)  # about 200 MB per hidden activation of width 64
    margins = refined_margins(classifier(run.net, "population", run.stats), np.tile(x, (a_count, 1, 1)),
                              np.tile(y, (a_count, 1)), resolution=resolution, pad=pad, chunk=chunk)
    return run.split(margins)


def arm_accuracy(run: ArmRun, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy {arm: (S,)} on one data set per seed (e.g. fresh test draws), with training-set statistics."""
    a_count = len(run.arms)
    acc = accuracy(run.net, torch.as_tensor(np.tile(x, (a_count, 1, 1))), torch.as_tensor(np.tile(y, (a_count, 1))),
                   "population", run.stats)
    return run.split(acc.numpy())


def wilcoxon_p(differences) -> float:
    """Two-sided Wilcoxon signed-rank p of paired differences (scipy.stats; 1.0 when all are 0)."""
    from scipy import stats as scipy_stats

    values = np.asarray(differences, dtype=float).ravel()
    if not np.any(values != 0):
        return 1.0
    return float(scipy_stats.wilcoxon(values).pvalue)
