"""Small seeded data sets for the balestriero2022 training claims.

Data (every draw from an explicit seed):

- `moons`: scikit-learn's two moons, optionally shifted by (+shift, +shift), split 50/50 stratified;
  `moons_batch` stacks one independent draw per seed on a leading model axis, so each seed of a
  claim trains on its own data;
- `digits`: scikit-learn's 8x8 digits / 16, flattened, with `bnrepro.data.real`'s fixed split;
- `image_subset`: a class-balanced subset of an image `Dataset` (from `bnrepro.data.real.load`),
  flattened to vectors; pixels stay in [0, 1] unless `standardize=True`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class Split:
    """Train/test arrays: x float64 (N, d) or (M, N, d) with a model axis; y int64 (N,) or (M, N)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    note: str = ""  # how the subset differs from what was asked (a deviation for the verdict), if it does


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


def moons_sets(seeds: list[int], n: int, noise: float, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One whole `make_moons` draw per seed, not split: x (S, n, 2) float64 shifted by (shift, shift), y (S, n) int64."""
    data = [make_moons(n, noise=noise, random_state=int(seed)) for seed in seeds]
    x = np.stack([d[0] for d in data]).astype(np.float64) + shift
    return x, np.stack([d[1] for d in data]).astype(np.int64)


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

    Where a class has fewer images than asked (a small fallback data set), every class gets as many as
    the smallest has, and `note` says so. Pixels stay in [0, 1] (uncentred) by default. `standardize=True` centres and scales every pixel with
    the subset's training mean and standard deviation (constant pixels are left centred, unscaled).
    """
    train_n = min(train_per_class, np.bincount(ds.y_train).min())
    test_n = min(test_per_class, np.bincount(ds.y_test).min())
    note = ""
    if (train_n, test_n) != (train_per_class, test_per_class):  # e.g. the digits fallback is small
        note = (f"{getattr(ds, 'used', 'the data set')} has too few images for {train_per_class} training / "
                f"{test_per_class} test images per class: used {train_n} / {test_n} per class")
        print(note)
    tr = balanced_indices(ds.y_train, train_n, seed)
    te = balanced_indices(ds.y_test, test_n, seed + 1)
    x_tr, x_te = flatten(ds.x_train[tr]), flatten(ds.x_test[te])
    if standardize:
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    return Split(x_tr, ds.y_train[tr].astype(np.int64), x_te, ds.y_test[te].astype(np.int64), note)
