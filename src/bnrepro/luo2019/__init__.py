"""Luo, Wang, Shao & Peng (ICLR 2019): regularization in batch normalization.

Only the abstract and Eq. (1) were available (docs/papers/luo2019.md);
`decomposition` holds our derived BN = PN + gamma-decay formulation and its
paired Monte Carlo, `neuron` the teacher-student single-neuron students trained by
SGD (batched over seeds, batch sizes, sample ratios and variants), `cnn` the small
switchable-normalization CNN of the CNN claim and `mlp` the learning-rate sweep of the
learning-rate claim (neither star-exported: their names overlap).
"""

from . import cnn as cnn
from . import decomposition as decomposition
from . import mlp as mlp
from . import neuron as neuron
from .decomposition import *
from .neuron import *
