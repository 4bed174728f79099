"""Is ||w(t)|| strictly increasing along the flow of a single ReLU neuron? Thousands of seeds at once (Lee, Sim & Ye 2022).

The model, loss, data and Euler integrator are those of `bnrepro.lee2022.neuron` (our formulation; see
`docs/papers/lee2022.md`). `neuron.flow` records whole trajectories, which at thousands of seeds and 2e4 steps
would not fit in memory; `norm_monotonicity` runs the same Euler steps and keeps, per seed, only what the
norm-increase claim needs: whether ||w|| grew at every step, the derived rate N(w0) at t = 0, and the sign
agreement between the measured norm change and N(w_k).

N(w) = (1/n) sum_{i in A(w)} (y_i - z_i) z_i = d/dt ||w||^2 / 2 on the flow. For an Euler step,
||w_{k+1}||^2 / 2 - ||w_k||^2 / 2 = eta N(w_k) + eta^2 ||grad L(w_k)||^2 / 2, so the signs can only disagree
where N(w_k) < 0 is within O(eta) of zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .neuron import init_weights, teacher_data

__all__ = ["NormRuns", "norm_monotonicity", "norm_increase_runs"]


@dataclass
class NormRuns:
    """Per seed (S,): rate0 = N(w0); increasing = ||w_{k+1}|| > ||w_k|| at every step k taken with
    loss(w_k) >= loss_floor; first_decrease = the first step k (as a time k eta) where that fails, inf if
    none; initial_decrease = ||w_1|| < ||w_0||; late_decrease = ||w|| fell at a step taken with
    rounding_floor <= loss < loss_floor; positive_active0 = number of points active at w0 with
    y_i > 0; final_loss, final_norm (at T, or where the run left the batch); peak_norm = max_k ||w_k||.
    Pooled over seeds and steps with loss >= rounding_floor: sign_agree of
    sign_total steps where sign(||w_{k+1}|| - ||w_k||) = sign(N(w_k))."""

    eta: float
    steps: int
    rate0: np.ndarray
    increasing: np.ndarray
    first_decrease: np.ndarray
    initial_decrease: np.ndarray
    late_decrease: np.ndarray
    positive_active0: np.ndarray
    final_loss: np.ndarray
    final_norm: np.ndarray
    peak_norm: np.ndarray
    sign_agree: int
    sign_total: int


def norm_monotonicity(X, y, w0, *, eta: float, steps: int, loss_floor: float = 1e-12,
                      rounding_floor: float = 1e-16, retire_every: int = 250) -> NormRuns:
    """Explicit Euler on the ReLU neuron's flow (as `neuron.flow`), X (S, n, d), y (S, n), w0 (S, d).

    Steps taken with loss >= `loss_floor` are judged (`increasing`); a decrease at a step with
    `rounding_floor` <= loss < `loss_floor` (the last approach to the limit) is recorded apart
    (`late_decrease`); below `rounding_floor` the iterate sits on the teacher at rounding level, nothing
    is judged any more, and every `retire_every` steps such runs leave the batch (their final_loss and
    final_norm are those of the step where they left): the same outcomes, at a fraction of the cost."""
    if not eta > 0 or steps < 1 or retire_every < 1:
        raise ValueError(f"need eta > 0, steps >= 1, retire_every >= 1; got {eta}, {steps}, {retire_every}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.array(w0, dtype=float)
    S, n = X.shape[:2]
    Xt = np.ascontiguousarray(X.transpose(0, 2, 1))  # (S, d, n), for the gradient sum_i r_i x_i
    z = np.matmul(X, w[..., None])[..., 0]
    norm = np.linalg.norm(w, axis=1)
    positive_active0 = np.sum((z > 0) & (y > 0), axis=1)
    live = np.arange(S)  # the runs still in the batch; X, Xt, y, w, z, norm hold only those
    increasing = np.ones(S, dtype=bool)
    late_decrease = np.zeros(S, dtype=bool)
    first_decrease = np.full(S, np.inf)
    final_loss = np.zeros(S)
    final_norm = np.zeros(S)
    peak_norm = norm.copy()
    agree = total = 0
    for k in range(steps):
        active = z > 0
        r = np.where(active, z - y, 0.0)
        loss = 0.5 * np.mean(np.where(active, r, -y) ** 2, axis=1)
        rate = -np.mean(r * z, axis=1)
        if k and k % retire_every == 0:
            keep = loss >= rounding_floor
            if not keep.all():
                done = live[~keep]
                final_loss[done], final_norm[done] = loss[~keep], norm[~keep]
                live, X, Xt, y, w, z, norm, r, loss, rate = (a[keep] for a in (live, X, Xt, y, w, z, norm, r, loss, rate))
                if not live.size:
                    break
        w = w - (eta / n) * np.einsum("sdn,sn->sd", Xt, r)
        new_norm = np.linalg.norm(w, axis=1)
        grew = new_norm > norm
        peak_norm[live] = np.maximum(peak_norm[live], new_norm)
        bad = (loss >= loss_floor) & ~grew
        if bad.any():
            fresh = bad & increasing[live]
            first_decrease[live[fresh]] = k * eta
            increasing[live[bad]] = False
        late_decrease[live[(loss < loss_floor) & (loss >= rounding_floor) & ~grew]] = True
        resolved = loss >= rounding_floor
        agree += int(np.sum(resolved & (np.sign(new_norm - norm) == np.sign(rate))))
        total += int(np.sum(resolved))
        if k == 0:
            rate0, initial_decrease = rate, new_norm < norm
        norm = new_norm
        z = np.matmul(X, w[..., None])[..., 0]
    if live.size:
        final_loss[live] = 0.5 * np.mean((np.maximum(z, 0.0) - y) ** 2, axis=1)
        final_norm[live] = norm
    return NormRuns(eta, steps, rate0, increasing, first_decrease, initial_decrease, late_decrease, positive_active0,
                    final_loss, final_norm, peak_norm, agree, total)


def norm_increase_runs(seeds: list[int], n: int, d: int, init_norm: float, *, eta: float, steps: int,
                       loss_floor: float = 1e-12, rounding_floor: float = 1e-16) -> tuple[NormRuns, np.ndarray]:
    """Teacher data and a random init of norm `init_norm` per seed (`neuron.teacher_data`, `neuron.init_weights`:
    the same seed gives the same data and direction at every norm), run by `norm_monotonicity`.
    Returns the runs and cos(w0, v) per seed."""
    X, y, v = teacher_data(seeds, n, d)
    w0 = init_weights(seeds, d, init_norm)
    cos0 = np.sum(w0 * v, axis=1) / np.linalg.norm(w0, axis=1)
    return norm_monotonicity(X, y, w0, eta=eta, steps=steps, loss_floor=loss_floor, rounding_floor=rounding_floor), cos0
