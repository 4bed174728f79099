"""Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci (ICLR 2022),
"Demystifying Batch Normalization in ReLU Networks": equivalent convex models.

- `convex`: the two-layer ReLU network with full-batch BN before the ReLU,
  the whitening U' = [U, 1/sqrt(n)] (and its top-k truncation, test-time
  features, spectral energy), hyperplane arrangements of U' (exact for
  d <= 2, sampled otherwise), the group-lasso convex program (cvxpy +
  Clarabel, optionally with a weighted penalty), weight recovery and the
  n <= d closed form. Re-exported here.
- `training`: the same network in torch, many seeds at once, trained by
  full-batch GD or Adam (the non-convex baseline).

The paper's body was not available: the convex formulation is a derivation
from the problem statement, checked numerically, not a transcription (see
the `convex` docstring and docs/papers/ergen2022.md).
"""

from . import bias as bias
from . import implicit_reg as implicit_reg
from . import training as training
from .convex import *
