"""Mini-batch SGD for a `SwitchableMLP`: moved to `bnrepro.nets` (shared by several papers).

This module re-exports it so that existing imports keep working unchanged.
"""

from bnrepro.nets import accuracy, loss_fn, predict, sgd

__all__ = ["accuracy", "loss_fn", "predict", "sgd"]
