"""Which moves first from a given init norm, the direction or the norm (Lee, Sim & Ye 2022, arXiv 2202.05510).

Our formulation (see `docs/papers/lee2022.md`): one ReLU neuron, square loss, teacher labels y = relu(v^T x), the
gradient flow integrated by explicit Euler (`neuron.flow`). Per run, with theta(t) the angle between w(t) and v,
the *alignment-first index* alpha = 1 - theta(t_b) / theta(0) is the fraction of the initial angle closed at the
first time t_b at which ||w|| has made half of its total change ||w_0|| -> ||w_T|| (`neuron.alignment_first`).
The run is *direction-first* when alpha >= 1/2 (the angle has made half of its way to v before the norm has made
half of its change) and *norm-first* otherwise.

For small w the flow is dw/dt ~ (1/n) sum_{i in A} y_i x_i, independent of ||w||: the direction turns at a rate
~ 1/||w|| while the norm grows at a rate O(1), so a small init should be direction-first. From a large init the
residuals z_i - y_i ~ z_i make dw/dt ~ -M_A w, which for isotropic data shrinks w nearly along itself (the direction
is turned only by the O(1/||w||) teacher term), so a large init should be norm-first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnrepro import stats

from .neuron import alignment_first, init_norm_sweep

__all__ = ["InitOrder", "init_norm_order"]


@dataclass
class InitOrder:
    """Per (init norm, seed), arrays (K, S): alpha (the alignment-first index), cos_first (cos(w, v) > align_cos
    before ||w|| > 1/2, the older record), final_loss, final_cos (cos(w_T, v))."""

    norms: list
    alpha: np.ndarray
    cos_first: np.ndarray
    final_loss: np.ndarray
    final_cos: np.ndarray

    @property
    def direction_first(self):
        return self.alpha >= 0.5


def init_norm_order(seeds: list[int], n: int, d: int, norms, *, eta: float, steps: int, record_every: int = 1,
                    align_cos: float = 0.99) -> InitOrder:
    """Run every (init norm, seed) pair (same data and initial direction per seed; `neuron.init_norm_sweep`) and
    reduce each trajectory to the order of its phases. Only the reductions are kept (the trajectory is dropped)."""
    f, vv, _ = init_norm_sweep(seeds, n, d, norms, eta=eta, steps=steps, record_every=record_every)
    K, S = len(norms), len(seeds)
    cos = stats.cosine(f.w, vv[None])
    t_align = f.first_time(-align_cos, -cos)
    t_norm = f.first_time(-0.5, -f.norm)
    return InitOrder(
        norms=list(norms),
        alpha=alignment_first(f.w, vv).reshape(K, S),
        cos_first=(t_align < t_norm).reshape(K, S),
        final_loss=f.loss[-1].reshape(K, S),
        final_cos=cos[-1].reshape(K, S),
    )
