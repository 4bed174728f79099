"""results/claims.md: the verdicts of every registered claim in one table.

    python -m bnrepro.table --out results/claims.md cao2023/uniform-margin ...

A claim without a valid verdict (the notebook failed) is an `error` row.
Links are relative to the table's folder, so they work on disk and on a forge.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bnrepro import claims

_BADGE = {"reproduced": "✅ reproduced", "partial": "🟡 partial", "not-reproduced": "❌ not reproduced", "error": "💥 error"}


def _rel(path: str | Path, start: Path) -> str:
    return Path(os.path.relpath(Path(path), start)).as_posix()


def _load(claim_id: str, claims_dir: Path) -> tuple[dict | None, dict | None, str | None]:
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
    return text.replace("|", "\\|")


def _fmt(x) -> str:
    return f"{x:.3g}" if isinstance(x, (int, float)) else str(x)


def render(claim_ids: list[str], out: Path, claims_dir: Path) -> str:
    base = out.parent
    rows, details = [], []
    counts = dict.fromkeys(_BADGE, 0)
    for cid in claim_ids:
        paper, slug = claims.split_id(cid)
        notebook = _rel(claims_dir.parent / "notebooks" / f"{paper}-{slug}.html", base)
        verdict, run, problem = _load(cid, claims_dir)
        if verdict is None:
            counts["error"] += 1
            rows.append(f"| `{cid}` | | {_BADGE['error']} | {problem} | | | [notebook]({notebook}) |")
            continue
        counts[verdict["status"]] += 1
        passed = sum(c["passed"] for c in verdict["checks"])
        failed = [c["name"] for c in verdict["checks"] if not c["passed"]]
        key = f"{passed}/{len(verdict['checks'])} checks pass" + (f"; failing: {_cell('; '.join(failed))}" if failed else "")
        runtime = f"{run['runtime_s']:.1f} s" if run else "?"
        figs = " ".join(f"[{Path(f).stem}]({_rel(f, base)})" for f in verdict["figures"])
        rows.append(
            f"| `{cid}` | {verdict['source']} | {_BADGE[verdict['status']]} | {key} | {_dataset(verdict['dataset'])} "
            f"| {runtime} | [notebook]({notebook}) {figs} |"
        )
        details.append(_details(verdict))
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    head = [
        "# Claims",
        "",
        f"{len(claim_ids)} claims: {summary}. Generated from `results/claims/*.json`; do not edit.",
        "",
        "| claim | source | status | key numbers | dataset | runtime | notebook, figures |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head + rows + [""] + details)


def _details(v: dict) -> str:
    lines = [f"## `{v['id']}`", "", f"> {v['statement']}", "", f"Scale `{v['scale']}`, seeds {v['seeds']}.", ""]
    lines += ["| check | observed | | threshold | essential | result |", "|---|---|---|---|---|---|"]
    for c in v["checks"]:
        op = c["op"].replace("<", "&lt;").replace(">", "&gt;")
        lines.append(
            f"| {_cell(c['name'])} | {_fmt(c['observed'])} | {op} | {_fmt(c['threshold'])} | {'yes' if c['essential'] else 'no'} "
            f"| {'pass' if c['passed'] else '**FAIL**'} |"
        )
    if v.get("measurements"):
        lines += ["", "Measured: " + "; ".join(f"{k} = {_fmt(x)}" for k, x in v["measurements"].items()) + "."]
    if v["deviations"]:
        lines += ["", "Deviations from the paper:", ""] + [f"- {d}" for d in v["deviations"]]
    return "\n".join(lines + [""])


def write(claim_ids: list[str], out: str | Path, claims_dir: str | Path = "results/claims") -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render(list(claim_ids), out, Path(claims_dir))
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, out)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", nargs="+", help="claim ids, in table order")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--claims-dir", default="results/claims", type=Path)
    args = parser.parse_args(argv)
    write(args.claims, args.out, args.claims_dir)


if __name__ == "__main__":
    main()
