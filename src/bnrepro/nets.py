"""Networks whose normalization can be switched, batched over independent models, and their trainer.

The library's one switchable network, shared by the balestriero2022 and luo2019 claims, so that the
variants compared differ only in what is compared. A `SwitchableMLP` holds M
independent MLPs of the same layer sizes (a leading model axis: seeds x
variants x learning rates, trained at once with batched matmuls). Hidden layer l computes

    h = z W_l^T  ->  normalize(h)  ->  gamma * h + beta  ->  activation,

where `normalize` is one of

- ``"batch"``: BN with the statistics of the rows passed in (a mini-batch):
  (h - mean_B h) / std_B h, biased variance, as in Ioffe & Szegedy and
  Balestriero & Baraniuk's c = mu, b = sigma;
- ``"population"``: the same formula with statistics supplied by the caller
  (e.g. of the whole training set), no gradient through them;
- ``"weight"``: weight normalization (Salimans & Kingma 2016): h = z W^T / ||W_row||,
  each unit's incoming weight vector divided by its norm; gamma is the gain g and
  beta the bias. Like BN, it is invariant to rescaling a row of W;
- ``"none"``: h + c_l, a plain layer with its own bias (zero, the PyTorch
  default U(+-1/sqrt(fan_in)), or folded BN statistics).

gamma, beta (the affine parameters) are fixed at 1, 0 unless `affine="learnable"`;
in "none" mode they are not used. The output layer is linear with a bias.
Everything is float64 by default: the geometry checks are exact identities.

Training (`sgd`): mini-batch SGD of all models at once. Each model m shuffles its
training rows with its own generator (seeded by `order_seeds[m]`), so two models
given the same order seed see identical mini-batches: variants of one seed differ
only in what is compared. The learning rate may differ per model (a learning-rate
grid as one network), and an explicit gamma penalty ("gamma decay") can be added.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

MODES = ("batch", "population", "weight", "none")


@dataclass
class Stats:
    """Per normalized layer, the mean and standard deviation of each unit's pre-activation h = z W^T
    (of each channel, for a convolution): (M, width) each."""

    mean: list[torch.Tensor]
    std: list[torch.Tensor]


def leaky_relu(h: torch.Tensor, slope: float) -> torch.Tensor:
    return torch.where(h > 0, h, slope * h)


class SwitchableMLP(torch.nn.Module):
    """M independent MLPs with sizes [d_in, hidden..., d_out] (d_out = 1 for a binary logit)."""

    def __init__(self, sizes: list[int], models: int, *, seeds: list[int] | None = None, slope: float = 0.0,
                 bias: str = "zero", affine: str = "fixed", eps: float = 0.0, dtype=torch.float64):
        super().__init__()
        if len(sizes) < 2 or any(not isinstance(s, int) or s < 1 for s in sizes):
            raise ValueError(f"sizes must be >= 2 positive ints, got {sizes}")
        if bias not in ("zero", "torch"):
            raise ValueError(f"bias must be 'zero' or 'torch', got {bias!r}")
        if affine not in ("fixed", "learnable"):
            raise ValueError(f"affine must be 'fixed' or 'learnable', got {affine!r}")
        seeds = list(range(models)) if seeds is None else list(seeds)
        if len(seeds) != models:
            raise ValueError(f"need one seed per model: {models} models, {len(seeds)} seeds")
        self.sizes, self.models, self.slope, self.eps = list(sizes), models, slope, eps
        weights, biases = [], []
        for fan_in, fan_out in itertools.pairwise(sizes):
            w, b = [], []
            for seed in seeds:
                # one generator per (model, layer): a model's weights do not depend on the other models
                gen = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, len(weights)]).generate_state(1)[0]))
                w.append(torch.randn(fan_out, fan_in, generator=gen, dtype=dtype) * math.sqrt(2.0 / fan_in))  # He normal
                if bias == "torch":
                    b.append((torch.rand(fan_out, generator=gen, dtype=dtype) * 2 - 1) / math.sqrt(fan_in))
                else:
                    b.append(torch.zeros(fan_out, dtype=dtype))
            weights.append(torch.nn.Parameter(torch.stack(w)))
            biases.append(torch.nn.Parameter(torch.stack(b)))
        self.weights = torch.nn.ParameterList(weights)  # (M, out, in)
        self.biases = torch.nn.ParameterList(biases)  # (M, out); used by "none" layers and the output layer
        hidden = sizes[1:-1]
        self.gammas = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(models, k, dtype=dtype)) for k in hidden])
        self.betas = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(models, k, dtype=dtype)) for k in hidden])
        for p in (*self.gammas, *self.betas):
            p.requires_grad_(affine == "learnable")

    @property
    def depth(self) -> int:
        """Number of hidden layers."""
        return len(self.sizes) - 2

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        """(N, d) is shared by all models; (M, N, d) gives each model its own rows."""
        x = torch.as_tensor(x, dtype=self.weights[0].dtype)
        if x.ndim == 2:
            x = x.expand(self.models, *x.shape)
        if x.ndim != 3 or x.shape[0] != self.models or x.shape[2] != self.sizes[0]:
            raise ValueError(f"x must be (N, {self.sizes[0]}) or ({self.models}, N, {self.sizes[0]}), got {tuple(x.shape)}")
        return x

    def layers(self, x, mode: str, stats: Stats | None = None):
        """Yield (pre-activation after normalization and affine, post-activation) per hidden layer, then the logits."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "population" and stats is None:
            raise ValueError("mode 'population' needs the statistics (see `statistics`)")
        z = self._inputs(x)
        for layer in range(self.depth):
            h = z @ self.weights[layer].transpose(1, 2)
            if mode == "none":
                h = h + self.biases[layer][:, None, :]
            elif mode == "weight":
                # h / ||W_row||: the same as z (W / ||W_row||)^T, without forming the normalized W
                h = h / self.weights[layer].norm(dim=2)[:, None, :] * self.gammas[layer][:, None, :] \
                    + self.betas[layer][:, None, :]
            else:
                if mode == "batch":
                    mean, std = h.mean(dim=1, keepdim=True), h.var(dim=1, unbiased=False, keepdim=True).add(self.eps).sqrt()
                else:
                    mean, std = stats.mean[layer][:, None, :].detach(), stats.std[layer][:, None, :].detach()
                h = (h - mean) / std * self.gammas[layer][:, None, :] + self.betas[layer][:, None, :]
            z = leaky_relu(h, self.slope)
            yield h, z
        yield z @ self.weights[-1].transpose(1, 2) + self.biases[-1][:, None, :], None

    def forward(self, x, mode: str, stats: Stats | None = None) -> torch.Tensor:
        """Logits (M, N, d_out)."""
        *_, (logits, _) = self.layers(x, mode, stats)
        return logits

    def preactivations(self, x, mode: str, stats: Stats | None = None) -> list[torch.Tensor]:
        """The normalized pre-activation h of every hidden layer: (M, N, width) each."""
        return [h for h, z in self.layers(x, mode, stats) if z is not None]

    @torch.no_grad()
    def statistics(self, x) -> Stats:
        """The BN statistics of x (e.g. the whole training set), layer by layer as "batch" mode computes them."""
        z = self._inputs(x)
        means, stds = [], []
        for layer in range(self.depth):
            h = z @ self.weights[layer].transpose(1, 2)
            mean, var = h.mean(dim=1), h.var(dim=1, unbiased=False)
            means.append(mean)
            stds.append((var + self.eps).sqrt())
            hn = (h - mean[:, None]) / stds[-1][:, None] * self.gammas[layer][:, None, :] + self.betas[layer][:, None, :]
            z = leaky_relu(hn, self.slope)
        return Stats(means, stds)

    @torch.no_grad()
    def fold(self, x, *, center_only: bool = False) -> SwitchableMLP:
        """A plain copy (use it in "none" mode) with BN's statistics on x folded in, layer by layer.

        Full fold: W <- gamma W / sigma, c <- beta - gamma mu / sigma, so the copy in "none" mode
        computes exactly what this network computes in "population" mode with `statistics(x)`.
        center_only=True folds only the centring, c <- -mu with W kept, mu measured on the copy's
        own layer inputs: every hyperplane still passes through the centroid of the data it sees,
        but the units are not rescaled.
        """
        folded = copy.deepcopy(self)
        z = self._inputs(x)
        for layer in range(self.depth):
            h = z @ self.weights[layer].transpose(1, 2)
            mu = h.mean(dim=1)
            if center_only:
                folded.biases[layer].copy_(-mu)
            else:
                sigma = (h.var(dim=1, unbiased=False) + self.eps).sqrt()
                gamma, beta = self.gammas[layer], self.betas[layer]
                folded.weights[layer].copy_(self.weights[layer] * (gamma / sigma)[:, :, None])
                folded.biases[layer].copy_(beta - gamma * mu / sigma)
            z = leaky_relu(z @ folded.weights[layer].transpose(1, 2) + folded.biases[layer][:, None, :], self.slope)
        return folded


@torch.no_grad()
def concat_models(nets: list[SwitchableMLP]) -> SwitchableMLP:
    """One `SwitchableMLP` with the models of `nets` concatenated along the model axis (parameters copied)."""
    first = nets[0]
    if any(n.sizes != first.sizes or n.slope != first.slope or n.eps != first.eps for n in nets):
        raise ValueError("networks to concatenate must share sizes, slope and eps")
    affine = "learnable" if first.gammas and first.gammas[0].requires_grad else "fixed"
    total = sum(n.models for n in nets)
    out = SwitchableMLP(first.sizes, total, slope=first.slope, eps=first.eps, affine=affine,
                        dtype=first.weights[0].dtype)
    for name in ("weights", "biases", "gammas", "betas"):
        for layer, p in enumerate(getattr(out, name)):
            p.copy_(torch.cat([getattr(n, name)[layer] for n in nets]))
    return out


def mask_affine_gradients(net: SwitchableMLP, fixed: list[bool]) -> list:
    """Zero the gradient of gamma and beta for the models where `fixed[m]` is True.

    With plain or momentum SGD (no weight decay) their gamma, beta then stay exactly at their
    initial 1, 0, so learnable-affine and fixed-affine variants can share one network. Returns
    the hook handles.
    """
    if len(fixed) != net.models:
        raise ValueError(f"need one flag per model ({net.models}), got {len(fixed)}")
    if not net.gammas or not net.gammas[0].requires_grad:
        raise ValueError("mask_affine_gradients needs a network built with affine='learnable'")
    keep = torch.tensor([0.0 if f else 1.0 for f in fixed], dtype=net.gammas[0].dtype)[:, None]
    return [p.register_hook(lambda g: g * keep) for p in (*net.gammas, *net.betas)]


# --- training ------------------------------------------------------------


def model_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each model's mean loss, (M,): logistic for one logit (y in {0, 1}), cross-entropy otherwise.
    logits (M, N, C), y (M, N) int64."""
    if logits.shape[-1] == 1:
        return F.binary_cross_entropy_with_logits(logits[..., 0], y.to(logits.dtype), reduction="none").mean(dim=1)
    return F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(dim=1)


def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over models of each model's mean loss (`model_losses`): models are independent, so one
    backward pass gives every model its own gradient."""
    return model_losses(logits, y).sum()


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


def sgd(net: SwitchableMLP, x, y, *, mode: str, epochs: int, batch_size: int, lr: float | Sequence[float],
        momentum: float = 0.0, order_seeds: list[int], on_epoch: Callable[[int], None] | None = None,
        gamma_decay: float = 0.0) -> list[float]:
    """Train in place; returns the mean training loss (over models and steps) of each epoch.

    mode "batch": BN with each mini-batch's statistics; "population": BN with the statistics of
    all of x, recomputed before every step without gradient (noise-free normalization); "weight":
    weight normalization; "none": a plain network. The last incomplete mini-batch of an epoch is
    dropped. `on_epoch(e)` is called after epoch e (and with e = 0 before training), e.g. to record
    test accuracy.

    `lr`: one float for every model (torch's SGD), or one positive float per model, applied by a
    hand-written update with the same semantics (buffer b <- momentum b + g, the first step b = g;
    p <- p - lr_m b): each model's update uses only its own gradient, so a model that diverges
    (inf/NaN) leaves the others untouched. `gamma_decay` (lambda >= 0) adds lambda * sum over hidden
    layers and units of gamma^2 to each model's mean loss (the explicit "gamma decay"); 0 leaves the
    objective unchanged. The returned history includes the penalty.
    """
    x = net._inputs(x)
    y = _labels(net, y)
    M, N, _ = x.shape
    if len(order_seeds) != M:
        raise ValueError(f"need one order seed per model ({M}), got {len(order_seeds)}")
    if not 1 <= batch_size <= N:
        raise ValueError(f"batch_size must be in [1, {N}], got {batch_size}")
    if not gamma_decay >= 0:
        raise ValueError(f"gamma_decay must be >= 0, got {gamma_decay!r}")
    generators = [torch.Generator().manual_seed(s) for s in order_seeds]
    params = [p for p in net.parameters() if p.requires_grad]
    if isinstance(lr, (int, float)):
        optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum)
    else:
        optimizer = _PerModelSGD(params, lr, momentum, M)
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
            if gamma_decay:
                loss = loss + gamma_decay * gamma_penalty(net).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
        history.append(total / (steps * M))
        if on_epoch:
            on_epoch(epoch)
    return history


def gamma_penalty(net: SwitchableMLP) -> torch.Tensor:
    """Per model, the sum over hidden layers and units of gamma^2: (M,)."""
    if not net.gammas:
        return torch.zeros(net.models, dtype=net.weights[0].dtype)
    return sum(g.square().sum(dim=1) for g in net.gammas)


class _PerModelSGD:
    """SGD (optionally with momentum, torch's convention) with one learning rate per model (leading axis)."""

    def __init__(self, params: list[torch.Tensor], lr: Sequence[float], momentum: float, models: int):
        lrs = [float(v) for v in lr]
        if len(lrs) != models or not all(v > 0 and math.isfinite(v) for v in lrs):
            raise ValueError(f"lr must be a float or {models} positive finite floats, got {lr!r}")
        if any(p.shape[0] != models for p in params):
            raise ValueError("every parameter needs the model axis first")
        self.params, self.momentum = params, momentum
        self.lr = torch.tensor(lrs, dtype=params[0].dtype)
        self.buffers: list[torch.Tensor | None] = [None] * len(params)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            d = p.grad
            if self.momentum:
                if self.buffers[i] is None:
                    self.buffers[i] = d.clone()
                else:
                    self.buffers[i].mul_(self.momentum).add_(d)
                d = self.buffers[i]
            p.sub_(self.lr.view(-1, *([1] * (p.ndim - 1))) * d)


@torch.no_grad()
def per_model_loss(net: SwitchableMLP, x, y, mode: str, stats: Stats | None = None) -> torch.Tensor:
    """Each model's mean loss on (x, y), without any penalty: (M,)."""
    return model_losses(net(x, mode, stats), _labels(net, y))


@torch.no_grad()
def row_norms(net: SwitchableMLP, layer: int = 0) -> torch.Tensor:
    """||W_row|| of every unit of one layer (each unit's incoming weights): (M, width)."""
    return net.weights[layer].norm(dim=2)


def weight_gradient_alignment(net: SwitchableMLP, x, y, mode: str, stats: Stats | None = None) -> list[torch.Tensor]:
    """Per hidden layer, |<W_k, dL/dW_k>| / (||W_k|| ||dL/dW_k||) for every unit k: (M, width) each.

    L is each model's mean loss on (x, y) (one mini-batch in "batch" mode). A unit whose output is
    invariant to rescaling W_k (BN, WN) has <W_k, dL/dW_k> = d/dc L(c W_k) at c = 1, i.e. 0: the
    scale-invariance identity. 0 where the gradient is 0 (a dead unit: the identity holds trivially).
    """
    net.zero_grad(set_to_none=True)
    with torch.enable_grad():
        loss = loss_fn(net(x, mode, stats), _labels(net, y))
        grads = torch.autograd.grad(loss, [net.weights[layer] for layer in range(net.depth)])
    out = []
    for layer, g in enumerate(grads):
        w = net.weights[layer].detach()
        scale = w.norm(dim=2) * g.norm(dim=2)
        dot = (w * g).sum(dim=2).abs()
        out.append(torch.where(scale > 0, dot / torch.where(scale > 0, scale, 1.0), 0.0))
    return out
