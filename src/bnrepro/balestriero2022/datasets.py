"""Small seeded data sets for the balestriero2022 training claims.

Data (every draw from an explicit seed):

- `moons`: scikit-learn's two moons, optionally shifted by (+shift, +shift), split 50/50 stratified;
  `moons_batch` stacks one independent draw per seed on a leading model axis, so each seed of a
  claim trains on its own data;
- `digits`: scikit-learn's 8x8 digits / 16, flattened, with `bnrepro.data.real`'s fixed split.

Every split is a `bnrepro.data.subsets.Split`; image subsets come from `bnrepro.data.subsets.image_subset`.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

from bnrepro.data import subsets


def stratified_split(x: np.ndarray, y: np.ndarray, seed: int, train_fraction: float = 0.5) -> subsets.Split:
    """A seeded stratified split (each class split in the same proportion)."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, train_size=train_fraction, stratify=y, random_state=seed)
    return subsets.Split(x_tr, y_tr, x_te, y_te)


def moons(n: int, noise: float, seed: int, shift: float = 0.0, train_fraction: float = 0.5) -> subsets.Split:
    """`make_moons(n, noise=noise, random_state=seed)` + (shift, shift), split stratified with the same seed."""
    x, y = make_moons(n, noise=noise, random_state=seed)
    x = x.astype(np.float64) + shift
    return stratified_split(x, y.astype(np.int64), seed, train_fraction)


def moons_sets(seeds: list[int], n: int, noise: float, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One whole `make_moons` draw per seed, not split: x (S, n, 2) float64 shifted by (shift, shift), y (S, n) int64."""
    data = [make_moons(n, noise=noise, random_state=int(seed)) for seed in seeds]
    x = np.stack([d[0] for d in data]).astype(np.float64) + shift
    return x, np.stack([d[1] for d in data]).astype(np.int64)


def moons_batch(seeds: list[int], n: int, noise: float, shift: float = 0.0, train_fraction: float = 0.5) -> subsets.Split:
    """One `moons` draw per seed, stacked on a leading model axis: x (S, N, 2), y (S, N)."""
    splits = [moons(n, noise, s, shift, train_fraction) for s in seeds]
    return subsets.Split(*(np.stack([getattr(s, f) for s in splits]) for f in ("x_train", "y_train", "x_test", "y_test")))


def digits() -> subsets.Split:
    """sklearn digits / 16 in [0, 1] (uncentred, as pixels are), flattened; the fixed split of `bnrepro.data.real`."""
    from bnrepro.data import real

    ds = real.load("digits")
    return subsets.Split(subsets.flatten(ds.x_train), ds.y_train, subsets.flatten(ds.x_test), ds.y_test)
