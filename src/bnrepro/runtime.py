"""Seeding, thread limits and device choice for one claim run.

The claim rule passes its `threads` to the notebook, whose `bnrepro.claims.open`
calls `setup` first: BLAS pools (through threadpoolctl) and torch use exactly
that many threads, so `snakemake --cores 8` can run jobs side by side without
oversubscription, and torch runs deterministic algorithms everywhere.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

_limits = None  # kept alive: threadpoolctl restores the old limits when collected


@dataclass(frozen=True)
class Runtime:
    threads: int
    device: str  # "cpu" or "cuda"


def setup(threads: int, *, use_gpu: bool = True) -> Runtime:
    """Limit every thread pool to `threads`; pick CUDA when present and wanted."""
    global _limits
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    _limits = threadpool_limits(limits=threads)
    device = "cpu"
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(threads)
        if use_gpu and torch.cuda.is_available():
            device = "cuda"
        deterministic(device)
    return Runtime(threads=threads, device=device)


def deterministic(device: str) -> None:
    """Deterministic torch kernels (an error, not a silent difference, where torch has none)."""
    import torch

    if device == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read when cuBLAS first starts
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)


def rngs(seeds: list[int]) -> list[np.random.Generator]:
    """One independent generator per seed; every random draw of a claim comes from these."""
    check_seeds(seeds)
    return [np.random.default_rng(seed) for seed in seeds]


def check_seeds(seeds) -> list[int]:
    if not isinstance(seeds, (list, tuple)) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of non-negative ints, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")
    return list(seeds)
