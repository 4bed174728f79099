"""Teacher-student single ReLU neurons trained by SGD: plain, WN, WN + gamma decay, BN (Luo et al. 2019).

Only the abstract and Eq. (1) of the paper could be read (shared/papers/luo2019.md); the
set-up is the spec's (D.5, D2 and D4), not the paper's:

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

__all__ = ["KINDS", "TeacherData", "Training", "batch_stream", "predict", "teacher_data", "test_error", "train"]

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
    xe = x_eval[run.seed_index]  # (G, n, N)
    h = np.einsum("gnd,gd->gn", xe, run.w)
    out = np.empty_like(h)
    for g, k in enumerate(run.kind):  # per model: a handful of matrix-vector products
        if k == "plain":
            z = h[g] + run.beta[g]
        elif k == "bn":
            h_train = data.x[run.seed_index[g], : run.p[g]] @ run.w[g]
            z = run.gamma[g] * (h[g] - h_train.mean()) / h_train.std() + run.beta[g]
        else:
            z = run.gamma[g] * h[g] / np.linalg.norm(run.w[g]) + run.beta[g]
        out[g] = np.maximum(z, 0.0)
    return out


def test_error(data: TeacherData, run: Training) -> np.ndarray:
    """Generalization error per model: mean squared error against the noise-free teacher on the test set."""
    return ((predict(data, run, data.x_test) - data.y_test[run.seed_index]) ** 2).mean(1)
