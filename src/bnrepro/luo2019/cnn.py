"""A small CNN with switchable normalization, batched over M independent models (luo2019/cnn-regularization).

`SwitchableCNN` holds M independent copies of

    conv(3x3, c1) -> norm -> ReLU -> max-pool 2 -> conv(3x3, c2) -> norm -> ReLU -> max-pool 2 -> flatten -> linear

with a leading model axis, computed as grouped convolutions (groups = M; on this project's 2-core CPU
that was as fast as an im2col + batched-matmul formulation and simpler; `torch.func.vmap` of `conv2d`
lowers to the same grouped convolution). The normalization follows the conventions of the library's
`SwitchableMLP` (balestriero2022), per model:

- ``"batch"``: BatchNorm2d statistics per channel over the mini-batch's N, H, W (biased variance);
- ``"population"``: the same formula with statistics supplied by the caller (e.g. of a fixed set of
  training images), no gradient through them;
- ``"none"``: a plain convolution with its own bias.

Modes are per model, so BN and PN variants of one seed train in one network. gamma, beta are
learnable per channel. `train` runs SGD with momentum on each model's mean cross-entropy plus an
explicit gamma penalty lambda_m * sum gamma^2 (both norm layers); each model shuffles with its own
generator, so models given the same order seed (the variants of one seed) see identical mini-batches.
float32 by default (about 2x faster than float64 here); runs are deterministic for a fixed thread count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bnrepro.data.subsets import balanced_indices
from bnrepro.nets import Stats, model_losses

MODES = ("batch", "population", "none")


def _generator(seed: int, layer: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, layer]).generate_state(1)[0]))


class SwitchableCNN(torch.nn.Module):
    """M independent two-conv-layer CNNs on (image_size x image_size) inputs; `seeds[m]` fixes model m's initial
    weights (He normal). The head is a linear layer on the flattened c2 x (image_size // 4)^2 feature map, so the
    classifier keeps spatial information."""

    def __init__(self, in_channels: int, widths: tuple[int, int], classes: int, models: int, *, image_size: int,
                 seeds: list[int] | None = None, eps: float = 1e-5, dtype=torch.float32):
        super().__init__()
        c1, c2 = widths
        seeds = list(range(models)) if seeds is None else list(seeds)
        if len(seeds) != models:
            raise ValueError(f"need one seed per model: {models} models, {len(seeds)} seeds")
        if image_size < 4:
            raise ValueError(f"image_size must be >= 4 (two 2x2 max-pools), got {image_size}")
        self.models, self.widths, self.classes, self.in_channels, self.eps = models, (c1, c2), classes, in_channels, eps
        self.image_size = image_size
        self.features = c2 * (image_size // 4) ** 2
        shapes = [(c1, in_channels, 3, 3), (c2, c1, 3, 3), (classes, self.features)]
        weights = []
        for layer, shape in enumerate(shapes):
            fan_in = int(np.prod(shape[1:]))
            ws = [torch.randn(*shape, generator=_generator(s, layer), dtype=dtype) * math.sqrt(2.0 / fan_in) for s in seeds]
            weights.append(torch.nn.Parameter(torch.stack(ws)))
        self.conv1, self.conv2, self.linear = weights  # (M, c1, C, 3, 3), (M, c2, c1, 3, 3), (M, classes, features)
        self.bias1 = torch.nn.Parameter(torch.zeros(models, c1, dtype=dtype))  # used in "none" mode only
        self.bias2 = torch.nn.Parameter(torch.zeros(models, c2, dtype=dtype))
        self.out_bias = torch.nn.Parameter(torch.zeros(models, classes, dtype=dtype))
        self.gammas = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(models, c, dtype=dtype)) for c in (c1, c2)])
        self.betas = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(models, c, dtype=dtype)) for c in (c1, c2)])

    @property
    def dtype(self):
        return self.conv1.dtype

    def _modes(self, mode) -> list[str]:
        modes = [mode] * self.models if isinstance(mode, str) else list(mode)
        if len(modes) != self.models or any(m not in MODES for m in modes):
            raise ValueError(f"mode must be one of {MODES} or a list of them, one per model ({self.models}), got {mode!r}")
        return modes

    def _conv_in(self, x: torch.Tensor) -> torch.Tensor:
        """First conv. x (N, C, H, W) is shared by all models (one dense conv with M*c1 filters); x (M, N, C, H, W)
        gives each model its own images (grouped conv). Returns (N, M, c1, H, W)."""
        x = torch.as_tensor(x, dtype=self.dtype)
        M, (c1, _), C = self.models, self.widths, self.in_channels
        w = self.conv1.reshape(M * c1, C, 3, 3)
        if x.ndim == 4 and x.shape[1] == C:
            h = F.conv2d(x, w, padding=1)
        elif x.ndim == 5 and x.shape[0] == M and x.shape[2] == C:
            n = x.shape[1]
            h = F.conv2d(x.transpose(0, 1).reshape(n, M * C, *x.shape[3:]), w, padding=1, groups=M)
        else:
            raise ValueError(f"x must be (N, {C}, H, W) or ({M}, N, {C}, H, W), got {tuple(x.shape)}")
        return h.view(h.shape[0], M, c1, *h.shape[2:])

    def _norm(self, h, layer: int, modes: list[str], stats: Stats | None, collect: list | None, group: int | None = None):
        """h (N, M, c, H, W): normalize each model's channels as its mode says, then gamma * . + beta.

        `group`: "batch" statistics over each run of `group` consecutive images (N divisible by it; every run is
        one mini-batch), instead of over all N. Only for all-"batch" modes."""
        if group is not None:
            n, M, c = h.shape[:3]
            if n % group or any(m != "batch" for m in modes):
                raise ValueError(f"group={group}: needs N ({n}) divisible by it and every model in 'batch' mode")
            runs = h.view(n // group, group, M, c, *h.shape[3:])
            mean = runs.mean(dim=(1, 4, 5), keepdim=True)
            std = (runs.var(dim=(1, 4, 5), unbiased=False, keepdim=True) + self.eps).sqrt()
            gamma, beta = self.gammas[layer][None, None, :, :, None, None], self.betas[layer][None, None, :, :, None, None]
            return ((runs - mean) / std * gamma + beta).view(h.shape)
        mean = h.mean(dim=(0, 3, 4))
        std = (h.var(dim=(0, 3, 4), unbiased=False) + self.eps).sqrt()  # (M, c)
        if collect is not None:
            collect.append((mean.detach(), std.detach()))
        pop = torch.tensor([m == "population" for m in modes])[:, None]
        none = torch.tensor([m == "none" for m in modes])[:, None]
        if pop.any():
            if stats is None:
                raise ValueError("mode 'population' needs the statistics (see `statistics`)")
            mean = torch.where(pop, stats.mean[layer].detach(), mean)
            std = torch.where(pop, stats.std[layer].detach(), std)
        bias = self.bias1 if layer == 0 else self.bias2
        # "none": h + bias, written as (h - mean) / std * gamma + beta with mean = -bias, std = gamma = 1, beta = 0
        scale = torch.where(none, torch.ones_like(std), self.gammas[layer] / std)
        shift = torch.where(none, bias, self.betas[layer] - mean * self.gammas[layer] / std)
        return h * scale[None, :, :, None, None] + shift[None, :, :, None, None]

    def _forward(self, x, mode, stats: Stats | None = None, collect: list | None = None, group: int | None = None) -> torch.Tensor:
        modes = self._modes(mode)
        M, c2 = self.models, self.widths[1]
        h = F.relu(self._norm(self._conv_in(x), 0, modes, stats, collect, group))  # (N, M, c1, H, W)
        n = h.shape[0]
        h = F.relu(self._norm(self._conv_second(h), 1, modes, stats, collect, group))
        h = F.max_pool2d(h.reshape(n, M * c2, *h.shape[3:]), 2)  # (N, M*c2, H/4, W/4)
        flat = h.reshape(n, M, -1)  # (N, M, c2 * H/4 * W/4), channel-major as torch.nn.Flatten
        if flat.shape[2] != self.features:
            raise ValueError(f"images must be {self.image_size}x{self.image_size} pixels")
        return torch.einsum("nmf,mkf->mnk", flat, self.linear) + self.out_bias[:, None, :]

    def _conv_second(self, h: torch.Tensor) -> torch.Tensor:
        """Max-pool the first block's output h (N, M, c1, H, W), then the second conv: (N, M, c2, H/2, W/2)."""
        M, (c1, c2), n = self.models, self.widths, h.shape[0]
        h = F.max_pool2d(h.reshape(n, M * c1, *h.shape[3:]), 2)
        h = F.conv2d(h, self.conv2.reshape(M * c2, c1, 3, 3), padding=1, groups=M)
        return h.view(n, M, c2, *h.shape[2:])

    def forward(self, x, mode, stats: Stats | None = None) -> torch.Tensor:
        """Logits (M, N, classes). `mode`: one of MODES for all models, or a list with one per model."""
        return self._forward(x, mode, stats)

    @torch.no_grad()
    def statistics(self, x, chunk: int = 500) -> Stats:
        """BN statistics of x (e.g. the training set), layer by layer as "batch" mode computes them.

        Computed in chunks of `chunk` images (mean of means, pooled variance), so memory stays small.
        """
        x = torch.as_tensor(x, dtype=self.dtype)
        shared = x.ndim == 4
        n = x.shape[0] if shared else x.shape[1]
        # layer-1 statistics need only the first conv; layer-2 statistics need layer 1 normalized with the full-set stats
        s1 = self._pooled(lambda xb: self._conv_in(xb), x, n, chunk, shared)
        first = Stats([s1[0]], [s1[1]])

        def layer2(xb):
            return self._conv_second(F.relu(self._norm(self._conv_in(xb), 0, ["population"] * self.models, first, None)))

        s2 = self._pooled(layer2, x, n, chunk, shared)
        return Stats([s1[0], s2[0]], [s1[1], s2[1]])

    def _pooled(self, fn, x, n, chunk, shared):
        total, sq, count = 0.0, 0.0, 0
        for start in range(0, n, chunk):
            xb = x[start:start + chunk] if shared else x[:, start:start + chunk]
            h = fn(xb).to(torch.float64)  # (n_b, M, c, H, W)
            total = total + h.sum(dim=(0, 3, 4))
            sq = sq + h.square().sum(dim=(0, 3, 4))
            count += h.shape[0] * h.shape[3] * h.shape[4]
        mean = total / count
        var = (sq / count - mean.square()).clamp_min(0.0)
        return mean.to(self.dtype), (var + self.eps).sqrt().to(self.dtype)

    def gamma_squared(self) -> list[torch.Tensor]:
        """Per norm layer, the mean over channels of gamma^2: (M,) each."""
        return [g.detach().square().mean(dim=1) for g in self.gammas]

    def gamma_penalty(self, lambdas: torch.Tensor) -> torch.Tensor:
        """sum over models of lambda_m * sum over channels (both layers) of gamma^2."""
        return (lambdas * sum(g.square().sum(dim=1) for g in self.gammas)).sum()


def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over models of each model's mean cross-entropy; logits (M, N, C), y (M, N) or (N,)."""
    return model_losses(logits, y.expand(logits.shape[0], -1) if y.ndim == 1 else y).sum()


@torch.no_grad()
def accuracy(net: SwitchableCNN, x, y, mode, stats: Stats | None = None, chunk: int = 500) -> torch.Tensor:
    """Fraction correct per model, (M,), for images x (N, C, H, W) shared by all models."""
    y = torch.as_tensor(y, dtype=torch.long)
    correct = torch.zeros(net.models, dtype=torch.float64)
    for start in range(0, len(y), chunk):
        logits = net(x[start:start + chunk], mode, stats)
        correct += (logits.argmax(dim=-1) == y[start:start + chunk]).double().sum(dim=1)
    return correct / len(y)


def train(net: SwitchableCNN, x, y, *, modes, lambdas, batch_size: int, lr: float, momentum: float,
          order_seeds: list[int], epochs: int | None = None, steps: int | None = None, stats_x=None,
          refresh_samples: int = 128, on_epoch: Callable[[int, float], None] | None = None) -> list[float]:
    """SGD with momentum, in place; returns the mean training loss (over models and steps) per epoch.

    x (N, C, H, W), y (N,). Model m trains in `modes[m]` with loss mean cross-entropy + lambdas[m] * sum gamma^2.
    Give exactly one of `epochs` (N // batch_size steps each) or `steps` (the same number of SGD steps at every
    batch size; a new epoch, freshly shuffled, starts whenever one runs out, and the last one may be cut short).
    "population" models use `net.statistics(stats_x)`, recomputed without gradient every
    max(1, refresh_samples // batch_size) steps (the same number of samples seen at every batch size).
    The last incomplete mini-batch of an epoch is dropped. `on_epoch(e, loss)` is called after each epoch.
    """
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs and steps")
    modes = net._modes(modes)
    x = torch.as_tensor(x, dtype=net.dtype)
    y = torch.as_tensor(y, dtype=torch.long)
    M, N = net.models, len(y)
    if len(order_seeds) != M or len(lambdas) != M:
        raise ValueError(f"need one order seed and one lambda per model ({M})")
    if not 1 <= batch_size <= N:
        raise ValueError(f"batch_size must be in [1, {N}], got {batch_size}")
    population = "population" in modes
    if population and stats_x is None:
        raise ValueError("population models need stats_x")
    lam = torch.as_tensor(lambdas, dtype=net.dtype)
    generators = [torch.Generator().manual_seed(int(s)) for s in order_seeds]
    optimizer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=lr, momentum=momentum)
    refresh = max(1, refresh_samples // batch_size)
    per_epoch = N // batch_size
    total_steps = epochs * per_epoch if steps is None else steps
    history, stats, t, epoch = [], None, 0, 0
    while t < total_steps:
        epoch += 1
        order = torch.stack([torch.randperm(N, generator=g) for g in generators])  # (M, N)
        total, n_steps = 0.0, min(per_epoch, total_steps - t)
        for step in range(n_steps):
            if population and t % refresh == 0:
                stats = net.statistics(stats_x)
            idx = order[:, step * batch_size:(step + 1) * batch_size]
            loss = loss_fn(net(x[idx], modes, stats), y[idx]) + net.gamma_penalty(lam)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
            t += 1
        history.append(total / (n_steps * M))
        if on_epoch:
            on_epoch(epoch, history[-1])
    return history


@torch.no_grad()
def regularizer_gap(net: SwitchableCNN, x, y, batch_sizes, *, partitions: int, order_seeds: list[int],
                    chunk: int = 512) -> np.ndarray:
    """Paired Monte Carlo of the implicit regularizer of BN at the net's current weights, every model in "batch" mode.

    Delta(M) = E_B[ mean_{j in B} loss(j; statistics of B) ] - mean_j loss(j; population statistics of x),
    cross-entropy, for mini-batches B of size M drawn without replacement. Each of `partitions` draws shuffles
    x (model m with its own generator, seeded by order_seeds[m] and the partition) and cuts the first
    (N // M) * M images into mini-batches of M; the population arm is averaged over the same images (paired),
    with the statistics of all of x (`net.statistics`). Forward passes only. Returns float64
    (models, len(batch_sizes), partitions): each partition's mean difference.
    """
    x = torch.as_tensor(x, dtype=net.dtype)
    y = torch.as_tensor(y, dtype=torch.long)
    models, n = net.models, len(y)
    if len(order_seeds) != models:
        raise ValueError(f"need one order seed per model ({models})")
    if any(not 1 <= M <= n for M in batch_sizes):
        raise ValueError(f"batch sizes must be in [1, {n}], got {list(batch_sizes)}")
    population = net.statistics(x)
    pn_loss = torch.cat([F.cross_entropy(net(x[s:s + chunk], ["population"] * models, population).transpose(1, 2),
                                         y[s:s + chunk].expand(models, -1), reduction="none")
                         for s in range(0, n, chunk)], dim=1).double()  # (models, N)
    out = np.zeros((models, len(batch_sizes), partitions))
    for r in range(partitions):
        generators = [torch.Generator().manual_seed(int(np.random.SeedSequence([s, r]).generate_state(1)[0]))
                      for s in order_seeds]
        order = torch.stack([torch.randperm(n, generator=g) for g in generators])  # (models, N)
        for k, M in enumerate(batch_sizes):
            used = order[:, :(n // M) * M]
            step = max(1, chunk // M) * M
            bn_loss = torch.cat([F.cross_entropy(net._forward(x[used[:, s:s + step]], "batch", group=M).transpose(1, 2),
                                                 y[used[:, s:s + step]], reduction="none")
                                 for s in range(0, used.shape[1], step)], dim=1).double()
            out[:, k, r] = (bn_loss.mean(dim=1) - torch.gather(pn_loss, 1, used).mean(dim=1)).numpy()
    return out


def downsample(images: np.ndarray, factor: int) -> np.ndarray:
    """Average-pool (N, C, H, W) images by `factor` (H, W must be divisible); factor 1 returns them unchanged."""
    if factor == 1:
        return images
    n, c, h, w = images.shape
    if h % factor or w % factor:
        raise ValueError(f"image size {h}x{w} not divisible by {factor}")
    return images.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5), dtype=np.float64).astype(images.dtype)


@dataclass(frozen=True)
class ImageSplits:
    """Class-balanced train / validation / test images (N, C, H, W) float32, standardized per channel."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    note: str = ""


def image_splits(ds, train_per_class: int, val_per_class: int, test_per_class: int, seed: int, *,
                 factor: int = 1) -> ImageSplits:
    """Disjoint class-balanced train and validation subsets of ds's training set, a test subset of its test set.

    Images are average-pooled by `factor` (skipped when that would leave fewer than 8x8 pixels) and
    standardized per channel with the training subset's mean and standard deviation. Where a class has
    too few images, every class gets as many as the smallest allows, and `note` says so.
    """
    avail = np.bincount(ds.y_train).min()
    tr_n, va_n = train_per_class, val_per_class
    if tr_n + va_n > avail:
        va_n = min(va_n, avail // 3)
        tr_n = avail - va_n
    te_n = min(test_per_class, np.bincount(ds.y_test).min())
    note = ""
    if (tr_n, va_n, te_n) != (train_per_class, val_per_class, test_per_class):
        note = (f"{ds.used} has too few images for {train_per_class}/{val_per_class}/{test_per_class} train/validation/test "
                f"images per class: used {tr_n}/{va_n}/{te_n}")
    both = balanced_indices(ds.y_train, tr_n + va_n, seed)
    rng = np.random.default_rng([seed, 1])
    tr, va = [], []
    for c in np.unique(ds.y_train[both]):
        rows = rng.permutation(both[ds.y_train[both] == c])
        tr.append(rows[:tr_n])
        va.append(rows[tr_n:])
    tr, va = np.sort(np.concatenate(tr)), np.sort(np.concatenate(va))
    te = balanced_indices(ds.y_test, te_n, seed + 1)
    if ds.x_train.shape[2] // factor < 8:
        factor = 1
        note = (note + "; " if note else "") + f"{ds.used} images are small: not downsampled"
    xs = [downsample(np.asarray(a[i], dtype=np.float32), factor) for a, i in ((ds.x_train, tr), (ds.x_train, va), (ds.x_test, te))]
    mean = xs[0].mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std = xs[0].std(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    xs = [((x - mean) / std).astype(np.float32) for x in xs]
    ys = [np.asarray(a[i], dtype=np.int64) for a, i in ((ds.y_train, tr), (ds.y_train, va), (ds.y_test, te))]
    return ImageSplits(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], note)
