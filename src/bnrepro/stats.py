"""Shared statistics: the intervals verdicts are decided on, and the fits and similarities claims reuse.

Intervals come from `scipy.stats` (exact binomial, Student t, BCa bootstrap with a fixed generator so a
verdict is byte-identical between runs). Each returns ``(low, high)`` as floats; an interval that the
data cannot give (one value for a mean) is ``(-inf, inf)``, which decides nothing.
"""

from __future__ import annotations

import warnings

from functools import cache

import numpy as np

BOOTSTRAP_SEED = 0
BOOTSTRAP_RESAMPLES = 9999


def binomial_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a proportion."""
    ci = _scipy().binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def t_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean (of paired differences, when `values` are differences)."""
    values = _finite(values)
    if values.size < 2:
        return -np.inf, np.inf
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])
    ci = _scipy().ttest_1samp(values, 0.0).confidence_interval(confidence_level=confidence)
    return float(ci.low), float(ci.high)


def bootstrap_interval(values, statistic=np.median, confidence: float = 0.95) -> tuple[float, float]:
    """BCa bootstrap interval of `statistic`, from a fixed generator (the same values give the same interval)."""
    values = _finite(values)
    if values.size < 2:
        return -np.inf, np.inf
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])
    result = _scipy().bootstrap(
        (values,), statistic, confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES, method="BCa",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    low, high = result.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):  # BCa degenerates on (almost) constant samples
        low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def paired_difference(a, b, confidence: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Mean of a - b over paired seeds and its t interval."""
    diff = np.asarray(a, float) - np.asarray(b, float)
    return float(diff.mean()), t_interval(diff, confidence)


def loglog_slope(x, y):
    """Least-squares slope of log y against log x, along the last axis of y."""
    lx = np.log(np.asarray(x, float))
    ly = np.log(np.asarray(y, float))
    lxc = lx - lx.mean()
    return ((ly - ly.mean(-1, keepdims=True)) * lxc).sum(-1) / (lxc**2).sum()


def cosine(a, b):
    """Cosine similarity along the last axis."""
    a, b = np.asarray(a), np.asarray(b)
    return np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def spearman(a, b) -> float:
    """Spearman rank correlation; 0 where it is undefined (a constant input)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _scipy().ConstantInputWarning)
        r = _scipy().spearmanr(a, b).statistic
    return float(r) if np.isfinite(r) else 0.0


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    if not np.isfinite(values).all():
        raise ValueError("an interval needs finite values; decide what a nan or inf seed means before aggregating")
    return values


@cache
def _scipy():
    """scipy.stats, imported on first use: the workflow imports this module (through `claims`) every time Snakemake
    parses the Snakefile, where scipy.stats alone would cost most of a second."""
    from scipy import stats

    return stats


def holm_adjusted(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values: sorted ascending, p_(r) * (k - r + 1) made monotone, capped at 1."""
    p = np.asarray(pvalues, dtype=float)
    k = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (k - np.arange(k))))
    out = np.empty(k)
    out[order] = adjusted
    return out


def holm_confidences(pvalues, alpha: float = 0.05) -> np.ndarray:
    """Per test, the confidence level 1 - a_i of a two-sided interval whose decision is Holm's at family level alpha.

    With two-sided p-values p_i of "mean = threshold", Holm rejects (in rank order) while p_(r) <= alpha/(k-r+1)
    and stops at the first rank r0 where it does not. A test of rank r < r0 gets a_i = alpha/(k-r+1): its
    interval excludes the threshold (decided). Every test of rank >= r0 gets alpha/(k-r0+1), below which its
    p-value lies: its interval contains the threshold (undecided). So decided <=> Holm-adjusted p <= alpha."""
    p = np.asarray(pvalues, dtype=float)
    k = p.size
    order = np.argsort(p, kind="stable")
    levels = alpha / (k - np.arange(k))
    failing = np.flatnonzero(p[order] > levels)
    stop = failing[0] if failing.size else k
    out = np.empty(k)
    out[order] = np.where(np.arange(k) < stop, levels, levels[min(stop, k - 1)])
    return 1.0 - out


def t_pvalue(values, threshold: float) -> float:
    """Two-sided one-sample t-test p-value of mean(values) = threshold (the test dual to `t_interval`)."""
    values = np.asarray(values, dtype=float)
    if np.ptp(values) == 0:
        return 0.0 if values[0] != threshold else 1.0
    return float(_scipy().ttest_1samp(values, threshold).pvalue)
