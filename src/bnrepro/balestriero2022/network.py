"""Networks whose normalization can be switched: moved to `bnrepro.nets` (shared by several papers).

This module re-exports them so that existing imports keep working unchanged.
"""

from bnrepro.nets import (
    MODES,
    Stats,
    SwitchableMLP,
    concat_models,
    leaky_relu,
    mask_affine_gradients,
)

__all__ = ["MODES", "Stats", "SwitchableMLP", "concat_models", "leaky_relu", "mask_affine_gradients"]
