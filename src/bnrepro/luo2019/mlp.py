"""The learning-rate sweep of luo2019/learning-rate: every (learning rate, seed) of one MLP variant at once.

One `bnrepro.nets.SwitchableMLP` holds L x S models (learning-rate major): model (i, s) has learning rate
lr_grid[i], starts from seed s's initialization and sees seed s's mini-batch order, so the learning rates are
compared on identical starts. After every epoch the row norms of the first layer are recorded; the training
loss (BN: with the training set's population statistics, i.e. the full-batch loss) before and after training;
the test accuracy at the end (BN: population statistics again).
"""

from __future__ import annotations

import numpy as np
import torch

from bnrepro import nets

__all__ = ["train_lr_grid"]


def train_lr_grid(xtr, ytr, xte, yte, mode: str, affine: str, *, seeds: list[int], lr_grid: list[float], width: int,
                  epochs: int, batch_size: int, dtype: str = "float32") -> dict:
    """Train MLP d-width-width-10 in `mode` ("none", "weight", "batch") at every (lr, seed) by plain SGD.

    Returns {"net", "loss0", "loss", "acc"} with the last three (L, S), and "rows", the first layer's row
    norms per epoch, (epochs + 1, L, S, width). Overflow warnings of diverging models are silenced.
    """
    S, L = len(seeds), len(lr_grid)
    sizes = [xtr.shape[1], width, width, 10]
    net = nets.SwitchableMLP(sizes, L * S, seeds=seeds * L, affine=affine, dtype=getattr(torch, dtype))
    lrs = [lr for lr in lr_grid for _ in seeds]
    eval_mode = "population" if mode == "batch" else mode
    rows, losses = [], {}

    def record(epoch):
        rows.append(nets.row_norms(net, 0).numpy().copy())
        if epoch in (0, epochs):
            stats = net.statistics(xtr) if mode == "batch" else None
            losses[epoch] = nets.per_model_loss(net, xtr, ytr, eval_mode, stats).numpy()

    with np.errstate(all="ignore"):
        nets.sgd(net, xtr, ytr, mode=mode, epochs=epochs, batch_size=batch_size, lr=lrs,
                 order_seeds=seeds * L, on_epoch=record)
        stats = net.statistics(xtr) if mode == "batch" else None
        acc = nets.accuracy(net, xte, yte, eval_mode, stats).numpy()
    shape = (L, S)
    return {
        "net": net,
        "loss0": losses[0].reshape(shape), "loss": losses[epochs].reshape(shape), "acc": acc.reshape(shape),
        "rows": np.stack(rows).reshape(epochs + 1, L, S, width),  # ||W1 row|| per epoch, lr, seed, unit
    }
