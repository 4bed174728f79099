"""results/index.html: the reader's page, one section per paper, written from the verdicts.

    python -m bnrepro.page --out results/index.html [--replicates 1000 2000] -- cao2023/uniform-margin ...

Each paper's section shows first the paper's figures that the pipeline regenerates, in the paper's order
(Figure 1, Figure 2, ...), each with the claim that made it and a caption of ours; then its claims: status with
the reason that decided it, evidence (full text or abstract only), parts, stand-ins, dataset (substitutions
flagged), the status on each replicate, runtime, a thumbnail of the main figure, and links to the rendered
notebook and the verdict JSON. Verdicts and run records are read as for results/claims.md (`bnrepro.table`).
Every link is relative, so the page works opened from disk (file://) and served from the checkout's root; its
formulas are typeset by the MathJax copy in results/mathjax/ (`bnrepro.mathjax`).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

from bnrepro import claims, mathjax, table

TEMPLATE = Path(__file__).with_name("templates") / "index.html.j2"


@dataclass(frozen=True)
class Paper:
    authors: str
    title: str
    venue: str


PAPERS = {
    "cao2023": Paper("Cao, Zou, Li & Gu", "The Implicit Bias of Batch Normalization in Linear Models and Two-layer Linear "
                     "Convolutional Neural Networks", "COLT 2023, PMLR 195"),
    "balestriero2022": Paper("Balestriero & Baraniuk", "Batch Normalization Explained", "arXiv:2209.14778, 2022"),
    "ergen2022": Paper("Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci", "Demystifying Batch Normalization in ReLU "
                       "Networks: Equivalent Convex Optimization Models and Implicit Regularization", "ICLR 2022"),
    "lee2022": Paper("Lee, Sim & Ye", "Support Vectors and Gradient Dynamics for Implicit Bias in ReLU Networks",
                     "arXiv:2202.05510, 2022"),
    "luo2019": Paper("Luo, Wang, Shao & Peng", "Towards Understanding Regularization in Batch Normalization", "ICLR 2019"),
}


@dataclass(frozen=True)
class PaperFigure:
    number: int  # the figure's number in the paper
    claim: str  # the claim whose notebook regenerates it
    figure: str  # the figure's name in that notebook (`verdict.figure(fig, name)`)
    caption: str  # what it shows, in our words


# The papers' figures that a claim regenerates, in the paper's order. A paper without an entry has no figure
# regenerated: its body could not be read (see docs/papers/<paper>.md), so its figures are not known.
PAPER_FIGURES = {
    "cao2023": [
        PaperFigure(1, "cao2023/uniform-margin", "figure1-replica",
                    "Per-sample margins over training on 50 Gaussian points in 1000 dimensions: with BN (left) the margins "
                    "merge into one value, the uniform margin; without BN (right) they rise slowly and stay spread. The paper "
                    "does not state the learning rate or the initialization: ours are in the claim's stand-ins."),
        PaperFigure(2, "cao2023/deep-uniformity", "uniformity-over-epochs",
                    "Non-uniformity of the last hidden layer's activations per class over training, with and without BN "
                    "(smaller is more uniform). The paper trains VGG-16 on CIFAR-10 cat vs dog; our network, data and "
                    "budget stand in for it (see the claim's stand-ins and dataset)."),
    ],
    "balestriero2022": [
        PaperFigure(1, "balestriero2022/partition-adaptation", "figure1-partitions",
                    "The input-space partition of a random 4-layer, width-6 leaky-ReLU network on 2-D data, layer by layer, "
                    "without BN (random offsets) and with BN: with BN every unit's boundary passes through the data's "
                    "centroid and the regions gather around the data. The paper's Figure 1 is known from the caption its "
                    "successor paper reproduces (see docs/papers/balestriero2022.md)."),
    ],
}
UNREADABLE = "Not regenerated: only the abstract of this paper could be read, so its figures are not known. Each claim's own figures are below."
STATUS_MEANING = {
    "reproduced": "every part of the statement holds: its claim checks pass, decided on their 95 % intervals, and its controls pass",
    "partial": "some parts hold and others do not",
    "not-reproduced": "a claim check fails while its controls pass",
    "inconclusive": "undecided: an interval straddles its threshold, a control failed, or our stand-in did not reach "
                    "the paper's regime",
    "error": "the notebook failed, or a sanity check (an identity) failed: a bug, not a result",
}


def _rel(path: str | Path, start: Path) -> str:
    return Path(os.path.relpath(Path(path), start)).as_posix()


def _anchor(claim_id: str) -> str:
    return claim_id.replace("/", "-")


def _runtime(run: dict | None) -> str | None:
    if not run:
        return None
    threads = run.get("threads")
    return f"{run['runtime_s']:.0f} s" + (f" on {threads} thread{'s' if threads != 1 else ''}" if threads else "")


def _claim(cid: str, claims_dir: Path, base: Path, replicates: dict[int, Path]) -> dict:
    """What the page shows of one claim: the verdict, its run record and the links, relative to `base`."""
    paper, slug = claims.split_id(cid)
    verdict, run, problem = table.load(cid, claims_dir)
    notebook = claims_dir.parent / "notebooks" / f"{paper}-{slug}.html"
    verdict_file = claims.verdict_path(cid, claims_dir)
    status = verdict["status"] if verdict else "error"
    figures = [f for f in (verdict or {}).get("figures", []) if Path(f).is_file()]
    made = {f.figure for f in PAPER_FIGURES.get(paper, []) if f.claim == cid}
    main = next((f for f in figures if Path(f).stem in made), figures[0] if figures else None)
    return {
        "id": cid, "anchor": _anchor(cid), "status": status, "verdict": verdict, "problem": problem,
        "reason": verdict["reason"] if verdict else problem,
        "runtime": _runtime(run),
        "notebook": _rel(notebook, base) if notebook.is_file() else None,
        "verdict_link": _rel(verdict_file, base) if verdict_file.is_file() else None,
        "thumbnail": _rel(main, base) if main else None,
        "figures": [{"name": Path(f).stem, "href": _rel(f, base)} for f in figures],
        "replicates": [{"offset": k, "status": s, "differs": s is not None and s != status}
                       for k, s in table.replicate_statuses(cid, replicates).items()],
        "identities": sum(c["kind"] == "sanity" for c in verdict["checks"]) if verdict else 0,
    }


def render(claim_ids: list[str], out: Path, claims_dir: Path, replicates: dict[int, Path] | None = None) -> str:
    replicates = replicates or {}
    base = out.parent
    entries = {cid: _claim(cid, claims_dir, base, replicates) for cid in claim_ids}
    papers = []
    for paper in dict.fromkeys(claims.split_id(c)[0] for c in claim_ids):
        figures = []
        for f in PAPER_FIGURES.get(paper, []):
            entry = entries.get(f.claim)
            path = next((x for x in entry["figures"] if x["name"] == f.figure), None) if entry else None
            dataset = entry["verdict"]["dataset"] if entry and entry["verdict"] else {}
            figures.append({"number": f.number, "claim": f.claim, "anchor": _anchor(f.claim), "caption": f.caption,
                            "href": path["href"] if path else None, "listed": entry is not None,
                            "substituted": f"{dataset['used']} instead of {dataset['requested']}" if dataset.get("substituted") else None})
        doc = Path("docs/papers") / f"{paper}.md"
        papers.append({
            "key": paper, "meta": PAPERS.get(paper), "figures": figures, "unreadable": UNREADABLE,
            "doc": _rel(doc, base) if doc.is_file() else None,
            "claims": [e for c, e in entries.items() if claims.split_id(c)[0] == paper],
        })
    counts = {s: sum(e["status"] == s for e in entries.values()) for s in table.BADGE}
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=True,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["num"] = table._fmt
    return environment.get_template(TEMPLATE.name).render(
        papers=papers, counts={s: n for s, n in counts.items() if n}, total=len(claim_ids), badge=table.BADGE,
        evidence=table.EVIDENCE, meaning=STATUS_MEANING, replicate_offsets=list(replicates),
        identities=sum(e["identities"] for e in entries.values()),
        scales=sorted({e["verdict"]["scale"] for e in entries.values() if e["verdict"]}),
        mathjax_url=mathjax.url(base, claims_dir.parent / "mathjax"),
        claims_md=_rel(base / "claims.md", base) if (base / "claims.md").is_file() else None,
    )


def write(claim_ids: list[str], out: str | Path = "results/index.html", claims_dir: str | Path = "results/claims",
          replicate_offsets: list[int] = ()) -> Path:
    out = Path(out)
    claims_dir = Path(claims_dir)
    return table.write_atomically(out, render(list(claim_ids), out, claims_dir, table.replicate_dirs(replicate_offsets, claims_dir)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", nargs="+", help="claim ids, in the page's order")
    parser.add_argument("--out", default="results/index.html", type=Path)
    parser.add_argument("--claims-dir", default="results/claims", type=Path)
    parser.add_argument("--replicates", nargs="*", type=int, default=[], help="seed offsets whose statuses to show")
    args = parser.parse_args(argv)
    write(args.claims, args.out, args.claims_dir, args.replicates)


if __name__ == "__main__":
    main()
