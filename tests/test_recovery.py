"""A run killed mid-claim (SIGKILL to its whole process group) recovers by itself on the next run, with the same
bytes as a run never interrupted; a second run beside a running one is refused with a clear message."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bnrepro import claims
from conftest import copy_checkout, demo_entry, snakemake

# A claim that waits, mid-notebook, until the test lets it finish: the kill lands inside a running claim.
WAITING_NOTEBOOK = '''# %% tags=["parameters"]
claim_id = "lee2022/demo-waits"
scale = "quick"
seed_offset = 0
seeds = [0]
threads = 1

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt

from bnrepro import claims

verdict = claims.open(claim_id, statement="s", source="demo", evidence="abstract", scale=scale, seeds=seeds,
                      threads=threads, seed_offset=seed_offset)
Path("results/started").touch()
while not Path("results/go").exists():
    time.sleep(0.1)
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
verdict.figure(fig, "line")
verdict.check("one is positive", 1.0, ">", 0.0, kind="claim")
verdict.finish()
'''


def _checkout(tmp_path: Path) -> Path:
    root = copy_checkout(tmp_path)
    (root / "notebooks/lee2022/demo_waits.py").write_text(WAITING_NOTEBOOK)
    entry = demo_entry("notebooks/lee2022/demo_waits.py")
    (root / "config/config.yaml").write_text(yaml.safe_dump({"scale": "quick", "claims": {"lee2022/demo-waits": entry}}))
    (root / "results").mkdir()
    return root


def _start(root: Path) -> subprocess.Popen:
    """A pipeline run in its own process group, once its claim is running (the notebook has started)."""
    run = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1"], cwd=root, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not (root / "results/started").exists():
        assert run.poll() is None, "the run ended before its claim started"
        assert time.monotonic() < deadline, "the claim did not start within 3 minutes"
        time.sleep(0.2)
    return run


def _outputs(root: Path) -> dict[str, bytes]:
    """Verdicts, figures and rendered notebooks (the tables quote each claim's wall time, which differs)."""
    paths = [*root.glob("results/claims/*.json"), *root.glob("figures/**/*.*"), *root.glob("results/notebooks/*.*")]
    assert paths
    return {str(p.relative_to(root)): p.read_bytes() for p in paths if ".run." not in p.name}


@pytest.mark.slow
def test_a_run_killed_mid_claim_recovers_by_itself_with_the_bytes_of_an_uninterrupted_run(tmp_path):
    clean = _checkout(tmp_path / "clean")
    (clean / "results/go").touch()
    assert snakemake(clean, "--cores", "1").returncode == 0

    killed = _checkout(tmp_path / "killed")
    run = _start(killed)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert list((killed / ".snakemake/locks").glob("*")), "the killed run left no lock: nothing was tested"
    assert not (killed / "results/claims/lee2022-demo-waits.json").exists()
    time.sleep(3)  # the orphaned kernel notices its parent is gone and exits
    (killed / "results/go").touch()
    again = snakemake(killed, "--cores", "1")
    assert again.returncode == 0, again.stderr
    assert "removed the stale lock of an interrupted run" in again.stderr
    assert _outputs(killed) == _outputs(clean)


@pytest.mark.slow
def test_a_second_run_beside_a_running_one_is_refused_naming_it(tmp_path):
    root = _checkout(tmp_path)
    first = _start(root)
    try:
        second = snakemake(root, "--cores", "1")
        assert second.returncode != 0
        assert "another Snakemake run is working in this checkout (pid" in second.stderr, second.stderr
        assert "a second run at once is refused" in second.stderr
        (root / "results/go").touch()
        assert first.wait(timeout=300) == 0
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert claims.read(root / "results/claims/lee2022-demo-waits.json")["status"] == "reproduced"


def test_a_snakemake_call_that_times_out_leaves_no_job_running(tmp_path):
    """The tests' `snakemake` helper kills Snakemake's whole process group on a timeout, jobs included."""
    marker = f"sleep {30 + os.getpid() % 1000}"  # a command line no other process has
    (tmp_path / "Snakefile").write_text(f'rule a:\n    output: "x"\n    shell: "{marker} & {marker}; touch x"\n')
    with pytest.raises(subprocess.TimeoutExpired):
        snakemake(tmp_path, "--cores", "1", timeout=5)
    time.sleep(0.5)
    assert subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout == ""
