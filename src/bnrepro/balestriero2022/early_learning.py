"""Smart initialization, measured on the early learning curve (issue 15's redesign of protocol C3).

The five initializations of `initialization` (zero bias, PyTorch-default bias, BN statistics folded in,
centring only, BN during training) of one set of random weights per seed, trained with identical
mini-batches, all seeds at once: every parameter carries an (arm, seed) axis pair, the first layer is one
batched matmul over the seed axis (each seed has its own data; the five arms share its rows without
copying them), the deeper layers one batched matmul over (arm, seed).

- `per_seed_images`, `per_seed_digits`: one data subset (or split) per seed, stacked on a seed axis;
- `train_curves`: test accuracy of every arm and seed at a grid of SGD steps (dense in the early window);
- `early_area`: the normalized area under the learning curve up to a horizon (the mean test accuracy over
  the early window, trapezoid rule);
Holm's correction and the t-test dual to the verdicts' t interval live in `bnrepro.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bnrepro.balestriero2022 import datasets, initialization
from bnrepro.data.subsets import Split, flatten
from bnrepro.nets import leaky_relu, model_losses, predict

ARMS = initialization.INITIALIZATIONS  # zero, torch, bninit_fold, bninit_center, bn_train
BN_ARM = ARMS.index("bn_train")
PLAIN_ARMS = len(initialization.PLAIN_INITIALIZATIONS)


# --- data -------------------------------------------------------------------


def _balanced(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    classes = np.unique(y)
    counts = np.bincount(y)[classes]
    if counts.min() < per_class:
        raise ValueError(f"a class has {counts.min()} rows, fewer than per_class={per_class}")
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes]))


def per_seed_images(ds, seeds: list[int], train_per_class: int, test_per_class: int) -> Split:
    """One class-balanced subset per seed of an image `Dataset` (pixels flattened, in [0, 1], not standardized).

    Seed s draws its training rows with `default_rng([s, 0])` and its test rows with `default_rng([s, 1])`:
    different seeds get different images, the same seed the same ones. x (S, N, d) float64, y (S, N) int64.
    """
    rows = {"train": [], "test": []}
    for seed in seeds:
        rows["train"].append(_balanced(ds.y_train, train_per_class, np.random.default_rng([int(seed), 0])))
        rows["test"].append(_balanced(ds.y_test, test_per_class, np.random.default_rng([int(seed), 1])))
    parts = {}
    for split, x, y in (("train", ds.x_train, ds.y_train), ("test", ds.x_test, ds.y_test)):
        # filled seed by seed: stacking a list of per-seed copies would hold every image twice (on CIFAR 2 x 2 GB)
        images = np.empty((len(seeds), len(rows[split][0]), int(np.prod(x.shape[1:]))))
        for s, r in enumerate(rows[split]):
            images[s] = flatten(x[r])
        parts[f"x_{split}"] = images
        parts[f"y_{split}"] = np.stack([np.asarray(y[r], dtype=np.int64) for r in rows[split]])
    return Split(**parts)


def per_seed_digits(seeds: list[int], train_fraction: float = 0.5) -> Split:
    """All 1797 scikit-learn digits (/16, uncentred), split stratified anew for every seed: x (S, N, 64)."""
    pooled = datasets.digits()
    x = np.concatenate([pooled.x_train, pooled.x_test])
    y = np.concatenate([pooled.y_train, pooled.y_test]).astype(np.int64)
    splits = [datasets.stratified_split(x, y, int(seed), train_fraction) for seed in seeds]
    return Split(*(np.stack([getattr(s, f) for s in splits]) for f in ("x_train", "y_train", "x_test", "y_test")))


# --- the batched network ----------------------------------------------------------


def _forward(x: torch.Tensor, weights, biases, slope: float, bn_stats=None):
    """Logits (K, S, N, C) of every arm on per-seed rows x (S, N, d), and the BN arm's statistics per layer.
    Arms 0..3 are plain layers (h + c); arm 4 normalizes h with the statistics of x (bn_stats None, training
    mode: the mini-batch's own) or with `bn_stats` (evaluation: the whole training set's). The first layer's
    weights are stored as (S, d, K, o), the layout of its batched matmul (see `_first_layer_layout`); the deeper
    layers' as (K, S, o, i)."""
    S, i, K, o = weights[0].shape
    N = x.shape[1]
    stats, z = [], None
    for layer in range(len(weights) - 1):
        w = weights[layer]
        if layer == 0:  # (S, N, d) @ (S, d, K*o): the arms share each seed's rows without a copy per arm
            h = torch.bmm(x, w.view(S, i, K * o)).view(S, N, K, o).permute(2, 0, 1, 3)
        else:
            h = z @ w.transpose(-1, -2)
        hb = h[BN_ARM]
        if bn_stats is None:
            mean, std = hb.mean(dim=1, keepdim=True), hb.var(dim=1, unbiased=False, keepdim=True).sqrt()
        else:
            mean, std = bn_stats[layer]
        stats.append((mean.detach(), std.detach()))
        plain = h[:PLAIN_ARMS] + biases[layer][:PLAIN_ARMS, :, None, :]
        z = leaky_relu(torch.cat([plain, ((hb - mean) / std)[None]]), slope)
    return z @ weights[-1].transpose(-1, -2) + biases[-1][:, :, None, :], stats


def _first_layer_layout(w: torch.Tensor) -> torch.Tensor:
    """(K, S, o, d) -> (S, d, K, o), contiguous: the first layer's matmul then reads its weights, and writes their
    gradient, without a permuted copy per step (on 3072-d images that copy was 40 % of the training time)."""
    return w.permute(1, 3, 0, 2).contiguous()


def _bn_statistics(x: torch.Tensor, weights, slope: float):
    """The BN arm's per-layer statistics (mean, std), each (S, 1, width), on per-seed rows x (S, N, d)."""
    stats, z = [], x
    for layer, w in enumerate(weights[:-1]):
        h = z @ (w[:, :, BN_ARM, :] if layer == 0 else w[BN_ARM].transpose(-1, -2))
        mean, std = h.mean(dim=1, keepdim=True), h.var(dim=1, unbiased=False, keepdim=True).sqrt()
        stats.append((mean, std))
        z = leaky_relu((h - mean) / std, slope)
    return stats


def _accuracy(logits: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """(K, S) fraction correct; logits (K, S, N, C), y (S, N)."""
    return (predict(logits) == y[None]).double().mean(dim=-1).numpy()


@dataclass(frozen=True)
class Curves:
    """Test accuracy of the five arms along training."""

    steps: np.ndarray  # (T,) SGD steps at which it was recorded; 0 = at initialization
    steps_per_epoch: int
    test_accuracy: np.ndarray  # (T, 5, S)
    train_accuracy: np.ndarray  # (5, S), at the end (bn_train with the whole training set's statistics)
    fold_mismatch: float  # at initialization, max |logits(bninit_fold) - logits(bn_train, full-data statistics)|, relative

    @property
    def epochs(self) -> np.ndarray:
        return self.steps / self.steps_per_epoch


def eval_steps(steps_per_epoch: int, epochs: int, early_epochs: int, evals_per_epoch: int, late_every: int = 1) -> np.ndarray:
    """The evaluation grid: `evals_per_epoch` points per epoch up to `early_epochs`, then every `late_every` epochs
    and at the end; with 0."""
    if not 1 <= early_epochs <= epochs or evals_per_epoch < 1 or late_every < 1:
        raise ValueError(f"need 1 <= early_epochs <= epochs, evals_per_epoch >= 1 and late_every >= 1, got "
                         f"{early_epochs}, {epochs}, {evals_per_epoch}, {late_every}")
    dense = np.round(np.arange(early_epochs * evals_per_epoch + 1) * steps_per_epoch / evals_per_epoch).astype(int)
    late = np.arange(early_epochs + 1, epochs + 1)
    sparse = late[(late % late_every == 0) | (late == epochs)] * steps_per_epoch
    return np.unique(np.concatenate([dense, sparse]))


def train_curves(sizes: list[int], seeds: list[int], data: Split, *, slope: float, epochs: int, batch_size: int,
                 lr: float, momentum: float, early_epochs: int, evals_per_epoch: int, late_every: int = 1,
                 dtype=torch.float64, progress=None) -> Curves:
    """Train the five initializations of each seed with identical mini-batches; record test accuracy on a step grid.

    `data` has a seed axis (x (S, N, d)). The weights are those of `initialization.initializations` (the
    folds use each seed's whole training set). Momentum SGD (torch's), one generator per seed orders its rows
    anew every epoch (the last incomplete mini-batch dropped); the five arms of a seed see the same batches.
    bn_train is evaluated with the statistics of its seed's whole training set.
    The initializations, the fold check and the accuracy at step 0 are float64; training runs in `dtype`
    (float32 halves the time and memory of the large first layer on 3072-d images).
    """
    x_tr, y_tr = torch.as_tensor(data.x_train, dtype=torch.float64), torch.as_tensor(data.y_train, dtype=torch.long)
    x_te, y_te = torch.as_tensor(data.x_test, dtype=torch.float64), torch.as_tensor(data.y_test, dtype=torch.long)
    S, N, _ = x_tr.shape
    if len(seeds) != S or x_te.shape[0] != S:
        raise ValueError(f"data must have one row block per seed ({len(seeds)}), got {S} and {x_te.shape[0]}")
    if not 1 <= batch_size <= N:
        raise ValueError(f"batch_size must be in [1, {N}], got {batch_size}")
    plain, bn = initialization.initializations(sizes, seeds, x_tr, slope=slope)
    K = len(ARMS)
    weights = [torch.cat([pw.detach().reshape(PLAIN_ARMS, S, *pw.shape[1:]), bw.detach()[None]])
               for pw, bw in zip(plain.weights, bn.weights)]
    weights = [(_first_layer_layout(w) if layer == 0 else w).requires_grad_() for layer, w in enumerate(weights)]
    biases = [torch.cat([pb.detach().reshape(PLAIN_ARMS, S, -1), bb.detach()[None]]).clone().requires_grad_()
              for pb, bb in zip(plain.biases, bn.biases)]
    steps_per_epoch = N // batch_size
    grid = eval_steps(steps_per_epoch, epochs, early_epochs, evals_per_epoch, late_every)
    acc = np.zeros((len(grid), K, S))

    @torch.no_grad()
    def evaluate(x, y):
        logits, _ = _forward(x, weights, biases, slope, bn_stats=_bn_statistics(x_tr, weights, slope))
        return logits

    with torch.no_grad():
        logits = evaluate(x_te, y_te)
        scale = logits[BN_ARM].abs().max().item()
        mismatch = (logits[ARMS.index("bninit_fold")] - logits[BN_ARM]).abs().max().item() / max(scale, 1e-300)
    acc[0] = _accuracy(logits, y_te)
    if dtype != torch.float64:
        weights = [w.detach().to(dtype).requires_grad_() for w in weights]
        biases = [b.detach().to(dtype).requires_grad_() for b in biases]
        x_tr, x_te = x_tr.to(dtype), x_te.to(dtype)
    optimizer = torch.optim.SGD([*weights, *biases], lr=lr, momentum=momentum)
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    rows = torch.arange(S)[:, None]
    y_arms = y_tr[None].expand(K, S, N)
    recorded, step = 1, 0
    for epoch in range(1, epochs + 1):
        order = torch.stack([torch.randperm(N, generator=g) for g in generators])  # (S, N)
        for b in range(steps_per_epoch):
            idx = order[:, b * batch_size:(b + 1) * batch_size]
            logits, _ = _forward(x_tr[rows, idx], weights, biases, slope)
            yb = y_arms[:, rows, idx]
            loss = model_losses(logits.reshape(K * S, batch_size, -1), yb.reshape(K * S, batch_size)).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if recorded < len(grid) and grid[recorded] == step:
                acc[recorded] = _accuracy(evaluate(x_te, y_te), y_te)
                recorded += 1
        if progress:
            progress(epoch, acc[recorded - 1])
    assert recorded == len(grid) and grid[-1] == step
    train_acc = _accuracy(evaluate(x_tr, y_tr), y_tr)
    return Curves(grid, steps_per_epoch, acc, train_acc, mismatch)


# --- the metric and the multiplicity correction --------------------------------


def early_area(curves: Curves, horizon_epochs: float) -> np.ndarray:
    """Normalized area under the test-accuracy curve from step 0 to `horizon_epochs` (trapezoid rule): (5, S).

    The mean test accuracy over the early window; the horizon must be a recorded step."""
    horizon = horizon_epochs * curves.steps_per_epoch
    if not np.isclose(curves.steps, horizon).any() or horizon <= 0:
        raise ValueError(f"horizon {horizon_epochs} epochs ({horizon} steps) is not a recorded step")
    keep = curves.steps <= horizon + 1e-9
    t, a = curves.steps[keep].astype(float), curves.test_accuracy[keep]
    widths = np.diff(t)[:, None, None]
    return ((a[1:] + a[:-1]) / 2 * widths).sum(axis=0) / t[-1]
