"""Networks whose normalization can be switched, batched over independent models.

One implementation serves every balestriero2022 claim, so that the variants
compared differ only in what is compared. A `SwitchableMLP` holds M
independent MLPs of the same layer sizes (a leading model axis: seeds x
variants, trained at once with batched matmuls). Hidden layer l computes

    h = z W_l^T  ->  normalize(h)  ->  gamma * h + beta  ->  activation,

where `normalize` is one of

- ``"batch"``: BN with the statistics of the rows passed in (a mini-batch):
  (h - mean_B h) / std_B h, biased variance, as in Ioffe & Szegedy and the
  paper's c = mu, b = sigma;
- ``"population"``: the same formula with statistics supplied by the caller
  (e.g. of the whole training set), no gradient through them;
- ``"none"``: h + c_l, a plain layer with its own bias (zero, the PyTorch
  default U(+-1/sqrt(fan_in)), or folded BN statistics).

gamma, beta (BN's affine parameters) are fixed at 1, 0 unless `affine="learnable"`;
in "none" mode they are not used. The output layer is linear with a bias.
Everything is float64 by default: the geometry checks are exact identities.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch

MODES = ("batch", "population", "none")


@dataclass
class Stats:
    """Per hidden layer, the mean and standard deviation of each unit's pre-activation h = z W^T: (M, width)."""

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
