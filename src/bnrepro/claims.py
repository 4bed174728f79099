"""Claim context, checks and verdicts (version 2: what a reviewer can trust).

A notebook opens its claim with `open` (threads, device, output paths, the verdict), records the dataset
it used with `Verdict.use_dataset`, saves figures with `Verdict.figure`, adds checks, and closes with
`Verdict.finish`, which writes the verdict and prints its summary. The status is derived, never typed:

- every check has one **kind**: ``claim`` (measures one *part* of the paper's statement), ``control`` (the
  same measurement where the effect should be absent: if it fails, its part cannot be decided), ``regime``
  (a precondition: the stand-in reaches the paper's setting), ``sanity`` (an identity that fails only on a
  bug: never evidence, a failure makes the verdict ``error``), ``erratum`` (an inconsistency in the paper:
  reported, never decides anything);
- a check aggregated over seeds is given the per-seed values and an `aggregate`: ``fraction`` (exact
  binomial interval), ``mean`` (t interval; pass paired differences for a mean difference), ``median``
  (BCa bootstrap, fixed generator); ``min``/``max`` are worst cases without an interval. Its decision is
  ``pass``/``fail`` when the whole interval is on one side of the threshold, ``undecided`` otherwise;
- a part is ``reproduced`` (all claim checks and its controls pass), ``not-reproduced`` (a claim check
  fails, its controls pass) or ``inconclusive``; the claim is ``error`` (a sanity check failed), else
  ``inconclusive`` (a regime check did not pass, or no part is decided), else ``reproduced`` /
  ``not-reproduced`` when every decided part agrees and none is left undecided, ``partial`` when some part is
  reproduced and another is not. ``reason`` names the check that decided it.

Two files are written atomically: ``<paper>-<slug>.json`` (a pure function of code + config: byte-identical
between runs on one machine) and ``<paper>-<slug>.run.json`` (wall time, threads, device, `timing`s).
"""

from __future__ import annotations

import json
import math
import operator
import os
import platform
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bnrepro import stats

VERSION = 2
PAPERS = ("cao2023", "balestriero2022", "lee2022", "ergen2022", "luo2019")
CLAIM_ID = re.compile(r"^(?P<paper>[a-z0-9]+)/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
KINDS = ("claim", "control", "regime", "sanity", "erratum")
PART_STATUSES = ("reproduced", "not-reproduced", "inconclusive")
EVIDENCE = ("full-text", "abstract")
OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
INTERVAL_AGGREGATES = ("fraction", "mean", "median")
AGGREGATES = (*INTERVAL_AGGREGATES, "min", "max")
DEFAULT_PART = "main"


def split_id(claim_id: str) -> tuple[str, str]:
    match = CLAIM_ID.match(claim_id)
    if not match or match["paper"] not in PAPERS:
        raise ValueError(f"bad claim id {claim_id!r}: expected '<paper>/<slug>' with paper in {PAPERS}")
    return match["paper"], match["slug"]


def results_root(seed_offset: int = 0, base: str | Path = "results") -> Path:
    """results/ for the main run; results/replicates/K/ for the replicate with every seed shifted by K."""
    return Path(base) if seed_offset == 0 else Path(base) / "replicates" / str(seed_offset)


def figures_dir(claim_id: str, seed_offset: int = 0) -> Path:
    paper, slug = split_id(claim_id)
    root = Path("figures") if seed_offset == 0 else Path("figures/replicates") / str(seed_offset)
    return root / paper / slug


def verdict_path(claim_id: str, root: str | Path | None = None, *, seed_offset: int = 0) -> Path:
    paper, slug = split_id(claim_id)
    root = results_root(seed_offset) / "claims" if root is None else Path(root)
    return root / f"{paper}-{slug}.json"


def run_record_path(verdict: str | Path) -> Path:
    return Path(verdict).with_suffix(".run.json")


# ---------------------------------------------------------------------------------------------
# Checks and decisions


def decide(op: str, threshold: float, low: float, high: float, tolerance: float = 0.0) -> str:
    """`pass` when all of [low - tol, high + tol] satisfies `op threshold`, `fail` when none of it does."""
    if math.isnan(low) or math.isnan(high):
        return "undecided"
    compare = OPS[op]
    low, high = low - tolerance, high + tolerance
    upward = op in (">=", ">")
    worst, best = (low, high) if upward else (high, low)
    if compare(worst, threshold):
        return "pass"
    if not compare(best, threshold):
        return "fail"
    return "undecided"


@dataclass(frozen=True)
class Check:
    name: str
    kind: str
    observed: float
    op: str
    threshold: float
    part: str | None = None
    aggregate: str | None = None
    n: int | None = None
    interval: tuple[float, float] | None = None
    confidence: float | None = None
    tolerance: float = 0.0
    shadow: Check | None = None
    decision: str = field(init=False)
    rounding_sensitive: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"check {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.op not in OPS:
            raise ValueError(f"check {self.name!r}: unknown comparison {self.op!r}; use one of {sorted(OPS)}")
        if self.aggregate is not None and self.aggregate not in AGGREGATES:
            raise ValueError(f"check {self.name!r}: aggregate {self.aggregate!r} is not one of {AGGREGATES}")
        if (self.aggregate in INTERVAL_AGGREGATES) != (self.interval is not None) or (self.aggregate is None) != (self.n is None):
            raise ValueError(f"check {self.name!r}: an aggregated check needs n (and an interval unless it is a worst case)")
        if self.part is not None and self.kind in ("regime", "sanity", "erratum"):
            raise ValueError(f"check {self.name!r}: a {self.kind} check belongs to the whole claim, not to part {self.part!r}")
        low, high = self.interval if self.interval is not None else (self.observed, self.observed)
        decision = decide(self.op, self.threshold, low, high, self.tolerance)
        # a decision its rounding shadow reads otherwise depends on float rounding: another machine could flip it
        sensitive = self.shadow is not None and self.shadow.decision != decision
        if sensitive:
            decision = "undecided"
        if self.kind == "sanity" and decision == "undecided":
            decision = "fail"  # an identity that cannot be evaluated is a broken implementation
        object.__setattr__(self, "decision", decision)
        object.__setattr__(self, "rounding_sensitive", sensitive)

    @classmethod
    def aggregated(cls, name, kind, values, op, threshold, *, aggregate, part=None, confidence=0.95, tolerance=0.0,
                   shadow=None):
        """A check over per-seed `values` (booleans for a fraction), with its n and interval."""
        if shadow is not None:
            shadow = cls.aggregated(name, kind, shadow, op, threshold, aggregate=aggregate, part=part,
                                    confidence=confidence, tolerance=tolerance)
        values = np.asarray(values, dtype=float).ravel()
        if values.size == 0:
            raise ValueError(f"check {name!r}: no per-seed values")
        n = int(values.size)
        interval = None
        if not np.isfinite(values).all():
            observed = math.nan
            if aggregate in INTERVAL_AGGREGATES:
                interval = (math.nan, math.nan)
        elif aggregate == "fraction":
            if not np.isin(values, (0.0, 1.0)).all():
                raise ValueError(f"check {name!r}: a fraction needs booleans, got {values[:5]}...")
            observed = float(values.mean())
            interval = stats.binomial_interval(int(values.sum()), n, confidence)
        elif aggregate == "mean":
            observed, interval = float(values.mean()), stats.t_interval(values, confidence)
        elif aggregate == "median":
            observed, interval = float(np.median(values)), stats.bootstrap_interval(values, np.median, confidence)
        elif aggregate in ("min", "max"):
            observed = float(values.min() if aggregate == "min" else values.max())
        else:
            raise ValueError(f"check {name!r}: aggregate {aggregate!r} is not one of {AGGREGATES}")
        return cls(name, kind, observed, op, float(threshold), part, aggregate, n, interval,
                   confidence if interval is not None else None, float(tolerance), shadow)

    def __str__(self) -> str:
        where = f"{self.kind}" + (f"/{self.part}" if self.part else "")
        text = f"[{self.decision.upper():9s}] ({where}) {self.name}: {self.observed:.4g} {self.op} {self.threshold:.4g}"
        if self.interval is not None:
            text += f", {100 * self.confidence:.4g}% interval [{self.interval[0]:.4g}, {self.interval[1]:.4g}]"
        if self.n is not None:
            text += f", n={self.n}" + (f" ({self.aggregate})" if self.interval is None else "")
        if self.tolerance:
            text += f", tolerance {self.tolerance:.2g}"
        if self.shadow is not None:
            text += f"; rounding shadow {self.shadow.observed:.4g} ({self.shadow.decision})"
        return text

    def as_dict(self) -> dict:
        out = {"name": self.name, "kind": self.kind}
        if self.part is not None:
            out["part"] = self.part
        out.update(observed=_number(self.observed), op=self.op, threshold=_number(self.threshold))
        if self.aggregate is not None:
            out.update(aggregate=self.aggregate, n=self.n)
        if self.interval is not None:
            out.update(interval=[_number(x) for x in self.interval], confidence=self.confidence)
        if self.tolerance:
            out["tolerance"] = self.tolerance
        if self.shadow is not None:
            out["shadow"] = {k: v for k, v in self.shadow.as_dict().items() if k in ("observed", "interval", "decision")}
        out["decision"] = self.decision
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Check:
        interval = data.get("interval")
        shadow = data.get("shadow")
        if shadow is not None:
            shadow = cls.from_dict({**data, **shadow, "shadow": None})
            if shadow.decision != data["shadow"]["decision"]:
                raise ValueError(f"check {data['name']!r}: its shadow's decision does not follow from the shadow's numbers")
        return cls(
            data["name"], data["kind"], float(data["observed"]), data["op"], float(data["threshold"]),
            data.get("part"), data.get("aggregate"), data.get("n"),
            tuple(float(x) for x in interval) if interval is not None else None, data.get("confidence"),
            float(data.get("tolerance", 0.0)), shadow,
        )


# ---------------------------------------------------------------------------------------------
# Status: parts, then the claim


@dataclass(frozen=True)
class Judgement:
    status: str
    reason: str
    parts: list[dict]


def _failing(checks, decisions=("fail", "undecided")):
    return [c for c in checks if c.decision in decisions]


def _describe(check: Check) -> str:
    if check.rounding_sensitive:
        return (f"'{check.name}': {check.observed:.3g} {check.op} {check.threshold:.3g} is decided one way and its "
                f"rounding shadow ({check.shadow.observed:.3g}) the other: it depends on float rounding")
    if check.decision == "undecided" and check.interval is not None:
        return f"'{check.name}': interval [{check.interval[0]:.3g}, {check.interval[1]:.3g}] straddles {check.op} {check.threshold:.3g}"
    if check.decision == "undecided":
        return f"'{check.name}': {check.observed:.3g} is within the tolerance of {check.op} {check.threshold:.3g}"
    return f"'{check.name}' {check.decision}s ({check.observed:.3g} {check.op} {check.threshold:.3g})"


def judge_part(name: str, checks: list[Check]) -> dict:
    claim = [c for c in checks if c.kind == "claim" and (c.part or DEFAULT_PART) == name]
    controls = [c for c in checks if c.kind == "control" and c.part in (None, name)]
    if bad := _failing(controls):
        return {"name": name, "status": "inconclusive", "reason": f"control {_describe(bad[0])}: the measurement cannot discriminate"}
    if bad := _failing(claim, ("fail",)):
        return {"name": name, "status": "not-reproduced", "reason": f"claim check {_describe(bad[0])}"}
    if bad := _failing(claim, ("undecided",)):
        return {"name": name, "status": "inconclusive", "reason": f"claim check {_describe(bad[0])}"}
    return {"name": name, "status": "reproduced", "reason": f"{len(claim)} claim check(s) and {len(controls)} control(s) pass"}


def judge(checks: list[Check]) -> Judgement:
    """The status of a claim from its checks (DESIGN.md, "Verdicts (version 2)")."""
    names = list(dict.fromkeys(c.part or DEFAULT_PART for c in checks if c.kind == "claim"))
    if not names:
        raise ValueError("a verdict needs at least one claim check")
    orphans = sorted({c.part for c in checks if c.kind == "control" and c.part is not None} - set(names))
    if orphans:
        raise ValueError(f"controls name part(s) {orphans} that have no claim check; parts are {names}")
    parts = [judge_part(name, checks) for name in names]
    if bad := _failing([c for c in checks if c.kind == "sanity"]):
        return Judgement("error", f"sanity check {_describe(bad[0])}: the implementation is wrong", parts)
    if bad := _failing([c for c in checks if c.kind == "regime"]):
        return Judgement("inconclusive", f"out of regime: regime check {_describe(bad[0])}", parts)
    by_status = {s: [p for p in parts if p["status"] == s] for s in PART_STATUSES}
    label = lambda p: f"part '{p['name']}'" if len(parts) > 1 else "the claim"  # noqa: E731
    if len(by_status["reproduced"]) == len(parts):
        return Judgement("reproduced", "every claim check and control passes", parts)
    if by_status["reproduced"]:
        other = (by_status["not-reproduced"] or by_status["inconclusive"])[0]
        return Judgement("partial", f"{label(other)} is {other['status']}: {other['reason']}", parts)
    if by_status["not-reproduced"]:
        first = by_status["not-reproduced"][0]
        rest = f"; {len(by_status['inconclusive'])} part(s) inconclusive" if by_status["inconclusive"] else ""
        return Judgement("not-reproduced", f"{label(first)}: {first['reason']}{rest}", parts)
    first = by_status["inconclusive"][0]
    return Judgement("inconclusive", f"{label(first)}: {first['reason']}", parts)


# ---------------------------------------------------------------------------------------------
# The verdict and the claim context


@dataclass
class Verdict:
    """Collects the result of one claim notebook; `finish` (or `write`) turns it into JSON."""

    id: str
    statement: str
    source: str
    evidence: str
    scale: str
    seeds: list[int]
    stand_ins: list[str] = field(default_factory=list)
    seed_offset: int = 0
    dataset: dict = field(default_factory=lambda: synthetic())
    checks: list[Check] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    threads: int | None = None
    device: str | None = None
    started: float = field(default_factory=time.perf_counter, repr=False)

    def __post_init__(self):
        self.paper, _ = split_id(self.id)
        if self.evidence not in EVIDENCE:
            raise ValueError(f"{self.id}: evidence {self.evidence!r} is not one of {EVIDENCE}")
        self.stand_ins = list(self.stand_ins)

    @property
    def out_dir(self) -> Path:
        """Where this claim's figures go (figures/<paper>/<slug>, or under figures/replicates/K/)."""
        return figures_dir(self.id, self.seed_offset)

    @property
    def path(self) -> Path:
        return verdict_path(self.id, seed_offset=self.seed_offset)

    def check(self, name: str, observed, op: str, threshold, *, kind: str, part: str | None = None,
              aggregate: str | None = None, confidence: float = 0.95, tolerance: float = 0.0, shadow=None) -> Check:
        """Record a check and print its decision where it is made.

        `observed` is one number, or with `aggregate` the per-seed values. A claim or control check belongs
        to `part`. Two guards keep a decision from flipping between machines (whose float rounding differs):
        `tolerance` widens the comparison by a known rounding margin; `shadow` gives the same values from a
        rerun perturbed at the size of rounding (for chaotic training, where no margin is known): where the
        shadow is decided otherwise, the check is `undecided`.
        """
        if aggregate is None:
            if np.ndim(observed) != 0:
                raise ValueError(f"check {name!r}: {np.size(observed)} values need an aggregate (one of {AGGREGATES})")
            shadow = None if shadow is None else Check(name, kind, float(shadow), op, float(threshold), part, tolerance=float(tolerance))
            chk = Check(name, kind, float(observed), op, float(threshold), part, tolerance=float(tolerance), shadow=shadow)
        else:
            chk = Check.aggregated(name, kind, observed, op, threshold, aggregate=aggregate, part=part,
                                   confidence=confidence, tolerance=tolerance, shadow=shadow)
        self.checks.append(chk)
        print(chk)
        return chk

    def measure(self, name: str, value) -> None:
        """A computed number worth reporting that is not itself a check."""
        self.measurements[name] = float(value)

    def timing(self, name: str, seconds) -> None:
        """A measured wall time (s): it varies between runs, so it goes to the run record, not the verdict."""
        self.timings[name] = round(float(seconds), 3)

    def deviation(self, text: str) -> None:
        self.deviations.append(text)

    def stand_in(self, text: str) -> None:
        """Something of ours that stands in for the paper's (a dataset, network, budget, condition, definition)."""
        if text not in self.stand_ins:
            self.stand_ins.append(text)

    def use_dataset(self, dataset) -> None:
        """Record the dataset actually used (a `bnrepro.data.real.Dataset`); a substitution is a stand-in."""
        self.dataset = dataset.provenance()
        if self.dataset["substituted"]:
            self.stand_in(f"dataset: {self.dataset['used']} instead of {self.dataset['requested']}, which could not be had "
                          "here (the verdict's dataset.reason says why)")

    def figure(self, fig, name: str, **options) -> list[Path]:
        """Save `fig` into this claim's figure folder and list it in the verdict (see `bnrepro.figures.save`)."""
        from bnrepro import figures

        return figures.save(fig, name, out_dir=self.out_dir, verdict=self, **options)

    def judgement(self) -> Judgement:
        return judge(self.checks)

    @property
    def status(self) -> str:
        return self.judgement().status

    def as_dict(self) -> dict:
        judgement = self.judgement()
        return {
            "version": VERSION,
            "id": self.id,
            "paper": self.paper,
            "statement": self.statement,
            "source": self.source,
            "evidence": self.evidence,
            "status": judgement.status,
            "reason": judgement.reason,
            "parts": judgement.parts,
            "checks": [c.as_dict() for c in self.checks],
            "stand_ins": self.stand_ins,
            "deviations": self.deviations,
            "measurements": {k: _number(v) for k, v in self.measurements.items()},
            "dataset": self.dataset,
            "scale": self.scale,
            "seeds": [int(s) for s in self.seeds],
            "seed_offset": self.seed_offset,
            "figures": sorted(self.figures),
        }

    def summary(self) -> str:
        """Plain text: the status, its reason, the parts and every check, for the notebook's last output."""
        j = self.judgement()
        lines = [f"{self.id}: {j.status.upper()} ({j.reason})"]
        if len(j.parts) > 1:
            lines += [f"  part {p['name']}: {p['status']} ({p['reason']})" for p in j.parts]
        if self.stand_ins:
            lines += ["  stand-ins of ours: " + "; ".join(self.stand_ins)]
        lines += [f"  {c}" for c in self.checks]
        return "\n".join(lines)

    def write(self, path: str | Path | None = None) -> Path:
        """Write the verdict and this run's record atomically; returns the verdict path."""
        path = self.path if path is None else Path(path)
        expected = verdict_path(self.id, path.parent)
        if path.name != expected.name:
            raise ValueError(f"verdict for {self.id} must be named {expected.name}, got {path.name}")
        for fig in self.figures:
            if not Path(fig).is_file():
                raise FileNotFoundError(f"verdict lists figure {fig}, which was not written")
        payload = self.as_dict()
        run = {
            "id": self.id,
            "runtime_s": round(time.perf_counter() - self.started, 2),
            "threads": self.threads,
            "device": self.device,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpu_capability": _cpu_capability(),
            "timings": self.timings,
        }
        _atomic_write_json(run_record_path(path), run)
        _atomic_write_json(path, payload)
        return path

    def finish(self) -> None:
        """Write the verdict and print its summary: the notebook's last call."""
        self.write()
        print(self.summary())


def open(claim_id: str, *, statement: str, source: str, evidence: str, scale: str, seeds: list[int], threads: int,
         seed_offset: int = 0, stand_ins=(), use_gpu: bool = True) -> Verdict:
    """Open a claim: limit threads, pick the device, and start its verdict (the notebook's first call)."""
    from bnrepro import runtime

    rt = runtime.setup(threads, use_gpu=use_gpu)
    runtime.check_seeds(seeds)
    verdict = Verdict(id=claim_id, statement=statement, source=source, evidence=evidence, scale=scale,
                      seeds=list(seeds), stand_ins=list(stand_ins), seed_offset=int(seed_offset),
                      threads=rt.threads, device=rt.device)
    replicate = f", replicate with seeds shifted by {seed_offset}" if seed_offset else ""
    print(f"{claim_id} ({evidence}): scale={scale}, {len(seeds)} seeds{replicate}; {rt.threads} thread(s) on {rt.device}")
    return verdict


def synthetic() -> dict:
    return {"requested": "synthetic", "used": "synthetic", "substituted": False, "reason": None}


# ---------------------------------------------------------------------------------------------
# Reading


REQUIRED = {"version", "id", "paper", "statement", "source", "evidence", "status", "reason", "parts", "checks",
            "stand_ins", "dataset", "scale", "seeds"}


def read(path: str | Path) -> dict:
    """Read and validate one verdict file (raises ValueError naming the file and the problem).

    Every decision must follow from its check's numbers, and the status, reason and parts from the checks.
    """
    data = json.loads(Path(path).read_text())
    if data.get("version") != VERSION:
        raise ValueError(f"{path}: verdict version {data.get('version')!r}, expected {VERSION}")
    if missing := REQUIRED - data.keys():
        raise ValueError(f"{path}: verdict lacks {sorted(missing)}")
    checks = []
    for i, raw in enumerate(data["checks"]):
        if "kind" not in raw:
            raise ValueError(f"{path}: check {i} ({raw.get('name')!r}) has no kind")
        if raw.get("aggregate") in INTERVAL_AGGREGATES and ("n" not in raw or "interval" not in raw):
            raise ValueError(f"{path}: check {raw['name']!r} aggregates over seeds but lacks n or interval")
        try:
            check = Check.from_dict(raw)
        except (KeyError, TypeError) as error:
            raise ValueError(f"{path}: check {i} is malformed ({error})") from None
        if check.decision != raw.get("decision"):
            raise ValueError(f"{path}: check {raw['name']!r} says {raw.get('decision')!r}, its numbers give {check.decision!r}")
        checks.append(check)
    judgement = judge(checks)
    if (data["status"], data["reason"], data["parts"]) != (judgement.status, judgement.reason, judgement.parts):
        raise ValueError(f"{path}: status {data['status']!r} does not follow from its checks (they give {judgement.status!r})")
    if data["evidence"] not in EVIDENCE:
        raise ValueError(f"{path}: evidence {data['evidence']!r} is not one of {EVIDENCE}")
    return data


def _cpu_capability() -> str | None:
    """The CPU kernels torch used; None for a claim that never imported torch (it used none)."""
    torch = sys.modules.get("torch")
    try:
        return torch.backends.cpu.get_cpu_capability() if torch else None
    except AttributeError:  # torch too old: the record just lacks it
        return None


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
