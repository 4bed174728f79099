"""Lee, Sim & Ye (2022): support vectors and gradient dynamics of a single ReLU neuron.

Only the abstracts were available (see docs/papers/lee2022.md); `neuron` holds our
derived formulation: the model, loss, its gradient flow (explicit Euler,
vectorized over seeds), the norm identity, active sets and their least-squares
limit, and seeded teacher data. Re-exported here. Modules of their own:
`support` (support vectors and the limit), `monotone` (norm increase, thousands of seeds).
"""

from .neuron import *
from . import support  # noqa: F401, E402
from . import monotone  # noqa: F401, E402
