"""The two data distributions of Section 3.2 (Examples 3.1 and 3.2) and the
test errors of a linear CNN on them (Theorems 3.3 and 3.4).

At test time BN uses the training statistics, so for gamma > 0 the CNN
predicts sign <w, x_bar> with x_bar = sum_p x^(p) [p.7]; a test error is
P(y <w, x_bar> <= 0). Both distributions are rotation invariant around their
signal directions, so u = ||u|| e_0 (and v = ||v|| e_1) without loss of
generality.

Random draws use a generator per (seed, n) for training sets, per
(seed, n, TEST_STREAM) for fresh test sets and per (seed, n, INIT_STREAM) for
GD's initial weights, so they never overlap and a seed's draw does not depend
on which other seeds run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

TEST_STREAM, INIT_STREAM = 1, 2


def training_rng(seed: int, n: int) -> np.random.Generator:
    return np.random.default_rng((seed, n))


def fresh_rng(seed: int, n: int) -> np.random.Generator:
    return np.random.default_rng((seed, n, TEST_STREAM))


def initial_weights(seeds: list[int], n: int, d: int, scale: float) -> np.ndarray:
    """w0 ~ N(0, scale^2 I / d) per seed (||w0|| ~ scale): (S, d)."""
    return np.stack([np.random.default_rng((seed, n, INIT_STREAM)).standard_normal(d) * scale / np.sqrt(d) for seed in seeds])


def _rademacher(rng, size):
    return rng.choice(np.array([-1.0, 1.0]), size=size)


def sampled_error(w, x_bar, y):
    """Fraction of (x_bar, y) with y <w, x_bar> <= 0 (a tie counts as an error)."""
    return float(np.mean(y * (x_bar @ w) <= 0))


@dataclass(frozen=True)
class Example31:
    """Distribution D1 of Example 3.1: y Rademacher; every patch p in [P] is
    x^(p) = y u + xi^(p) with xi^(p) ~ N(0, sigma^2 (I - u u^T / ||u||^2)) i.i.d.
    (the paper's "p in [n]" is a typo for p in [P])."""

    d: int
    P: int
    sigma: float
    u_norm: float = 1.0

    @property
    def u(self) -> np.ndarray:
        u = np.zeros(self.d)
        u[0] = self.u_norm
        return u

    def sample(self, rng: np.random.Generator, m: int):
        """m samples: patches (m, P, d) and labels (m,)."""
        y = _rademacher(rng, m)
        noise = self.sigma * rng.standard_normal((m, self.P, self.d))
        noise[..., 0] = 0.0  # orthogonal to u = ||u|| e_0
        return y[:, None, None] * self.u + noise, y

    def training_sets(self, seeds: list[int], n: int):
        """X (S, n, P, d), y (S, n): one training set per seed."""
        draws = [self.sample(training_rng(seed, n), n) for seed in seeds]
        return np.stack([x for x, _ in draws]), np.stack([y for _, y in draws])

    def test_error(self, w) -> np.ndarray:
        """Closed form (derived here): y <w, x_bar> = P <w, u> + y <w, sum_p xi^(p)>,
        and sum_p xi^(p) ~ N(0, P sigma^2 Pi_u), so the error is
        Phi(-sqrt(P) <w, u> / (sigma ||Pi_u w||)). w: (..., d)."""
        along = w[..., 0] * self.u_norm
        rest = np.linalg.norm(w[..., 1:], axis=-1)
        with np.errstate(divide="ignore"):
            return np.exp(log_ndtr(-np.sqrt(self.P) * along / (self.sigma * rest)))

    def sampled_test_error(self, w, seeds: list[int], n: int, m: int, chunk: int = 5000) -> np.ndarray:
        """Test error of w[s] on m fresh samples drawn for seed s (chunked, so memory stays small)."""
        errors = []
        for seed, ws in zip(seeds, w):
            rng, wrong = fresh_rng(seed, n), 0
            for start in range(0, m, chunk):
                x, y = self.sample(rng, min(chunk, m - start))
                wrong += sampled_error(ws, x.sum(axis=1), y) * len(y)
            errors.append(wrong / m)
        return np.array(errors)


@dataclass(frozen=True)
class Errors32:
    """Natural logs of the test-error probabilities, per classifier."""

    log_strong: np.ndarray
    log_weak: np.ndarray
    log_total: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return np.exp(self.log_total)

    @property
    def log10_total(self) -> np.ndarray:
        return self.log_total / np.log(10)


@dataclass(frozen=True)
class Example32:
    """Distribution D2 of Example 3.2: two patches, y Rademacher, <u, v> = 0.

    - strong (probability 1 - rho): patches [y u, xi], xi ~ N(0, sigma^2 (I - uu^T/||u||^2 - vv^T/||v||^2));
    - weak (probability rho): patches [y v, xi + alpha zeta u], xi ~ N(0, sigma^2 I), zeta uniform on {+-1}.

    The patch order does not matter to the CNN (sum pooling, BN over all patches).
    """

    n: int
    alpha: float
    d: int
    sigma: float
    rho: float

    @classmethod
    def paper(cls, n: int, alpha: float) -> Example32:
        """The paper's scaling: d = n^2 log n, sigma = d^-1/2 (printed "sigma_0"), rho = n^-3/4, ||u|| = 1, ||v|| = alpha^2."""
        d = round(n**2 * math.log(n))
        return cls(n=n, alpha=alpha, d=d, sigma=d**-0.5, rho=n**-0.75)

    @property
    def u(self) -> np.ndarray:
        u = np.zeros(self.d)
        u[0] = 1.0
        return u

    @property
    def v(self) -> np.ndarray:
        v = np.zeros(self.d)
        v[1] = self.alpha**2
        return v

    def sample(self, rng: np.random.Generator, m: int):
        """m samples: patches (m, 2, d), labels (m,), and the weak-example mask (m,).

        The variates are drawn in a fixed order that does not depend on alpha,
        so two alphas with one seed see the same noise (common random numbers)."""
        y = _rademacher(rng, m)
        weak = rng.random(m) < self.rho
        zeta = _rademacher(rng, m)
        xi = self.sigma * rng.standard_normal((m, self.d))
        xi[~weak, :2] = 0.0  # strong examples: noise orthogonal to u and v
        signal = np.where(weak[:, None], self.v, self.u) * y[:, None]
        noise = xi + np.where(weak, self.alpha * zeta, 0.0)[:, None] * self.u
        return np.stack([signal, noise], axis=1), y, weak

    def training_set(self, seed: int, *, max_draws: int = 1000):
        """A training set of n samples conditioned on containing a weak example
        (the event Theorem 3.4's high-probability statement includes), by
        rejection: draws are repeated with the seed's generator until one has a
        weak example. Returns (X (n, 2, d), y, weak, rejected), where `rejected`
        counts the draws without any weak example that were discarded."""
        rng = training_rng(seed, self.n)
        for rejected in range(max_draws):
            X, y, weak = self.sample(rng, self.n)
            if weak.any():
                return X, y, weak, rejected
        raise RuntimeError(f"no training set with a weak example in {max_draws} draws (n={self.n}, rho={self.rho:.3g})")

    def p_no_weak(self) -> float:
        """P(a training set of n samples has no weak example) = (1 - rho)^n."""
        return (1 - self.rho) ** self.n

    def test_error(self, w) -> Errors32:
        """Exact test error of sign <w, x_bar>, w: (..., d).

        strong: Phi(-<w, u> / (sigma ||Pi_{u,v} w||));
        weak: (Phi(-(<w, v> + alpha <w, u>) / (sigma ||w||)) + Phi(-(<w, v> - alpha <w, u>) / (sigma ||w||))) / 2;
        total = (1 - rho) strong + rho weak. Computed in logs, so tiny errors do not underflow.
        """
        wu, wv = w[..., 0], w[..., 1] * self.alpha**2
        with np.errstate(divide="ignore"):
            log_strong = log_ndtr(-wu / (self.sigma * np.linalg.norm(w[..., 2:], axis=-1)))
        scale = self.sigma * np.linalg.norm(w, axis=-1)
        log_weak = np.logaddexp(log_ndtr(-(wv + self.alpha * wu) / scale), log_ndtr(-(wv - self.alpha * wu) / scale)) - np.log(2)
        log_total = np.logaddexp(np.log1p(-self.rho) + log_strong, np.log(self.rho) + log_weak)
        return Errors32(log_strong, log_weak, log_total)


@dataclass(frozen=True)
class Solutions31:
    """The uniform-margin and max-margin classifiers on Example 3.1 training sets, per seed."""

    X: np.ndarray  # (S, n, P, d)
    y: np.ndarray  # (S, n)
    w_uniform: np.ndarray  # (S, d) min-norm solution of <w, y_i x_i^(p)> = 1 for all i, p
    w_max: np.ndarray  # (S, d) eq. (3.1)
    uniform_residual: np.ndarray  # (S,) max_{i,p} |<w_uniform, y_i x_i^(p)> - 1|: ~0 iff Assumption 3.1 holds
    error_uniform: np.ndarray  # (S,) sampled test error
    error_max: np.ndarray  # (S,) sampled test error


def solve_example31(example: Example31, seeds: list[int], n: int, test_samples: int) -> Solutions31:
    from .model import max_margin, min_norm_interpolator, raw_patch_margins

    X, y = example.training_sets(seeds, n)
    w_uniform = min_norm_interpolator(X, y)
    w_max = max_margin(X, y).w
    residual = np.abs(raw_patch_margins(w_uniform, X, y) - 1).max(axis=(1, 2))
    return Solutions31(
        X, y, w_uniform, w_max, residual,
        example.sampled_test_error(w_uniform, seeds, n, test_samples),
        example.sampled_test_error(w_max, seeds, n, test_samples),
    )


@dataclass(frozen=True)
class Solutions32:
    """The uniform-margin and max-margin classifiers on Example 3.2 training sets
    (conditioned on a weak example), per seed, with their exact test errors."""

    n_weak: np.ndarray  # (S,) weak examples in the training set
    rejected: np.ndarray  # (S,) draws without a weak example discarded before it
    w_uniform: np.ndarray  # (S, d)
    w_max: np.ndarray  # (S, d)
    error_uniform: Errors32
    error_max: Errors32


def training_sets32(example: Example32, seeds: list[int]):
    """X (S, n, 2, d), y (S, n), weak (S, n), rejected (S,): the conditioned training sets of `seeds`."""
    draws = [example.training_set(seed) for seed in seeds]
    return tuple(np.stack([dr[k] for dr in draws]) for k in range(4))


def solve_example32(example: Example32, seeds: list[int], *, condition_on_weak: bool = True) -> Solutions32:
    """One seed at a time (at n = 100, d = 46052 a training set is 74 MB).
    condition_on_weak=False draws training sets with no weak example at all
    (the complement of the conditioning event, for contrast)."""
    from dataclasses import replace

    from .model import max_margin, min_norm_interpolator

    n_weak, rejected, w_uniform, w_max = [], [], [], []
    for seed in seeds:
        if condition_on_weak:
            X, y, weak, r = example.training_set(seed)
        else:
            X, y, weak = replace(example, rho=0.0).sample(training_rng(seed, example.n), example.n)
            r = 0
        n_weak.append(weak.sum())
        rejected.append(r)
        w_uniform.append(min_norm_interpolator(X[None], y[None])[0])
        w_max.append(max_margin(X[None], y[None]).w[0])
    w_uniform, w_max = np.stack(w_uniform), np.stack(w_max)
    return Solutions32(np.array(n_weak), np.array(rejected), w_uniform, w_max,
                       example.test_error(w_uniform), example.test_error(w_max))
