"""Mini-batch jitter of BN's partition and grid-based decision-boundary margins (claim minibatch-margin).

Jitter law (derived from BN's definitions, C4a). A layer-1 unit with weight row w and BN
centring c = mu_B = w^T mean_{x in B} x has the hyperplane {x : w^T x = mu_B}, at signed offset
mu_B / ||w|| along its unit normal. Over mini-batches of B rows drawn without replacement from N
rows, Var(mu_B) = w^T Sigma w / B * (N - B) / (N - 1) (Sigma the population covariance, 1/N), so

    std(offset) = sqrt(w^T Sigma w / B * (N - B) / (N - 1)) / ||w||
                = RMS distance of the data to the population hyperplane / sqrt(B) * sqrt((N - B) / (N - 1)).

Margins (C4b). The decision boundary of each model is located on a grid over the data's
bounding box +- pad: a pixel is on the boundary when its predicted class differs from one of its
4 neighbours. A training point's margin is its Euclidean distance to the nearest boundary pixel
(a KD-tree query), negative when the model misclassifies the point. A pixel flagged this way lies
within one grid step h of the true boundary, and every true boundary point inside the grid is
within h*sqrt(2) (a cell diagonal) of a flagged pixel, so the grid margin is within h*sqrt(2) of
the exact distance (for boundaries that do not slip between two pixels).

Everything works on a leading model axis (seeds x variants), as `SwitchableMLP` does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.spatial import cKDTree

from bnrepro.nets import Stats, SwitchableMLP, predict

from .partition import boundary_mask

# ---------------------------------------------------------------------------------------------
# C4a: the jitter law


def predicted_jitter(x: np.ndarray, w: np.ndarray, batch_size: int, *, without_replacement: bool = True) -> np.ndarray:
    """Exact std over mini-batches of each hyperplane's offset mu_B/||w||: x (N, d), w (K, d) -> (K,)."""
    n = x.shape[0]
    norms = np.linalg.norm(w, axis=1)
    var = (x @ w.T).var(axis=0)  # w^T Sigma w, population (1/N) covariance
    fpc = (n - batch_size) / (n - 1) if without_replacement else 1.0
    return np.sqrt(var / batch_size * fpc) / norms


def rms_distance(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """RMS Euclidean distance of the rows of x to each population-centred hyperplane {w^T z = mean w^T x}: (K,)."""
    return (x @ w.T).std(axis=0) / np.linalg.norm(w, axis=1)


def batch_indices(rng: np.random.Generator, n: int, batch_size: int, batches: int) -> np.ndarray:
    """`batches` independent mini-batches of `batch_size` distinct rows of n: (batches, batch_size) ints."""
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
    return rng.permuted(np.broadcast_to(np.arange(n), (batches, n)), axis=1)[:, :batch_size]


def batch_offsets(x: np.ndarray, w: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Offsets mu_B/||w|| of each unit's BN hyperplane for each mini-batch: (batches, K), with no loop over batches."""
    batches, size = idx.shape
    member = np.zeros((batches, x.shape[0]))
    np.put_along_axis(member, idx, 1.0 / size, axis=1)  # each row averages its mini-batch
    return member @ (x @ w.T) / np.linalg.norm(w, axis=1)


def measured_jitter(x: np.ndarray, w: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """RMS over mini-batches of the offset's deviation from the population offset: (K,).

    The deviation is taken from the known mean (the population offset, E[mu_B] = mu exactly), so its
    square is an unbiased estimate of the variance the law predicts.
    """
    population = (x @ w.T).mean(axis=0) / np.linalg.norm(w, axis=1)
    return np.sqrt(((batch_offsets(x, w, idx) - population) ** 2).mean(axis=0))


# ---------------------------------------------------------------------------------------------
# C4b: decision boundaries on a grid, and signed margins


def grid_axes(x: np.ndarray, resolution: int, pad: float) -> tuple[np.ndarray, np.ndarray]:
    """Per model, the grid's x and y coordinates over the bounding box of x (M, N, 2) +- pad: two (M, resolution)."""
    lo, hi = x.min(axis=1) - pad, x.max(axis=1) + pad  # (M, 2)
    t = np.linspace(0.0, 1.0, resolution)
    axes = lo[:, None, :] + t[None, :, None] * (hi - lo)[:, None, :]  # (M, R, 2)
    return axes[..., 0], axes[..., 1]


def grid_points(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """(M, R*R, 2) points; point r*R + c sits at (gx[c], gy[r]) (row = y, column = x)."""
    m, r = gx.shape
    px = np.broadcast_to(gx[:, None, :], (m, r, r))
    py = np.broadcast_to(gy[:, :, None], (m, r, r))
    return np.stack([px, py], axis=-1).reshape(m, r * r, 2)


def predict_grid(classify: Callable[[np.ndarray], np.ndarray], gx: np.ndarray, gy: np.ndarray,
                 chunk: int = 20000) -> np.ndarray:
    """Class of every grid pixel for every model at once: (M, R, R) ints (row = y).

    `classify` maps points (M, P, 2) to labels (M, P); the grid is fed in chunks of P points.
    """
    m, r = gx.shape
    points = grid_points(gx, gy)
    labels = np.concatenate([classify(points[:, s:s + chunk]) for s in range(0, r * r, chunk)], axis=1)
    return labels.reshape(m, r, r)


def signed_margins(classify: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, *,
                   resolution: int = 500, pad: float = 1.0, chunk: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance of every point to its model's decision boundary: (M, N), negative where misclassified.

    Returns (margins, grid step h per model as the larger of the two axes' steps). A model whose grid
    shows no boundary gets margins +-inf.
    """
    gx, gy = grid_axes(x, resolution, pad)
    mask = boundary_mask(predict_grid(classify, gx, gy, chunk))
    points = grid_points(gx, gy)
    correct = classify(x) == y
    distance = np.full(y.shape, np.inf)
    for model in range(x.shape[0]):  # cKDTree is one tree per model
        boundary = points[model][mask[model].ravel()]
        if len(boundary):
            distance[model] = cKDTree(boundary).query(x[model])[0]
    step = np.maximum(gx[:, 1] - gx[:, 0], gy[:, 1] - gy[:, 0])
    return np.where(correct, distance, -distance), step


def classifier(net: SwitchableMLP, mode: str = "population", stats: Stats | None = None):
    """`classify` for a network: points (M, P, 2) -> predicted labels (M, P) as numpy."""

    @torch.no_grad()
    def classify(points: np.ndarray) -> np.ndarray:
        return predict(net(torch.as_tensor(np.ascontiguousarray(points)), mode, stats)).numpy()

    return classify


# ---------------------------------------------------------------------------------------------
# the decision boundary under mini-batch statistics (the perturbation itself)


@torch.no_grad()
def replicate(net: SwitchableMLP, model: int, copies: int) -> SwitchableMLP:
    """A network of `copies` identical models, each a copy of `net`'s model `model` (to give each its own statistics)."""
    rep = SwitchableMLP(net.sizes, copies, seeds=list(range(copies)), slope=net.slope, eps=net.eps,
                        dtype=net.weights[0].dtype)
    for mine, theirs in zip(rep.parameters(), net.parameters(), strict=True):
        mine.copy_(theirs[model].expand_as(mine))
    return rep


@torch.no_grad()
def minibatch_statistics(rep: SwitchableMLP, x: np.ndarray, idx: np.ndarray) -> Stats:
    """BN statistics of copy k computed on the mini-batch x[idx[k]] (as "batch" mode uses them during training)."""
    return rep.statistics(torch.as_tensor(x[idx]))


def flip_rates(net: SwitchableMLP, model: int, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Per point of x (N, 2), the fraction of mini-batches idx (K, B) whose statistics change model `model`'s
    prediction from the one with the population statistics of x: (N,)."""
    rep = replicate(net, model, len(idx))
    xt = torch.as_tensor(x)
    reference = classifier(rep, "population", rep.statistics(xt))(x[None].repeat(len(idx), axis=0))
    jittered = classifier(rep, "population", minibatch_statistics(rep, x, idx))(x[None].repeat(len(idx), axis=0))
    return (jittered != reference).mean(axis=0)
