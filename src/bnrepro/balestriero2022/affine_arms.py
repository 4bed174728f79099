"""Claim fixed-affine with a positive control: three affine settings of one BN network per seed, trained
side by side on the model axis.

Arms (model blocks of S models each, model s of every block has seed s: the same initial weights and the
same mini-batch order):

- ``learnable``: gamma, beta trained (initialized at 1, 0);
- ``fixed``: gamma = 1, beta = 0, never trained (the paper's claim: this costs nothing);
- ``control``: gamma = 1, beta = `control_beta`, never trained: a fixed affine setting that moves every unit's
  hyperplane `control_beta` standard deviations off the data's centroid, which is known to cost accuracy
  (a negative beta silences most units); the same test must detect it.

The fixed arms' affine gradients are masked to zero, so their gamma, beta stay exactly at their initial values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bnrepro.data.subsets import Split
from bnrepro.nets import SwitchableMLP, accuracy, mask_affine_gradients, sgd

ARMS = ("learnable", "fixed", "control")


@dataclass
class ArmsRun:
    """`net` holds 3S models in `ARMS` order. `epochs_recorded` (R,) are the epochs at which `test_curve` and
    `train_curve` (R, 3S) were measured (0 = initialization, the last is the final epoch); accuracies in
    "population" mode with the training set's statistics."""

    net: SwitchableMLP
    epochs_recorded: np.ndarray
    test_curve: np.ndarray
    train_curve: np.ndarray
    losses: list[float]

    @property
    def seeds(self) -> int:
        return self.net.models // 3

    def final(self, arm: str, which: str = "test") -> np.ndarray:
        """Final accuracy (fraction) of one arm's S models."""
        s, block = self.seeds, ARMS.index(arm)
        curve = self.test_curve if which == "test" else self.train_curve
        return curve[-1, block * s:(block + 1) * s]


def train_affine_arms(sizes: list[int], seeds: list[int], data: Split, *, control_beta: float, slope: float,
                      epochs: int, batch_size: int, lr: float, momentum: float, eval_every: int = 1,
                      eps: float = 1e-5, dtype=torch.float64, progress=None) -> ArmsRun:
    """Train the three arms with mini-batch statistics (BN in "batch" mode), plain SGD with momentum.

    `eps` is BN's variance floor (PyTorch's default): with beta = -2 a whole layer can be silent on a mini-batch,
    and eps = 0 would then divide 0 by 0 in the next layer. `dtype` is the network's and the data's (float32
    halves the time and memory of the 3072-d first layer on CIFAR-sized images). Accuracy is measured at epoch 0, every `eval_every` epochs and at the last epoch; `progress(epoch, test,
    train)` is called at every measurement after the first.
    """
    if eval_every < 1:
        raise ValueError(f"eval_every must be >= 1, got {eval_every}")
    s = len(seeds)
    net = SwitchableMLP(sizes, 3 * s, seeds=list(seeds) * 3, slope=slope, affine="learnable", eps=eps)
    with torch.no_grad():
        for beta in net.betas:
            beta[2 * s:] = control_beta
    net = net.to(dtype)  # the float64 draws, rounded: the same initial weights at either precision
    mask_affine_gradients(net, [False] * s + [True] * 2 * s)
    x_tr, y_tr = torch.as_tensor(data.x_train, dtype=dtype), torch.as_tensor(data.y_train)
    x_te, y_te = torch.as_tensor(data.x_test, dtype=dtype), torch.as_tensor(data.y_test)
    recorded, test, train = [], [], []

    def record(epoch):
        if epoch % eval_every and epoch != epochs:
            return
        stats = net.statistics(x_tr)
        recorded.append(epoch)
        test.append(accuracy(net, x_te, y_te, "population", stats).numpy())
        train.append(accuracy(net, x_tr, y_tr, "population", stats).numpy())
        if progress and epoch:
            progress(epoch, test[-1], train[-1])

    losses = sgd(net, x_tr, y_tr, mode="batch", epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
                 order_seeds=list(seeds) * 3, on_epoch=record)
    return ArmsRun(net, np.array(recorded), np.stack(test), np.stack(train), losses)
