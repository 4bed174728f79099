"""Convex model of a two-layer ReLU network with batch normalization, after
Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci (ICLR 2022).

Provenance. The paper's body could not be obtained (see
docs/papers/ergen2022.md, "What of the paper could be read"). What is the paper's:
the claim that weight-decay regularised ReLU networks with BN are equivalent
to a finite convex program on a *whitened* data matrix U' with
U'^T U' = I, and that the weights have closed forms when n <= d. Everything
below -- the BN scaling, the convex program, the weight recovery, the closed
form -- is a **derivation** made from that problem statement (sections 1-2 of
docs/papers/ergen2022.md, cited below as §1.1 etc.) and checked numerically in
tests/test_ergen2022.py; it is not a transcription of the paper's Theorem 2.2
and its constants may differ.

The model (§1.1). Data X (n, d), labels y (n,), m neurons:

    BN_{gamma,alpha}(h) = gamma * P h / ||P h|| + (alpha / sqrt(n)) 1,
    P = I - 11^T / n  (full-batch statistics, no epsilon)
    f(X) = sum_j a_j * ReLU(BN_{gamma_j, alpha_j}(X w_j))
    objective = 1/2 ||f - y||^2 + beta/2 * sum_j (gamma_j^2 + alpha_j^2 + a_j^2).

The 1/sqrt(n) on alpha is this repository's choice (it makes U' orthonormal);
the paper may write alpha * 1. In PyTorch terms gamma = sqrt(n) gamma_pt,
alpha = sqrt(n) beta_pt (training-mode BatchNorm1d, eps -> 0).

Whitening (1.2): P X = U Sigma V^T (compact, rank r), U' = [U, 1/sqrt(n)] and
BN(X w) = U' q with q = [gamma v/||v||; alpha], v = Sigma V^T w, so
||q||^2 = gamma^2 + alpha^2 and X enters only through U'.

Convex program (1.3): with sign patterns D_i = 1[U' s >= 0] of U',

    min 1/2 ||sum_i D_i U'(q_i - q'_i) - y||^2 + beta sum_i (||q_i|| + ||q'_i||)
    s.t. (2 D_i - I) U' q_i >= 0, (2 D_i - I) U' q'_i >= 0.

With *all* patterns its value is a lower bound on the non-convex objective for
any width (each neuron is a feasible group with the same penalty, by
AM-GM), and it is attained by the weights of `recover_weights`; with a subset
of patterns it is an upper bound (every feasible point is a BN network).

Shapes: W (d, m), gamma, alpha, a (m,); patterns are boolean (P, n);
q_i are the rows of Q (P, r + 1). Everything is float64 numpy; the convex
program is solved by cvxpy with Clarabel (interior point, ~1e-8 accuracy).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from scipy.special import comb

__all__ = [
    "ClosedForm",
    "ConvexSolution",
    "Network",
    "Whitening",
    "arrangements_exact",
    "arrangements_sampled",
    "bn_forward",
    "bn_predict",
    "closed_form",
    "convex_objective",
    "convex_predict",
    "general_position_count",
    "has_pattern",
    "objective",
    "recover_weights",
    "relu_predict",
    "sign_patterns",
    "solve_convex",
    "unique_patterns",
    "whiten",
]


# ---------------------------------------------------------------------------
# The non-convex network (§1.1)
# ---------------------------------------------------------------------------


@dataclass
class Network:
    """Weights of the two-layer BN network: W (d, m), gamma, alpha, a (m,)."""

    W: np.ndarray
    gamma: np.ndarray
    alpha: np.ndarray
    a: np.ndarray

    @property
    def width(self) -> int:
        return self.W.shape[1]


def batch_norm(H, gamma, alpha):
    """BN of every column of H (n, m): gamma P h / ||P h|| + alpha / sqrt(n).

    Full-batch statistics, no epsilon: a column with P h = 0 gives nan.
    """
    Hc = H - H.mean(axis=0)
    return gamma * Hc / np.linalg.norm(Hc, axis=0) + alpha / np.sqrt(H.shape[0])


def bn_forward(X, W, gamma, alpha, a):
    """f(X) = sum_j a_j ReLU(BN_{gamma_j, alpha_j}(X w_j)), shape (n,) (or (n, C) for a (m, C))."""
    X, W = np.asarray(X, dtype=float), np.asarray(W, dtype=float)
    return np.maximum(batch_norm(X @ W, gamma, alpha), 0.0) @ np.asarray(a, dtype=float)


def bn_predict(X_new, X_train, W, gamma, alpha, a):
    """The network on new rows, BN using the training batch's mean and norm (test time)."""
    H = np.asarray(X_train, dtype=float) @ W
    mean, norm = H.mean(axis=0), np.linalg.norm(H - H.mean(axis=0), axis=0)
    B = gamma * (np.asarray(X_new, dtype=float) @ W - mean) / norm + alpha / np.sqrt(len(H))
    return np.maximum(B, 0.0) @ np.asarray(a, dtype=float)


def objective(X, y, W, gamma, alpha, a, beta):
    """1/2 ||f(X) - y||^2 + beta/2 sum_j (gamma_j^2 + alpha_j^2 + a_j^2)."""
    residual = bn_forward(X, W, gamma, alpha, a) - y
    penalty = np.sum(np.square(gamma)) + np.sum(np.square(alpha)) + np.sum(np.square(a))
    return 0.5 * residual @ residual + 0.5 * beta * penalty


# ---------------------------------------------------------------------------
# Whitening (§1.2)
# ---------------------------------------------------------------------------


@dataclass
class Whitening:
    """Compact SVD of the centred data P X = U diag(sigma) V^T and U' = [U, 1/sqrt(n)].

    Up (n, r+1), U (n, r), sigma (r,), V (d, r), rank r, mean (d,) the column
    mean of X (test features map as (x - mean) V diag(1/sigma)).
    """

    Up: np.ndarray
    U: np.ndarray
    sigma: np.ndarray
    V: np.ndarray
    rank: int
    mean: np.ndarray

    @property
    def n(self) -> int:
        return self.Up.shape[0]

    def truncate(self, k: int) -> Whitening:
        """The top-k whitening U'_k = [U_k, 1/sqrt(n)] (§3: GD's bias made explicit)."""
        if not 1 <= k <= self.rank:
            raise ValueError(f"truncation k must be in 1..rank={self.rank}, got {k}")
        U, sigma, V = self.U[:, :k], self.sigma[:k], self.V[:, :k]
        return Whitening(Up=np.hstack([U, self.Up[:, -1:]]), U=U, sigma=sigma, V=V, rank=k, mean=self.mean)

    def features(self, X) -> np.ndarray:
        """Whitened coordinates of any rows x: [(x - mean) V Sigma^-1, 1/sqrt(n)], (N, r+1).

        On the training rows this is U' itself; on new rows it is what BN with the
        training-batch statistics feeds the ReLU (§6, test time).
        """
        Z = (np.asarray(X, dtype=float) - self.mean) @ (self.V / self.sigma)
        return np.hstack([Z, np.full((len(Z), 1), 1.0 / np.sqrt(self.n))])

    def directions(self, W) -> np.ndarray:
        """The whitened directions v_j = Sigma V^T w_j of the columns of W: (r, m)."""
        return self.sigma[:, None] * (self.V.T @ np.asarray(W, dtype=float))

    def direction_energy(self, W, weights=None) -> np.ndarray:
        """Fraction of each neuron's whitened direction v_j/||v_j|| (v_j = Sigma V^T w_j) on each
        singular direction i, averaged over neurons with `weights` (default equal): (r,), sums to 1.

        A uniform spread gives 1/r per direction; GD's bias to the top directions shows as
        mass concentrated on the first entries (§3).
        """
        v = self.directions(W)
        share = v**2 / np.sum(v**2, axis=0)
        weights = np.ones(share.shape[1]) if weights is None else np.abs(np.asarray(weights, dtype=float))
        return share @ weights / weights.sum()

    def movement(self, W_from, W_to) -> np.ndarray:
        """RMS over neurons of the change of each whitened component v_i = sigma_i (V^T w)_i: (r,)."""
        dv = self.directions(np.asarray(W_to, dtype=float) - np.asarray(W_from, dtype=float))
        return np.sqrt(np.mean(dv**2, axis=1))

    def q_of(self, W, gamma, alpha):
        """The whitened weights q_j = [gamma_j v_j/||v_j||; alpha_j], v_j = Sigma V^T w_j: (m, r+1).

        BN(X w_j) = U' q_j (exact when w_j is not in null(P X)).
        """
        v = self.directions(W)
        return np.vstack([gamma * v / np.linalg.norm(v, axis=0), alpha]).T


def whiten(X, rtol=None) -> Whitening:
    """Compact SVD of P X with rank tolerance sigma > rtol * sigma_max.

    rtol defaults to max(n, d) * machine epsilon (numpy's matrix_rank rule).
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    mean = X.mean(axis=0)
    U, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
    rtol = max(n, d) * np.finfo(float).eps if rtol is None else rtol
    r = int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
    U, s, V = U[:, :r], s[:r], Vt[:r].T
    Up = np.hstack([U, np.full((n, 1), 1.0 / np.sqrt(n))])
    return Whitening(Up=Up, U=U, sigma=s, V=V, rank=r, mean=mean)


# ---------------------------------------------------------------------------
# Hyperplane arrangements of U' (§1.5)
# ---------------------------------------------------------------------------


def general_position_count(n, r):
    """2 sum_{k=0}^{r} C(n-1, k): the number of cells of n central hyperplanes in
    general position in R^{r+1}, hence of patterns 1[U' s >= 0] (an upper bound
    otherwise)."""
    return int(2 * sum(comb(n - 1, k, exact=True) for k in range(r + 1)))


def unique_patterns(*blocks):
    """Stack boolean pattern blocks (P_k, n) and keep the unique rows (sorted)."""
    return np.unique(np.vstack([np.asarray(b, dtype=bool).reshape(-1, np.shape(b)[-1]) for b in blocks]), axis=0)


def has_pattern(patterns, pattern) -> bool:
    """Whether the boolean row `pattern` (n,) is one of the rows of `patterns` (P, n)."""
    return bool(np.any(np.all(np.asarray(patterns) == np.asarray(pattern), axis=1)))


def sign_patterns(y):
    """The label patterns 1[y > 0], 1[y < 0] and all-ones (2, n) or (3, n) as bool.

    Appended to sampled patterns (§6): in the n <= d regime they
    carry the closed-form optimum of section 2.
    """
    y = np.asarray(y)
    return np.vstack([y > 0, y < 0, np.ones_like(y, dtype=bool)])


def _lexicographic(primary, secondary, tol):
    """Pattern 1[s >= 0] at s = c + eps t for eps -> 0+: the sign of U'c, ties broken by U't."""
    return np.where(np.abs(primary) > tol, primary > 0, secondary >= 0)


def arrangements_exact(Up, tol=1e-9):
    """Every pattern 1[U' s >= 0], s in R^{r+1}, for U' with at most 3 columns: bool (P, n).

    Derived construction (§1.5, made exact without a finite epsilon).
    Every pattern 1[U' s >= 0] is the pattern of an open cell of the central
    arrangement {s: u'_k . s = 0}, since the last column of U' is positive
    (move s along e_last). Every cell has an extreme ray on its boundary, so
    the cells are read off at the rays c, perturbed to s = c + eps t:
    - 1 column: the two half-lines;
    - 2 columns: c = +-rot90(u'_i), t = +-u'_i (all 2n cells);
    - 3 columns: c = +-u'_i x u'_j, t ranging over the four quadrants of the
      pair (t is the dual-basis vector with u'_i.t, u'_j.t = +-1). Rows with
      |u'_k . c| <= tol (more than two planes through one line) take their
      sign from t; every sector around that line is a quadrant of its two
      bounding planes, so the enumeration stays exact in degenerate position.
    Vectorized over all rays; O(n^3) memory-light work for 3 columns.
    """
    Up = np.asarray(Up, dtype=float)
    n, D = Up.shape
    if D == 1:
        return unique_patterns(np.ones(n, bool), np.zeros(n, bool))
    if D == 2:
        C = np.stack([-Up[:, 1], Up[:, 0]], axis=1)  # (n, 2): c_i perpendicular to u'_i
        C /= np.linalg.norm(C, axis=1, keepdims=True)
        T = Up / np.sum(Up**2, axis=1, keepdims=True)  # u'_i . t_i = 1
        primary = np.concatenate([C, -C]) @ Up.T  # (2n, n)
        secondary = T @ Up.T
        blocks = [_lexicographic(primary, sgn * np.concatenate([secondary, secondary]), tol) for sgn in (1, -1)]
        return unique_patterns(*blocks)
    if D == 3:
        i, j = np.triu_indices(n, k=1)
        C = np.cross(Up[i], Up[j])  # (M, 3)
        norms = np.linalg.norm(C, axis=1)
        keep = norms > tol  # identical rows: the same plane, no vertex
        i, j, C = i[keep], j[keep], C[keep] / norms[keep, None]
        A = np.stack([Up[i], Up[j]], axis=1)  # (M, 2, 3)
        G = A @ A.transpose(0, 2, 1)  # (M, 2, 2) Gram
        signs = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])  # (4, 2)
        coef = np.linalg.solve(G[:, None], np.broadcast_to(signs[None, :, :, None], (len(i), 4, 2, 1)))[..., 0]
        T = np.einsum("mqk,mkd->mqd", coef, A)  # (M, 4, 3): u'_i.t, u'_j.t = signs
        primary = C @ Up.T  # (M, n)
        secondary = T @ Up.T  # (M, 4, n)
        blocks = [_lexicographic(sgn * primary[:, None, :], secondary, tol) for sgn in (1, -1)]
        return unique_patterns(*blocks)
    raise ValueError(f"arrangements_exact handles U' with at most 3 columns (d <= 2), got {D}")


def arrangements_sampled(Up, samples, rng, chunk=20000):
    """Unique patterns 1[U' s >= 0] over `samples` Gaussian s ~ N(0, I): bool (P, n).

    The lab's practice (§1.5, not verified); incomplete in general (thin cells are
    missed), so a convex value over these patterns is an upper bound on p*.
    """
    Up = np.asarray(Up, dtype=float)
    blocks = []
    for start in range(0, samples, chunk):
        S = rng.standard_normal((Up.shape[1], min(chunk, samples - start)))
        blocks.append(np.unique((Up @ S >= 0).T, axis=0))
    return unique_patterns(*blocks)


# ---------------------------------------------------------------------------
# The convex program (§1.3)
# ---------------------------------------------------------------------------


@dataclass
class ConvexSolution:
    """Solution of the group-lasso program: value, Q and Qp (P, r+1) the q_i and
    q'_i, the patterns (P, n), the solver status and wall time (s)."""

    value: float
    Q: np.ndarray
    Qp: np.ndarray
    patterns: np.ndarray
    beta: float
    status: str
    solve_time: float


def convex_predict(Up, patterns, Q, Qp):
    """sum_i D_i U' (q_i - q'_i), shape (n,)."""
    return np.sum(patterns.T * (Up @ (Q - Qp).T), axis=1)


def relu_predict(F, Q, Qp):
    """sum_i ReLU(F q_i) - ReLU(F q'_i) on feature rows F (N, r+1): the convex model off the
    training set (on it, with feasible Q, Qp, this equals `convex_predict`)."""
    return np.maximum(F @ Q.T, 0.0).sum(axis=1) - np.maximum(F @ Qp.T, 0.0).sum(axis=1)


def convex_objective(Up, y, beta, patterns, Q, Qp, weights=None):
    """The convex program's objective at (Q, Qp), in numpy (constraints not checked)."""
    w = 1.0 if weights is None else np.asarray(weights, dtype=float)
    residual = convex_predict(Up, patterns, Q, Qp) - y
    return 0.5 * residual @ residual + beta * (np.linalg.norm(w * Q, axis=1).sum() + np.linalg.norm(w * Qp, axis=1).sum())


def solve_convex(Up, y, beta, patterns, weights=None, **solver_options) -> ConvexSolution:
    """Solve the convex program of §1.3 with cvxpy + Clarabel.

    `weights` (r+1,), optional: the penalty becomes ||Lambda q_i|| with Lambda = diag(weights),
    the weighted family of §3 (all ones: the BN program itself).
    """
    Up, y = np.asarray(Up, dtype=float), np.asarray(y, dtype=float)
    patterns = np.asarray(patterns, dtype=bool)
    P, D = len(patterns), Up.shape[1]
    if weights is not None and (np.shape(weights) != (D,) or np.any(np.asarray(weights) <= 0)):
        raise ValueError(f"weights must be {D} positive numbers (one per column of U'), got shape {np.shape(weights)}")
    Lam = np.ones(D) if weights is None else np.asarray(weights, dtype=float)
    M = patterns.T.astype(float)  # (n, P): column i is diag(D_i)
    S = 2.0 * M - 1.0
    Q, Qp = cp.Variable((P, D)), cp.Variable((P, D))
    fit = cp.sum(cp.multiply(M, Up @ (Q - Qp).T), axis=1)
    penalty = cp.sum(cp.norm(Q @ np.diag(Lam), 2, axis=1)) + cp.sum(cp.norm(Qp @ np.diag(Lam), 2, axis=1))
    constraints = [cp.multiply(S, Up @ Q.T) >= 0, cp.multiply(S, Up @ Qp.T) >= 0]
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(fit - y) + beta * penalty), constraints)
    # QDLDL (one thread) factors these KKT systems about twice as fast as Clarabel's default
    # multithreaded faer at n = 300, P ~ 100, k = 25 on 2 cores (measured 11-12 s against 18-28 s).
    solver_options = {"direct_solve_method": "qdldl", **solver_options}
    start = time.perf_counter()
    problem.solve(solver=cp.CLARABEL, **solver_options)
    elapsed = time.perf_counter() - start
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise RuntimeError(f"convex BN program: solver status {problem.status}")
    return ConvexSolution(
        value=float(problem.value),
        Q=np.asarray(Q.value),
        Qp=np.asarray(Qp.value),
        patterns=patterns,
        beta=float(beta),
        status=problem.status,
        solve_time=elapsed,
    )


# ---------------------------------------------------------------------------
# Weight recovery (§1.4) and the closed form (§2)
# ---------------------------------------------------------------------------


def _network_from_q(q, sign, whitening: Whitening) -> Network:
    """Neurons with a_j ReLU(BN(X w_j)) = sign_j ReLU(U' q_j), penalty beta ||q_j|| each.

    a = sign sqrt||q||, q~ = q / sqrt||q||, gamma = ||q~_{1:r}||, alpha = q~_{r+1},
    w = V Sigma^-1 q~_{1:r} / ||q~_{1:r}|| (the top direction where gamma = 0).
    Derived (§1.4).
    """
    norms = np.linalg.norm(q, axis=1)
    qt = q / np.sqrt(np.where(norms > 0, norms, 1.0))[:, None]
    v, alpha = qt[:, :-1], qt[:, -1]
    gamma = np.linalg.norm(v, axis=1)
    fallback = np.zeros_like(v)
    if v.shape[1]:
        fallback[:, 0] = 1.0
    vhat = np.where(gamma[:, None] > 0, v / np.where(gamma > 0, gamma, 1.0)[:, None], fallback)
    W = whitening.V @ (vhat / whitening.sigma).T
    return Network(W=W, gamma=gamma, alpha=alpha, a=sign * np.sqrt(norms))


def recover_weights(solution: ConvexSolution, whitening: Whitening, rel_tol=1e-6) -> Network:
    """Non-convex weights from the convex solution (§1.4, derived).

    Groups with ||q|| <= rel_tol * max ||q|| (interior-point dust) are dropped;
    each kept q_i gives a neuron with a > 0, each kept q'_i one with a < 0.
    Run through `bn_forward`, the network's objective equals the convex value
    up to the solver's accuracy and the dropped groups.
    """
    q = np.vstack([solution.Q, solution.Qp])
    sign = np.concatenate([np.ones(len(solution.Q)), -np.ones(len(solution.Qp))])
    norms = np.linalg.norm(q, axis=1)
    keep = norms > rel_tol * norms.max() if norms.max() > 0 else np.zeros(len(q), bool)
    return _network_from_q(q[keep], sign[keep], whitening)


def _shrink(s, beta):
    """Group soft-thresholding factor (1 - beta/s)_+ (0 at s = 0)."""
    return max(1.0 - beta / s, 0.0) if s > 0 else 0.0


def _phi(s, beta):
    return np.where(s > beta, beta * s - 0.5 * beta**2, 0.5 * s**2)


@dataclass
class ClosedForm:
    """The n <= d optimum (§2): value p*, the fitted parts u (of y_+) and
    u_neg (of y_-), and a two-neuron network (positive then negative neuron;
    a neuron with ||y_pm|| <= beta is dead, a = gamma = alpha = 0)."""

    value: float
    u: np.ndarray
    u_neg: np.ndarray
    network: Network


def closed_form(X, y, beta, whitening: Whitening | None = None) -> ClosedForm:
    """Closed-form optimum when the centred data have rank n - 1 (§2, derived).

    U' is then n x n orthogonal, the program reduces to
    min_{u, u' >= 0} 1/2||u - u' - y||^2 + beta(||u|| + ||u'||), solved by
    group soft-thresholding u = (1 - beta/||y_+||)_+ y_+, u' likewise for y_-,
    p* = phi(||y_+||) + phi(||y_-||), phi(s) = beta s - beta^2/2 (s > beta),
    s^2/2 otherwise. The neurons have BN(X w) = u/sqrt||u||: w = V Sigma^-1 U^T u
    (§2's X^+ y_+ up to scale and null(P X) when X has full row rank),
    gamma = ||P u||/sqrt||u||, alpha = 1^T u/(sqrt(n) sqrt||u||), a = +-sqrt||u||.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n = len(y)
    wh = whiten(X) if whitening is None else whitening
    if wh.rank != n - 1:
        raise ValueError(f"closed form needs centred data of rank n - 1 = {n - 1}, got rank {wh.rank}")
    y_pos, y_neg = np.maximum(y, 0.0), np.maximum(-y, 0.0)
    s_pos, s_neg = np.linalg.norm(y_pos), np.linalg.norm(y_neg)
    value = float(_phi(s_pos, beta) + _phi(s_neg, beta))
    u, u_neg = _shrink(s_pos, beta) * y_pos, _shrink(s_neg, beta) * y_neg
    q = np.stack([u, u_neg]) @ wh.Up  # (2, n): U' q_j = u_j exactly (U' orthogonal)
    net = _network_from_q(q, np.array([1.0, -1.0]), wh)
    return ClosedForm(value=value, u=u, u_neg=u_neg, network=net)
