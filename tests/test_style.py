"""The code stays lint-clean (ruff, configured in pyproject.toml)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
                    reason="ruff is not installed (pip install -c constraints.txt -e '.[dev]')")
def test_ruff_check_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff) if ruff.exists() else "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_in_the_repository_points_outside_it():
    """The papers' notes live in docs/papers/; a reader of a clone cannot follow a path to a folder beside it."""
    outside = re.compile(r"(\.\./)?shared/(DESIGN|papers|audits|hooks)|\bthe spec\b|\bspec's\b")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hits = [f"{name}:{n}: {line.strip()}" for name in files if name != "tests/test_style.py" and (ROOT / name).is_file()
            for n, line in enumerate((ROOT / name).read_text(errors="replace").splitlines(), 1) if outside.search(line)]
    assert not hits, "\n".join(hits)
