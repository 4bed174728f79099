"""Seeded synthetic data. Every generator takes a list of seeds and returns
arrays stacked along a leading seed axis, so experiments vectorize across
seeds; seed s always yields the same draw, whatever other seeds are asked for."""

from __future__ import annotations

import numpy as np

from bnrepro.runtime import rngs


def gaussian_classification(seeds: list[int], n: int, d: int, w0_scale: float = 1.0, *, patches: int | None = None):
    """x_i ~ N(0, I_d), y_i Rademacher (not balanced), and an initial weight
    w0 ~ N(0, w0_scale^2 I_d / d) (so ||w0|| ~ w0_scale), per seed.
    With `patches=P`, each sample is P i.i.d. N(0, I_d) patches instead.

    Returns X (S, n, d) or (S, n, P, d), y (S, n), w0 (S, d), all float64.
    """
    if n < 1 or d < 1 or (patches is not None and patches < 1):
        raise ValueError(f"n, d and patches must be positive, got n={n}, d={d}, patches={patches}")
    shape = (n, d) if patches is None else (n, patches, d)
    X, y, w0 = [], [], []
    for rng in rngs(seeds):
        X.append(rng.standard_normal(shape))
        y.append(rng.choice([-1.0, 1.0], size=n))
        w0.append(rng.standard_normal(d) * w0_scale / np.sqrt(d))
    return np.stack(X), np.stack(y), np.stack(w0)
