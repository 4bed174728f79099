"""Theorem 2.2 of Cao et al. (COLT 2023) on many seeds at once: the uniform-margin experiment.

`uniform_margin_experiment` trains, for every seed, the BN linear model (eqs. 2.1-2.2) and plain GD without
BN from the same w0, plus BN runs from other initialization scales and step sizes (the sweep), and returns
per-seed statistics:

- the rate of BN's margin discrepancy D(t): on the window of steps where D falls from `upper` to `lower`,
  straight-line fits of ln D against ln^2(lr t + 1) (Theorem 2.2's exp(-c log^2 t)) and against ln t (a power
  law t^-a), on log-spaced steps (every decade of t weighs the same);
- the no-BN direction error delta(t) = || P_X w_t / ||P_X w_t|| - w_max / ||w_max|| || (Soudry et al. 2018: GD
  without BN reaches the max-margin direction at rate O(1/log t), i.e. 1/delta is linear in ln t), with the
  same two fits applied to it, and a fit of 1/delta against ln t.

GD moves w only inside X = span{x_i} (the component in X^perp stays frozen), and D, the loss, gamma and the
margins depend on w only through P_X w: the runs are made in an orthonormal basis of X (r = rank <= n
coordinates instead of d), which is the same trajectory of P_X w, at a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import model

__all__ = ["LineFits", "SweepRun", "UniformMarginResult", "direction_error", "inverse_log_fit", "line_fits", "log_spaced_window",
           "reduce_to_span", "uniform_margin_experiment"]


def reduce_to_span(X, w0):
    """Coordinates in an orthonormal basis Q of span{x_i}: (X Q, Q^T w0, ||w0 - Q Q^T w0||), per seed.

    Training on X Q from Q^T w0 gives the coordinates of P_X w_t for every t (GD's updates lie in X, the
    outputs <w, x_i> see only P_X w); the third value is the frozen X^perp part of w0."""
    Q = model.span_basis(X)
    coords = np.einsum("sdr,sd->sr", Q, w0)
    frozen = np.sqrt(np.maximum(np.sum(w0 * w0, axis=-1) - np.sum(coords * coords, axis=-1), 0.0))
    return np.einsum("snd,sdr->snr", X, Q), coords, frozen


def log_spaced_window(first, last, points: int):
    """Up to `points` distinct integer steps, log-spaced from `first` to `last` (both >= 1), ends included."""
    if first < 1 or last < first:
        raise ValueError(f"need 1 <= first <= last, got {first}, {last}")
    return np.unique(np.round(np.geomspace(first, last, points)).astype(int))


def _line_r2(x, z):
    """R^2 and slope of the least-squares line z ~ a + b x."""
    xc, zc = x - x.mean(), z - z.mean()
    slope = np.sum(xc * zc) / np.sum(xc * xc)
    residual = zc - slope * xc
    return 1.0 - np.sum(residual**2) / np.sum(zc**2), slope


@dataclass
class LineFits:
    """Per-seed fits of ln(curve) on a window of steps (nan where the curve has no window)."""

    r2_log_squared: np.ndarray  # (S,) R^2 of ln curve ~ a - c ln^2(lr t + 1)
    r2_power: np.ndarray  # (S,) R^2 of ln curve ~ a - b ln t
    log_squared_coef: np.ndarray  # (S,) c (> 0 for a decaying curve)
    power_exponent: np.ndarray  # (S,) b
    first: np.ndarray  # (S,) first step of the window (-1: none)
    last: np.ndarray  # (S,) last step of the window (-1: none)

    @property
    def log_squared_wins(self):
        """Whether the ln^2 fit explains more of ln(curve) than the power law, per seed (False where no window)."""
        return np.nan_to_num(self.r2_log_squared, nan=-np.inf) > np.nan_to_num(self.r2_power, nan=np.inf)


def line_fits(curve, steps, first, last, lr, *, points: int = 200) -> LineFits:
    """Fit ln(curve[t]) on log-spaced steps t in [first_s, last_s] per seed s, against ln^2(lr t + 1) and ln t.

    `curve` is (K, S), its values at `steps` (K,) (sorted); `first`, `last` (S,) bound each seed's window
    (-1: no window, nan out). Only recorded steps are used: the log-spaced targets are mapped to the nearest
    recorded step at or after them."""
    steps = np.asarray(steps)
    S = curve.shape[1]
    out = {key: np.full(S, np.nan) for key in ("r2_log_squared", "r2_power", "log_squared_coef", "power_exponent")}
    for s in range(S):  # windows differ in length between seeds; a fit is cheap next to training
        if first[s] < 1 or last[s] < first[s]:
            continue
        index = np.unique(np.searchsorted(steps, log_spaced_window(first[s], last[s], points)))
        index = index[index < len(steps)]
        if len(index) < 4:
            continue
        t = steps[index].astype(float)
        z = np.log(curve[index, s])
        out["r2_log_squared"][s], slope2 = _line_r2(np.log(lr * t + 1) ** 2, z)
        out["r2_power"][s], slope1 = _line_r2(np.log(t), z)
        out["log_squared_coef"][s], out["power_exponent"][s] = -slope2, -slope1
    valid = np.isfinite(out["r2_power"])
    return LineFits(**out, first=np.where(valid, first, -1), last=np.where(valid, last, -1))


def direction_error(w, w_target):
    """|| w / ||w|| - u / ||u|| ||, along the last axis (= sqrt(2 (1 - cos)), well resolved near 0)."""
    a = w / np.linalg.norm(w, axis=-1, keepdims=True)
    b = w_target / np.linalg.norm(w_target, axis=-1, keepdims=True)
    return np.linalg.norm(a - b, axis=-1)


def inverse_log_fit(delta, steps, first: int, last: int, *, points: int = 200):
    """Soudry et al.'s rate: fit 1/delta ~ a + b ln t on log-spaced recorded steps in [first, last], per seed.

    Returns (R^2 of that line, its slope b, R^2 of ln delta ~ a - e ln t on the same steps (a power law),
    the sum of squared residuals of ln delta under each model: (rss_inverse_log, rss_power), inf where the line
    predicts 1/delta <= 0 somewhere). The 1/log t
    model is fitted on 1/delta (a line), then judged on ln delta like the power law, which is fitted on ln delta
    directly, so the comparison favours the power law."""
    steps = np.asarray(steps)
    index = np.unique(np.searchsorted(steps, log_spaced_window(first, last, points)))
    index = index[index < len(steps)]
    t = np.log(steps[index].astype(float))[:, None]
    inverse, log_delta = 1.0 / delta[index], np.log(delta[index])

    def fit(x, z):
        xc, zc = x - x.mean(axis=0), z - z.mean(axis=0)
        slope = np.sum(xc * zc, axis=0) / np.sum(xc * xc, axis=0)
        return slope, z.mean(axis=0) - slope * x.mean(axis=0)

    slope_inv, icpt_inv = fit(t, inverse)
    r2_inv = 1 - np.sum((inverse - icpt_inv - slope_inv * t) ** 2, axis=0) / np.sum((inverse - inverse.mean(axis=0)) ** 2, axis=0)
    slope_pow, icpt_pow = fit(t, log_delta)
    predicted = icpt_inv + slope_inv * t
    positive = (predicted > 0).all(axis=0)  # a line that predicts 1/delta <= 0 cannot describe delta: rss = inf
    rss_inv = np.where(positive, np.sum((log_delta + np.log(np.abs(predicted))) ** 2, axis=0), np.inf)
    rss_pow = np.sum((log_delta - icpt_pow - slope_pow * t) ** 2, axis=0)
    r2_pow = 1 - rss_pow / np.sum((log_delta - log_delta.mean(axis=0)) ** 2, axis=0)
    return r2_inv, slope_inv, r2_pow, (rss_inv, rss_pow)


@dataclass
class SweepRun:
    """One BN run of the init/step sweep: its scale, step, and per-seed rate statistics."""

    w0_scale: float
    lr: float
    steps: int
    init_norm: np.ndarray  # (S,) ||P_X w0||
    final_norm: np.ndarray  # (S,) ||P_X w_T||
    final_discrepancy: np.ndarray  # (S,)
    rate: LineFits  # ln D on the window [upper, lower]
    recorded_steps: np.ndarray  # (R,)
    discrepancy: np.ndarray  # (R, S) at recorded_steps


@dataclass
class UniformMarginResult:
    """Everything the uniform-margin notebook checks, per seed (S); the main run is `main`, also listed first in `sweep`."""

    main: SweepRun  # BN from w0_scale at lr for `steps`
    sweep: list[SweepRun]  # main, then one run per (w0_scale, lr, steps) of the sweep
    cos_uniform: np.ndarray  # (S,) cos(P_X w_BN(T), w*)
    slope_ratio: np.ndarray  # (S,) late/early log-log chord slope of D (version 1's statistic)
    w_norm_min_increase: np.ndarray  # (S,) min over t and runs of (||P_X w_t+1|| - ||P_X w_t||) / ||P_X w_t|| (Lemma 4.4)
    eta_t_loss: np.ndarray  # (2, S) min, max over t >= asymptotic_from of lr t L(t) (main run)
    gamma_gap: np.ndarray  # (2, S) min, max over t >= asymptotic_from of gamma(t) - ln(lr t) (main run)
    plain_discrepancy: np.ndarray  # (R, S) D(w_t) without BN at main.recorded_steps
    max_margin_discrepancy: np.ndarray  # (S,) D(w_max)
    n_support: np.ndarray  # (S,) support vectors of w_max
    plain_steps: np.ndarray  # (Kp,) snapshot steps of the no-BN run
    plain_direction_error: np.ndarray  # (Kp, S) || P_X w_t/|.| - w_max/|.| ||
    plain_rate: LineFits  # the same ln^2 / power fits as the BN rate, on delta(t) over [plain_from, T]
    inverse_log_r2: np.ndarray  # (S,) R^2 of 1/delta ~ a + b ln t on [plain_from, T]
    inverse_log_slope: np.ndarray  # (S,) b
    inverse_log_rss: np.ndarray  # (S,) residual sum of squares of ln delta under the 1/log t fit
    power_rss: np.ndarray  # (S,) ... and under a power-law fit
    frozen_norm: np.ndarray  # (S,) ||w0 - P_X w0|| at w0_scale (never moves)


def _record_steps(steps: int, record_every: int) -> np.ndarray:
    early = np.unique(np.round(np.geomspace(1, max(steps, 1), 400)).astype(int))
    return np.union1d(np.union1d(early, np.arange(0, steps + 1, record_every)), [0, steps])


def _bn_run(Xr, y, direction, scale, lr, steps, fit_levels, record_every, points):
    run = model.train(Xr, y, scale * direction, lr=lr, steps=steps, batchnorm=True)
    D = run.discrepancy
    recorded = _record_steps(steps, record_every)
    upper, lower = fit_levels
    rate = line_fits(D, np.arange(steps + 1), model.first_step_below(D, upper), model.first_step_below(D, lower), lr,
                     points=points)
    return run, SweepRun(float(scale), lr, steps, run.w_norm[0], run.w_norm[-1], D[-1], rate, recorded, D[recorded])


def uniform_margin_experiment(X, y, w0_direction, *, w0_scale: float, lr: float, steps: int, sweep=(),
                              upper: float = 1e-3, lower: float = 1e-18, early=(1e-3, 1e-6), late=(1e-12, 1e-15),
                              asymptotic_from: int = 10000, plain_from: int = 1000, record_every: int = 10,
                              points: int = 200) -> UniformMarginResult:
    """BN-GD and plain GD from w0 = w0_scale * w0_direction at `lr` for `steps`, plus one BN run per
    (scale, lr, steps) in `sweep`, for all seeds at once (all in span coordinates, see `reduce_to_span`).

    X (S, n, d), y (S, n), w0_direction (S, d) (e.g. `bnrepro.data.gaussian_classification` at scale 1).
    Returns per-seed statistics (see `UniformMarginResult`); trajectories are kept only at recorded steps
    (every `record_every`-th plus 400 log-spaced ones), so memory stays small at many seeds.
    """
    Xr, direction, frozen = reduce_to_span(X, w0_direction)
    w_star = model.min_norm_interpolator(Xr, y)
    run, main = _bn_run(Xr, y, direction, w0_scale, lr, steps, (upper, lower), record_every, points)
    w_T = run.final_w
    cos_uniform = np.sum(w_T * w_star, -1) / (np.linalg.norm(w_T, axis=-1) * np.linalg.norm(w_star, axis=-1))
    slope_ratio = model.crossing_slope(run.discrepancy, *late) / model.crossing_slope(run.discrepancy, *early)
    norm_steps = [(np.diff(run.w_norm, axis=0) / run.w_norm[:-1]).min(axis=0)]
    t = np.arange(asymptotic_from, steps + 1)
    scaled = lr * t[:, None] * run.loss[t]
    gap = run.gamma[t] - np.log(lr * t)[:, None]
    eta_t_loss = np.stack([scaled.min(axis=0), scaled.max(axis=0)])
    gamma_gap = np.stack([gap.min(axis=0), gap.max(axis=0)])
    del run, scaled, gap
    runs = [main]
    for scale, step, length in sweep:
        run, summary = _bn_run(Xr, y, direction, scale, step, int(length), (upper, lower), record_every, points)
        norm_steps.append((np.diff(run.w_norm, axis=0) / run.w_norm[:-1]).min(axis=0))
        runs.append(summary)
        del run
    plain = model.train(Xr, y, w0_scale * direction, lr=lr, steps=steps, batchnorm=False)
    w_max = model.max_margin(Xr, y)
    delta = direction_error(plain.w, w_max.w[None])
    S = X.shape[0]
    plain_rate = line_fits(delta, plain.snapshot_steps, np.full(S, plain_from), np.full(S, steps), lr, points=points)
    r2_inv, slope_inv, _, (rss_inv, rss_pow) = inverse_log_fit(delta, plain.snapshot_steps, plain_from, steps, points=points)
    return UniformMarginResult(
        main=main, sweep=runs, cos_uniform=cos_uniform, slope_ratio=slope_ratio,
        w_norm_min_increase=np.min(norm_steps, axis=0), eta_t_loss=eta_t_loss, gamma_gap=gamma_gap,
        plain_discrepancy=plain.discrepancy[main.recorded_steps], max_margin_discrepancy=model.margin_discrepancy(w_max.w, Xr, y),
        n_support=w_max.n_support, plain_steps=plain.snapshot_steps, plain_direction_error=delta, plain_rate=plain_rate,
        inverse_log_r2=r2_inv, inverse_log_slope=slope_inv, inverse_log_rss=rss_inv, power_rss=rss_pow,
        frozen_norm=w0_scale * frozen,
    )
