"""Data: seeded synthetic generators (`synthetic`) and real datasets with the
fallback policy of DESIGN.md (`real`, imported lazily because it pulls in
torchvision)."""

from bnrepro.data.synthetic import gaussian_classification

__all__ = ["gaussian_classification"]
