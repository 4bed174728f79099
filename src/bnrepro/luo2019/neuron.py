"""Teacher-student single ReLU neurons trained by SGD: plain, WN, WN + gamma decay, BN (Luo et al. 2019).

Only the abstract and Eq. (1) of the paper could be read (see `docs/papers/luo2019.md`); the
set-up is ours, not the paper's:

- data: x ~ N(0, I_N) (whitened, so population normalization = weight normalization),
  teacher y = relu(w*^T x / sqrt(N)) + noise * eps, w* ~ N(0, I_N);
- students y_hat = relu(z), square loss (y_hat - y)^2 / 2 averaged over the mini-batch:
  * "plain": z = w^T x + beta;
  * "wn":    z = gamma * w^T x / ||w|| + beta;
  * "wn+gd": as "wn", plus the explicit gamma decay zeta * gamma^2, zeta computed on each batch as in
    `decomposition.zeta_times_m` / M with u = w^T x / ||w||, l'' = 1[z > 0] (ReLU, square loss) and
    kappa = batch mean of u^4, all under stop-gradient;
  * "bn":    z = gamma * (h - mu_B) / sigma_B + beta, h = w^T x, batch mean and ddof=0 std.
  At test time BN uses the population statistics of its own training set.
- every model of a seed starts from the same w0 ~ N(0, I_N / N) (||w0|| ~ 1, so that the effective
  learning rate lr / ||w||^2 of the scale-invariant students starts at lr; `w0_scale` rescales it for
  those students), gamma = 1, beta = 0.

All models (variants x seeds x batch sizes x training-set sizes) are trained at once along a leading
model axis G in torch float64: one gather, one forward, one backward per step, no loop over samples.
Models with fewer steps (smaller training sets, fixed number of epochs) stop updating when done. Mini-
batches come from a per-(seed, P, M) numpy generator that concatenates random permutations of the
training set (epochs) and cuts them into consecutive blocks of M; the batches are therefore identical
across variants (paired comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bnrepro.runtime import check_seeds

__all__ = ["KINDS", "BatchSizeSweep", "Generalization", "TeacherData", "Training", "batch_size_sweep", "batch_stream",
           "constant_predictor_error", "generalization", "predict", "teacher_data", "test_error", "train"]

KINDS = ("plain", "wn", "wn+gd", "bn")


@dataclass(frozen=True)
class TeacherData:
    x: np.ndarray  # (S, P_max, N) training inputs; the first P rows are the training set of size P
    y: np.ndarray  # (S, P_max)
    x_test: np.ndarray  # (S, n_test, N)
    y_test: np.ndarray  # (S, n_test), noise-free teacher outputs
    w0: np.ndarray  # (S, N) shared initial student weights
    seeds: list


def teacher_data(seeds, n, d, *, noise, n_test) -> TeacherData:
    """Nested training sets (first P of n rows) and a noise-free test set per seed; numpy default_rng(seed)."""
    seeds = check_seeds(seeds)
    xs, ys, xt, yt, w0 = [], [], [], [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        w_star = rng.standard_normal(d)
        x = rng.standard_normal((n, d))
        xs.append(x)
        ys.append(np.maximum(x @ w_star / np.sqrt(d), 0.0) + noise * rng.standard_normal(n))
        x_test = rng.standard_normal((n_test, d))
        xt.append(x_test)
        yt.append(np.maximum(x_test @ w_star / np.sqrt(d), 0.0))
        w0.append(rng.standard_normal(d) / np.sqrt(d))
    return TeacherData(np.array(xs), np.array(ys), np.array(xt), np.array(yt), np.array(w0), seeds)


def batch_stream(seed, p, m, steps) -> np.ndarray:
    """(steps, m) indices into range(p): concatenated random permutations cut into blocks of m."""
    rng = np.random.default_rng([seed, p, m])
    epochs = int(np.ceil(steps * m / p))
    stream = np.argsort(rng.random((epochs, p)), axis=1).ravel()[: steps * m]
    return stream.reshape(steps, m).astype(np.int32)


@dataclass
class Training:
    kind: np.ndarray  # (G,) variant names
    seed_index: np.ndarray  # (G,)
    p: np.ndarray  # (G,) training-set sizes
    m: np.ndarray  # (G,) batch sizes
    steps: np.ndarray  # (G,)
    w: np.ndarray  # (G, N) final
    gamma: np.ndarray  # (G,)
    beta: np.ndarray  # (G,)
    gamma_history: np.ndarray  # (R, G), every `record_every` steps (row r after step (r+1)*record_every)
    record_every: int


def train(data: TeacherData, kind, seed_index, p, m, steps, *, lr, w0_scale=1.0, record_every=50, device="cpu") -> Training:
    """SGD on all models at once. kind, seed_index, p, m, steps: one entry per model (length G).

    The scale-invariant students (wn, wn+gd, bn) start from w0_scale * data.w0, the plain one from data.w0.
    """
    kind = np.asarray(kind)
    seed_index, p, m, steps = (np.asarray(a, dtype=int) for a in (seed_index, p, m, steps))
    g_count = kind.size
    if not all(k in KINDS for k in kind):
        raise ValueError(f"kinds must be among {KINDS}, got {sorted(set(kind))}")
    if not all(a.shape == (g_count,) for a in (seed_index, p, m, steps)):
        raise ValueError("kind, seed_index, p, m and steps need one entry per model")
    if (p > data.x.shape[1]).any() or (m > p).any():
        raise ValueError("need m <= p <= rows of the training data")
    t_max, m_max = int(steps.max()), int(m.max())
    idx = np.zeros((t_max, g_count, m_max), dtype=np.int32)
    for g in range(g_count):  # index streams only; no arithmetic on samples here
        # drawn for t_max steps (its first `steps` rows do not depend on t_max); a model past its own
        # steps keeps seeing valid batches (no degenerate BN statistics) but is no longer updated
        idx[:, g, : m[g]] = batch_stream(data.seeds[seed_index[g]], p[g], m[g], t_max)

    dt = torch.float64
    x = torch.as_tensor(data.x, dtype=dt, device=device)
    y = torch.as_tensor(data.y, dtype=dt, device=device)
    sidx = torch.as_tensor(seed_index, device=device)[:, None]
    mask = (torch.arange(m_max, device=device)[None, :] < torch.as_tensor(m, device=device)[:, None]).to(dt)
    mcount = mask.sum(1)
    is_plain = torch.as_tensor(kind == "plain", device=device)[:, None]
    is_bn = torch.as_tensor(kind == "bn", device=device)[:, None]
    gd = torch.as_tensor(kind == "wn+gd", dtype=dt, device=device)
    steps_t = torch.as_tensor(steps, device=device)

    w_init = data.w0[seed_index] * np.where(kind == "plain", 1.0, w0_scale)[:, None]
    w = torch.as_tensor(w_init, dtype=dt, device=device).requires_grad_(True)
    gamma = torch.ones(g_count, dtype=dt, device=device, requires_grad=True)
    beta = torch.zeros(g_count, dtype=dt, device=device, requires_grad=True)
    history = []

    def sgd_step(t):
        ib = torch.as_tensor(idx[t], device=device).long()
        xb, yb = x[sidx, ib], y[sidx, ib]  # (G, M_max, N), (G, M_max)
        h = (xb * w[:, None, :]).sum(-1)
        norm = w.norm(dim=1, keepdim=True)
        mu = (h * mask).sum(1, keepdim=True) / mcount[:, None]
        sd = (((h - mu) ** 2 * mask).sum(1, keepdim=True) / mcount[:, None]).sqrt()
        u_wn = h / norm
        z_norm = gamma[:, None] * torch.where(is_bn, (h - mu) / sd, u_wn) + beta[:, None]
        z = torch.where(is_plain, h + beta[:, None], z_norm)
        loss_g = (0.5 * (torch.relu(z) - yb) ** 2 * mask).sum(1) / mcount
        with torch.no_grad():  # gamma decay strength, stop-gradient (zero for the other kinds)
            u = u_wn.detach()
            lpp = (z.detach() > 0).to(dt) * mask
            kappa = (u**4 * mask).sum(1) / mcount
            zeta = (0.5 * lpp.sum(1) / mcount + (kappa - 1) / 8 * (lpp * u**2).sum(1) / mcount) / mcount * gd
        total = (loss_g + zeta * gamma**2).sum()
        gw, gg, gb = torch.autograd.grad(total, (w, gamma, beta))
        with torch.no_grad():
            step = lr * (t < steps_t).to(dt)
            w.sub_(step[:, None] * gw)
            gamma.sub_(step * gg)
            beta.sub_(step * gb)
        if (t + 1) % record_every == 0:
            history.append(gamma.detach().cpu().numpy().copy())

    for t in range(t_max):  # tiny per-step tensors: run with threads 1 (the registry's choice), not more
        sgd_step(t)
    return Training(kind, seed_index, p, m, steps, w.detach().cpu().numpy(), gamma.detach().cpu().numpy(),
                    beta.detach().cpu().numpy(), np.array(history).reshape(-1, g_count), record_every)


def predict(data: TeacherData, run: Training, x_eval) -> np.ndarray:
    """Outputs of every model on x_eval (S, n, N) of its seed; BN uses its training set's population stats."""
    out = np.empty((run.kind.size, x_eval.shape[1]))
    for g, k in enumerate(run.kind):  # per model: a few matrix-vector products (no (G, n, N) copy of the inputs)
        s = run.seed_index[g]
        h = x_eval[s] @ run.w[g]
        if k == "plain":
            z = h + run.beta[g]
        elif k == "bn":
            h_train = data.x[s, : run.p[g]] @ run.w[g]
            z = run.gamma[g] * (h - h_train.mean()) / h_train.std() + run.beta[g]
        else:
            z = run.gamma[g] * h / np.linalg.norm(run.w[g]) + run.beta[g]
        out[g] = np.maximum(z, 0.0)
    return out


def test_error(data: TeacherData, run: Training) -> np.ndarray:
    """Generalization error per model: mean squared error against the noise-free teacher on the test set."""
    return ((predict(data, run, data.x_test) - data.y_test[run.seed_index]) ** 2).mean(1)


def constant_predictor_error(data: TeacherData) -> np.ndarray:
    """Per seed, the test error of the best constant predictor (the test set's own mean teacher output): the
    variance of the noise-free teacher output on the test set, a floor for every predictor that ignores x."""
    return data.y_test.var(axis=1)


@dataclass(frozen=True)
class Generalization:
    kinds: tuple
    alphas: list
    seeds: list
    error: np.ndarray  # (kind, alpha, seed): test MSE against the noise-free teacher
    gamma: np.ndarray  # (kind, alpha, seed): final gamma (1 for "plain", which has none)
    constant_error: np.ndarray  # (seed,): the best constant predictor's test MSE
    steps: int


def generalization(seeds, d, alphas, *, noise, batch_size, steps, lr, n_test, kinds=KINDS, w0_scale=1.0,
                   device="cpu") -> Generalization:
    """Generalization error of every student kind at every sample ratio alpha (P = round(alpha d)), per seed.

    The training sets are nested across alpha (the first P rows of one draw per seed); every model takes the
    same number of SGD steps at batch size `batch_size`; within a (seed, alpha) all kinds see the same mini-
    batches and start from the same w0, so differences between kinds are paired. One batched run per alpha
    (the models are independent: splitting by alpha only bounds the memory of the index streams).
    """
    kinds = tuple(kinds)
    sizes = [round(a * d) for a in alphas]
    data = teacher_data(seeds, max(sizes), d, noise=noise, n_test=n_test)
    n_seeds = len(data.seeds)
    error = np.empty((len(kinds), len(alphas), n_seeds))
    gamma = np.empty_like(error)
    kind_of_model = np.repeat(np.array(kinds), n_seeds)
    seed_of_model = np.tile(np.arange(n_seeds), len(kinds))
    for a, size in enumerate(sizes):
        ones = np.ones(kind_of_model.size, dtype=int)
        run = train(data, kind_of_model, seed_of_model, size * ones, batch_size * ones, steps * ones, lr=lr,
                    w0_scale=w0_scale, record_every=steps, device=device)
        error[:, a] = test_error(data, run).reshape(len(kinds), n_seeds)
        gamma[:, a] = np.where(kind_of_model == "plain", 1.0, run.gamma).reshape(len(kinds), n_seeds)
    return Generalization(kinds, list(alphas), data.seeds, error, gamma, constant_predictor_error(data), steps)


@dataclass(frozen=True)
class BatchSizeSweep:
    kinds: tuple
    batch_sizes: list
    seeds: list
    gamma: np.ndarray  # (kind, seed, M): gamma averaged over the last `average_last` of training
    error: np.ndarray  # (kind, seed, M): final test MSE against the noise-free teacher
    history: np.ndarray  # (R, kind, seed, M): gamma after every `record_every` steps
    record_every: int
    averaged_records: int  # how many of the last records `gamma` averages


def batch_size_sweep(seeds, d, p, batch_sizes, *, noise, steps, lr, n_test, kinds=("bn", "wn"), average_last=0.2,
                     record_every=50, w0_scale=1.0, device="cpu") -> BatchSizeSweep:
    """The gamma that SGD learns at each batch size M, per student kind and seed, on P = p training samples.

    Every model takes `steps` SGD steps; at a given (seed, M) all kinds see the same mini-batches and start from
    the same w0 (paired). One batched run per M, so that small batches are not padded to the largest one.
    """
    kinds = tuple(kinds)
    data = teacher_data(seeds, p, d, noise=noise, n_test=n_test)
    n_seeds = len(data.seeds)
    kind_of_model = np.repeat(np.array(kinds), n_seeds)
    seed_of_model = np.tile(np.arange(n_seeds), len(kinds))
    ones = np.ones(kind_of_model.size, dtype=int)
    gamma, error, history = [], [], []
    for m in batch_sizes:
        run = train(data, kind_of_model, seed_of_model, p * ones, m * ones, steps * ones, lr=lr, w0_scale=w0_scale,
                    record_every=record_every, device=device)
        last = max(1, round(average_last * run.gamma_history.shape[0]))
        gamma.append(run.gamma_history[-last:].mean(0).reshape(len(kinds), n_seeds))
        error.append(test_error(data, run).reshape(len(kinds), n_seeds))
        history.append(run.gamma_history.reshape(-1, len(kinds), n_seeds))
    return BatchSizeSweep(kinds, list(batch_sizes), data.seeds, np.stack(gamma, -1), np.stack(error, -1),
                          np.stack(history, -1), record_every, last)
