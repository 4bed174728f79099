"""Experiments of `cao2023/patchwise-margin` (Theorem 3.2) beyond the model itself.

- `uniformity_floor`: the smallest patch-wise discrepancy any w can reach on a
  training set; 0 iff Assumption 3.1 holds.
- `loss_rate_fits`: the Theta(1/(eta P t)) loss form of Theorem 3.2, fitted per
  seed without a loop over seeds.
- `sensitivity`: BN-GD on one data set for a grid of step sizes and
  initialization scales at once (every configuration and seed is one row of a
  single batched update), to see where the theorem's "small eta, small
  ||P_X w0||" matters at a finite budget.

Float64 numpy, batched along a leading seed axis, like `model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import _as_patches, _bn_step, _flat, discrepancy, first_step_below

__all__ = ["Sensitivity", "crossing_slopes", "loss_rate_fits", "sensitivity", "uniformity_floor"]


def crossing_slopes(D, upper, lower):
    """Slope of log D against log t between the first crossings of `upper` and `lower`, per seed (columns of D,
    indexed [t, seed]); nan for a seed that does not reach `lower` (`model.crossing_slope` gives nan to every
    seed as soon as one does not)."""
    t_hi, t_lo = first_step_below(D, upper), first_step_below(D, lower)
    ok = (t_hi >= 1) & (t_lo > t_hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = (np.log(lower) - np.log(upper)) / (np.log(np.maximum(t_lo, 1)) - np.log(np.maximum(t_hi, 1)))
    return np.where(ok, slopes, np.nan)


def uniformity_floor(X, y):
    """min over w of D_patch(w), per seed: 2 (1 - ||P_Z 1||^2 / (nP)), with Z the (nP, d) matrix of the
    label-signed patches y_i x_i^(p) and P_Z the projector onto its column space.

    Derivation: the normalized patch margins m = Z w / rms(Z w) have mean square 1, so D_patch = 2 var(m)
    = 2 (1 - mean(m)^2), and mean(m) = <1, z> / (sqrt(nP) ||z||) over z = Z w in col(Z) is largest at
    z = P_Z 1 (Cauchy-Schwarz). The floor is 0 iff 1 is in col(Z), i.e. iff Assumption 3.1
    (<w, y_i x_i^(p)> = 1 for all i, p) has a solution; it is D_patch of the least-squares fit Z^+ 1.
    """
    S, n, P, d = _as_patches(X).shape
    Z = (y[..., None, None] * _as_patches(X)).reshape(S, n * P, d)
    floors = []
    for z in Z:
        left, singular, _ = np.linalg.svd(z, full_matrices=False)
        basis = left[:, singular > 1e-10 * singular.max()]
        projected = basis.T @ np.ones(n * P)
        floors.append(2.0 * max(0.0, 1.0 - projected @ projected / (n * P)))
    return np.array(floors)


def loss_rate_fits(loss, lr: float, P: int, start: int):
    """Straight-line fits of 1 / (lr P L(t)) on t >= start, per seed (columns of `loss`, indexed [t, seed]).

    Theorem 3.2's C1 / (eta P (t - t0 + 1)) <= L <= C2 / (eta P (t - t0 + 1)) makes 1 / (eta P L) grow
    linearly in t. Returns (r_squared, slope), both (S,).
    """
    t = np.arange(start, loss.shape[0], dtype=float)
    inverse = 1.0 / (lr * P * loss[start:])
    t_centred = t - t.mean()
    inv_centred = inverse - inverse.mean(axis=0)
    slope = t_centred @ inv_centred / (t_centred @ t_centred)
    residual = inv_centred - np.outer(t_centred, slope)
    return 1.0 - residual.var(axis=0) / inverse.var(axis=0), slope


@dataclass
class Sensitivity:
    """BN-GD on the same data and initial direction, for every (lr, w0_scale) pair: arrays are (lrs, scales, S)."""

    lrs: np.ndarray
    w0_scales: np.ndarray
    final_discrepancy: np.ndarray
    first_step: dict[float, np.ndarray]  # level -> first step with D_patch <= level (-1: never within the budget)
    norm_growth: np.ndarray  # ||w_T|| / ||w_0||
    snapshot_steps: np.ndarray
    discrepancy: np.ndarray  # (K, lrs, scales, S) D_patch at the snapshot steps


def sensitivity(X, y, w0_direction, *, lrs, w0_scales, steps: int, levels=(1e-6, 1e-15), gamma0: float = 1.0) -> Sensitivity:
    """BN-GD (eq. 2.1-2.2, CNN form) from w0 = scale * w0_direction / ||w0_direction|| with step lr, for every lr in
    `lrs` and scale in `w0_scales`, on the data X (S, n, P, d), y (S, n) of S seeds, all in one batched update
    per step (the same arithmetic as `model.train`, with a step size per row)."""
    lrs, w0_scales = np.asarray(lrs, float), np.asarray(w0_scales, float)
    if steps < 1 or (lrs <= 0).any() or (w0_scales <= 0).any():
        raise ValueError(f"need steps >= 1 and positive lrs and scales, got {steps}, {lrs}, {w0_scales}")
    S, n, P, _ = _as_patches(X).shape
    A, B = len(lrs), len(w0_scales)
    rows = A * B * S
    flat = np.ascontiguousarray(np.broadcast_to(_flat(X), (A, B) + _flat(X).shape).reshape((rows,) + _flat(X).shape[1:]))
    labels = np.broadcast_to(y, (A, B) + y.shape).reshape(rows, n)
    unit = w0_direction / np.linalg.norm(w0_direction, axis=-1, keepdims=True)
    w = (w0_scales[None, :, None, None] * np.broadcast_to(unit, (A, B) + unit.shape)).reshape(rows, -1).copy()
    step = np.broadcast_to(lrs[:, None, None], (A, B, S)).reshape(rows)
    gamma = np.full(rows, float(gamma0))
    norm0 = np.linalg.norm(w, axis=-1)
    snaps = np.unique(np.round(np.logspace(0, np.log10(steps), 120)).astype(int))
    snaps = np.union1d(snaps, [0, steps])
    first = {level: np.full(rows, -1) for level in levels}
    recorded = []
    for t in range(steps + 1):
        grad_w, grad_gamma, _, patch = _bn_step(w, gamma, flat, labels, P)
        D = discrepancy(patch.reshape(rows, n * P))
        for level, reached in first.items():
            reached[(reached < 0) & (D <= level)] = t
        if t in snaps:
            recorded.append(D)
        if t == steps:
            break
        w = w - step[:, None] * grad_w
        gamma = gamma - step * grad_gamma
    shape = (A, B, S)
    return Sensitivity(lrs, w0_scales, D.reshape(shape), {level: r.reshape(shape) for level, r in first.items()},
                       (np.linalg.norm(w, axis=-1) / norm0).reshape(shape), snaps, np.stack(recorded).reshape((-1,) + shape))
