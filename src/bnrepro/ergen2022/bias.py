"""GD's spectral bias on the BN network, against a whitened-input control (ergen2022/gd-implicit-bias).

Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci, "Demystifying Batch Normalization in ReLU Networks:
Equivalent Convex Optimization Models and Implicit Regularization" (ICLR 2022), abstract: "Gradient Descent
provides an algorithmic bias effect on the standard non-convex BN network". The mechanism is derived in
docs/papers/ergen2022.md, section 3 (the paper's body was not available).

Pre-activation GD. Full-batch GD on the first layer, W <- W - lr X^T G with G = dL/dH the gradient of the
objective with respect to the pre-activations H = X W, moves the centred pre-activations by
H <- H - lr K G with the Gram matrix K = (P X)(P X)^T = U Sigma^2 U^T (G is centred, since BN centres H).
So GD on the BN network is run here on H (n x m per model) with K, batched over models of different data:
the same iteration as GD on W (`training.train`, up to float64 rounding; tests/test_ergen2022_bias.py), at
n x n cost. The weights come back as W_T = W_0 - lr (P X)^T sum_t G_t.

The control. The same network, the same initial W_0, a_0 and the same GD (lr, steps) on *whitened* inputs
X_w = mean + c U V^T: the same U, hence the same whitened matrix U', the same function class on the training
set, the same convex program and the same optimum p*; only the Gram matrix changes, K_w = c^2 U U^T, which
moves every whitened direction at the same rate instead of at a rate proportional to sigma_i^2. c^2 =
||P X||_F^2 / r keeps the centred inputs' mean squared norm (the trace of K) equal to the raw data's. Test rows
map by the same affine whitening, x -> mean + c (x - mean) V Sigma^-1 V^T.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from bnrepro import stats

from . import convex, tasks, training

__all__ = ["BiasResult", "GramRun", "control_whitening", "gd_bias", "train_gram_gd", "whitened_inputs"]


def whitened_inputs(X, wh: convex.Whitening) -> tuple[np.ndarray, float]:
    """The control's training inputs X_w = mean + c U V^T and c = ||P X||_F / sqrt(r)."""
    c = float(np.sqrt(np.sum(wh.sigma**2) / wh.rank))
    return wh.mean + c * wh.U @ wh.V.T, c


def control_whitening(wh: convex.Whitening, c: float) -> convex.Whitening:
    """The whitening of X_w in the raw data's U basis (sigma = c on every direction): its `directions`,
    `direction_energy` and `movement` read the control's weights in the same coordinates as the raw run's."""
    return convex.Whitening(Up=wh.Up, U=wh.U, sigma=np.full(wh.rank, c), V=wh.V, rank=wh.rank, mean=wh.mean)


def _map_whitened(X_new, wh: convex.Whitening, c: float) -> np.ndarray:
    """New rows through the control's affine whitening x -> mean + c (x - mean) V Sigma^-1 V^T."""
    return wh.mean + c * ((np.asarray(X_new, float) - wh.mean) @ (wh.V / wh.sigma)) @ wh.V.T


@dataclass
class GramRun:
    """Batched pre-activation GD: per model (M,) the final BN weight and bias (PyTorch's), output weights
    a (M, m), the accumulated pre-activation gradients sum_t G_t at `snapshot` and at the end (M, n, m), and
    the objective at every step (M, steps + 1)."""

    bn_weight: np.ndarray
    bn_bias: np.ndarray
    a: np.ndarray
    grad_sum_snapshot: np.ndarray
    grad_sum: np.ndarray
    objective: np.ndarray


def train_gram_gd(H0, K, a0, Y, beta, *, lr, steps, snapshot, device="cpu") -> GramRun:
    """Full-batch GD on M two-layer BN networks, written on the pre-activations (module docstring).

    H0 (M, n, m) = P X_s W_0 per model, K (M, n, n) = (P X_s)(P X_s)^T, a0 (M, m) the initial output weights,
    Y (M, n) the targets. BN weight starts at 1, bias at 0 (PyTorch's default); the objective is
    `training.BNNetworks.objective` (sum squared loss, beta/2 (gamma^2 + alpha^2 + a^2) with gamma = sqrt(n)
    BN weight). The BN parameters and a take plain GD steps at the same lr.
    """
    if not 0 <= snapshot <= steps:
        raise ValueError(f"snapshot must be in 0..steps = {steps}, got {snapshot}")
    t = lambda x: torch.as_tensor(np.asarray(x, dtype=float), device=device)  # noqa: E731
    H, K, a, Y = t(H0).clone(), t(K), t(a0).clone(), t(Y)
    M, n, m = H.shape
    root_n = math.sqrt(n)
    bw = torch.ones(M, m, dtype=torch.float64, device=device)
    bb = torch.zeros(M, m, dtype=torch.float64, device=device)
    grad_sum = torch.zeros_like(H)
    grad_snapshot = grad_sum.clone()
    values = torch.empty(M, steps + 1, dtype=torch.float64, device=device)
    tiny = torch.finfo(torch.float64).tiny
    for step in range(steps + 1):
        if step == snapshot:
            grad_snapshot = grad_sum.clone()
        leaves = [x.detach().requires_grad_(True) for x in (H, bw, bb, a)]
        Hl, bwl, bbl, al = leaves
        centred = Hl - Hl.mean(dim=1, keepdim=True)
        gamma, alpha = root_n * bwl, root_n * bbl
        B = gamma[:, None] * centred / centred.norm(dim=1, keepdim=True).clamp_min(tiny) + alpha[:, None] / root_n
        residual = torch.einsum("Mnm,Mm->Mn", torch.relu(B), al) - Y
        obj = 0.5 * residual.square().sum(1) + 0.5 * beta * (gamma.square().sum(1) + alpha.square().sum(1)
                                                             + al.square().sum(1))
        values[:, step] = obj.detach()
        if step == steps:
            break
        gH, gw, gb, ga = torch.autograd.grad(obj.sum(), leaves)
        with torch.no_grad():
            H = Hl.detach() - lr * torch.bmm(K, gH)
            bw, bb, a = bwl.detach() - lr * gw, bbl.detach() - lr * gb, al.detach() - lr * ga
            grad_sum += gH
    return GramRun(bw.cpu().numpy(), bb.cpu().numpy(), a.cpu().numpy(), grad_snapshot.cpu().numpy(),
                   grad_sum.cpu().numpy(), values.cpu().numpy())


@dataclass
class BiasResult:
    """Per seed (S,) or (S, r) arrays of `gd_bias`; `runs` is "raw" (GD on the data) and "control" (GD on the
    whitened inputs). Energies are top-k sums of `Whitening.direction_energy` (|a gamma|-weighted)."""

    k: int
    rank: np.ndarray
    sigma: np.ndarray  # (S, r) singular values of P X
    c: np.ndarray  # the control's common singular value
    p_star: np.ndarray
    p_star_network: np.ndarray  # objective of the closed-form network through a BN forward pass
    objective: dict  # run -> (S, steps + 1)
    objective_from_weights: dict  # run -> (S,) final objective recomputed from W_T in numpy
    top_k: dict  # "raw displacement", "control displacement", "raw trained", "raw init", "control init", "optimum"
    movement_early: dict  # run -> (S, r) RMS change of v_i over the first `snapshot` steps
    movement_final: dict
    test_accuracy: dict  # "raw", "control", "optimum"
    train_accuracy: dict  # "raw", "control"
    weight_decay: dict  # run -> (S,) the penalty part of the final objective
    control_projector_error: np.ndarray  # ||U_w U_w^T - U U^T|| per seed (the control shares U')
    control_sigma_spread: np.ndarray  # (max - min) / c of the control data's singular values

    def spearman(self, run: str, early: bool = True) -> np.ndarray:
        """Spearman(sigma_i, movement_i) per seed, movement of `run` in the raw data's U basis."""
        moves = (self.movement_early if early else self.movement_final)[run]
        return np.array([stats.spearman(s, mv) for s, mv in zip(self.sigma, moves, strict=True)])

    def slope(self, run: str, early: bool = True) -> np.ndarray:
        """Least-squares slope of log movement_i on log sigma_i per seed."""
        moves = (self.movement_early if early else self.movement_final)[run]
        return np.array([stats.loglog_slope(s, mv) for s, mv in zip(self.sigma, moves, strict=True)])


def gd_bias(ds, pair, seeds, *, n, n_test_per_class, beta, width, lr, steps, early_steps, k, device="cpu") -> BiasResult:
    """GD on the BN network, raw inputs against whitened inputs (the control), and the closed-form optimum,
    on one seeded draw of `pair` of `ds` per seed (n // 2 training images per class).

    Per seed: one training draw and one initialization (PyTorch's default, `training.BNNetworks` with the
    seed), shared by the raw run and the control. All 2 S runs train together (`train_gram_gd`).
    """
    draws, H0, K, a0, Y, W0 = [], [], [], [], [], []
    for seed in seeds:
        task = tasks.image_task(ds, pair, n // 2, 0, n_test_per_class, seed)
        X = task.X_train
        wh = convex.whiten(X)
        Xw, c = whitened_inputs(X, wh)
        init = training.BNNetworks(X.shape[1], width, [seed], n).networks()[0]
        draws.append((task, wh, Xw, c, init))
        for Xin in (X - wh.mean, Xw - wh.mean):
            H0.append(Xin @ init.W)
            K.append(Xin @ Xin.T)
            a0.append(init.a)
            Y.append(task.y_train)
            W0.append(init.W)
    run = train_gram_gd(np.array(H0), np.array(K), np.array(a0), np.array(Y), beta, lr=lr, steps=steps,
                        snapshot=early_steps, device=device)
    names = ("raw", "control")
    keys = ("raw displacement", "control displacement", "raw trained", "raw init", "control init", "optimum")
    out = {"top_k": {key: [] for key in keys}, "objective": {r: [] for r in names},
           "objective_from_weights": {r: [] for r in names}, "movement_early": {r: [] for r in names},
           "movement_final": {r: [] for r in names}, "test_accuracy": {r: [] for r in (*names, "optimum")},
           "train_accuracy": {r: [] for r in names}, "weight_decay": {r: [] for r in names}}
    misc = {key: [] for key in ("rank", "sigma", "c", "p_star", "p_star_network", "projector", "spread")}
    root_n = math.sqrt(n)
    for s, (task, wh, Xw, c, init) in enumerate(draws):
        opt = convex.closed_form(task.X_train, task.y_train, beta, whitening=wh)
        net_opt = opt.network
        misc["rank"].append(wh.rank)
        misc["sigma"].append(wh.sigma)
        misc["c"].append(c)
        misc["p_star"].append(opt.value)
        misc["p_star_network"].append(convex.objective(task.X_train, task.y_train, net_opt.W, net_opt.gamma,
                                                       net_opt.alpha, net_opt.a, beta))
        wh_w = convex.whiten(Xw)
        misc["projector"].append(np.linalg.norm(wh_w.U @ wh_w.U.T - wh.U @ wh.U.T))
        misc["spread"].append(np.ptp(wh_w.sigma) / c)
        out["test_accuracy"]["optimum"].append(tasks.accuracy(
            convex.bn_predict(task.X_test, task.X_train, net_opt.W, net_opt.gamma, net_opt.alpha, net_opt.a),
            task.labels_test))
        top = lambda e: float(e[:k].sum())  # noqa: E731
        out["top_k"]["optimum"].append(top(wh.direction_energy(net_opt.W, np.abs(net_opt.a * net_opt.gamma))))
        for j, name in enumerate(names):
            i = 2 * s + j
            X_train = task.X_train if name == "raw" else Xw
            X_test = task.X_test if name == "raw" else _map_whitened(task.X_test, wh, c)
            coords = wh if name == "raw" else control_whitening(wh, c)
            Xin = X_train - wh.mean
            W_early = W0[i] - lr * Xin.T @ run.grad_sum_snapshot[i]
            W_T = W0[i] - lr * Xin.T @ run.grad_sum[i]
            gamma, alpha, a = root_n * run.bn_weight[i], root_n * run.bn_bias[i], run.a[i]
            weights = np.abs(a * gamma)
            out["objective"][name].append(run.objective[i])
            out["objective_from_weights"][name].append(convex.objective(X_train, task.y_train, W_T, gamma, alpha, a, beta))
            out["weight_decay"][name].append(0.5 * beta * float(gamma @ gamma + alpha @ alpha + a @ a))
            out["top_k"][f"{name} displacement"].append(top(coords.direction_energy(W_T - init.W, weights)))
            out["top_k"][f"{name} init"].append(top(coords.direction_energy(init.W, np.abs(init.a * init.gamma))))
            if name == "raw":
                out["top_k"]["raw trained"].append(top(coords.direction_energy(W_T, weights)))
            out["movement_early"][name].append(coords.movement(init.W, W_early))
            out["movement_final"][name].append(coords.movement(init.W, W_T))
            out["test_accuracy"][name].append(tasks.accuracy(
                convex.bn_predict(X_test, X_train, W_T, gamma, alpha, a), task.labels_test))
            out["train_accuracy"][name].append(tasks.accuracy(
                convex.bn_forward(X_train, W_T, gamma, alpha, a), task.labels_train))
    arr = lambda d: {key: np.array(v) for key, v in d.items()}  # noqa: E731
    return BiasResult(
        k=k, rank=np.array(misc["rank"]), sigma=np.array(misc["sigma"]), c=np.array(misc["c"]),
        p_star=np.array(misc["p_star"]), p_star_network=np.array(misc["p_star_network"]),
        objective=arr(out["objective"]), objective_from_weights=arr(out["objective_from_weights"]),
        top_k=arr(out["top_k"]), movement_early=arr(out["movement_early"]), movement_final=arr(out["movement_final"]),
        test_accuracy=arr(out["test_accuracy"]), train_accuracy=arr(out["train_accuracy"]),
        weight_decay=arr(out["weight_decay"]), control_projector_error=np.array(misc["projector"]),
        control_sigma_spread=np.array(misc["spread"]),
    )
