"""Cao, Zou, Li & Gu (COLT 2023): the implicit bias of batch normalization in
linear models and two-layer linear CNNs.

- `model`: the BN linear model and the single-filter linear CNN (Sections 2
  and 3.1), gradient descent on them, margins, the exact max-margin and
  uniform-margin comparators. Re-exported here.
- `examples`: the data distributions of Examples 3.1 and 3.2 and their test
  errors (Section 3.2, Theorems 3.3 and 3.4).
- `deep`: the deep-network uniformity metric of Figure 2 (Appendix B).
- `uniform`: the uniform-margin experiment of Theorem 2.2 on many seeds (rate fits, no-BN rate, init sweep).
"""

from .model import *

from . import uniform as uniform
