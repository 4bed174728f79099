"""Figure 2 of Cao et al. (COLT 2023): how uniform the margins of a deep network's last hidden layer are.

What the paper says (Appendix B, Figure 2): VGG-16 with and without BN, trained by SGD on CIFAR-10 cat
vs dog for about 600 epochs. For each neuron of the last hidden layer and I = the "activated" training
data in class cat, dog, or both, they plot

    [ (1/n^2) sum_{i,i' in I} (y_i' a(x_i') - y_i a(x_i))^2 ] / [ (1/n) sum_{i in I} a(x_i)^2 ]

averaged over neurons (smaller = more uniform). No hyperparameter is given (learning rate, batch size,
schedule, augmentation, VGG variant, what "activated" means).

What we chose (the notebook states these as deviations):

- n in the formula is |I|, the number of points in the set, so the metric equals
  2 (1 - mean(z)^2 / mean(z^2)) with z = y a over I and lies in [0, 2]; "activated" means a > 0 for a
  post-ReLU neuron; a neuron with fewer than 2 activated points in I is excluded from the average (its
  value is 0 or undefined) and counted.
- `VGGStyle`: VGG's layout [conv3x3 -> (BatchNorm2d) -> ReLU] x convs_per_stage, then a 2x2 max-pool, per
  stage, channels doubling from `base_width` to `width`, global average pooling of the last stage to
  `width` features (the last hidden layer, post-ReLU), a Linear(width, 1) head and the logistic loss on
  y in {+1, -1}. VGG-16 itself is base_width=64, width=512, depth=5, convs_per_stage 2-3. The two
  variants differ only by the BN layers; their convolutions and head get the same initial weights
  (torchvision's VGG initialization, drawn from one seeded generator).
- `train`: minibatch SGD with momentum on the logistic loss, seeded shuffling, no augmentation, a step
  learning-rate schedule (`learning_rate`), weight decay 0 unless asked; the features are taken in eval mode
  (BN with its running statistics, the network as it would be used at test time) on the whole training
  subset, which `binary_subset` draws balanced and standardizes (`pool_images` shrinks it for a CPU).
- `compare`: the experiment, both variants on every seed (and the rounding shadow); `VGG16` is the layout of the
  `full` scale (VGG-16 for 32x32 inputs, whose last map is 1x1).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bnrepro import runtime

# --------------------------------------------------------------------------------------------------
# The metric
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uniformity:
    """The normalized margin discrepancy of every neuron on one set of data points."""

    per_neuron: np.ndarray  # (width,) float64; nan where fewer than `min_active` points are activated
    active: np.ndarray  # (width,) int64: |I|, the number of activated points per neuron
    min_active: int

    @property
    def valid(self) -> np.ndarray:
        return self.active >= self.min_active

    @property
    def n_valid(self) -> int:
        return int(self.valid.sum())

    @property
    def n_excluded(self) -> int:
        return int((~self.valid).sum())

    @property
    def mean(self) -> float:
        """The paper's average over neurons, over the neurons that have at least `min_active` points (nan if none)."""
        return float(self.per_neuron[self.valid].mean()) if self.n_valid else math.nan


def margin_discrepancy(activations, y, *, min_active: int = 2) -> Uniformity:
    """Figure 2's normalized margin discrepancy of each neuron (column of `activations`).

    activations: (N, width) post-ReLU values a(x_i); y: (N,) labels in {+1, -1}. For neuron j, I_j is the
    set of rows with a > 0 and z = y a; the value is (1/|I|^2) sum_{i,i'} (z_i' - z_i)^2 / ((1/|I|) sum a^2)
    = 2 * var_I(z) / mean_I(z^2), computed in float64 with a two-pass variance. Vectorized over neurons.
    """
    if min_active < 2:
        raise ValueError(f"min_active must be >= 2 (one point is trivially uniform), got {min_active}")
    a = np.asarray(activations, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if a.ndim != 2 or y.shape != (a.shape[0],):
        raise ValueError(f"expected activations (N, width) and y (N,), got {a.shape} and {y.shape}")
    if not np.all(np.abs(y) == 1):
        raise ValueError("labels must be +1 or -1")
    active = a > 0
    count = active.sum(axis=0)
    m = np.maximum(count, 1)
    z = np.where(active, y[:, None] * a, 0.0)
    mean = z.sum(axis=0) / m
    centred = np.where(active, z - mean, 0.0)
    pair_mean = 2.0 * (centred**2).sum(axis=0) / m  # (1/|I|^2) sum_{i,i'} (z_i' - z_i)^2 = 2 var(z)
    square_mean = (z**2).sum(axis=0) / m  # (1/|I|) sum a^2 (z^2 = a^2); > 0 wherever count >= 1
    valid = count >= min_active
    value = np.full(a.shape[1], np.nan)
    value[valid] = pair_mean[valid] / square_mean[valid]
    return Uniformity(per_neuron=value, active=count.astype(np.int64), min_active=min_active)


def class_set_discrepancy(activations, y, names: tuple[str, str], *, min_active: int = 2) -> dict[str, Uniformity]:
    """The metric on the points of class names[0] (y=+1), of class names[1] (y=-1), and on both."""
    y = np.asarray(y)
    rows = {names[0]: y == 1, names[1]: y == -1, "both": np.ones(len(y), dtype=bool)}
    return {name: margin_discrepancy(np.asarray(activations)[r], y[r], min_active=min_active) for name, r in rows.items()}


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def binary_subset(x, labels, classes, pair, n_per_class: int, seed: int):
    """A balanced, seeded subset of two classes: x (2n, C, H, W) float32, standardized; y +1 for pair[0], -1 for pair[1].

    The images are standardized per channel with the subset's own mean and standard deviation.
    """
    missing = [c for c in pair if c not in classes]
    if len(pair) != 2 or pair[0] == pair[1] or missing:
        raise ValueError(f"pair must name two distinct classes of {classes}, got {pair}")
    rng = np.random.default_rng(seed)
    picked = []
    for name in pair:
        pool = np.flatnonzero(np.asarray(labels) == classes.index(name))
        if len(pool) < n_per_class:
            raise ValueError(f"class {name!r} has {len(pool)} training images, fewer than n_per_class={n_per_class}")
        picked.append(np.sort(rng.choice(pool, size=n_per_class, replace=False)))
    xs = np.asarray(x[np.concatenate(picked)], dtype=np.float32)
    mean = xs.mean(axis=(0, 2, 3), keepdims=True)
    std = xs.std(axis=(0, 2, 3), keepdims=True)
    xs = (xs - mean) / np.maximum(std, 1e-6)
    y = np.concatenate([np.ones(n_per_class), -np.ones(n_per_class)]).astype(np.float32)
    return xs.astype(np.float32), y


def pool_images(x, factor: int):
    """Average-pool (N, C, H, W) images by `factor` in each direction (H and W must be multiples of it); factor 1 is a copy."""
    x = np.asarray(x, dtype=np.float32)
    n, c, h, w = x.shape
    if factor < 1 or h % factor or w % factor:
        raise ValueError(f"cannot pool {h}x{w} images by {factor}")
    return x.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------


def max_depth(image_size: int) -> int:
    """The most 2x2 max-pool stages an image of this size allows (the last map is then 1x1)."""
    return math.floor(math.log2(image_size))


def stage_channels(width: int, depth: int, base_width: int) -> list[int]:
    """VGG's channel plan: doubling from base_width, capped at width, the last stage at width."""
    return [min(base_width * 2**s, width) for s in range(depth - 1)] + [width]


def stage_convs(convs_per_stage: int | Sequence[int], depth: int) -> list[int]:
    """Convolutions per stage: one int for every stage, or one per stage (VGG-16: 2, 2, 3, 3, 3)."""
    per_stage = [convs_per_stage] * depth if isinstance(convs_per_stage, int) else list(convs_per_stage)
    if len(per_stage) != depth or not all(isinstance(c, int) and c >= 1 for c in per_stage):
        raise ValueError(f"convs_per_stage must be a positive int or {depth} positive ints, got {convs_per_stage!r}")
    return per_stage


# VGG-16 for 32x32 inputs (the CIFAR variant): 13 conv3x3 in 5 stages of 64, 128, 256, 512, 512 channels, each
# stage ending in a max-pool, so the last map is 1x1 and its 512 post-ReLU channels are the last hidden layer
VGG16 = {"width": 512, "depth": 5, "base_width": 64, "convs_per_stage": (2, 2, 3, 3, 3)}


class VGGStyle(nn.Module):
    """A narrow VGG: stages of [conv3x3 -> (BN) -> ReLU] x convs_per_stage -> maxpool 2, then GAP and Linear(width, 1)."""

    def __init__(self, in_channels: int, image_size: int, *, width: int, depth: int, base_width: int,
                 convs_per_stage: int | Sequence[int], batchnorm: bool):
        super().__init__()
        sizes = {"width": width, "depth": depth, "base_width": base_width}
        for name, value in sizes.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        per_stage = stage_convs(convs_per_stage, depth)
        if image_size < 2**depth:
            raise ValueError(f"depth={depth} max-pools need images of at least {2**depth} pixels, got {image_size}")
        self.batchnorm = batchnorm
        layers: list[nn.Module] = []
        c_in = in_channels
        for c_out, n_convs in zip(stage_channels(width, depth, base_width), per_stage):
            for _ in range(n_convs):
                layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1))
                if batchnorm:
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(nn.ReLU(inplace=True))
                c_in = c_out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer: the global average of the last stage's post-ReLU maps, (N, width), >= 0."""
        return self.features(x).mean(dim=(2, 3))  # a plain mean: AdaptiveAvgPool2d's CUDA backward is not deterministic

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(x)).squeeze(1)


SHADOW_SEED = 1_000_003  # offsets the rounding shadow's generator from the initialization's


def build(batchnorm: bool, *, in_channels: int, image_size: int, width: int, depth: int, base_width: int,
          convs_per_stage: int | Sequence[int], seed: int, perturbation: float = 0.0) -> VGGStyle:
    """The model with or without BN; for one seed both variants get identical conv and head weights.

    Initialization as torchvision's VGG: conv weights Kaiming-normal (fan_out, ReLU) and zero biases, BN
    weight 1 and bias 0, head N(0, 0.01^2) and zero bias, drawn in layer order from one generator.
    `perturbation` > 0 multiplies every parameter by 1 + perturbation * N(0, 1) (a second generator from
    `seed`): a *rounding shadow* of the same run, perturbed at the size of the float32 rounding that another
    machine's kernels would introduce, to find the results that depend on it.
    """
    model = VGGStyle(in_channels, image_size, width=width, depth=depth, base_width=base_width,
                     convs_per_stage=convs_per_stage, batchnorm=batchnorm)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=gen)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01, generator=gen)
                nn.init.zeros_(module.bias)
        if perturbation:
            shadow = torch.Generator().manual_seed(seed + SHADOW_SEED)
            for param in model.parameters():
                param.mul_(1 + perturbation * torch.randn(param.shape, generator=shadow, dtype=param.dtype))
    return model


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------


def logistic_loss(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mean log(1 + exp(-y f)), y in {+1, -1}."""
    return F.softplus(-y * output).mean()


@dataclass
class History:
    """What `train` records at each epoch in `epochs` (0 = at initialization), in eval mode on the whole training subset."""

    names: tuple[str, str]
    epochs: list[int] = field(default_factory=list)
    metric: dict[str, list[float]] = field(default_factory=dict)  # set name -> mean over the counted neurons
    n_valid: dict[str, list[int]] = field(default_factory=dict)  # set name -> neurons counted in that mean
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    final: dict[str, Uniformity] = field(default_factory=dict)  # per-neuron values at the last epoch
    seconds: float = 0.0


@torch.no_grad()
def evaluate(model: VGGStyle, x: torch.Tensor, y: torch.Tensor, names: tuple[str, str], *, chunk: int = 500,
             min_active: int = 2):
    """Eval-mode loss, accuracy and per-set metric on (x, y); returns (loss, accuracy, {set: Uniformity})."""
    was_training = model.training
    model.eval()
    hidden = torch.cat([model.hidden(x[i:i + chunk]) for i in range(0, len(x), chunk)])
    output = model.head(hidden).squeeze(1)
    model.train(was_training)
    loss = float(logistic_loss(output.double(), y.double()))
    accuracy = float((torch.sign(output) == y).double().mean())
    sets = class_set_discrepancy(hidden.double().cpu().numpy(), y.cpu().numpy(), names, min_active=min_active)
    return loss, accuracy, sets


def learning_rate(epoch: int, lr: float, lr_drops: Sequence[int] = (), lr_factor: float = 0.1) -> float:
    """The step schedule: `lr`, multiplied by `lr_factor` after each epoch listed in `lr_drops` (epochs count from 1)."""
    return lr * lr_factor ** sum(1 for drop in lr_drops if drop < epoch)


def train(model: VGGStyle, x, y, names: tuple[str, str], *, epochs: int, lr: float, momentum: float,
          batch_size: int, seed: int, record: list[int], weight_decay: float = 0.0, min_active: int = 2,
          lr_drops: Sequence[int] = (), lr_factor: float = 0.1, device: str = "cpu", log=print,
          label: str = "") -> History:
    """Minibatch SGD on the logistic loss with a step schedule; records the Figure 2 metric at the epochs in `record` (and 0).

    Epoch e uses `learning_rate(e, lr, lr_drops, lr_factor)`. Shuffling uses a torch.Generator seeded with
    `seed`; the last incomplete minibatch of each epoch is dropped (a BN batch of one or two points is
    meaningless). One short line per epoch goes to `log`.
    """
    if batch_size > len(x):
        raise ValueError(f"batch_size={batch_size} exceeds the {len(x)} training points")
    runtime.deterministic(device)  # also when called outside a claim notebook
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = model.to(device)
    x = torch.as_tensor(x, device=device)
    y = torch.as_tensor(y, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    record = sorted({0, *(e for e in record if e <= epochs), epochs})
    history = History(names=names, metric={k: [] for k in (*names, "both")}, n_valid={k: [] for k in (*names, "both")})
    start = time.perf_counter()

    def snapshot(epoch: int) -> str:
        loss, accuracy, sets = evaluate(model, x, y, names, min_active=min_active)
        history.epochs.append(epoch)
        history.loss.append(loss)
        history.accuracy.append(accuracy)
        for key, u in sets.items():
            history.metric[key].append(u.mean)
            history.n_valid[key].append(u.n_valid)
        history.final = sets
        return " ".join(f"{k}={u.mean:.3f}" for k, u in sets.items())

    snapshot(0)
    n_batches = len(x) // batch_size
    model.train()
    for epoch in range(1, epochs + 1):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(epoch, lr, lr_drops, lr_factor)
        order = torch.randperm(len(x), generator=gen).to(device)
        total = torch.zeros((), device=device)
        for b in range(n_batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            loss = logistic_loss(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach()
        line = f"{label}epoch {epoch:3d}/{epochs}  minibatch loss {total.item() / n_batches:.4f}"
        if epoch in record:
            metrics = snapshot(epoch)
            line += f"  train acc {history.accuracy[-1]:.4f}  metric {metrics}"
        log(line)
    history.seconds = time.perf_counter() - start
    return history


# --------------------------------------------------------------------------------------------------
# The experiment: both variants on every seed
# --------------------------------------------------------------------------------------------------

VARIANTS = (("BN", True), ("no BN", False))


def compare(x, labels, classes, pair: tuple[str, str], seeds: Sequence[int], *, n_per_class: int, arch: dict,
            epochs: int, lr: float, momentum: float, batch_size: int, record: list[int], weight_decay: float = 0.0,
            lr_drops: Sequence[int] = (), lr_factor: float = 0.1, image_pool: int = 1, min_active: int = 2,
            rounding_perturbation: float = 0.0, device: str = "cpu", log=print):
    """Figure 2's experiment: per seed, one balanced subset (drawn with that seed, pooled by `image_pool`), one
    initialization shared by the BN and no-BN variants (`arch`: width, depth, base_width, convs_per_stage), one
    shuffling order; each variant trained by `train`.

    Returns (runs, shadow_runs), each {(variant, seed): History}, variant in "BN", "no BN". shadow_runs repeats
    every run from the initialization perturbed by `rounding_perturbation` (see `build`); it is empty when that is 0.
    """
    runs, shadow_runs = {}, {}
    for seed in seeds:
        xs, ys = binary_subset(x, labels, classes, pair, n_per_class, seed)
        xs = pool_images(xs, image_pool)
        for variant, batchnorm in VARIANTS:
            stores = ((runs, 0.0), (shadow_runs, rounding_perturbation)) if rounding_perturbation else ((runs, 0.0),)
            for store, perturbation in stores:
                model = build(batchnorm, in_channels=xs.shape[1], image_size=xs.shape[-1], **arch, seed=seed,
                              perturbation=perturbation)
                store[variant, seed] = train(
                    model, xs, ys, pair, epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
                    lr_drops=lr_drops, lr_factor=lr_factor, batch_size=batch_size, seed=seed, record=record,
                    min_active=min_active, device=device, log=log,
                    label=f"seed {seed} {variant:5s}{' shadow' if perturbation else ''} ",
                )
    return runs, shadow_runs
