import os
import signal
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def copy_checkout(dest: Path) -> Path:
    """Copy the project's files (tracked or new, not ignored) into `dest`: a clean checkout to run Snakemake in."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src, dst = ROOT / name.decode(), dest / name.decode()
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
    return dest


def snakemake(cwd: Path, *args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run Snakemake in `cwd`; `env` adds variables to this process's environment. Snakemake runs in a process group
    of its own, which a timeout kills whole: its notebook jobs and their kernels do not outlive the test."""
    command = [sys.executable, "-m", "snakemake", *args]
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, **env} if env else None, start_new_session=True) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def two_linear_classifiers():
    """Two linear classifiers on 60 uniform 2-D points each, the first five points of each misclassified:
    (points, weights, biases, scores, labels) for tests of grid margins against the exact distance."""
    import numpy as np

    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 60, 2))
    w = np.array([[1.0, 2.0], [-3.0, 0.5]])
    b = np.array([0.1, -0.2])
    score = np.einsum("mnd,md->mn", x, w) + b[:, None]
    y = (score > 0).astype(int)
    y[:, :5] = 1 - y[:, :5]  # five misclassified points per model
    return x, w, b, score, y


def demo_notebook(claim_id: str) -> str:
    """A minimal claim notebook (jupytext percent format): one claim check that passes."""
    return DEMO_NOTEBOOK.replace("{claim_id}", claim_id)


DEMO_NOTEBOOK = '''# %% tags=["parameters"]
claim_id = "{claim_id}"
scale = "quick"
seed_offset = 0
seeds = [0]
threads = 1

# %%
from bnrepro import claims
verdict = claims.open(claim_id, statement="s", source="demo", evidence="abstract", scale=scale, seeds=seeds,
                      threads=threads, seed_offset=seed_offset)
verdict.check("one is positive", 1.0, ">", 0.0, kind="claim")
verdict.finish()
'''


def demo_entry(notebook: str) -> dict:
    """A registry entry for a test's own demo notebook: one thread, seed 0 at both scales."""
    return {"notebook": notebook, "threads": 1, "params": {"paper": {"seeds": [0]}, "quick": {"seeds": [0]}}}


@pytest.fixture(scope="session")
def checkout(tmp_path_factory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("checkout"))
