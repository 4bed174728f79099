"""Benchmark (not a test): the seven claims that can ask for CIFAR-10, at paper scale, on a full-size
CIFAR-10-format stand-in (50 000 train / 10 000 test, 3 x 32 x 32 uint8), in a work folder of its own.

    python benchmarks/cifar_paper_scale.py [--work /tmp/cifar-bench] [--scale paper] [--claims ID ...]

It writes the stand-in under WORK/data, points the CIFAR-10 md5s at it (bnrepro.data.real.TEST_SOURCES_ENV) and runs
each claim with `python -m bnrepro.execute --claim ID` under /usr/bin/time -v in WORK (its results/ and figures/
stay there, never in the checkout), then prints a table: wall time, CPU time (user+sys: what other jobs on the
machine do not inflate), peak RSS (the largest of the process and its notebook kernel), the run record's runtime and
the verdict's status and dataset. luo2019/learning-rate asks for Fashion-MNIST by default; here its image task is
switched to cifar10 (its `image_dataset` parameter) to time the CIFAR shape.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bnrepro.data import real, standin  # noqa: E402

CLAIMS = ["balestriero2022/fixed-affine", "balestriero2022/smart-init", "ergen2022/gd-implicit-bias",
          "ergen2022/convex-implicit-reg", "cao2023/deep-uniformity", "luo2019/cnn-regularization",
          "luo2019/learning-rate"]
BUDGET_MIN = {"cao2023/deep-uniformity": 10}  # the others: 5


def prepare(work: Path, n_train: int, n_test: int) -> Path:
    """The work folder: links to the checkout's notebooks and src, a registry copy, the stand-in data."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("notebooks", "src"):
        if not (work / name).exists():
            (work / name).symlink_to(ROOT / name)
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for scale in ("paper", "quick"):
        config["claims"]["luo2019/learning-rate"]["params"][scale]["image_dataset"] = "cifar10"
    (work / "config").mkdir(exist_ok=True)
    (work / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    sources = work / "standin-sources.json"
    if not sources.is_file():
        files = standin.write_cifar10(work / "data", n_train, n_test)
        standin.write_sources(sources, files)
    return sources


def run(work: Path, sources: Path, claim: str, scale: str) -> dict:
    env = {**os.environ, real.TEST_SOURCES_ENV: str(sources), real.DOWNLOAD_ENV: "0",
           "PYTHONPATH": str(ROOT / "src")}
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "bnrepro.execute", "--claim", claim, "--scale", scale]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    usage = dict(re.findall(r"^\s*([^:\n]+?):\s+(\S+)\s*$", done.stderr, re.MULTILINE))
    paper, slug = claim.split("/")
    verdict_file = work / "results/claims" / f"{paper}-{slug}.json"
    verdict = json.loads(verdict_file.read_text()) if verdict_file.is_file() and done.returncode == 0 else {}
    record_file = work / "results/claims" / f"{paper}-{slug}.run.json"
    record = json.loads(record_file.read_text()) if record_file.is_file() else {}
    return {"claim": claim, "rc": done.returncode, "wall_s": round(wall, 1),
            "cpu_s": round(float(usage.get("User time (seconds)", 0)) + float(usage.get("System time (seconds)", 0)), 1),
            "peak_rss_mb": round(int(usage.get("Maximum resident set size (kbytes)", 0)) / 1024),
            "runtime_s": record.get("runtime_s"), "threads": record.get("threads"),
            "status": verdict.get("status", "error" if done.returncode else "?"),
            "dataset": (verdict.get("dataset") or {}).get("used"),
            "budget_min": BUDGET_MIN.get(claim, 5), "tail": "" if done.returncode == 0 else done.stderr[-2000:]}


def table(rows: list[dict]) -> str:
    lines = ["| claim | dataset used | threads | wall s | CPU s | peak RSS MB | run record s | budget min | status |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['claim']} | {r['dataset']} | {r['threads']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mb']} "
              f"| {r['runtime_s']} | {r['budget_min']} | {r['status']} |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bnrepro-cifar-bench"))
    parser.add_argument("--scale", default="paper", choices=("paper", "quick"))
    parser.add_argument("--claims", nargs="+", default=CLAIMS)
    parser.add_argument("--n-train", type=int, default=50_000)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--out", help="name of the JSON rows file in WORK (default benchmark-SCALE.json); give each of "
                        "several runs sharing WORK its own")
    args = parser.parse_args(argv)
    sources = prepare(args.work, args.n_train, args.n_test)
    rows = []
    for claim in args.claims:
        rows.append(run(args.work, sources, claim, args.scale))
        print(json.dumps(rows[-1]), flush=True)
        (args.work / (args.out or f"benchmark-{args.scale}.json")).write_text(json.dumps(rows, indent=1))
    print(table(rows))
    return 0 if all(r["rc"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
