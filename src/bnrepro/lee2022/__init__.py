"""Lee, Sim & Ye (2022): support vectors and gradient dynamics of a single ReLU neuron.

Only the abstracts were available (shared/papers/lee2022.md); `neuron` holds the
spec's derived formulation: the model, loss, its gradient flow (explicit Euler,
vectorized over seeds), the norm identity, active sets and their least-squares
limit, and seeded teacher data. Re-exported here.
"""

from .neuron import *
