"""Lee, Sim & Ye (2022, arXiv 2202.05510): support vectors and gradient dynamics of a single ReLU neuron.

Only the abstracts were available (see `docs/papers/lee2022.md`); `neuron` holds our
derived formulation: the model, loss, its gradient flow (explicit Euler,
vectorized over seeds), the norm identity, active sets and their least-squares
limit, and seeded teacher data. Re-exported here. Modules of their own: `monotone`
(norm increase on thousands of seeds), `support` (support vectors and the limit),
`init_order` (which moves first, the direction or the norm) and `convergence` (where
d = 2 runs end: converged, or certified trapped at w -> 0).
"""

from . import convergence as convergence
from . import init_order as init_order
from . import monotone as monotone
from . import support as support
from .neuron import *
