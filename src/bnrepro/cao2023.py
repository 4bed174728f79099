"""Cao, Zou, Li & Gu (COLT 2023): the implicit bias of batch normalization in
linear models.

Everything is float64 numpy and batched along a leading seed axis S:
X (S, n, d), y (S, n), w (S, d), gamma (S,).

The BN linear model is eq. (2.1)-(2.2) of the paper, exactly:
f(w, gamma, x) = gamma <w, x> / ||w||_Sigma with Sigma = X^T X / n (biased
variance, no epsilon, no shift beta, statistics of the full training batch).
The data are used as drawn; the paper's centring (x_bar = 0) is the same
formula applied to centred data. `torch.nn.BatchNorm1d` is deliberately not
used: it adds epsilon, a shift, running statistics and centring.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from scipy.special import expit, log_expit


def _matvec(X, w):
    """(S, n, d) @ (S, d) -> (S, n)"""
    return np.matmul(X, w[..., None])[..., 0]


def _rmatvec(X, v):
    """(S, n, d)^T @ (S, n) -> (S, d)"""
    return np.matmul(v[:, None, :], X)[:, 0, :]


def _normalized(raw_margins):
    """Divide y_i <w, x_i> by ||w||_Sigma = sqrt(mean_i <w, x_i>^2) (y_i^2 = 1)."""
    return raw_margins / np.sqrt(np.mean(raw_margins**2, axis=-1, keepdims=True))


def normalized_margins(w, X, y):
    """y_i <w, x_i> / ||w||_Sigma: the BN-normalized margins, shape (S, n)."""
    return _normalized(y * _matvec(X, w))


def discrepancy(margins):
    """D = n^-2 sum_{i,i'} (m_i' - m_i)^2 = 2 * (biased) variance of the margins.

    Computed as a centred two-pass variance: near a uniform margin every m_i is
    close to 1 and the one-pass form 2(mean m^2 - mean(m)^2) would cancel to
    ~1e-16, hiding the 1e-25 values the theorem is about.
    """
    centred = margins - margins.mean(axis=-1, keepdims=True)
    return 2.0 * np.mean(centred**2, axis=-1)


def margin_discrepancy(w, X, y):
    """D(w) of the paper (Section 2), per seed."""
    return discrepancy(normalized_margins(w, X, y))


def logistic_loss(z):
    """l(z) = log(1 + e^-z), stable for large |z|."""
    return -log_expit(z)


def bn_gradients(w, gamma, X, y):
    """Gradients of L(w, gamma) = mean_i l(y_i f(w, gamma, x_i)).

    Returns (grad_w, grad_gamma, loss, margins); grad_w is the bracket of
    eq. (2.1): gamma / (n ||w||_Sigma) sum_i l'_i y_i (I - Sigma w w^T / ||w||_Sigma^2) x_i.
    """
    n = X.shape[-2]
    Xw = _matvec(X, w)
    norm = np.sqrt(np.mean(Xw**2, axis=-1))
    margins = y * Xw / norm[:, None]
    lprime = -expit(-gamma[:, None] * margins)  # l'(z) = -1 / (1 + e^z)
    v = _rmatvec(X, lprime * y) / n  # n^-1 sum_i l'_i y_i x_i
    sigma_w = _rmatvec(X, Xw) / n  # Sigma w
    wv = np.sum(w * v, axis=-1)
    grad_w = (gamma / norm)[:, None] * (v - sigma_w * (wv / norm**2)[:, None])
    grad_gamma = np.mean(lprime * margins, axis=-1)
    loss = np.mean(logistic_loss(gamma[:, None] * margins), axis=-1)
    return grad_w, grad_gamma, loss, margins


def linear_gradients(w, X, y):
    """Plain logistic regression without BN: L(w) = mean_i l(y_i <w, x_i>)."""
    margins = y * _matvec(X, w)
    grad_w = _rmatvec(X, -expit(-margins) * y) / X.shape[-2]
    return grad_w, np.mean(logistic_loss(margins), axis=-1), margins


@dataclass
class Trajectory:
    """Per-step scalars for every seed, plus snapshots at `snapshot_steps`.

    Arrays indexed [t, seed] hold the value *at* step t (t = 0 .. steps), i.e.
    before the update of step t.
    """

    discrepancy: np.ndarray  # (T+1, S) D(w_t)
    loss: np.ndarray  # (T+1, S)
    w_norm: np.ndarray  # (T+1, S) ||w_t||_2
    gamma: np.ndarray | None  # (T+1, S), BN only
    snapshot_steps: np.ndarray  # (K,)
    w: np.ndarray  # (K, S, d)
    margins: np.ndarray  # (K, S, n) y_i <w, x_i> (unnormalized: what Figure 1 plots)

    @property
    def final_w(self):
        return self.w[-1]


def _snapshot_steps(steps: int, count: int = 400) -> np.ndarray:
    """Log- and linearly-spaced steps in [0, steps], both ends included."""
    log = np.unique(np.round(np.logspace(0, np.log10(max(steps, 1)), count // 2)).astype(int))
    lin = np.linspace(0, steps, count // 2).round().astype(int)
    return np.union1d(np.union1d(log, lin), [0, steps])


def train(X, y, w0, *, lr: float, steps: int, batchnorm: bool, gamma0: float = 1.0) -> Trajectory:
    """Full-batch gradient descent for all seeds at once (one batched update per step).

    batchnorm=True trains (w, gamma) of the BN model by eq. (2.1)-(2.2);
    batchnorm=False trains plain logistic regression on w.
    """
    if steps < 1 or lr <= 0:
        raise ValueError(f"need steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    S = X.shape[0]
    w = w0.copy()
    gamma = np.full(S, float(gamma0))
    D, loss, w_norm, gammas = (np.empty((steps + 1, S)) for _ in range(4))
    snaps = _snapshot_steps(steps)
    snap_w, snap_margins = [], []
    next_snap = 0
    for t in range(steps + 1):
        if batchnorm:
            grad_w, grad_gamma, loss[t], m = bn_gradients(w, gamma, X, y)
            D[t] = discrepancy(m)
            gammas[t] = gamma
        else:
            grad_w, loss[t], raw = linear_gradients(w, X, y)
            D[t] = discrepancy(_normalized(raw))
        w_norm[t] = np.sqrt(np.sum(w * w, axis=-1))
        if t == snaps[next_snap]:
            snap_w.append(w.copy())
            snap_margins.append(y * _matvec(X, w))
            next_snap += 1
        if t == steps:
            break
        w = w - lr * grad_w
        if batchnorm:
            gamma = gamma - lr * grad_gamma
    return Trajectory(D, loss, w_norm, gammas if batchnorm else None, snaps, np.stack(snap_w), np.stack(snap_margins))


def min_norm_interpolator(X, y):
    """w* = Z^+ 1 with z_i = y_i x_i: the min-norm w with <w, z_i> = 1 for all i (eq. 4.1)."""
    Z = y[..., None] * X
    return np.stack([np.linalg.lstsq(z, np.ones(z.shape[0]), rcond=None)[0] for z in Z])


def project_onto_span(w, X):
    """P_X w: the component of w inside span{x_1..x_n}, per seed."""
    out = []
    for x, v in zip(X, w):
        q, r = np.linalg.qr(x.T)
        q = q[:, np.abs(np.diag(r)) > 1e-10 * np.abs(r).max()]
        out.append(q @ (q.T @ v))
    return np.stack(out)


@dataclass
class MaxMargin:
    w: np.ndarray  # (S, d)
    support: np.ndarray  # (S, n) bool: the active constraints y_i <w, x_i> = 1
    n_support: np.ndarray  # (S,)


def max_margin(X, y, *, active_tol: float = 1e-6) -> MaxMargin:
    """Hard-margin SVM w_max = argmin ||w||^2 s.t. y_i <w, x_i> >= 1, per seed.

    Clarabel finds the active set; w is then recomputed in float64 as the
    min-norm solution of the active constraints, and the KKT conditions
    (feasibility, non-negative multipliers) are verified, so w_max is exact to
    rounding rather than to the solver's tolerance.
    """
    ws, supports = [], []
    for x, t in zip(X, y):
        Z = t[:, None] * x
        w = cp.Variable(x.shape[1])
        problem = cp.Problem(cp.Minimize(cp.sum_squares(w)), [Z @ w >= 1])
        problem.solve(solver=cp.CLARABEL)
        if problem.status != cp.OPTIMAL:
            raise RuntimeError(f"max-margin QP: solver status {problem.status} (is the data separable?)")
        active = Z @ w.value <= 1 + active_tol
        Za = Z[active]
        alpha = np.linalg.solve(Za @ Za.T, np.ones(len(Za)))
        w_exact = Za.T @ alpha
        if alpha.min() < -1e-9 or (Z @ w_exact).min() < 1 - 1e-9:
            raise RuntimeError("max-margin: the active set from the QP does not satisfy the KKT conditions")
        ws.append(w_exact)
        supports.append(active)
    support = np.stack(supports)
    return MaxMargin(np.stack(ws), support, support.sum(axis=-1))


def cosine(a, b):
    """Cosine similarity along the last axis."""
    return np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def first_step_below(D, level):
    """First step t with D[t] <= level, per seed (-1 where it never gets there)."""
    below = D <= level
    return np.where(below.any(axis=0), below.argmax(axis=0), -1)


def loglog_slope(D, upper, lower):
    """Slope of log D against log t between the first crossings of `upper` and `lower`."""
    t_hi, t_lo = first_step_below(D, upper), first_step_below(D, lower)
    if (t_hi < 1).any() or (t_lo < 1).any():
        return np.full(D.shape[1], np.nan)
    return (np.log(lower) - np.log(upper)) / (np.log(t_lo) - np.log(t_hi))


def _r_squared(x, z):
    coef = np.polyfit(x, z, 1)
    residual = z - np.polyval(coef, x)
    return 1.0 - residual.var() / z.var()


def rate_fits(D, lr, *, upper=1e-3, lower=1e-18):
    """R^2 of two straight-line fits of ln D on the window from the first
    crossing of `upper` to the first crossing of `lower`, per seed:
    against ln^2(lr t + 1) (Theorem 2.2's exp(-c log^2 t) rate) and against
    ln t (a power law t^-a). Returns (r2_log_squared, r2_power_law)."""
    t_hi, t_lo = first_step_below(D, upper), first_step_below(D, lower)
    r2_log2, r2_power = [], []
    for s in range(D.shape[1]):
        if t_hi[s] < 1 or t_lo[s] <= t_hi[s] + 2:
            r2_log2.append(np.nan)
            r2_power.append(np.nan)
            continue
        t = np.arange(t_hi[s], t_lo[s] + 1)
        z = np.log(D[t, s])
        r2_log2.append(_r_squared(np.log(lr * t + 1) ** 2, z))
        r2_power.append(_r_squared(np.log(t), z))
    return np.array(r2_log2), np.array(r2_power)
