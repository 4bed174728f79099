"""Seeding, thread limits and device choice for one claim run.

The claim rule passes its `threads` to the notebook, whose `bnrepro.claims.open`
calls `setup` first: BLAS pools (through threadpoolctl) and torch use exactly
that many threads, so `snakemake --cores 8` can run jobs side by side without
oversubscription, and torch runs deterministic algorithms everywhere.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

_limits = None  # kept alive: threadpoolctl restores the old limits when collected


@dataclass(frozen=True)
class Runtime:
    threads: int
    device: str  # "cpu" or "cuda"


def setup(threads: int, *, use_gpu: bool = True) -> Runtime:
    """Limit every thread pool to `threads`; pick CUDA when present and wanted.

    A claim that has not imported torch by now (its library is numpy only) runs on the CPU and is spared torch's
    import (about 2 CPU seconds); should torch be imported later after all, it is configured the same way then.
    """
    global _limits
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    _limits = threadpool_limits(limits=threads)
    if "torch" in sys.modules:
        return Runtime(threads=threads, device=_configure_torch(sys.modules["torch"], threads, use_gpu))
    if importlib.util.find_spec("torch") is not None and not any(isinstance(f, _ConfigureTorchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _ConfigureTorchOnImport(threads))
    return Runtime(threads=threads, device="cpu")


def _configure_torch(torch, threads: int, use_gpu: bool) -> str:
    torch.set_num_threads(threads)
    device = "cuda" if use_gpu and torch.cuda.is_available() else "cpu"
    deterministic(device)
    return device


class _ConfigureTorchOnImport(importlib.abc.MetaPathFinder):
    """Configures torch (threads, deterministic CPU kernels) right after its first import, before any use."""

    def __init__(self, threads: int):
        self.threads = threads

    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            _configure_torch(module, self.threads, use_gpu=False)

        spec.loader.exec_module = exec_module
        return spec


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
