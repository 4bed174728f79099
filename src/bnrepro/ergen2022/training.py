"""Training the non-convex BN network of `convex` (docs/papers/ergen2022.md §1.1) with gradient descent or Adam.

Many independent networks train at once on a leading model axis (one per
seed and width), in float64 torch, on the GPU when one is present. The
objective is exactly `convex.objective` (sum squared loss, weight decay
beta/2 on gamma, alpha and a, none on W, full-batch BN without epsilon), so
every value compares with the convex optimum directly.

The trained parameters are PyTorch's: BatchNorm1d's weight and bias
(gamma_pt = gamma / sqrt(n), beta_pt = alpha / sqrt(n), docs/papers/ergen2022.md §1.1), so GD and
Adam follow the dynamics of a standard `Linear -> BatchNorm1d -> ReLU ->
Linear` network with weight decay beta * n on the BN parameters and beta on
the output layer. Initialization is PyTorch's default: W kaiming-uniform with
bound 1/sqrt(d), gamma_pt = 1, beta_pt = 0, a ~ U(-1/sqrt(m), 1/sqrt(m)); each
model's draw depends only on its seed and width.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from .convex import Network

__all__ = ["BNNetworks", "Trace", "train"]


class BNNetworks(torch.nn.Module):
    """M two-layer BN networks on a model axis: W (M, d, m), BN weight and bias (M, m), a (M, m, C).

    `widths` (one per model, default all m) switches off the neurons beyond a model's
    width (mask 0: no output, no penalty, no gradient), so different widths train in
    one batched run.
    """

    def __init__(self, d: int, width: int, seeds: list[int], n: int, outputs: int = 1, *, widths=None,
                 device="cpu"):
        super().__init__()
        widths = [width] * len(seeds) if widths is None else list(widths)
        if len(widths) != len(seeds) or not all(1 <= w <= width for w in widths):
            raise ValueError(f"widths must give one width in 1..{width} per seed, got {widths}")
        draws = []
        for seed, m in zip(seeds, widths, strict=True):
            g = torch.Generator().manual_seed(int(seed))
            W = torch.zeros(d, width, dtype=torch.float64)
            a = torch.zeros(width, outputs, dtype=torch.float64)
            W[:, :m] = (2 * torch.rand(d, m, generator=g, dtype=torch.float64) - 1) / math.sqrt(d)
            a[:m] = (2 * torch.rand(m, outputs, generator=g, dtype=torch.float64) - 1) / math.sqrt(m)
            draws.append((W, a))
        M = len(seeds)
        self.n = n
        self.register_buffer("mask", (torch.arange(width)[None] < torch.tensor(widths)[:, None]).double().to(device))
        self.W = torch.nn.Parameter(torch.stack([w for w, _ in draws]).to(device))
        self.bn_weight = torch.nn.Parameter(self.mask.clone())
        self.bn_bias = torch.nn.Parameter(torch.zeros(M, width, dtype=torch.float64, device=device))
        self.a = torch.nn.Parameter(torch.stack([a for _, a in draws]).to(device))

    @property
    def gamma(self):
        """gamma of the scaling of docs/papers/ergen2022.md §1.1, sqrt(n) * BatchNorm1d's weight (masked), (M, m)."""
        return math.sqrt(self.n) * self.bn_weight * self.mask

    @property
    def alpha(self):
        return math.sqrt(self.n) * self.bn_bias * self.mask

    def forward(self, X, X_stats=None):
        """Outputs (M, N, C) on rows X; BN statistics from X_stats (default: X itself, full batch)."""
        H = torch.einsum("nd,Mdm->Mnm", X, self.W)
        Hs = H if X_stats is None else torch.einsum("nd,Mdm->Mnm", X_stats, self.W)
        return self.head(H, Hs)

    def head(self, H, Hs=None):
        """Outputs (M, N, C) from the first layer's pre-activations H = X W (M, N, m): BN with the
        statistics of Hs (default H), ReLU, output layer."""
        Hs = H if Hs is None else Hs
        mean = Hs.mean(dim=1, keepdim=True)
        norm = (Hs - mean).norm(dim=1, keepdim=True).clamp_min(torch.finfo(H.dtype).tiny)  # masked columns are 0
        B = self.gamma[:, None] * (H - mean) / norm + self.alpha[:, None] / math.sqrt(self.n)
        return torch.relu(B) @ (self.a * self.mask[..., None])

    def objective(self, X, Y, beta, H=None):
        """1/2 ||f(X) - Y||^2 + beta/2 (||gamma||^2 + ||alpha||^2 + ||a||^2), per model (M,).
        H: the pre-activations X W when the caller has them (see `train`'s row space)."""
        residual = (self(X) if H is None else self.head(H)) - Y
        a = self.a * self.mask[..., None]
        penalty = self.gamma.square().sum(1) + self.alpha.square().sum(1) + a.square().sum((1, 2))
        return 0.5 * residual.square().sum((1, 2)) + 0.5 * beta * penalty

    def networks(self) -> list[Network]:
        """The models as numpy `convex.Network`s of their own width (a squeezed to (m,) for one output)."""
        out = []
        for i, keep in enumerate(self.mask.bool()):
            W, gamma, alpha, a = (t.detach()[i].cpu().numpy() for t in (self.W, self.gamma, self.alpha, self.a))
            keep = keep.cpu().numpy()
            a = a[keep]
            out.append(Network(W[:, keep], gamma[keep], alpha[keep], a[:, 0] if a.shape[1] == 1 else a))
        return out


@dataclass
class Trace:
    """Objective per model at every step (M, steps + 1), and the wall time (s) at every step of
    the batched run (all M models together; divide by M for a per-model cost)."""

    objective: np.ndarray
    seconds: np.ndarray

    @property
    def best(self) -> np.ndarray:
        """Lowest objective each model reached, (M,)."""
        return self.objective.min(axis=1)


def train(X, y, beta, *, width=None, seeds=None, widths=None, optimizer="adam", lr, steps, device="cpu",
          progress=True, net=None, row_space=True):
    """Train one network per seed (and width, see `BNNetworks`) on (X, y) by full-batch GD or Adam
    on the PyTorch parameters; returns (BNNetworks, Trace).

    y is (n,) or (n, C). The objective is evaluated at every step (it is the
    loss being minimized, so this costs nothing extra). `net` continues training
    given networks with a fresh optimizer (e.g. Adam at a smaller rate, to get
    below the noise floor of a fixed rate) instead of building new ones.

    row_space (GD only, used when n < d): GD's step on W is -lr X^T G, so W never leaves
    W0 + rowspace(X). Writing W = W0 + R^T Z with R an orthonormal basis of that row space and
    running GD on Z at the same lr is the same iteration (R^T R X^T = X^T), with matmuls of size
    n x r instead of n x d. The result agrees with GD on W up to float64 rounding. Adam's
    per-coordinate scaling does not commute with R, so Adam always trains W itself.
    """
    if optimizer not in ("adam", "gd"):
        raise ValueError(f"optimizer must be 'adam' or 'gd', got {optimizer!r}")
    X = torch.as_tensor(np.asarray(X, dtype=float), device=device)
    Y = torch.as_tensor(np.asarray(y, dtype=float), device=device)
    Y = Y[:, None] if Y.ndim == 1 else Y
    n, d = X.shape
    if net is None:
        if width is None or seeds is None:
            raise ValueError("train needs width and seeds, or a net to continue")
        net = BNNetworks(d, width, seeds, n, Y.shape[1], widths=widths, device=device)
    elif net.n != n:
        raise ValueError(f"net was built for n = {net.n} training rows, got {n}")
    width = net.W.shape[2]
    basis = _row_basis(X) if optimizer == "gd" and row_space else None
    if basis is not None:
        W0 = net.W.detach().clone()
        H0, XR = torch.einsum("nd,Mdm->Mnm", X, W0), X @ basis.T
        Z = torch.zeros(W0.shape[0], basis.shape[0], width, dtype=X.dtype, device=device, requires_grad=True)
        params = [Z, net.bn_weight, net.bn_bias, net.a]
    else:
        params = list(net.parameters())
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(params, lr=lr)
    values = torch.empty(len(net.mask), steps + 1, dtype=torch.float64, device=device)
    seconds = np.zeros(steps + 1)
    start = time.perf_counter()
    report = max(steps // 5, 1)
    for step in range(steps + 1):
        opt.zero_grad(set_to_none=True)
        obj = net.objective(X, Y, beta) if basis is None else net.objective(X, Y, beta, H=H0 + XR @ Z)
        values[:, step] = obj.detach()
        if step < steps:
            obj.sum().backward()  # models are independent: each gets its own gradient
            opt.step()
        if device != "cpu":
            torch.cuda.synchronize()
        seconds[step] = time.perf_counter() - start
        if progress and step and step % report == 0:
            print(f"  {optimizer} width {width}: step {step}/{steps}, objective min {obj.min().item():.6g}", flush=True)
    if basis is not None:
        with torch.no_grad():
            net.W.copy_(W0 + basis.T @ Z)
    return net, Trace(values.cpu().numpy(), seconds)


def _row_basis(X):
    """Orthonormal rows (n, d) spanning (at least) the row space of X when n < d, else None.

    A basis of a larger space is as exact (R^T R X^T = X^T still holds), so a reduced QR of X^T
    serves; torch's SVD is far slower here (seconds at 300 x 784)."""
    n, d = X.shape
    return torch.linalg.qr(X.T).Q.T if n < d else None
