"""Support vectors of a single ReLU neuron: what determines the limit, and do deactivated points come back? (Lee, Sim & Ye 2022)

Our formulation (see `docs/papers/lee2022.md` and `bnrepro.lee2022.neuron`): a point is a *support vector* when
it is in the final active set S = A(w_T) (book-kept with the hysteresis of `neuron.Flow`). Two statements
about the limit are compared, per seed:

- the identity: once the pattern is fixed from tau on, the flow is least squares on S and ends at
  w_tau + X_S^+ (y_S - X_S w_tau). It holds for every Euler step by algebra, so it is only a sanity check;
- the characterization "the support vectors determine the limit from the init": w_T = w_0 + X_S^+ (y_S - X_S w_0),
  the least-squares solution on S closest to w_0 (what linear regression's gradient flow gives). It is not an
  identity: a point that was active and then left S has moved w_tau - w_0 out of span{x_i : i in S}, and then
  the formula misses w_T. It is predicted from S alone, with no knowledge of the path.

The same formula on the initial active set A(w_0) (a prediction made before training) is reported beside it,
and the linear neuron (every point in the gradient, so S = all points) is the case where the characterization
is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .neuron import Flow, active_set, flow, init_weights, least_squares_limit, span_residual, teacher_data

__all__ = ["SupportVectorRuns", "relative_error", "support_vector_runs"]


def relative_error(w, reference):
    """||w - reference|| / ||w|| per seed (S,); 0 where both are 0."""
    num = np.linalg.norm(w - reference, axis=1)
    den = np.linalg.norm(w, axis=1)
    return np.where(num == 0, 0.0, num / np.where(den == 0, 1.0, den))


@dataclass
class SupportVectorRuns:
    """Per seed (S,) unless said otherwise.

    relu, deleted (never-active points replaced by the null point), half (eta / 2), linear (the linear
    neuron), relu_strict (the ReLU run book-kept with hysteresis `strict_tol`): the flows (see `neuron.Flow`).
    initial_active (S, n): A(w_0). changed: the pattern of the ReLU run changed at some step.
    deactivated: some point left the pattern (it is ever active and not in S, or it was reactivated).
    error_tau: ||w_T - [w_tau + X_S^+(y_S - X_S w_tau)]|| / ||w_T|| (identity);
    error_support: ||w_T - [w_0 + X_S^+(y_S - X_S w_0)]|| / ||w_T|| (the characterization);
    error_initial: the same with S replaced by A(w_0) (prediction before training);
    error_linear: the linear neuron's w_T against w_0 + X^+(y - X w_0);
    span: ||(I - P) (w_T - w_0)|| / ||w_T - w_0||, P onto the ever-active points (identity; 0 if w never moved);
    deletion: max over t of ||w_deleted(t) - w(t)|| (identity)."""

    X: np.ndarray
    y: np.ndarray
    w0: np.ndarray
    relu: Flow
    deleted: Flow
    half: Flow
    linear: Flow
    relu_strict: Flow
    initial_active: np.ndarray
    changed: np.ndarray
    deactivated: np.ndarray
    error_tau: np.ndarray
    error_support: np.ndarray
    error_initial: np.ndarray
    error_linear: np.ndarray
    span: np.ndarray
    deletion: np.ndarray


def support_vector_runs(seeds: list[int], n: int, d: int, w0_scale: float, *, eta: float, steps: int,
                        record_every: int = 1, strict_tol: float = 1e-6) -> SupportVectorRuns:
    """Teacher data and a random init of norm `w0_scale` per seed, run five ways (see `SupportVectorRuns`)."""
    X, y, _ = teacher_data(seeds, n, d)
    w0 = init_weights(seeds, d, w0_scale)
    options = dict(eta=eta, steps=steps, record_every=record_every)
    relu = flow(X, y, w0, **options)
    keep = relu.ever_active
    deleted = flow(np.where(keep[..., None], X, 0.0), np.where(keep, y, 0.0), w0, **options)
    half = flow(X, y, w0, eta=eta / 2, steps=2 * steps, record_every=2 * record_every)
    linear = flow(X, y, w0, **options, linear=True)
    relu_strict = flow(X, y, w0, **options, tol=strict_tol)
    S = relu.final_active
    initial = active_set(w0, X)
    every = np.ones_like(S)
    moved = np.any(relu.final_w != w0, axis=1)  # an all-inactive init never moves: its span residual is 0
    return SupportVectorRuns(
        X=X, y=y, w0=w0, relu=relu, deleted=deleted, half=half, linear=linear, relu_strict=relu_strict,
        initial_active=initial,
        changed=relu.last_change > 0,
        deactivated=np.any(relu.ever_active & ~S, axis=1) | np.any(relu.reactivated, axis=1),
        error_tau=relative_error(relu.final_w, least_squares_limit(relu.w_tau, X, y, S)),
        error_support=relative_error(relu.final_w, least_squares_limit(w0, X, y, S)),
        error_initial=relative_error(relu.final_w, least_squares_limit(w0, X, y, initial)),
        error_linear=relative_error(linear.final_w, least_squares_limit(w0, X, y, every)),
        span=np.where(moved, span_residual(np.where(moved[:, None], relu.final_w - w0, 1.0), X, relu.ever_active), 0.0),
        deletion=np.abs(deleted.w - relu.w).max(axis=(0, 2)),
    )
