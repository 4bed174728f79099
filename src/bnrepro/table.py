"""results/claims.md: the verdicts of every registered claim in one table.

    python -m bnrepro.table --out results/claims.md [--replicates 1000 2000] cao2023/uniform-margin ...

One row per claim: source, evidence (full text or abstract only), status with the reason that decided it,
parts, our stand-ins, dataset, the status on each replicate (every seed shifted) beside the main one, runtime
and links. Sanity checks are counted apart: they verify the implementation and are never evidence. A claim
without a valid verdict (the notebook failed) is an `error` row. Links are relative to the table's folder.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bnrepro import claims

BADGE = {
    "reproduced": "✅ reproduced",
    "partial": "🟡 partial",
    "not-reproduced": "❌ not reproduced",
    "inconclusive": "❔ inconclusive",
    "error": "💥 error",
}
EVIDENCE = {"full-text": "full text", "abstract": "abstract only"}


def _rel(path: str | Path, start: Path) -> str:
    return Path(os.path.relpath(Path(path), start)).as_posix()


def describe_seeds(seeds: list[int]) -> str:
    """[0, 1, 2, 3, 7] -> "5: 0-3, 7": the count, then runs of consecutive seeds as ranges."""
    runs: list[list[int]] = []
    for seed in seeds:
        if runs and seed == runs[-1][1] + 1:
            runs[-1][1] = seed
        else:
            runs.append([seed, seed])
    return f"{len(seeds)}: " + ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def load(claim_id: str, claims_dir: Path) -> tuple[dict | None, dict | None, str | None]:
    """(verdict, run record, problem): the verdict is None, with the problem said, when it is missing or invalid."""
    path = claims.verdict_path(claim_id, claims_dir)
    if not path.is_file():
        return None, None, "no verdict: the notebook failed or was not run"
    try:
        verdict = claims.read(path)
    except (ValueError, KeyError, json.JSONDecodeError) as error:
        return None, None, f"invalid verdict: {error}"
    run_path = claims.run_record_path(path)
    run = json.loads(run_path.read_text()) if run_path.is_file() else None
    return verdict, run, None


def _dataset(d: dict) -> str:
    if d.get("substituted"):
        return f"⚠️ **{d['used']}** instead of {d['requested']}"
    return d["used"]


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def _parts(verdict: dict) -> str:
    if len(verdict["parts"]) == 1:
        return ""
    return "<br>".join(f"{p['name']}: {p['status']}" for p in verdict["parts"])


def replicate_statuses(claim_id: str, replicates: dict[int, Path]) -> dict[int, str | None]:
    """The claim's status on each replicate (seed offset -> its claims folder): None where it was not run,
    `error` where its verdict is invalid."""
    statuses = {}
    for offset, claims_dir in replicates.items():
        verdict, _, _ = load(claim_id, claims_dir)
        statuses[offset] = verdict["status"] if verdict else "error" if claims.verdict_path(claim_id, claims_dir).exists() else None
    return statuses


def replicate_dirs(offsets, claims_dir: Path) -> dict[int, Path]:
    """Seed offset -> the claims folder of that replicate, beside the main run's `claims_dir`."""
    return {k: claims.results_root(k, claims_dir.parent) / "claims" for k in offsets}


def _replicates(status: str | None, replicates: dict[int, Path], claim_id: str) -> str:
    cells = []
    for offset, other in replicate_statuses(claim_id, replicates).items():
        if other is None:
            cells.append(f"+{offset}: not run")
        else:
            cells.append(f"+{offset}: {other}" + (" ⚠️ differs" if other != status else ""))
    return "<br>".join(cells)


def render(claim_ids: list[str], out: Path, claims_dir: Path, replicates: dict[int, Path] | None = None) -> str:
    replicates = replicates or {}
    base = out.parent
    rows, details = [], []
    counts = dict.fromkeys(BADGE, 0)
    identities = claim_checks = disagreements = 0
    for cid in claim_ids:
        paper, slug = claims.split_id(cid)
        notebook = _rel(claims_dir.parent / "notebooks" / f"{paper}-{slug}.html", base)
        verdict, run, problem = load(cid, claims_dir)
        status = verdict["status"] if verdict else "error"
        counts[status] += 1
        reps = _replicates(status, replicates, cid)
        disagreements += "differs" in reps
        if verdict is None:
            rows.append(f"| `{cid}` | | | {BADGE['error']}: {problem} | | | | {reps} | | [notebook]({notebook}) |")
            continue
        identities += sum(c["kind"] == "sanity" for c in verdict["checks"])
        claim_checks += sum(c["kind"] == "claim" for c in verdict["checks"])
        runtime = f"{run['runtime_s']:.0f} s" if run else "?"
        figs = " ".join(f"[{Path(f).stem}]({_rel(f, base)})" for f in verdict["figures"])
        stand_ins = "<br>".join(_cell(s) for s in verdict["stand_ins"]) or "none"
        rows.append(
            f"| `{cid}` | {_cell(verdict['source'])} | {EVIDENCE[verdict['evidence']]} "
            f"| **{BADGE[status]}**: {_cell(verdict['reason'])} | {_parts(verdict)} | {stand_ins} "
            f"| {_dataset(verdict['dataset'])} | {reps} | {runtime} | [notebook]({notebook}) {figs} |"
        )
        details.append(_details(verdict))
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    head = [
        "# Claims",
        "",
        f"{len(claim_ids)} claims: {summary}. Evidence: {claim_checks} claim checks. "
        f"Implementation verified: {identities} identities (sanity checks, never counted as evidence). "
        "Generated from `results/claims/*.json`; do not edit.",
        "",
        "A status resting on *stand-ins* (our dataset, network, budget, condition or definition in place of the "
        "paper's) says more about the stand-in than about the paper; *abstract only* means the formulation is ours.",
        "",
    ]
    if replicates:
        head += [
            f"Replicates (every seed list shifted by {', '.join(f'+{k}' for k in replicates)}): "
            f"{disagreements} claim(s) whose status differs from the main run (⚠️).",
            "",
        ]
    head += [
        "| claim | source | evidence | status: reason | parts | stand-ins | dataset | replicates | runtime | notebook, figures |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head + rows + [""] + details)


def _details(v: dict) -> str:
    lines = [f"## `{v['id']}`: {BADGE[v['status']]}", "", f"> {v['statement']}", ""]
    replicate = f", seeds shifted by {v['seed_offset']}" if v.get("seed_offset") else ""
    lines += [f"Source: {v['source']} ({EVIDENCE[v['evidence']]}). Scale `{v['scale']}`, seeds ({describe_seeds(v['seeds'])}){replicate}.", ""]
    lines += [f"**Status**: {v['status']}: {v['reason']}", ""]
    if len(v["parts"]) > 1:
        lines += [f"- part `{p['name']}`: {p['status']} ({p['reason']})" for p in v["parts"]] + [""]
    lines += ["| kind | part | check | observed | | threshold | n | 95 % interval | decision |", "|---|---|---|---|---|---|---|---|---|"]
    for c in v["checks"]:
        op = c["op"].replace("<", "&lt;").replace(">", "&gt;")
        interval = ""
        if "interval" in c:
            interval = f"[{_fmt(c['interval'][0])}, {_fmt(c['interval'][1])}]"
            if c.get("confidence") != 0.95:
                interval += f" ({100 * c['confidence']:.4g}%)"
        n = f"{c['n']}" + ("" if "interval" in c else f" ({c['aggregate']})") if "n" in c else ""
        decision = c["decision"] if c["decision"] == "pass" else f"**{c['decision']}**"
        lines.append(
            f"| {c['kind']} | {c.get('part', '')} | {_cell(c['name'])} | {_fmt(c['observed'])} | {op} | {_fmt(c['threshold'])} "
            f"| {n} | {interval} | {decision} |"
        )
    if v["stand_ins"]:
        lines += ["", "Stand-ins of ours:", ""] + [f"- {s}" for s in v["stand_ins"]]
    if v.get("measurements"):
        lines += ["", "Measured: " + "; ".join(f"{k} = {_fmt(x)}" for k, x in v["measurements"].items()) + "."]
    if v["deviations"]:
        lines += ["", "Deviations from the paper:", ""] + [f"- {d}" for d in v["deviations"]]
    return "\n".join(lines + [""])


def write(claim_ids: list[str], out: str | Path, claims_dir: str | Path = "results/claims",
          replicate_offsets: list[int] = ()) -> Path:
    out = Path(out)
    claims_dir = Path(claims_dir)
    replicates = replicate_dirs(replicate_offsets, claims_dir)
    return write_atomically(out, render(list(claim_ids), out, claims_dir, replicates))


def write_atomically(out: Path, text: str) -> Path:
    """Write `text` to `out` through a temporary file: a reader never sees a half-written table or page."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, out)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", nargs="+", help="claim ids, in table order")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--claims-dir", default="results/claims", type=Path)
    parser.add_argument("--replicates", nargs="*", type=int, default=[], help="seed offsets whose statuses to show")
    args = parser.parse_args(argv)
    write(args.claims, args.out, args.claims_dir, args.replicates)


if __name__ == "__main__":
    main()
