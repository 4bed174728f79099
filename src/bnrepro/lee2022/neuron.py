"""A single ReLU neuron trained by gradient flow on the square loss (Lee, Sim & Ye 2022).

Only the paper's abstracts could be read (docs/papers/lee2022.md, "What of the paper
could be read"), so the model, loss normalization and data below are our derived
formulation, not the paper's definitions:

- model f(x) = relu(w^T x), no bias; loss L(w) = (1/2n) sum_i (f(x_i) - y_i)^2;
- active set A(w) = {i : w^T x_i > 0} (strict: a point on the kink is inactive,
  so relu'(0) = 0 and the all-inactive w is a stationary point);
- gradient flow dw/dt = -(1/n) sum_{i in A(w)} (w^T x_i - y_i) x_i;
- norm identity d/dt ||w||^2/2 = (1/n) sum_{i in A} (y_i - z_i) z_i, z = Xw;
- on a constant active set A the flow is linear least squares on A, with limit
  w_tau + X_A^+ (y_A - X_A w_tau), the least-squares solution closest to w_tau;
- teacher data x_i ~ N(0, I_d), y_i = relu(v^T x_i), ||v|| = 1.
The `linear` flag gives the linear-neuron control f(x) = w^T x (every point
contributes; "active" still means w^T x_i > 0, to count reactivations).

Integrator: explicit Euler, w_{k+1} = w_k - eta grad L(w_k), i.e. full-batch
gradient descent, with t = k eta. Why not a higher-order scheme: the vector
field jumps where w^T x_i = 0 and y_i != 0, so Runge-Kutta schemes drop to first
order at every activation change anyway; Euler keeps the two structural facts
the claims rest on exactly (each increment lies in span{x_i : i active}, and a
never-active point contributes an exact 0), and on a fixed active set it
converges to the same least-squares limit as the flow. Faithfulness is shown by
step halving (tests/test_lee2022.py and the notebooks).

Everything is float64 numpy, batched along a leading seed axis S:
X (S, n, d), y (S, n), w (S, d).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnrepro import stats
from bnrepro.runtime import check_seeds

__all__ = [
    "Flow",
    "active_set",
    "alignment_first",
    "flow",
    "gradient",
    "init_norm_sweep",
    "init_weights",
    "least_squares_limit",
    "loss",
    "norm_rate",
    "span_residual",
    "strictly_increasing",
    "teacher_data",
]


def _matvec(X, w):
    """(S, n, d) @ (S, d) -> (S, n)"""
    return np.matmul(X, w[..., None])[..., 0]


def _loss(z, y, linear):
    f = z if linear else np.maximum(z, 0.0)
    return 0.5 * np.mean((f - y) ** 2, axis=1)


def _residual(z, y, linear):
    """n dL/dz_i = (z_i - y_i) 1[z_i > 0] (no indicator for the linear neuron), (S, n)."""
    return z - y if linear else np.where(z > 0, z - y, 0.0)


def _gradient(r, X):
    """(1/n) sum_i r_i x_i, (S, d)."""
    return np.matmul(r[:, None, :], X)[:, 0, :] / X.shape[1]


def teacher_data(seeds: list[int], n: int, d: int):
    """x_i ~ N(0, I_d) and y_i = relu(v^T x_i) with v uniform on the unit sphere, per seed.

    Returns X (S, n, d), y (S, n), v (S, d). Drawn from np.random.default_rng([seed, 0]),
    so seed s gives the same data whatever other seeds are asked for.
    """
    if n < 1 or d < 1:
        raise ValueError(f"n and d must be positive, got n={n}, d={d}")
    X, v = [], []
    for seed in check_seeds(seeds):
        rng = np.random.default_rng([seed, 0])
        X.append(rng.standard_normal((n, d)))
        u = rng.standard_normal(d)
        v.append(u / np.linalg.norm(u))
    X, v = np.stack(X), np.stack(v)
    return X, np.maximum(_matvec(X, v), 0.0), v


def init_weights(seeds: list[int], d: int, norms):
    """w0 = r u with u uniform on the unit sphere (from np.random.default_rng([seed, 1]),
    independent of the data) and ||w0|| = r; `norms` is a scalar or one per seed. (S, d)."""
    u = np.stack([np.random.default_rng([seed, 1]).standard_normal(d) for seed in check_seeds(seeds)])
    return np.asarray(norms, dtype=float).reshape(-1, 1) * u / np.linalg.norm(u, axis=1, keepdims=True)


def active_set(w, X):
    """A(w) = {i : w^T x_i > 0} as a boolean mask (S, n)."""
    return _matvec(X, w) > 0


def loss(w, X, y, *, linear: bool = False):
    """L(w) = (1/2n) sum_i (f(x_i) - y_i)^2 per seed, (S,)."""
    return _loss(_matvec(X, w), y, linear)


def gradient(w, X, y, *, linear: bool = False):
    """grad L(w) = (1/n) sum_{i in A} (z_i - y_i) x_i (all i when `linear`), (S, d)."""
    return _gradient(_residual(_matvec(X, w), y, linear), X)


def norm_rate(w, X, y):
    """d/dt ||w||^2 / 2 = (1/n) sum_{i in A} (y_i - z_i) z_i along the ReLU flow, (S,). [D]

    It is -w^T grad L(w); the norm grows exactly while this is positive, e.g. when
    0 < z_i < y_i on the whole active set (small init, teacher labels).
    """
    z = _matvec(X, w)
    return -np.mean(_residual(z, y, False) * z, axis=1)


def least_squares_limit(w_tau, X, y, active):
    """w_tau + X_A^+ (y_A - X_A w_tau): where the flow ends if the active set stays A from w_tau on. [D]

    A is a mask (S, n); inactive rows are zeroed, which leaves X_A^+ r_A unchanged
    (a zero row adds a zero column to the pseudo-inverse), so ragged sets vectorize.
    """
    XA = np.where(active[..., None], X, 0.0)
    r = np.where(active, y - _matvec(X, w_tau), 0.0)
    return w_tau + np.einsum("sdn,sn->sd", np.linalg.pinv(XA), r)


def span_residual(u, X, mask):
    """||u - P u|| / ||u||, P the orthogonal projector onto span{x_i : mask_i}, per seed (S,)."""
    B = np.where(mask[..., None], X, 0.0).transpose(0, 2, 1)  # (S, d, n), columns x_i
    coef = np.einsum("snd,sd->sn", np.linalg.pinv(B), u)
    return np.linalg.norm(u - np.einsum("sdn,sn->sd", B, coef), axis=1) / np.linalg.norm(u, axis=1)


def strictly_increasing(norm, loss, floor: float):
    """Per seed: ||w|| grows at every recorded step taken while the loss is >= floor. (S,)

    norm, loss are (R, S) records; below the floor the iterate sits at rounding level.
    """
    return np.all((np.diff(norm, axis=0) > 0) | (loss[:-1] < floor), axis=0)


def alignment_first(w, v):
    """Angle progress when the norm has made half its change, per seed (S,). [ours]

    w (R, S, d) a recorded trajectory, v (S, d) the teacher. With theta(t) the angle
    between w(t) and v and b(t) = (||w(t)|| - ||w_0||) / (||w_T|| - ||w_0||), returns
    1 - theta(t_b) / theta(0) at the first t_b with b >= 1/2: near 1 when the direction
    aligns before the norm moves, near 0 when the norm moves first. Undefined (noisy)
    when ||w_T|| ~ ||w_0||.
    """
    theta = np.arccos(np.clip(stats.cosine(w, v[None]), -1.0, 1.0))
    norm = np.linalg.norm(w, axis=-1)
    b = (norm - norm[0]) / (norm[-1] - norm[0])
    k = np.argmax(b >= 0.5, axis=0)
    return 1.0 - theta[k, np.arange(w.shape[1])] / theta[0]


@dataclass
class Flow:
    """One Euler-integrated gradient flow, all seeds at once.

    Per recorded step (every `record_every` steps, always including 0 and the last):
    t (R,), w (R, S, d), loss, norm and norm_rate (R, S).
    Per seed, over every step: ever_active (S, n), z_i > 0 at some step (strict: the
    points that ever entered the gradient). The activation *pattern* is book-kept with
    a hysteresis `tol` on the normalized output c_i = z_i / (||w|| ||x_i||): a point
    switches on when c_i > tol and off when c_i < -tol. Points with y_i = 0 are pulled
    onto the kink z_i = 0 and then flip sign at rounding level (|c_i| ~ 1e-17) at every
    step; the hysteresis keeps that rounding noise out of: reactivated (S, n) (on, off,
    then on again), last_change (S,) (step at which the final pattern began), w_tau
    (S, d) (w at that step) and final_active (S, n) (the final pattern). The dynamics
    itself always uses the strict z_i > 0.
    """

    eta: float
    t: np.ndarray
    w: np.ndarray
    loss: np.ndarray
    norm: np.ndarray
    norm_rate: np.ndarray
    ever_active: np.ndarray
    reactivated: np.ndarray
    last_change: np.ndarray
    w_tau: np.ndarray
    final_active: np.ndarray

    @property
    def final_w(self):
        return self.w[-1]

    def first_time(self, below, values=None):
        """First recorded time with `values` (default: the loss) < below, per seed; inf if never."""
        hit = (self.loss if values is None else values) < below
        return np.where(hit.any(axis=0), self.t[np.argmax(hit, axis=0)], np.inf)


def flow(
    X, y, w0, *, eta: float, steps: int, record_every: int = 1, linear: bool = False, tol: float = 1e-10, progress: int = 0
) -> Flow:
    """Explicit Euler on dw/dt = -grad L(w) for `steps` steps of size eta (time T = steps * eta).

    `tol` is the pattern hysteresis (see `Flow`); `progress` > 0 prints one line every
    that many steps (at recorded steps).
    """
    if not eta > 0 or steps < 1 or record_every < 1:
        raise ValueError(f"need eta > 0, steps >= 1, record_every >= 1; got {eta}, {steps}, {record_every}")
    w = np.array(w0, dtype=float)
    S = len(w)
    record = sorted(set(range(0, steps + 1, record_every)) | {steps})
    ws, losses, norms, rates = [], [], [], []
    x_norm = np.linalg.norm(X, axis=2)
    x_norm[x_norm == 0] = 1.0  # a null point (a deleted one) has z = 0: it keeps its state
    active = active_set(w, X)
    ever = active.copy()
    dropped = np.zeros_like(active)
    reactivated = np.zeros_like(active)
    last_change = np.zeros(S, dtype=int)
    w_tau = w.copy()
    r_next = 0
    for k in range(steps + 1):
        z = _matvec(X, w)
        if k:
            ever |= z > 0
            c = z / (np.linalg.norm(w, axis=1)[:, None] * x_norm)
            new = np.where(c > tol, True, np.where(c < -tol, False, active))
            changed = np.any(new != active, axis=1)
            last_change = np.where(changed, k, last_change)
            w_tau = np.where(changed[:, None], w, w_tau)
            reactivated |= dropped & new & ~active
            dropped |= active & ~new
            active = new
        r = _residual(z, y, linear)
        if k == record[r_next]:
            ws.append(w.copy())
            losses.append(_loss(z, y, linear))
            norms.append(np.linalg.norm(w, axis=1))
            rates.append(-np.mean(r * z, axis=1))  # -w^T grad L: the norm identity on the flow
            r_next += 1
            if progress and k and k % progress == 0:
                print(f"  t = {k * eta:g} (step {k}/{steps}): median loss {np.median(losses[-1]):.3e}")
        if k < steps:
            w = w - eta * _gradient(r, X)
    return Flow(
        eta=eta,
        t=np.array(record, dtype=float) * eta,
        w=np.stack(ws),
        loss=np.stack(losses),
        norm=np.stack(norms),
        norm_rate=np.stack(rates),
        ever_active=ever,
        reactivated=reactivated,
        last_change=last_change,
        w_tau=w_tau,
        final_active=active,
    )


def init_norm_sweep(seeds: list[int], n: int, d: int, norms, *, eta: float, steps: int, record_every: int = 1,
                    progress: int = 0):
    """Every (init norm, seed) pair as one batch: the seeds' teacher data repeated per norm, one initial
    direction per seed (the same for every norm), run by `flow`.

    Returns the Flow (batch index k * S + s for norm k and seed s), the teacher v per run (K*S, d) and
    whether the init has at least one active point (K*S,) (an all-inactive w has zero gradient).
    """
    X, y, v = teacher_data(seeds, n, d)
    w0 = np.concatenate([init_weights(seeds, d, r) for r in norms])
    XX, yy, vv = (np.concatenate([a] * len(norms)) for a in (X, y, v))
    some_active = active_set(w0, XX).any(axis=1)
    f = flow(XX, yy, w0, eta=eta, steps=steps, record_every=record_every, progress=progress)
    return f, vv, some_active
