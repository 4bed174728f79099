"""Mini-batch SGD for a `SwitchableMLP`, all models at once.

Each model m shuffles its training rows with its own generator (seeded by
`order_seeds[m]`), so two models given the same order seed see identical
mini-batches: variants of one seed differ only in what is compared.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .network import SwitchableMLP


def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over models of each model's mean loss: logistic for one logit (y in {0, 1}),
    cross-entropy otherwise. logits (M, N, C), y (M, N) int64."""
    if logits.shape[-1] == 1:
        per_model = F.binary_cross_entropy_with_logits(logits[..., 0], y.to(logits.dtype), reduction="none").mean(dim=1)
    else:
        per_model = F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(dim=1)
    return per_model.sum()


def predict(logits: torch.Tensor) -> torch.Tensor:
    return (logits[..., 0] > 0).long() if logits.shape[-1] == 1 else logits.argmax(dim=-1)


@torch.no_grad()
def accuracy(net: SwitchableMLP, x, y, mode: str, stats=None) -> torch.Tensor:
    """Fraction correct per model: (M,)."""
    y = _labels(net, y)
    return (predict(net(x, mode, stats)) == y).double().mean(dim=1)


def _labels(net: SwitchableMLP, y) -> torch.Tensor:
    y = torch.as_tensor(y, dtype=torch.long)
    return y.expand(net.models, *y.shape) if y.ndim == 1 else y


def sgd(net: SwitchableMLP, x, y, *, mode: str, epochs: int, batch_size: int, lr: float, momentum: float = 0.0,
        order_seeds: list[int], on_epoch: Callable[[int], None] | None = None) -> list[float]:
    """Train in place; returns the mean training loss (over models and steps) of each epoch.

    mode "batch": BN with each mini-batch's statistics; "population": BN with the statistics of
    all of x, recomputed before every step without gradient (noise-free normalization); "none":
    a plain network. The last incomplete mini-batch of an epoch is dropped. `on_epoch(e)` is called
    after epoch e (and with e = 0 before training), e.g. to record test accuracy.
    """
    x = net._inputs(x)
    y = _labels(net, y)
    M, N, _ = x.shape
    if len(order_seeds) != M:
        raise ValueError(f"need one order seed per model ({M}), got {len(order_seeds)}")
    if not 1 <= batch_size <= N:
        raise ValueError(f"batch_size must be in [1, {N}], got {batch_size}")
    generators = [torch.Generator().manual_seed(s) for s in order_seeds]
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum)
    rows = torch.arange(M)[:, None]
    history = []
    if on_epoch:
        on_epoch(0)
    for epoch in range(1, epochs + 1):
        order = torch.stack([torch.randperm(N, generator=g) for g in generators])  # (M, N)
        total, steps = 0.0, N // batch_size
        for step in range(steps):
            idx = order[:, step * batch_size:(step + 1) * batch_size]
            stats = net.statistics(x) if mode == "population" else None
            loss = loss_fn(net(x[rows, idx], mode, stats), y[rows, idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
        history.append(total / (steps * M))
        if on_epoch:
            on_epoch(epoch)
    return history
