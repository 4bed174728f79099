"""Protocol C3: the five initializations of one set of random weights,
trained with identical mini-batches ("smart initialization": BN's statistics at
initialization folded into a plain network)."""

from __future__ import annotations

import torch

from bnrepro.nets import SwitchableMLP, concat_models

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

