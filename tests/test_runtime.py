"""Thread limits, device choice and seeding."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from bnrepro import runtime
from bnrepro.data import gaussian_classification


def test_setup_limits_every_pool_and_picks_the_device():
    rt = runtime.setup(1)
    assert rt.threads == 1 and torch.get_num_threads() == 1
    assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert rt.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert runtime.setup(1, use_gpu=False).device == "cpu"
    with pytest.raises(ValueError, match="threads must be a positive int"):
        runtime.setup(0)


def test_a_claim_without_torch_is_spared_its_import_and_torch_imported_later_is_configured_on_import():
    code = """
import sys
from bnrepro import runtime
rt = runtime.setup(1)
assert rt.device == "cpu" and "torch" not in sys.modules, rt
import torch
assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert done.stdout.strip() == "ok", done.stderr


def test_seeds_are_validated():
    for bad in ([], [0, 0], [-1], "0", [1.5]):
        with pytest.raises(ValueError, match="seeds must"):
            runtime.rngs(bad)


def test_each_seed_draws_the_same_data_whatever_else_runs():
    X, y, w0 = gaussian_classification([0, 5], n=6, d=4)
    X5, y5, w05 = gaussian_classification([5], n=6, d=4)
    np.testing.assert_array_equal(X[1], X5[0])
    np.testing.assert_array_equal(y[1], y5[0])
    np.testing.assert_array_equal(w0[1], w05[0])
    assert not np.array_equal(X[0], X[1])
    assert set(np.unique(y)) <= {-1.0, 1.0}
