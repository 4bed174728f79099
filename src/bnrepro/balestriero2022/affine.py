"""Claim fixed-affine: one BN network per seed trained twice, with learnable and with fixed (gamma = 1,
beta = 0) affine parameters, side by side on the model axis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from bnrepro.data.subsets import Split
from bnrepro.nets import SwitchableMLP, accuracy, mask_affine_gradients, sgd


@dataclass
class AffineRun:
    """`net` holds 2S models: 0..S-1 `learnable`, S..2S-1 `fixed` (model s and S + s share seed s).

    curve (epochs + 1, 2S): test accuracy after every epoch (row 0 at initialization); train_accuracy (2S,)
    after training; both in "population" mode with the training set's statistics.
    """

    net: SwitchableMLP
    curve: np.ndarray
    train_accuracy: np.ndarray
    losses: list[float]


def train_learnable_and_fixed(sizes: list[int], seeds: list[int], data: Split, *, slope: float, epochs: int,
                              batch_size: int, lr: float, momentum: float,
                              progress: Callable[[int, np.ndarray], None] | None = None) -> AffineRun:
    """Train both variants with mini-batch statistics, the same weights and the same mini-batch order per seed.

    The fixed models' affine gradients are masked to zero, so their gamma, beta stay exactly 1, 0.
    `progress(epoch, test_accuracy)` is called after every epoch.
    """
    S = len(seeds)
    net = SwitchableMLP(sizes, 2 * S, seeds=list(seeds) * 2, slope=slope, affine="learnable")
    mask_affine_gradients(net, [False] * S + [True] * S)
    x_tr, y_tr = torch.as_tensor(data.x_train), torch.as_tensor(data.y_train)
    x_te, y_te = torch.as_tensor(data.x_test), torch.as_tensor(data.y_test)
    curve = np.zeros((epochs + 1, 2 * S))

    def record(e):
        curve[e] = accuracy(net, x_te, y_te, "population", net.statistics(x_tr)).numpy()
        if progress and e:
            progress(e, curve[e])

    losses = sgd(net, x_tr, y_tr, mode="batch", epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
                 order_seeds=list(seeds) * 2, on_epoch=record)
    train_acc = accuracy(net, x_tr, y_tr, "population", net.statistics(x_tr)).numpy()
    return AffineRun(net, curve, train_acc, losses)
