"""Protocol C3: the five initializations of one set of random weights,
trained with identical mini-batches ("smart initialization": BN's statistics at
initialization folded into a plain network)."""

from __future__ import annotations

import numpy as np
import torch

from bnrepro.data.subsets import Split
from bnrepro.nets import SwitchableMLP, accuracy, concat_models, sgd

INITIALIZATIONS = ("zero", "torch", "bninit_fold", "bninit_center", "bn_train")
PLAIN_INITIALIZATIONS = INITIALIZATIONS[:4]  # trained without BN (mode "none")


def _tile(a, repeats: int, per_model: bool) -> torch.Tensor:
    """Shared data stays as it is; data with a leading model axis is tiled `repeats` times along it."""
    a = torch.as_tensor(a)
    return torch.cat([a] * repeats) if per_model else a


def initializations(sizes: list[int], seeds: list[int], x_train, *, slope: float = 0.0,
                    dtype=torch.float64) -> tuple[SwitchableMLP, SwitchableMLP]:
    """The five initializations of one set of random weights per seed.

    Returns (plain, bn): `plain` holds 4 x S models in the order of PLAIN_INITIALIZATIONS (zero bias,
    PyTorch-default bias, full BN fold of x_train, centring-only fold), all to be trained in mode
    "none"; `bn` holds the S BN networks (mode "batch"). Every block of S models has the same
    He-normal weights per seed (the folds rescale them). x_train is (N, d), or (S, N, d) when each
    seed has its own data.
    """
    S = len(seeds)
    base = SwitchableMLP(sizes, S, seeds=seeds, slope=slope, bias="zero", dtype=dtype)
    torch_bias = SwitchableMLP(sizes, S, seeds=seeds, slope=slope, bias="torch", dtype=dtype)
    plain = concat_models([base, torch_bias, base.fold(x_train), base.fold(x_train, center_only=True)])
    return plain, base


def train_initializations(sizes: list[int], seeds: list[int], data: Split, *, slope: float, epochs: int,
                          batch_size: int, lr: float, momentum: float, progress=None) -> np.ndarray:
    """Train the five initializations with identical mini-batches per seed; test accuracy after every epoch.

    Returns (epochs + 1, 5, S): row 0 is at initialization. bn_train is evaluated in "population" mode
    with the statistics of the whole training set (recomputed after every epoch).
    """
    S, k = len(seeds), len(PLAIN_INITIALIZATIONS)
    plain, bn = initializations(sizes, seeds, data.x_train, slope=slope)
    acc = np.zeros((epochs + 1, len(INITIALIZATIONS), S))
    x_tr, y_tr = torch.as_tensor(data.x_train), torch.as_tensor(data.y_train)
    x_te, y_te = torch.as_tensor(data.x_test), torch.as_tensor(data.y_test)
    per_model = x_tr.ndim == 3

    def record_plain(e):
        acc[e, :k] = accuracy(plain, _tile(x_te, k, per_model), _tile(y_te, k, per_model), "none").numpy().reshape(k, S)

    def record_bn(e):
        acc[e, k] = accuracy(bn, x_te, y_te, "population", bn.statistics(x_tr)).numpy()
        if progress and e:
            progress(e, acc[e])

    sgd(plain, _tile(x_tr, k, per_model), _tile(y_tr, k, per_model), mode="none", epochs=epochs, batch_size=batch_size,
        lr=lr, momentum=momentum, order_seeds=list(seeds) * k, on_epoch=record_plain)
    sgd(bn, x_tr, y_tr, mode="batch", epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
        order_seeds=list(seeds), on_epoch=record_bn)
    return acc
