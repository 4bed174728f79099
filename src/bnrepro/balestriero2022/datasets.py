"""Small seeded data sets and model-axis helpers for the balestriero2022 training claims.

Data (every draw from an explicit seed):

- `moons`: scikit-learn's two moons, optionally shifted by (+shift, +shift), split 50/50 stratified;
  `moons_batch` stacks one independent draw per seed on a leading model axis, so each seed of a
  claim trains on its own data;
- `digits`: scikit-learn's 8x8 digits / 16, flattened, with `bnrepro.data.real`'s fixed split;
- `image_subset`: a class-balanced subset of an image `Dataset` (from `bnrepro.data.real.load`),
  flattened to vectors; pixels stay in [0, 1] unless `standardize=True`.

Helpers for putting variants on the model axis of one `SwitchableMLP`:

- `concat_models`: one network holding the models of several networks, in order;
- `mask_affine_gradients`: keep BN's gamma, beta at 1, 0 for chosen models of a network
  whose affine parameters are learnable, so "learnable" and "fixed" variants train in one net.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

from .network import SwitchableMLP


@dataclass(frozen=True)
class Split:
    """Train/test arrays: x float64 (N, d) or (M, N, d) with a model axis; y int64 (N,) or (M, N)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def stratified_split(x: np.ndarray, y: np.ndarray, seed: int, train_fraction: float = 0.5) -> Split:
    """A seeded stratified split (each class split in the same proportion)."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, train_size=train_fraction, stratify=y, random_state=seed)
    return Split(x_tr, y_tr, x_te, y_te)


def moons(n: int, noise: float, seed: int, shift: float = 0.0, train_fraction: float = 0.5) -> Split:
    """`make_moons(n, noise=noise, random_state=seed)` + (shift, shift), split stratified with the same seed."""
    x, y = make_moons(n, noise=noise, random_state=seed)
    x = x.astype(np.float64) + shift
    return stratified_split(x, y.astype(np.int64), seed, train_fraction)


def moons_batch(seeds: list[int], n: int, noise: float, shift: float = 0.0, train_fraction: float = 0.5) -> Split:
    """One `moons` draw per seed, stacked on a leading model axis: x (S, N, 2), y (S, N)."""
    splits = [moons(n, noise, s, shift, train_fraction) for s in seeds]
    return Split(*(np.stack([getattr(s, f) for s in splits]) for f in ("x_train", "y_train", "x_test", "y_test")))


def flatten(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, C*H*W) float64."""
    return np.asarray(images, dtype=np.float64).reshape(len(images), -1)


def digits() -> Split:
    """sklearn digits / 16 in [0, 1] (uncentred, as pixels are), flattened; the fixed split of `bnrepro.data.real`."""
    from bnrepro.data import real

    ds = real.load("digits")
    return Split(flatten(ds.x_train), ds.y_train, flatten(ds.x_test), ds.y_test)


def balanced_indices(y: np.ndarray, per_class: int, seed: int, classes=None) -> np.ndarray:
    """`per_class` rows of each class (all classes if `classes` is None), drawn without replacement, sorted."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    picks = []
    for c in classes:
        rows = np.flatnonzero(y == c)
        if len(rows) < per_class:
            raise ValueError(f"class {c} has {len(rows)} rows, fewer than per_class={per_class}")
        picks.append(rng.choice(rows, per_class, replace=False))
    return np.sort(np.concatenate(picks))


def image_subset(ds, train_per_class: int, test_per_class: int, seed: int, *, standardize: bool = False) -> Split:
    """A class-balanced subset of an image `Dataset`, flattened to float64 vectors.

    Pixels stay in [0, 1] (uncentred) by default. `standardize=True` centres and scales every pixel with
    the subset's training mean and standard deviation (constant pixels are left centred, unscaled).
    """
    tr = balanced_indices(ds.y_train, train_per_class, seed)
    te = balanced_indices(ds.y_test, test_per_class, seed + 1)
    x_tr, x_te = flatten(ds.x_train[tr]), flatten(ds.x_test[te])
    if standardize:
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    return Split(x_tr, ds.y_train[tr].astype(np.int64), x_te, ds.y_test[te].astype(np.int64))


@torch.no_grad()
def concat_models(nets: list[SwitchableMLP]) -> SwitchableMLP:
    """One `SwitchableMLP` with the models of `nets` concatenated along the model axis (parameters copied)."""
    first = nets[0]
    if any(n.sizes != first.sizes or n.slope != first.slope or n.eps != first.eps for n in nets):
        raise ValueError("networks to concatenate must share sizes, slope and eps")
    affine = "learnable" if first.gammas and first.gammas[0].requires_grad else "fixed"
    total = sum(n.models for n in nets)
    out = SwitchableMLP(first.sizes, total, slope=first.slope, eps=first.eps, affine=affine,
                        dtype=first.weights[0].dtype)
    for name in ("weights", "biases", "gammas", "betas"):
        for layer, p in enumerate(getattr(out, name)):
            p.copy_(torch.cat([getattr(n, name)[layer] for n in nets]))
    return out


def mask_affine_gradients(net: SwitchableMLP, fixed: list[bool]) -> list:
    """Zero the gradient of gamma and beta for the models where `fixed[m]` is True.

    With plain or momentum SGD (no weight decay) their gamma, beta then stay exactly at their
    initial 1, 0, so learnable-affine and fixed-affine variants can share one network. Returns
    the hook handles.
    """
    if len(fixed) != net.models:
        raise ValueError(f"need one flag per model ({net.models}), got {len(fixed)}")
    if not net.gammas or not net.gammas[0].requires_grad:
        raise ValueError("mask_affine_gradients needs a network built with affine='learnable'")
    keep = torch.tensor([0.0 if f else 1.0 for f in fixed], dtype=net.gammas[0].dtype)[:, None]
    return [p.register_hook(lambda g: g * keep) for p in (*net.gammas, *net.betas)]


# ---------------------------------------------------------------- the five initializations of protocol C3

INITIALIZATIONS = ("zero", "torch", "bninit_fold", "bninit_center", "bn_train")
PLAIN_INITIALIZATIONS = INITIALIZATIONS[:4]  # trained without BN (mode "none")


def _tile(a, repeats: int, per_model: bool) -> torch.Tensor:
    """Shared data stays as it is; data with a leading model axis is tiled `repeats` times along it."""
    a = torch.as_tensor(a)
    return torch.cat([a] * repeats) if per_model else a


def initializations(sizes: list[int], seeds: list[int], x_train, *, slope: float = 0.0,
                    dtype=torch.float64) -> tuple[SwitchableMLP, SwitchableMLP]:
    """The five initializations of one set of random weights per seed.

    Returns (plain, bn): `plain` holds 4 x S models in the order of PLAIN_INITIALIZATIONS (zero bias,
    PyTorch-default bias, full BN fold of x_train, centring-only fold), all to be trained in mode
    "none"; `bn` holds the S BN networks (mode "batch"). Every block of S models has the same
    He-normal weights per seed (the folds rescale them). x_train is (N, d), or (S, N, d) when each
    seed has its own data.
    """
    S = len(seeds)
    base = SwitchableMLP(sizes, S, seeds=seeds, slope=slope, bias="zero", dtype=dtype)
    torch_bias = SwitchableMLP(sizes, S, seeds=seeds, slope=slope, bias="torch", dtype=dtype)
    plain = concat_models([base, torch_bias, base.fold(x_train), base.fold(x_train, center_only=True)])
    return plain, base


def train_initializations(sizes: list[int], seeds: list[int], data: Split, *, slope: float, epochs: int,
                          batch_size: int, lr: float, momentum: float, progress=None) -> np.ndarray:
    """Train the five initializations with identical mini-batches per seed; test accuracy after every epoch.

    Returns (epochs + 1, 5, S): row 0 is at initialization. bn_train is evaluated in "population" mode
    with the statistics of the whole training set (recomputed after every epoch).
    """
    from .training import accuracy, sgd

    S, k = len(seeds), len(PLAIN_INITIALIZATIONS)
    plain, bn = initializations(sizes, seeds, data.x_train, slope=slope)
    acc = np.zeros((epochs + 1, len(INITIALIZATIONS), S))
    x_tr, y_tr = torch.as_tensor(data.x_train), torch.as_tensor(data.y_train)
    x_te, y_te = torch.as_tensor(data.x_test), torch.as_tensor(data.y_test)
    per_model = x_tr.ndim == 3

    def record_plain(e):
        acc[e, :k] = accuracy(plain, _tile(x_te, k, per_model), _tile(y_te, k, per_model), "none").numpy().reshape(k, S)

    def record_bn(e):
        acc[e, k] = accuracy(bn, x_te, y_te, "population", bn.statistics(x_tr)).numpy()
        if progress and e:
            progress(e, acc[e])

    sgd(plain, _tile(x_tr, k, per_model), _tile(y_tr, k, per_model), mode="none", epochs=epochs, batch_size=batch_size,
        lr=lr, momentum=momentum, order_seeds=list(seeds) * k, on_epoch=record_plain)
    sgd(bn, x_tr, y_tr, mode="batch", epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
        order_seeds=list(seeds), on_epoch=record_bn)
    return acc
