"""BN loss = population-normalization (PN) loss + gamma decay, for one neuron (Luo, Wang, Shao & Peng, ICLR 2019).

Only the abstract and Eq. (1) of the paper could be read (see `docs/papers/luo2019.md`). The decomposition's
exact form in the paper could not be checked; what is implemented here is our own second-order derivation:

- basic block y_hat = g(gamma * (h - mu) / sigma + beta), h = w^T x, square loss
  l(z) = (g(z) - y)^2 / 2;
- BN uses the mean and (ddof = 0) standard deviation of h over a mini-batch of M
  samples drawn without replacement; PN uses those of the whole population of P;
- at a PN-stationary (gamma*, beta*) the first-order terms vanish and
  Delta(M) = L_BN - L_PN ~ zeta * gamma^2 with
  zeta * M = mean(l'') / 2 + (kappa - 1) / 8 * mean(l'' u^2),
  u the population-standardised h, kappa = mean(u^4), l'' = g'^2 + (g - y) g''.

Everything is float64 numpy, batched along a leading seed axis S where it matters:
h (S, P), y (S, P). Monte Carlo batches come from random permutations of the
population cut into consecutive blocks of M (sampling without replacement inside a
batch); the BN and PN losses are evaluated on the same samples (paired), which
removes the sampling noise of the data from Delta. The batches depend only on (seed, M),
so Delta at several gamma (`gamma_sweep`) is paired across gamma too. The log-log slope of
Delta against M is the shared `bnrepro.stats.loglog_slope`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from bnrepro.runtime import check_seeds

__all__ = [
    "ACTIVATIONS",
    "Population",
    "bn_forward",
    "exact_delta",
    "fit_pn",
    "gamma_sweep",
    "paired_delta",
    "pn_forward",
    "pn_gradient",
    "pn_loss",
    "population",
    "zeta_times_m",
]


def _softplus(z):
    return np.logaddexp(0.0, z)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


# name -> (g, g', g''); ReLU's g'' is 0 away from the kink (the kink is what the
# smooth second-order prediction misses).
ACTIVATIONS = {
    "linear": (lambda z: z, np.ones_like, np.zeros_like),
    "softplus": (_softplus, _sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float), np.zeros_like),
}


def _act(name):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; use one of {sorted(ACTIVATIONS)}") from None


@dataclass(frozen=True)
class Population:
    """Pre-activations h = w^T x and targets y of a teacher-student population, per seed."""

    h: np.ndarray  # (S, P)
    y: np.ndarray  # (S, P)
    activation: str


def population(seeds, n, d, activation, *, x_mean=0.5, teacher_scale=None, noise=0.3, student_noise=1.0) -> Population:
    """Teacher-student population: x ~ N(x_mean, I_d), teacher y = g(w*^T x * teacher_scale) + noise * eps, student w = w* + N(0, I).

    teacher_scale defaults to 1 / (3 sqrt(d)). One numpy generator per seed.
    """
    seeds = check_seeds(seeds)
    g = _act(activation)[0]
    scale = 1.0 / (3.0 * np.sqrt(d)) if teacher_scale is None else teacher_scale
    hs, ys = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        w_star = rng.standard_normal(d)
        w = w_star + student_noise * rng.standard_normal(d)
        x = x_mean + rng.standard_normal((n, d))
        ys.append(g(x @ w_star * scale) + noise * rng.standard_normal(n))
        hs.append(x @ w)
    return Population(np.array(hs), np.array(ys), activation)


def _standardise(h, axis=-1):
    return (h - h.mean(axis, keepdims=True)) / h.std(axis, keepdims=True)


def pn_forward(h, gamma, beta):
    """PN: gamma * (h - mu_P) / sigma_P + beta with the population's mean and ddof=0 std (last axis)."""
    gamma, beta = np.asarray(gamma, float), np.asarray(beta, float)
    return gamma[..., None] * _standardise(h) + beta[..., None]


def bn_forward(h_batches, gamma, beta):
    """BN on batches (..., B, M): each batch standardised by its own mean and ddof=0 std."""
    return np.asarray(gamma, float)[..., None, None] * _standardise(h_batches) + np.asarray(beta, float)[..., None, None]


def _loss(z, y, activation):
    return 0.5 * (_act(activation)[0](z) - y) ** 2


def pn_loss(h, y, gamma, beta, activation):
    """Mean PN square loss per seed, (S,)."""
    return _loss(pn_forward(h, gamma, beta), y, activation).mean(-1)


def pn_gradient(h, y, gamma, beta, activation):
    """(dL_PN/dgamma, dL_PN/dbeta) per seed: zero at a PN-stationary point."""
    g, g1, _ = _act(activation)
    u = _standardise(h)
    z = np.asarray(gamma)[..., None] * u + np.asarray(beta)[..., None]
    lp = (g(z) - y) * g1(z)
    return (lp * u).mean(-1), lp.mean(-1)


def fit_pn(h, y, activation, *, start=(1.0, 0.0)):
    """Nelder-Mead minimisation of L_PN over (gamma, beta), per seed (scipy); returns (gamma*, beta*) arrays."""
    gammas, betas = [], []
    for hs, ys in zip(np.atleast_2d(h), np.atleast_2d(y)):
        u = _standardise(hs)

        def objective(p, u=u, ys=ys):
            return _loss(p[0] * u + p[1], ys, activation).mean()

        res = minimize(objective, np.array(start, float), method="Nelder-Mead",
                       options={"xatol": 1e-12, "fatol": 1e-16, "maxiter": 20000, "maxfev": 40000})
        gammas.append(res.x[0])
        betas.append(res.x[1])
    return np.array(gammas), np.array(betas)


def zeta_times_m(h, y, gamma, beta, activation):
    """Second-order prediction of M * Delta / gamma^2 at (gamma, beta), per seed (S,).

    zeta M = mean(l'') / 2 + (kappa - 1) / 8 * mean(l'' u^2), l'' = g'^2 + (g - y) g''.
    """
    g, g1, g2 = _act(activation)
    u = _standardise(h)
    z = np.asarray(gamma)[..., None] * u + np.asarray(beta)[..., None]
    lpp = g1(z) ** 2 + (g(z) - y) * g2(z)
    kappa = (u**4).mean(-1)
    return 0.5 * lpp.mean(-1) + (kappa - 1.0) / 8.0 * (lpp * u**2).mean(-1)


def _batch_indices(rng, n, m, draws):
    """Random permutations of range(n) cut into blocks of m: about `draws` sample-draws, (B, m)."""
    per_perm = n // m
    perms = max(1, int(np.ceil(draws / (per_perm * m))))
    order = np.argsort(rng.random((perms, n)), axis=1)[:, : per_perm * m]
    return order.reshape(-1, m)


def paired_delta(pop: Population, gamma, beta, batch_sizes, *, draws, seeds):
    """Paired Monte Carlo of Delta(M) = E[l_BN] - L_PN on the same samples, per seed and batch size.

    Returns (delta, stderr), each (S, len(batch_sizes)); stderr is the standard error of the mean of the
    per-batch differences. Batch indices come from np.random.default_rng([seed, M]).
    """
    seeds = check_seeds(seeds)
    z_pn = pn_forward(pop.h, gamma, beta)
    l_pn = _loss(z_pn, pop.y, pop.activation)  # (S, P)
    delta = np.empty((len(seeds), len(batch_sizes)))
    err = np.empty_like(delta)
    for k, m in enumerate(batch_sizes):  # a handful of batch sizes; everything inside is vectorized
        idx = np.stack([_batch_indices(np.random.default_rng([s, m]), pop.h.shape[1], m, draws) for s in seeds])
        take = np.take_along_axis
        hb = take(pop.h[:, None, :], idx.reshape(len(seeds), 1, -1), axis=2).reshape(idx.shape)
        yb = take(pop.y[:, None, :], idx.reshape(len(seeds), 1, -1), axis=2).reshape(idx.shape)
        lb = take(l_pn[:, None, :], idx.reshape(len(seeds), 1, -1), axis=2).reshape(idx.shape)
        diff = (_loss(bn_forward(hb, gamma, beta), yb, pop.activation) - lb).mean(-1)  # (S, B)
        delta[:, k] = diff.mean(-1)
        err[:, k] = diff.std(-1, ddof=1) / np.sqrt(diff.shape[-1])
    return delta, err


def exact_delta(h, y, gamma, beta, m, activation):
    """Exact E[l_BN] - L_PN over all C(P, m) batches of a tiny 1-D population (brute force, for tests)."""
    h, y = np.asarray(h, float), np.asarray(y, float)
    idx = np.array(list(itertools.combinations(range(h.size), m)))
    l_pn = _loss(pn_forward(h[None], np.array([gamma]), np.array([beta]))[0], y, activation)
    l_bn = _loss(bn_forward(h[idx][None], np.array([gamma]), np.array([beta]))[0], y[idx], activation)
    return float((l_bn - l_pn[idx]).mean())


def gamma_sweep(pop: Population, gamma, beta, factors, m, *, draws, seeds):
    """Delta = E[l_BN] - L_PN at gamma * c for every factor c, beta fixed, one batch size m (paired across c).

    Returns (delta, stderr, zeta_m), each (S, len(factors)): the paired Monte Carlo gap and its standard error
    (`paired_delta`, the same batches for every c), and the second-order prediction of M * Delta / gamma^2 at
    (c gamma, beta) (`zeta_times_m`). For linear g, Delta is exactly linear in gamma on fixed batches (a
    standardised batch has mean 0 and mean square 1, so the gamma^2 terms of BN and PN cancel).
    """
    gamma, beta = np.asarray(gamma, float), np.asarray(beta, float)
    deltas, errs, zetas = [], [], []
    for c in factors:  # a handful of factors; the Monte Carlo inside is vectorized
        d, e = paired_delta(pop, c * gamma, beta, [m], draws=draws, seeds=seeds)
        deltas.append(d[:, 0])
        errs.append(e[:, 0])
        zetas.append(zeta_times_m(pop.h, pop.y, c * gamma, beta, pop.activation))
    return np.stack(deltas, axis=1), np.stack(errs, axis=1), np.stack(zetas, axis=1)
