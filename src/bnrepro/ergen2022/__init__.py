"""Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci (ICLR 2022),
"Demystifying Batch Normalization in ReLU Networks": equivalent convex models.

- `convex`: the two-layer ReLU network with full-batch BN before the ReLU,
  the whitening U' = [U, 1/sqrt(n)], hyperplane arrangements of U' (exact
  for d <= 2, sampled otherwise), the group-lasso convex program (cvxpy +
  Clarabel), weight recovery and the n <= d closed form. Re-exported here.

The paper's body was not available: the convex formulation is a derivation
from the problem statement, checked numerically, not a transcription (see
the `convex` docstring and shared/papers/ergen2022.md).
"""

from .convex import *
