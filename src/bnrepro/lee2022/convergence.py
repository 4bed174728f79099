"""Where the gradient flow of one ReLU neuron ends, for many runs at once (Lee, Sim & Ye 2022, arXiv 2202.05510).

Our formulation (see `docs/papers/lee2022.md`): f(x) = relu(w^T x), loss (1/2n) sum_i (f(x_i) - y_i)^2, teacher
labels y = relu(v^T x), the flow integrated by explicit Euler (as in `neuron.flow`). This module classifies every run
at the end of its horizon as

- *converged*: loss below a threshold;
- *trapped*: a certificate, exact for the flow and for Euler (`trap_certificate`), that it never converges: no
  positive-label point is active, and on the current active set A (zero labels only) the dynamics
  dw/dt = -M_A w, M_A = (1/n) sum_{i in A} x_i x_i^T, is linear; its solution turns monotonically towards the
  eigenvector e_1 of the smallest eigenvalue of M_A (in d = 2, along an arc shorter than a right angle) while the
  norm decays. If no point's kink w^T x_j = 0 lies on that arc (each point has the same sign at both ends) and
  lambda_1 > 0, the active set never changes again: w -> 0 and the loss tends to (1/2n) sum_i y_i^2 > 0;
- *undetermined*: neither (still moving at T: not a counterexample, only a too-short horizon).

Runs are integrated in chunks and a run stops as soon as it is classified, so a horizon that suffices for every run
costs about the time of the slowest run only for that run. Everything is float64 numpy, d = 2 (the certificate's arc
argument is two-dimensional).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .neuron import init_weights, teacher_data

__all__ = [
    "Experiment",
    "Outcomes",
    "adversarial_inits",
    "angle_grid_inits",
    "outcomes",
    "random_inits",
    "signed_angle",
    "single_positive_inits",
    "trap_certificate",
]


def _z(X, w):
    return np.einsum("snd,sd->sn", X, w)


def trap_certificate(X, y, w):
    """Per run (S,): True when the flow from w provably never converges (see the module docstring). d = 2 only.

    X (S, n, 2), y (S, n), w (S, 2).
    """
    if X.shape[-1] != 2:
        raise ValueError(f"the trap certificate is two-dimensional; got d = {X.shape[-1]}")
    z = _z(X, w)
    active = z > 0
    no_positive_active = ~np.any(active & (y > 0), axis=1)
    some_positive = np.any(y > 0, axis=1)
    M = np.einsum("sn,sni,snj->sij", active.astype(float), X, X) / X.shape[1]
    lam, vec = np.linalg.eigh(M)  # ascending
    e1 = vec[:, :, 0]
    c1 = np.einsum("sd,sd->s", e1, w)
    end = np.sign(c1)[:, None] * e1
    z_end = _z(X, end)
    same_sign = np.all(((z > 0) & (z_end > 0)) | ((z < 0) & (z_end < 0)), axis=1)
    return no_positive_active & some_positive & same_sign & (lam[:, 0] > 1e-12) & (c1 != 0)


@dataclass
class Outcomes:
    """Per run (S,): the class at the end, and what led there.

    converged, trapped (bool; neither = undetermined), t_stop (time the run was classified, or T), loss and w at
    t_stop, t_converged (first time the loss < threshold; inf if never), positive_active_init (some y_i > 0 point
    active at w0), t_last_positive_off (the last time the active set lost its last positive-label point; nan if it
    never did), positive_lost (it lost them at some time), steps (total Euler steps taken, all runs).
    """

    converged: np.ndarray
    trapped: np.ndarray
    t_stop: np.ndarray
    loss: np.ndarray
    w: np.ndarray
    t_converged: np.ndarray
    positive_active_init: np.ndarray
    t_last_positive_off: np.ndarray
    positive_lost: np.ndarray
    steps: int

    @property
    def undetermined(self):
        return ~self.converged & ~self.trapped


def outcomes(X, y, w0, *, eta: float, steps: int, loss_threshold: float, chunk: int = 50) -> Outcomes:
    """Euler on the ReLU flow for at most `steps` steps of size eta, each run stopped once classified.

    After every `chunk` steps the runs are tested (loss < loss_threshold: converged; `trap_certificate`: trapped)
    and the classified ones leave the batch. X (S, n, 2), y (S, n), w0 (S, 2).
    """
    if not eta > 0 or steps < 1 or chunk < 1:
        raise ValueError(f"need eta > 0, steps >= 1, chunk >= 1; got {eta}, {steps}, {chunk}")
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.array(w0, dtype=float)
    S, n, _ = X.shape
    positive = y > 0
    z = _z(X, w)
    pos_on = np.any((z > 0) & positive, axis=1)
    out = Outcomes(
        converged=np.zeros(S, bool), trapped=np.zeros(S, bool), t_stop=np.full(S, steps * eta), loss=np.zeros(S),
        w=w.copy(), t_converged=np.full(S, np.inf), positive_active_init=pos_on.copy(),
        t_last_positive_off=np.full(S, np.nan), positive_lost=np.zeros(S, bool), steps=0,
    )
    live = np.arange(S)
    Xl, yl, pl, x0, x1 = X, y, positive, X[..., 0], X[..., 1]
    k = 0
    while True:
        z = x0 * w[:, :1] + x1 * w[:, 1:]
        loss = 0.5 * np.mean((np.maximum(z, 0.0) - yl) ** 2, axis=1)
        done_conv = loss < loss_threshold
        done_trap = np.zeros(len(live), bool)
        if k % chunk == 0 or k == steps:
            done_trap = ~done_conv & trap_certificate(Xl, yl, w)
        done = done_conv | done_trap if (k % chunk == 0 or k == steps) else done_conv
        if k == steps:
            done = np.ones(len(live), bool)
        if done.any():
            idx = live[done]
            out.converged[idx] = done_conv[done]
            out.trapped[idx] = done_trap[done]
            out.t_stop[idx] = k * eta
            out.t_converged[idx] = np.where(done_conv[done], k * eta, np.inf)
            out.loss[idx] = loss[done]
            out.w[idx] = w[done]
            keep = ~done
            live, w, z, pos_on = live[keep], w[keep], z[keep], pos_on[keep]
            Xl, yl, pl, x0, x1 = Xl[keep], yl[keep], pl[keep], x0[keep], x1[keep]
        if not len(live):
            break
        r = np.where(z > 0, z - yl, 0.0)
        w = w - (eta / n) * np.stack([np.sum(r * x0, axis=1), np.sum(r * x1, axis=1)], axis=1)
        k += 1
        out.steps += len(live)
        now_on = np.any((x0 * w[:, :1] + x1 * w[:, 1:] > 0) & pl, axis=1)
        lost = pos_on & ~now_on
        if lost.any():
            out.t_last_positive_off[live[lost]] = k * eta
            out.positive_lost[live[lost]] = True
        pos_on = now_on
    return out


def signed_angle(w, v):
    """Angle from v to w in (-pi, pi], per run (S,) (d = 2)."""
    return np.arctan2(v[:, 0] * w[:, 1] - v[:, 1] * w[:, 0], np.einsum("sd,sd->s", v, w))


def angle_grid_inits(v, angles, norms):
    """w0 = r R(phi) v for every (norm r, angle phi) and every run's teacher v (d = 2).

    v (S, 2); returns w0 (len(norms), len(angles), S, 2).
    """
    angles, norms = np.asarray(angles, float), np.asarray(norms, float)
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    rotated = np.stack([c * v[None, :, 0] - s * v[None, :, 1], s * v[None, :, 0] + c * v[None, :, 1]], axis=-1)
    return norms[:, None, None, None] * rotated[None]


def single_positive_inits(X, y, v, norms):
    """Two adversarial inits per run (d = 2): directions with exactly one positive-label point active.

    Turning w away from -v (where no positive-label point is active) one way or the other, the first positive point
    to switch on is the one at the largest (or smallest) signed angle beta_j from v; w0 sits halfway between its kink
    and the next one's. Returns w0 (len(norms), 2, S, 2): [:, 0] past the largest beta, [:, 1] past the smallest.
    Needs at least two positive-label points per run.
    """
    beta = np.arctan2(v[:, None, 0] * X[..., 1] - v[:, None, 1] * X[..., 0], np.einsum("snd,sd->sn", X, v))
    positive = y > 0
    if np.any(positive.sum(axis=1) < 2):
        raise ValueError("every run needs at least two positive-label points")
    top = np.sort(np.where(positive, beta, -np.inf), axis=1)[:, ::-1]
    bottom = np.sort(np.where(positive, beta, np.inf), axis=1)
    phi_top = top[:, 0] + np.pi / 2 - (top[:, 0] - top[:, 1]) / 2
    phi_bottom = bottom[:, 0] - np.pi / 2 + (bottom[:, 1] - bottom[:, 0]) / 2
    out = []
    for phi in (phi_top, phi_bottom):
        c, s = np.cos(phi), np.sin(phi)
        out.append(np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1]], axis=1))
    return np.asarray(norms, float)[:, None, None, None] * np.stack(out)[None]


@dataclass
class Experiment:
    """A batch of runs and where they end. Per run (R,): outcome (an `Outcomes`), angle (signed angle of w0 from v),
    norm (||w0||), some_active (w0 has an active point), family (a label per run); X (R, n, 2), y (R, n), v (R, 2),
    w0 (R, 2) and seed (the data seed) to rerun any of them."""

    outcome: Outcomes
    angle: np.ndarray
    norm: np.ndarray
    some_active: np.ndarray
    family: np.ndarray
    seed: np.ndarray
    X: np.ndarray
    y: np.ndarray
    v: np.ndarray
    w0: np.ndarray

    def subset(self, mask):
        """The runs in `mask` (their inputs only; rerun them with `outcomes`)."""
        return self.X[mask], self.y[mask], self.w0[mask]


def _repeat_runs(times, *arrays):
    """Each per-seed array stacked `times` over along the run axis (run index j * S + s)."""
    return [np.concatenate([a] * times) for a in arrays]


def _experiment(seeds, X, y, v, w0, norms, family, *, eta, steps, loss_threshold, chunk):
    out = outcomes(X, y, w0, eta=eta, steps=steps, loss_threshold=loss_threshold, chunk=chunk)
    some_active = np.any(np.einsum("snd,sd->sn", X, w0) > 0, axis=1)
    return Experiment(out, signed_angle(w0, v), norms, some_active, family, seeds, X, y, v, w0)


def random_inits(seeds: list[int], n: int, norms, *, eta: float, steps: int, loss_threshold: float, chunk: int = 50):
    """Teacher data per seed (d = 2) and a uniformly random initial direction per seed, at every norm in `norms`
    (the same direction for every norm); run index k * S + s for norm k and seed s. Returns an `Experiment`."""
    X, y, v = teacher_data(seeds, n, 2)
    K, S = len(norms), len(seeds)
    w0 = np.concatenate([init_weights(seeds, 2, r) for r in norms])
    family = np.array(["random"] * (K * S))
    return _experiment(*_repeat_runs(K, np.asarray(seeds), X, y, v), w0, np.repeat(np.asarray(norms, float), S), family,
                       eta=eta, steps=steps, loss_threshold=loss_threshold, chunk=chunk)


def adversarial_inits(seeds: list[int], n: int, angles, norms, *, eta: float, steps: int, loss_threshold: float,
                      chunk: int = 50):
    """Deterministic inits on each seed's teacher data (d = 2): w0 = r R(phi) v for every angle phi in `angles`
    (family "grid") and the two single-positive-point directions of `single_positive_inits` (family
    "single-positive"), at every norm r. Returns an `Experiment`."""
    X, y, v = teacher_data(seeds, n, 2)
    grid = angle_grid_inits(v, angles, norms)  # (K, A, S, 2)
    single = single_positive_inits(X, y, v, norms)  # (K, 2, S, 2)
    K, A, S = grid.shape[:3]
    w0 = np.concatenate([grid, single], axis=1).reshape(-1, 2)
    J = A + 2
    family = np.tile(np.repeat(np.array(["grid"] * A + ["single-positive"] * 2), S), K)
    return _experiment(*_repeat_runs(K * J, np.asarray(seeds), X, y, v), w0, np.repeat(np.asarray(norms, float), J * S),
                       family, eta=eta, steps=steps, loss_threshold=loss_threshold, chunk=chunk)
