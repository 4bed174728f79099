"""The learning-rate experiment of luo2019/learning-rate: maximal stable learning rates of plain, WN and BN MLPs.

Luo, Wang, Shao & Peng (ICLR 2019), abstract: "training converged with large maximum and effective learning
rate". Our formulation (see `docs/papers/luo2019.md`): an MLP d-width-width-10 with ReLU, trained by plain SGD
with cross-entropy, in one of three variants of `bnrepro.nets.SwitchableMLP`: "none" (plain, with biases),
"weight" (weight normalization with learnable gain and bias), "batch" (BN with learnable gamma, beta; evaluated
with the training set's statistics).

Everything is batched over models (a leading model axis): model m starts from the initialization of
`seeds[m]`, shuffles the training rows with its own generator seeded by `seeds[m]` (models of one seed see
identical mini-batches, whatever their learning rate) and has its own learning rate `lrs[m]`. A model that
diverges (inf/NaN) leaves the others untouched.

`train_models` is the training loop: the same forward pass and update as `bnrepro.nets.sgd` (plain SGD, no
momentum; the last incomplete mini-batch of an epoch dropped), written for speed (one gather of the shared
inputs, relu, BN's variance from the centred batch, one fused cross-entropy); `tests/test_luo2019_lr.py`
checks it against `nets.sgd`. `max_stable_lr` searches the maximal stable learning rate on the grid
3**(j / refine) in two stages: a coarse x3 grid for every seed, then the refine - 1 points between each seed's
coarse maximum and the next coarse value, which failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bnrepro import nets

__all__ = ["MODES", "StableLR", "effective_lr", "max_stable_lr", "passes", "train_lr_grid", "train_models"]

MODES = {"none": "fixed", "weight": "learnable", "batch": "learnable"}  # mode -> affine parameters


def _forward(net: nets.SwitchableMLP, z: torch.Tensor, mode: str) -> torch.Tensor:
    """Logits (M, B, C) of every model on its own rows z (M, B, d): `nets.SwitchableMLP.forward`, slope 0, eps 0."""
    for layer in range(net.depth):
        w = net.weights[layer]
        h = torch.bmm(z, w.transpose(1, 2))
        if mode == "none":
            h = h + net.biases[layer][:, None, :]
        elif mode == "weight":
            h = h * (net.gammas[layer] / w.norm(dim=2))[:, None, :] + net.betas[layer][:, None, :]
        else:
            centred = h - h.mean(dim=1, keepdim=True)
            scale = net.gammas[layer][:, None, :] / centred.square().mean(dim=1, keepdim=True).sqrt()
            h = centred * scale + net.betas[layer][:, None, :]
        z = torch.relu(h)
    return torch.baddbmm(net.biases[-1][:, None, :], z, net.weights[-1].transpose(1, 2))


def train_models(xtr, ytr, xte, yte, mode: str, *, seeds: list[int], lrs: list[float], width: int, epochs: int,
                 batch_size: int, dtype: str = "float32") -> dict:
    """Train MLP d-width-width-10 in `mode` ("none", "weight", "batch") by plain SGD, one model per (seed, lr) pair.

    Returns {"net", "loss0", "loss", "acc", "rows"}: the initial and final training loss (BN: with the training
    set's statistics, i.e. the full-batch loss), the final test accuracy (BN: the same statistics), each (M,),
    and the first layer's row norms ||W_1,k|| after every epoch (epoch 0 = the start), (epochs + 1, M, width).
    Overflow warnings of diverging models are silenced.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, got {mode!r}")
    if len(seeds) != len(lrs):
        raise ValueError(f"need one learning rate per model: {len(seeds)} seeds, {len(lrs)} learning rates")
    torch_dtype = getattr(torch, dtype)
    x = torch.as_tensor(np.asarray(xtr), dtype=torch_dtype)
    y = torch.as_tensor(np.asarray(ytr), dtype=torch.long)
    n = x.shape[0]
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
    models = len(seeds)
    net = nets.SwitchableMLP([x.shape[1], width, width, 10], models, seeds=list(seeds), affine=MODES[mode], dtype=torch_dtype)
    # the hidden biases are unused outside "none" mode (WN and BN shift by beta): they get no gradient
    unused = {id(b) for b in net.biases[: net.depth]} if mode != "none" else set()
    params = [p for p in net.parameters() if p.requires_grad and id(p) not in unused]
    lr = torch.tensor([float(v) for v in lrs], dtype=torch_dtype)
    if not (lr > 0).all() or not torch.isfinite(lr).all():
        raise ValueError(f"learning rates must be positive and finite, got {lrs}")
    step_sizes = [lr.view(-1, *([1] * (p.ndim - 1))) for p in params]
    unique = list(dict.fromkeys(seeds))
    which = torch.tensor([unique.index(s) for s in seeds])
    generators = [torch.Generator().manual_seed(s) for s in unique]
    eval_mode = "population" if mode == "batch" else mode

    def full_loss():
        stats = net.statistics(x) if mode == "batch" else None
        return nets.per_model_loss(net, x, y, eval_mode, stats).numpy().copy()

    rows = [nets.row_norms(net, 0).numpy().copy()]
    with np.errstate(all="ignore"):
        loss0 = full_loss()
        steps = n // batch_size
        for _ in range(epochs):
            order = torch.stack([torch.randperm(n, generator=g) for g in generators])[which]  # (M, N)
            for step in range(steps):
                idx = order[:, step * batch_size:(step + 1) * batch_size]
                logits = _forward(net, x[idx], mode)
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[idx].reshape(-1), reduction="sum") / batch_size
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    for p, g, size in zip(params, grads, step_sizes, strict=True):
                        p.sub_(size * g)
            rows.append(nets.row_norms(net, 0).numpy().copy())
        loss = full_loss()
        stats = net.statistics(x) if mode == "batch" else None
        acc = nets.accuracy(net, xte, yte, eval_mode, stats).numpy()
    return {"net": net, "loss0": loss0, "loss": loss, "acc": acc, "rows": np.stack(rows)}


def passes(out: dict, loss_drop: float, acc_bar: float) -> np.ndarray:
    """A model trained at its learning rate: final training loss finite and < loss_drop x initial, test accuracy > bar."""
    loss = out["loss"]
    return np.isfinite(loss) & (loss < loss_drop * out["loss0"]) & (out["acc"] > acc_bar)


def train_lr_grid(xtr, ytr, xte, yte, mode: str, affine: str, *, seeds: list[int], lr_grid: list[float], width: int,
                  epochs: int, batch_size: int, dtype: str = "float32") -> dict:
    """Every (lr, seed) of `lr_grid` x `seeds` (learning-rate major): `train_models` with outputs shaped (L, S).

    `affine` must be the mode's own (fixed for "none", learnable otherwise). "rows" is (epochs + 1, L, S, width).
    """
    if affine != MODES.get(mode, affine):
        raise ValueError(f"mode {mode!r} trains with affine={MODES[mode]!r}, got {affine!r}")
    S, L = len(seeds), len(lr_grid)
    out = train_models(xtr, ytr, xte, yte, mode, seeds=list(seeds) * L, lrs=[lr for lr in lr_grid for _ in seeds],
                       width=width, epochs=epochs, batch_size=batch_size, dtype=dtype)
    return {"net": out["net"], "loss0": out["loss0"].reshape(L, S), "loss": out["loss"].reshape(L, S),
            "acc": out["acc"].reshape(L, S), "rows": out["rows"].reshape(epochs + 1, L, S, width)}


@dataclass(frozen=True)
class StableLR:
    """The maximal stable learning rate of one variant, per seed, on the grid 3**(j / refine).

    exponent: j of the largest passing grid point per seed, (S,) float (nan where no coarse point passes);
    censored: the coarse maximum is the top of the coarse grid (the true maximum may lie above), (S,);
    gaps: a coarse point below the coarse maximum that fails (the passing set is not an interval), (S,);
    coarse: the coarse sweep's pass table (L, S); the final training loss, test accuracy and first-layer row
    norms (epochs + 1, S, width) of the model at the maximal rate (nan where none passes); net: the coarse
    sweep's network (L x S models, learning-rate major).
    """

    refine: int
    coarse_exponents: np.ndarray
    exponent: np.ndarray
    censored: np.ndarray
    gaps: np.ndarray
    coarse: np.ndarray
    loss: np.ndarray
    acc: np.ndarray
    rows: np.ndarray
    net: nets.SwitchableMLP

    @property
    def lr(self) -> np.ndarray:
        """eta_max per seed (0 where no coarse point passes)."""
        return np.where(np.isfinite(self.exponent), 3.0 ** (self.exponent / self.refine), 0.0)


def max_stable_lr(xtr, ytr, xte, yte, mode: str, *, seeds: list[int], coarse_exponents: list[int], refine: int,
                  loss_drop: float, acc_bar: float, width: int, epochs: int, batch_size: int,
                  dtype: str = "float32") -> StableLR:
    """Two-stage search of eta_max = the largest grid learning rate whose model passes (`passes`).

    Stage 1: every seed at lr = 3**k for k in `coarse_exponents` (consecutive integers). Stage 2: for each seed
    whose coarse maximum 3**k is not the top of the grid, the points 3**(k + i / refine), i = 1..refine-1,
    between it and the next coarse point (which failed); eta_max is the largest passing one among 3**k and
    these. On the fine grid 3**(j / refine) this equals the largest passing point whenever the passing learning
    rates form an interval (`gaps` flags seeds where the coarse sweep shows they do not). Returns exponents j
    on the fine grid (eta_max = 3**(j / refine)).
    """
    ks = np.asarray(coarse_exponents, dtype=int)
    if ks.size < 2 or np.any(np.diff(ks) != 1):
        raise ValueError(f"coarse_exponents must be consecutive integers, got {coarse_exponents}")
    if refine < 1:
        raise ValueError(f"refine must be >= 1, got {refine}")
    S, L = len(seeds), ks.size
    common = dict(width=width, epochs=epochs, batch_size=batch_size, dtype=dtype)
    coarse = train_lr_grid(xtr, ytr, xte, yte, mode, MODES[mode], seeds=seeds, lr_grid=[3.0 ** k for k in ks], **common)
    ok = passes(coarse, loss_drop, acc_bar)  # (L, S)
    any_pass = ok.any(axis=0)
    top = np.where(any_pass, L - 1 - np.argmax(ok[::-1], axis=0), -1)  # index of the coarse maximum per seed
    gaps = np.array([any_pass[s] and not ok[np.argmax(ok[:, s]):top[s] + 1, s].all() for s in range(S)])
    censored = any_pass & (top == L - 1)
    exponent = np.where(any_pass, (ks[np.maximum(top, 0)] * refine).astype(float), np.nan)
    idx = np.arange(S)
    loss = np.where(any_pass, coarse["loss"][np.maximum(top, 0), idx], np.nan)
    acc = np.where(any_pass, coarse["acc"][np.maximum(top, 0), idx], np.nan)
    rows = np.where(any_pass[None, :, None], coarse["rows"][:, np.maximum(top, 0), idx], np.nan)
    refinable = np.flatnonzero(any_pass & ~censored)
    if refine > 1 and refinable.size:
        steps = np.arange(1, refine)
        fine_seeds = [seeds[s] for s in refinable for _ in steps]
        fine_exp = [int(exponent[s]) + i for s in refinable for i in steps]
        fine = train_models(xtr, ytr, xte, yte, mode, seeds=fine_seeds, lrs=[3.0 ** (j / refine) for j in fine_exp],
                            **common)
        fine_ok = passes(fine, loss_drop, acc_bar).reshape(refinable.size, refine - 1)
        for row, s in enumerate(refinable):
            if fine_ok[row].any():
                i = int(np.flatnonzero(fine_ok[row]).max())
                m = row * (refine - 1) + i
                exponent[s] += steps[i]
                loss[s], acc[s], rows[:, s] = fine["loss"][m], fine["acc"][m], fine["rows"][:, m]
    return StableLR(refine, ks, exponent, censored, gaps, ok, loss, acc, rows, coarse["net"])


def effective_lr(stable: StableLR) -> np.ndarray:
    """eta_max / ||W_1,k||^2 averaged over the first layer's units, per epoch and seed: (epochs + 1, S)."""
    return (stable.lr[None, :, None] / stable.rows ** 2).mean(axis=-1)

