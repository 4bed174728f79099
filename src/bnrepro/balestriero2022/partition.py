"""The spline partition of a `SwitchableMLP` and how far it lies from the data.

Every hidden unit k of layer l computes h = (w_k^T z - c_k) / b_k on its layer
input z (C.2): its hyperplane {z : w_k^T z = c_k} is a boundary of
the layer's partition. A mode of the shared network fixes (c, b):

- "population" (BN with supplied statistics): c = mu - beta sigma / gamma, b = sigma / gamma;
- "none": c = -bias, b = 1 (zero bias or the PyTorch default, whichever the net holds).

`hyperplanes` reads (W, c, b) off the network, `forward` reproduces the
network's pre-activations from them (tested against the network itself), and:

- `tls_objective`, `tls_offsets`: the total-least-squares objective
  F(c) = sum_i (w^T z_i - c)^2 / ||w||^2 of one unit's offset, and its numerical
  minimiser (scipy's minimize_scalar, one call per unit);
- `boundary_distances`: per point and layer, min_k |h_k(x)| / ||grad_x h_k(x)||,
  by forward Jacobian propagation in float64 (exact for layer 1, first order for
  deeper layers, whose boundaries are folded);
- `activation_patterns`, `region_ids`, `boundary_mask`: the partition drawn on a grid.

Everything is batched over a leading model axis (seeds x variants) and points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from bnrepro.nets import Stats, SwitchableMLP, leaky_relu


@dataclass
class Hyperplanes:
    """Per hidden layer: weights (M, out, in), offsets c (M, out), scales b (M, out); h = (z W^T - c) / b."""

    weights: list[torch.Tensor]
    offsets: list[torch.Tensor]
    scales: list[torch.Tensor]
    slope: float

    @property
    def models(self) -> int:
        return self.weights[0].shape[0]

    @property
    def depth(self) -> int:
        return len(self.weights)


@torch.no_grad()
def hyperplanes(net: SwitchableMLP, mode: str, stats: Stats | None = None) -> Hyperplanes:
    """The hidden layers of `net` in `mode` ("population" needs `stats`, "none" uses the net's biases)."""
    weights, offsets, scales = [], [], []
    for layer in range(net.depth):
        w = net.weights[layer].detach()
        if mode == "none":
            c, b = -net.biases[layer].detach(), torch.ones_like(net.biases[layer])
        elif mode == "population":
            if stats is None:
                raise ValueError("mode 'population' needs the statistics (see SwitchableMLP.statistics)")
            gamma, beta = net.gammas[layer].detach(), net.betas[layer].detach()
            mu, sigma = stats.mean[layer], stats.std[layer]
            c, b = mu - beta * sigma / gamma, sigma / gamma
        else:
            raise ValueError(f"mode must be 'population' or 'none' (a fixed partition), got {mode!r}")
        weights.append(w)
        offsets.append(c.detach().clone())
        scales.append(b.detach().clone())
    return Hyperplanes(weights, offsets, scales, net.slope)


def stack(*parts: Hyperplanes) -> Hyperplanes:
    """Concatenate along the model axis (e.g. the BN, zero and torch variants of the same seeds)."""
    if len({p.slope for p in parts}) != 1 or len({p.depth for p in parts}) != 1:
        raise ValueError("can only stack partitions of equal depth and slope")
    cat = [
        [torch.cat([getattr(p, name)[layer] for p in parts]) for layer in range(parts[0].depth)]
        for name in ("weights", "offsets", "scales")
    ]
    return Hyperplanes(*cat, parts[0].slope)


def _inputs(x, models: int, d: int) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float64)
    if x.ndim == 2:
        x = x.expand(models, *x.shape)
    if x.ndim != 3 or x.shape[0] != models or x.shape[2] != d:
        raise ValueError(f"x must be (N, {d}) or ({models}, N, {d}), got {tuple(x.shape)}")
    return x


@torch.no_grad()
def forward(hp: Hyperplanes, x) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(pre-activations h per layer (M, N, out), layer inputs z per layer (M, N, in)); z[0] is x."""
    z = _inputs(x, hp.models, hp.weights[0].shape[2])
    hs, zs = [], []
    for w, c, b in zip(hp.weights, hp.offsets, hp.scales):
        zs.append(z)
        h = (z @ w.transpose(1, 2) - c[:, None, :]) / b[:, None, :]
        hs.append(h)
        z = leaky_relu(h, hp.slope)
    return hs, zs


def tls_objective(projections: np.ndarray, c, w_norm: float) -> np.ndarray:
    """F(c) = sum_i (w^T z_i - c)^2 / ||w||^2 for projections w^T z_i (N,); c a scalar or an array of offsets."""
    c = np.asarray(c, dtype=np.float64)
    return ((projections[..., None] - c.ravel()) ** 2).sum(axis=0).reshape(c.shape) / w_norm**2


def tls_offsets(z: np.ndarray, w: np.ndarray, *, xtol: float = 1e-12) -> np.ndarray:
    """Numerical argmin_c F_k(c) for every unit k of one layer: z (N, in) the layer inputs, w (out, in).

    One bounded-free Brent search (scipy.optimize.minimize_scalar) per unit, bracketed by the
    range of the projections; no closed form is used.
    """
    projections = z @ w.T  # (N, out)
    norms = np.linalg.norm(w, axis=1)
    out = np.empty(w.shape[0])
    for k in range(w.shape[0]):
        p = projections[:, k]
        res = minimize_scalar(lambda c, p=p, n=norms[k]: tls_objective(p, c, n), bracket=(p.min(), p.max()),
                              method="brent", options={"xtol": xtol})
        out[k] = res.x
    return out


@torch.no_grad()
def boundary_distances(hp: Hyperplanes, x, *, max_elements: int = 10_000_000) -> np.ndarray:
    """d_l(x) = min_k |h_{l,k}(x)| / ||grad_x h_{l,k}(x)|| for every model, point and layer: (M, N, depth).

    The gradient is propagated forward with the activation pattern at x, so for layer l >= 2 this is
    the distance to the boundary of the affine piece's extension (first order); for layer 1 it is exact.
    Points are processed in chunks so that a Jacobian holds at most `max_elements` numbers.
    """
    x = _inputs(x, hp.models, hp.weights[0].shape[2])
    m, n, d = x.shape
    widest = max(w.shape[1] for w in hp.weights)
    chunk = max(1, max_elements // (m * widest * d))
    out = np.empty((m, n, hp.depth))
    for start in range(0, n, chunk):
        z = x[:, start : start + chunk]
        k = z.shape[1]
        jac = None  # dz/dx laid out (M, in, n, d); None for the identity of the input layer
        for layer, (w, c, b) in enumerate(zip(hp.weights, hp.offsets, hp.scales)):
            h = (z @ w.transpose(1, 2) - c[:, None, :]) / b[:, None, :]  # (M, n, out)
            if jac is None:
                grad = w[:, :, None, :].expand(m, w.shape[1], k, d)
            else:
                grad = torch.bmm(w, jac.reshape(m, w.shape[2], k * d)).reshape(m, w.shape[1], k, d)
            grad = grad / b[:, :, None, None]  # dh/dx: (M, out, n, d)
            dist = h.abs() / torch.linalg.vector_norm(grad, dim=-1).transpose(1, 2)
            out[:, start : start + chunk, layer] = dist.min(dim=-1).values.numpy()
            slope = torch.where(h > 0, torch.ones_like(h), torch.full_like(h, hp.slope))
            z, jac = h * slope, grad * slope.transpose(1, 2)[..., None]
    return out


@torch.no_grad()
def activation_patterns(hp: Hyperplanes, x) -> np.ndarray:
    """Each layer's activation (sign) pattern as an integer id: (M, N, depth), bit k = [h_k > 0] (width <= 62)."""
    hs, _ = forward(hp, x)
    if max(h.shape[-1] for h in hs) > 62:
        raise ValueError("pattern ids are int64 bit masks: at most 62 units per layer")
    ids = [((h > 0).long() << torch.arange(h.shape[-1])).sum(dim=-1) for h in hs]
    return torch.stack(ids, dim=-1).numpy()


def region_ids(patterns: np.ndarray) -> np.ndarray:
    """Regions of the partition of layers 1..l (the overlay) for every l: (..., depth) ids, 0.. in lexicographic order."""
    flat = patterns.reshape(-1, patterns.shape[-1])
    out = np.empty_like(flat)
    for layer in range(flat.shape[1]):
        out[:, layer] = np.unique(flat[:, : layer + 1], axis=0, return_inverse=True)[1].ravel()
    return out.reshape(patterns.shape)


def boundary_mask(ids: np.ndarray) -> np.ndarray:
    """Pixels of an id image (..., H, W) whose id differs from a 4-neighbour's; both pixels of a differing
    pair are marked. Leading axes (e.g. models) are carried along."""
    mask = np.zeros(ids.shape, dtype=bool)
    dx = ids[..., :, 1:] != ids[..., :, :-1]
    dy = ids[..., 1:, :] != ids[..., :-1, :]
    mask[..., :, 1:] |= dx
    mask[..., :, :-1] |= dx
    mask[..., 1:, :] |= dy
    mask[..., :-1, :] |= dy
    return mask


def grid(lo: tuple[float, float], hi: tuple[float, float], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An n x n grid of pixel centres over [lo, hi]: points (n*n, 2) in row-major (y, x) order, and the axes."""
    xs = np.linspace(lo[0], hi[0], n)
    ys = np.linspace(lo[1], hi[1], n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1), xs, ys


def medians(distances: np.ndarray) -> np.ndarray:
    """Median over points of (M, N, depth) distances: (M, depth)."""
    return np.median(distances, axis=1)


VARIANTS = ("BN", "zero", "torch")


@dataclass
class Comparison:
    """Boundary distances of the three variants of the same random weights (`VARIANTS` order).

    distances (3, S, N, depth); medians (3, S, depth); `net` holds the torch-default biases, `stats` the
    full-data BN statistics per seed (the BN variant is `net` in "population" mode with them).
    """

    distances: np.ndarray
    net: SwitchableMLP
    stats: Stats

    @property
    def medians(self) -> np.ndarray:
        return np.median(self.distances, axis=2)

    def ratios(self) -> np.ndarray:
        """R_l = med_l(no-BN variant) / med_l(BN): (2, S, depth) for the zero and torch variants."""
        med = self.medians
        return med[1:] / med[0]


def variants(x, seeds: list[int], sizes: list[int], slope: float) -> tuple[Hyperplanes, SwitchableMLP, Stats]:
    """The BN ("population", full-data statistics), zero-bias and torch-bias partitions of the same
    weights, stacked on the model axis as 3 blocks of len(seeds) models."""
    s = len(seeds)
    net = SwitchableMLP(sizes, s, seeds=seeds, slope=slope, bias="torch")
    zero = SwitchableMLP(sizes, s, seeds=seeds, slope=slope, bias="zero")
    for a, b in zip(net.weights, zero.weights):
        if not torch.equal(a, b):
            raise AssertionError("the zero- and torch-bias networks must share their weights")
    stats = net.statistics(x)
    return stack(hyperplanes(net, "population", stats), hyperplanes(zero, "none"), hyperplanes(net, "none")), net, stats


def compare(x, seeds: list[int], sizes: list[int], slope: float) -> Comparison:
    """Distances of every point to each layer's nearest boundary, for the three variants (see `variants`).

    x is (N, d), shared by all seeds, or (S, N, d), one data set per seed.
    """
    hp, net, stats = variants(x, seeds, sizes, slope)
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    xs = x.expand(len(seeds), *x.shape) if x.ndim == 2 else x
    dist = boundary_distances(hp, xs.repeat(3, 1, 1))
    return Comparison(dist.reshape(3, len(seeds), *dist.shape[1:]), net, stats)


@dataclass
class TLSReport:
    """Per layer, arrays over (seed, unit): the numerical TLS optimum's error against mu, relative to
    1 + |mu|; the relative error of F(mu)/|B| = sigma^2/||w||^2; and F(c) - F(mu) for the zero and torch offsets."""

    offset_error: list[np.ndarray]
    identity_error: list[np.ndarray]
    gap_zero: list[np.ndarray]
    gap_torch: list[np.ndarray]


def tls_report(net: SwitchableMLP, stats: Stats, x) -> TLSReport:
    """C1 for every unit of every layer of `net`, on the layer inputs of its BN ("population") forward."""
    hp = hyperplanes(net, "population", stats)
    plain = hyperplanes(net, "none")
    _, zs = forward(hp, x)
    out = TLSReport([], [], [], [])
    for layer in range(hp.depth):
        rows = [[], [], [], []]
        for m in range(hp.models):
            z, w = zs[layer][m].numpy(), hp.weights[layer][m].numpy()
            mu, sigma = stats.mean[layer][m].numpy(), stats.std[layer][m].numpy()
            proj, norms = z @ w.T, np.linalg.norm(w, axis=1)
            c_star = tls_offsets(z, w)
            f = {name: np.array([tls_objective(proj[:, k], c[k], norms[k]) for k in range(len(mu))])
                 for name, c in (("mu", mu), ("zero", np.zeros_like(mu)), ("torch", plain.offsets[layer][m].numpy()))}
            rows[0].append(np.abs(c_star - mu) / (1 + np.abs(mu)))
            rows[1].append(np.abs(f["mu"] / z.shape[0] / (sigma**2 / norms**2) - 1))
            rows[2].append(f["zero"] - f["mu"])
            rows[3].append(f["torch"] - f["mu"])
        for target, row in zip((out.offset_error, out.identity_error, out.gap_zero, out.gap_torch), rows):
            target.append(np.stack(row))
    return out
