"""The BN models of Cao et al. (COLT 2023), Sections 2 and 3.1.

Everything is float64 numpy and batched along a leading seed axis S. The data
X are (S, n, d) for the linear model or (S, n, P, d) for the two-layer
single-filter linear CNN with P patches; the linear model is the CNN with
P = 1, so one implementation serves both. y (S, n), w (S, d), gamma (S,).

The models are the paper's, exactly:
- linear (eq. 2.1-2.2): f(w, gamma, x) = gamma <w, x> / ||w||_Sigma with
  Sigma = X^T X / n;
- CNN (Section 3.1): g(w, gamma, x) = gamma sum_p <w, x^(p)> / ||w||_Sigma
  with Sigma = (nP)^-1 sum_{i,p} x_i^(p) x_i^(p)^T (BN over batch and patches,
  fixed sum pooling).
Biased variance, no epsilon, no shift beta, statistics of the full training
batch. The data are used as drawn; the paper's centring (x_bar = 0) is the
same formula applied to centred data. `torch.nn.BatchNorm1d` is deliberately
not used: it adds epsilon, a shift, running statistics and centring.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from scipy.special import expit, log_expit

__all__ = [
    "MaxMargin",
    "Trajectory",
    "bn_gradients",
    "crossing_slope",
    "discrepancy",
    "first_step_below",
    "linear_gradients",
    "logistic_loss",
    "margin_discrepancy",
    "max_margin",
    "min_norm_interpolator",
    "normalized_margins",
    "patch_margins",
    "project_onto_span",
    "rate_fits",
    "raw_patch_margins",
    "span_basis",
    "train",
]


def _as_patches(X):
    """View X as (S, n, P, d): the linear model's (S, n, d) is P = 1."""
    if X.ndim == 3:
        return X[:, :, None, :]
    if X.ndim == 4:
        return X
    raise ValueError(f"X must be (S, n, d) or (S, n, P, d), got shape {X.shape}")


def _flat(X):
    """All patches of all samples as rows: (S, n*P, d)."""
    S, n, P, d = _as_patches(X).shape
    return _as_patches(X).reshape(S, n * P, d)


def _summed(X):
    """x_bar_i = sum_p x_i^(p), what the CNN's output and the test rule see: (S, n, d)."""
    return X if X.ndim == 3 else X.sum(axis=2)


def _matvec(A, w):
    """(S, m, d) @ (S, d) -> (S, m)"""
    return np.matmul(A, w[..., None])[..., 0]


def _rmatvec(A, v):
    """(S, m, d)^T @ (S, m) -> (S, d)"""
    return np.matmul(v[:, None, :], A)[:, 0, :]


def raw_patch_margins(w, X, y):
    """y_i <w, x_i^(p)>, shape (S, n, P) (P = 1 for the linear model)."""
    S, n, P, _ = _as_patches(X).shape
    return y[..., None] * _matvec(_flat(X), w).reshape(S, n, P)


def patch_margins(w, X, y):
    """y_i <w, x_i^(p)> / ||w||_Sigma, shape (S, n, P); their mean square is 1."""
    raw = raw_patch_margins(w, X, y)
    return raw / np.sqrt(np.mean(raw**2, axis=(1, 2)))[:, None, None]


def normalized_margins(w, X, y):
    """y_i g(w, 1, x_i) = y_i <w, x_bar_i> / ||w||_Sigma, the sample-level margins, shape (S, n)."""
    return patch_margins(w, X, y).sum(axis=-1)


def discrepancy(margins):
    """D = m^-2 sum_{j,j'} (m_j' - m_j)^2 over the last axis = 2 * (biased) variance.

    Computed as a centred two-pass variance: near a uniform margin every m_j is
    close to 1 and the one-pass form 2(mean m^2 - mean(m)^2) would cancel to
    ~1e-16, hiding the 1e-25 values the theorem is about.
    """
    centred = margins - margins.mean(axis=-1, keepdims=True)
    return 2.0 * np.mean(centred**2, axis=-1)


def margin_discrepancy(w, X, y):
    """The paper's D(w) (Section 2) for the linear model, D_patch(w) (Section 3.1)
    for the CNN: the discrepancy of all n*P normalized patch margins, per seed."""
    m = patch_margins(w, X, y)
    return discrepancy(m.reshape(m.shape[0], -1))


def logistic_loss(z):
    """l(z) = log(1 + e^-z), stable for large |z|."""
    return -log_expit(z)


def _bn_step(w, gamma, flat, y, P):
    """Everything one GD step needs, from one pass over the patches."""
    S, nP, _ = flat.shape
    n = nP // P
    outputs = _matvec(flat, w)  # <w, x_i^(p)>, (S, nP)
    norm = np.sqrt(np.mean(outputs**2, axis=-1))  # ||w||_Sigma
    patch = (y[..., None] * outputs.reshape(S, n, P)) / norm[:, None, None]
    margins = patch.sum(axis=-1)  # y_i g(w, 1, x_i)
    lprime = -expit(-gamma[:, None] * margins)  # l'(z) = -1 / (1 + e^z)
    ly = np.repeat(lprime * y, P, axis=-1) / n  # n^-1 l'_i y_i, once per patch of sample i
    wv = np.sum(lprime * margins, axis=-1) * norm / n  # <w, v> with v = n^-1 sum_i l'_i y_i x_bar_i
    # v - Sigma w <w, v> / ||w||_Sigma^2 as a single pass over the patches
    direction = _rmatvec(flat, ly - outputs * (wv / (nP * norm**2))[:, None])
    grad_w = (gamma / norm)[:, None] * direction
    grad_gamma = np.mean(lprime * margins, axis=-1)
    loss = np.mean(logistic_loss(gamma[:, None] * margins), axis=-1)
    return grad_w, grad_gamma, loss, patch


def bn_gradients(w, gamma, X, y):
    """Gradients of L(w, gamma) = mean_i l(y_i g(w, gamma, x_i)) (f for P = 1).

    Returns (grad_w, grad_gamma, loss, margins) with the sample-level
    normalized margins (S, n); grad_w is the bracket of eq. (2.1):
    gamma / (n ||w||_Sigma) sum_i l'_i y_i (I - Sigma w w^T / ||w||_Sigma^2) x_bar_i.
    """
    P = _as_patches(X).shape[2]
    grad_w, grad_gamma, loss, patch = _bn_step(w, gamma, _flat(X), y, P)
    return grad_w, grad_gamma, loss, patch.sum(axis=-1)


def _plain_step(w, flat, y, P):
    """Without BN: L(w) = mean_i l(y_i <w, x_bar_i>), from one pass over the patches."""
    S, nP, _ = flat.shape
    n = nP // P
    outputs = _matvec(flat, w)
    raw = y * outputs.reshape(S, n, P).sum(axis=-1)  # y_i <w, x_bar_i>
    grad_w = _rmatvec(flat, np.repeat(-expit(-raw) * y, P, axis=-1) / n)
    patch = y[..., None] * outputs.reshape(S, n, P)
    patch = patch / np.sqrt(np.mean(patch**2, axis=(1, 2)))[:, None, None]
    return grad_w, np.mean(logistic_loss(raw), axis=-1), raw, patch


def linear_gradients(w, X, y):
    """Without BN: L(w) = mean_i l(y_i <w, x_bar_i>), logistic regression on the
    summed patches (the CNN with sum pooling and no BN). Returns (grad_w, loss,
    raw margins y_i <w, x_bar_i>)."""
    grad_w, loss, raw, _ = _plain_step(w, _flat(X), y, _as_patches(X).shape[2])
    return grad_w, loss, raw


@dataclass
class Trajectory:
    """Per-step scalars for every seed, plus snapshots at `snapshot_steps`.

    Arrays indexed [t, seed] hold the value *at* step t (t = 0 .. steps), i.e.
    before the update of step t.
    """

    discrepancy: np.ndarray  # (T+1, S) D(w_t); D_patch(w_t) for the CNN
    loss: np.ndarray  # (T+1, S)
    w_norm: np.ndarray  # (T+1, S) ||w_t||_2
    gamma: np.ndarray | None  # (T+1, S), BN only
    snapshot_steps: np.ndarray  # (K,)
    w: np.ndarray  # (K, S, d)
    margins: np.ndarray  # (K, S, n) y_i <w, x_bar_i> (unnormalized: what Figure 1 plots)

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

    batchnorm=True trains (w, gamma) of the BN model by eq. (2.1)-(2.2) (the
    CNN's analogue for patched X); batchnorm=False trains w of the same model
    without BN (logistic regression on the summed patches).
    """
    if steps < 1 or lr <= 0:
        raise ValueError(f"need steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    S, n, P, _ = _as_patches(X).shape
    flat = np.ascontiguousarray(_flat(X))
    w = w0.copy()
    gamma = np.full(S, float(gamma0))
    D, loss, w_norm, gammas = (np.empty((steps + 1, S)) for _ in range(4))
    snaps = _snapshot_steps(steps)
    snap_w, snap_margins = [], []
    next_snap = 0
    for t in range(steps + 1):
        if batchnorm:
            grad_w, grad_gamma, loss[t], patch = _bn_step(w, gamma, flat, y, P)
            gammas[t] = gamma
        else:
            grad_w, loss[t], _, patch = _plain_step(w, flat, y, P)
        D[t] = discrepancy(patch.reshape(S, n * P))
        w_norm[t] = np.sqrt(np.sum(w * w, axis=-1))
        if t == snaps[next_snap]:
            snap_w.append(w.copy())
            snap_margins.append(raw_patch_margins(w, X, y).sum(axis=-1))
            next_snap += 1
        if t == steps:
            break
        w = w - lr * grad_w
        if batchnorm:
            gamma = gamma - lr * grad_gamma
    return Trajectory(D, loss, w_norm, gammas if batchnorm else None, snaps, np.stack(snap_w), np.stack(snap_margins))


def min_norm_interpolator(X, y):
    """w* = Z^+ 1: the min-norm w with <w, y_i x_i^(p)> = 1 for every sample and
    patch (eq. 4.1; eq. D.1 for the CNN), per seed. Where the system has no exact
    solution (Assumption 2.1/3.1 fails) this is the least-squares fit; check
    `raw_patch_margins(w*, X, y)` against 1."""
    S, n, P, d = _as_patches(X).shape
    Z = (y[..., None, None] * _as_patches(X)).reshape(S, n * P, d)
    return np.stack([np.linalg.lstsq(z, np.ones(z.shape[0]), rcond=None)[0] for z in Z])


def span_basis(X, *, rtol: float = 1e-10):
    """Orthonormal bases Q (S, d, r) of X = span of all patches, per seed.

    GD moves w only inside X (the component in X^perp stays at its initial
    value), so training on the coordinates X @ Q from Q^T w0 is the same
    trajectory in r <= n*P dimensions instead of d.
    """
    bases = []
    for rows in _flat(X):
        # SVD, not QR: QR without pivoting does not reveal the rank (Example 3.2's
        # signal patches are all +-u or +-v, so the n*P patches span only n + 2 dimensions)
        left, singular, _ = np.linalg.svd(rows.T, full_matrices=False)
        bases.append(left[:, singular > rtol * singular.max()])
    ranks = {q.shape[1] for q in bases}
    if len(ranks) != 1:
        raise ValueError(f"the patches span subspaces of different dimensions across seeds: {sorted(ranks)}")
    return np.stack(bases)


def project_onto_span(w, X):
    """P_X w: the component of w inside span{x_i^(p)}, per seed."""
    Q = span_basis(X)
    return np.einsum("sdr,sr->sd", Q, np.einsum("sdr,sd->sr", Q, w))


@dataclass
class MaxMargin:
    w: np.ndarray  # (S, d)
    support: np.ndarray  # (S, n) bool: the active constraints y_i <w, x_bar_i> = 1
    n_support: np.ndarray  # (S,)


def _polish_active_set(Z, active, *, tol: float = 1e-10):
    """Exact KKT solution of min ||w||^2 s.t. Z w >= 1 from a guess of the active set.

    w = Za^T alpha with Za Za^T alpha = 1 on the active rows. A negative
    multiplier means a row is not active (drop the most negative); a violated
    inactive row means it is (add the most violated). The solver's guess is
    usually right or off by a row near the tolerance, so this ends in a few
    steps; it raises if the guess cannot be repaired.
    """
    active = active.copy()
    for _ in range(2 * len(Z)):
        Za = Z[active]
        alpha = np.linalg.solve(Za @ Za.T, np.ones(len(Za)))
        w = Za.T @ alpha
        slack = Z @ w - 1
        if alpha.min() < -tol:
            active[np.flatnonzero(active)[alpha.argmin()]] = False
        elif slack[~active].size and slack[~active].min() < -tol:
            inactive = np.flatnonzero(~active)
            active[inactive[slack[~active].argmin()]] = True
        else:
            return w, active
    raise RuntimeError("max-margin: could not repair the QP's active set to satisfy the KKT conditions")


def max_margin(X, y, *, active_tol: float = 1e-4) -> MaxMargin:
    """Hard-margin SVM w_max = argmin ||w||^2 s.t. y_i <w, x_bar_i> >= 1, per seed
    (eq. 3.1: on the summed patches for the CNN).

    The QP is solved by Clarabel in an orthonormal basis of span{x_bar_i}
    (w_max lies there), so its size is n, not d. The active set it finds is
    then polished in float64 (`_polish_active_set`), so w_max is exact to
    rounding rather than to the solver's tolerance.
    """
    ws, supports = [], []
    for x, t in zip(_summed(X), y):
        Z = t[:, None] * x
        scale = np.median(np.linalg.norm(Z, axis=1))  # rows of norm ~1 keep the solver's tolerances meaningful
        Q, _ = np.linalg.qr(Z.T)  # (d, n): w = Q c
        c = cp.Variable(Q.shape[1])
        problem = cp.Problem(cp.Minimize(cp.sum_squares(c)), [(Z @ Q / scale) @ c >= 1])
        problem.solve(solver=cp.CLARABEL)
        if problem.status != cp.OPTIMAL:
            raise RuntimeError(f"max-margin QP: solver status {problem.status} (is the data separable?)")
        margins = Z @ (Q @ c.value) / scale
        w_exact, active = _polish_active_set(Z, (margins <= 1 + active_tol) | (margins == margins.min()))
        ws.append(w_exact)
        supports.append(active)
    support = np.stack(supports)
    return MaxMargin(np.stack(ws), support, support.sum(axis=-1))


def first_step_below(D, level):
    """First step t with D[t] <= level, per seed (-1 where it never gets there)."""
    below = D <= level
    return np.where(below.any(axis=0), below.argmax(axis=0), -1)


def crossing_slope(D, upper, lower):
    """Slope of log D against log t between the first crossings of `upper` and `lower`, per seed: a chord
    between two level crossings (not the least-squares `bnrepro.stats.loglog_slope`)."""
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
