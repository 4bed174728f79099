"""Checks and verdicts (DESIGN.md, "Verdicts").

A notebook builds one `Verdict`, adds checks (an observed number against a
threshold), deviations and figures, and calls `write`. The status is derived
from the checks, never typed. Two files are written atomically:

- ``<paper>-<slug>.json``: the verdict, a pure function of code + config, so
  two runs on one machine give identical bytes;
- ``<paper>-<slug>.run.json``: what varies from run to run (wall time, threads,
  device, versions, and the notebook's own `timing`s). The claims table shows both.
"""

from __future__ import annotations

import json
import math
import operator
import os
import platform
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PAPERS = ("cao2023", "balestriero2022", "lee2022", "ergen2022", "luo2019")
CLAIM_ID = re.compile(r"^(?P<paper>[a-z0-9]+)/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
STATUSES = ("reproduced", "partial", "not-reproduced", "error")
OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}


def split_id(claim_id: str) -> tuple[str, str]:
    match = CLAIM_ID.match(claim_id)
    if not match or match["paper"] not in PAPERS:
        raise ValueError(f"bad claim id {claim_id!r}: expected '<paper>/<slug>' with paper in {PAPERS}")
    return match["paper"], match["slug"]


def verdict_path(claim_id: str, root: str | Path = "results/claims") -> Path:
    paper, slug = split_id(claim_id)
    return Path(root) / f"{paper}-{slug}.json"


def run_record_path(verdict: str | Path) -> Path:
    return Path(verdict).with_suffix(".run.json")


@dataclass(frozen=True)
class Check:
    name: str
    observed: float
    op: str
    threshold: float
    essential: bool = True

    @property
    def passed(self) -> bool:
        return not math.isnan(self.observed) and OPS[self.op](self.observed, self.threshold)

    def __str__(self) -> str:
        tag = "" if self.essential else " (non-essential)"
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.name}: {self.observed:.4g} {self.op} {self.threshold:.4g}{tag}"

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "observed": _number(self.observed),
            "op": self.op,
            "threshold": _number(self.threshold),
            "essential": self.essential,
            "passed": self.passed,
        }


def status_of(checks: list[Check]) -> str:
    if not checks:
        raise ValueError("a verdict needs at least one check")
    if all(c.passed for c in checks):
        return "reproduced"
    if all(c.passed for c in checks if c.essential) and any(c.essential for c in checks):
        return "partial"
    return "not-reproduced"


@dataclass
class Verdict:
    """Collects the result of one claim notebook; `write` turns it into JSON."""

    id: str
    statement: str
    source: str
    scale: str
    seeds: list[int]
    dataset: dict = field(default_factory=lambda: synthetic())
    checks: list[Check] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter, repr=False)

    def __post_init__(self):
        self.paper, _ = split_id(self.id)

    def check(self, name: str, observed, op: str, threshold, *, essential: bool = True) -> None:
        """Record `observed op threshold` and print its outcome (so it shows where it is made)."""
        if op not in OPS:
            raise ValueError(f"unknown comparison {op!r}; use one of {sorted(OPS)}")
        chk = Check(name, float(observed), op, float(threshold), essential)
        self.checks.append(chk)
        print(chk)

    def measure(self, name: str, value) -> None:
        """A computed number worth reporting that is not itself a pass/fail check."""
        self.measurements[name] = float(value)

    def timing(self, name: str, seconds) -> None:
        """A measured wall time (s): it varies between runs, so it goes to the run record, not the verdict."""
        self.timings[name] = round(float(seconds), 3)

    def deviation(self, text: str) -> None:
        self.deviations.append(text)

    @property
    def status(self) -> str:
        return status_of(self.checks)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "paper": self.paper,
            "statement": self.statement,
            "source": self.source,
            "status": self.status,
            "checks": [c.as_dict() for c in self.checks],
            "measurements": {k: _number(v) for k, v in self.measurements.items()},
            "deviations": self.deviations,
            "dataset": self.dataset,
            "scale": self.scale,
            "seeds": [int(s) for s in self.seeds],
            "figures": sorted(self.figures),
        }

    def summary(self) -> str:
        """A plain-text table of the checks, for the notebook's last output."""
        return "\n".join([f"{self.id}: {self.status.upper()}"] + [f"  {c}" for c in self.checks])

    def write(self, path: str | Path, *, threads: int | None = None, device: str | None = None) -> Path:
        """Write the verdict and this run's record atomically; returns the verdict path."""
        path = Path(path)
        expected = verdict_path(self.id, path.parent)
        if path.name != expected.name:
            raise ValueError(f"verdict for {self.id} must be named {expected.name}, got {path.name}")
        for fig in self.figures:
            if not Path(fig).is_file():
                raise FileNotFoundError(f"verdict lists figure {fig}, which was not written")
        run = {
            "id": self.id,
            "runtime_s": round(time.perf_counter() - self.started, 2),
            "threads": threads,
            "device": device,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "timings": self.timings,
        }
        _atomic_write_json(run_record_path(path), run)
        _atomic_write_json(path, self.as_dict())
        return path


def synthetic() -> dict:
    return {"requested": "synthetic", "used": "synthetic", "substituted": False, "reason": None}


def read(path: str | Path) -> dict:
    """Read and validate one verdict file (raises ValueError naming the file and the problem)."""
    data = json.loads(Path(path).read_text())
    missing = {"id", "paper", "statement", "source", "status", "checks", "dataset", "scale", "seeds"} - data.keys()
    if missing:
        raise ValueError(f"{path}: verdict lacks {sorted(missing)}")
    checks = [Check(c["name"], float(c["observed"]), c["op"], float(c["threshold"]), c["essential"]) for c in data["checks"]]
    if data["status"] != status_of(checks):
        raise ValueError(f"{path}: status {data['status']!r} does not follow from its checks")
    return data


def _number(x: float):
    """JSON has no inf/nan: keep them readable as strings."""
    return x if math.isfinite(x) else str(x)


def _atomic_write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
