"""Run one claim notebook: jupytext source -> papermill -> normalized .ipynb -> HTML.

    python -m bnrepro.execute NOTEBOOK.py --parameters JSON --ipynb OUT.ipynb --html OUT.html --verdict V.json
    python -m bnrepro.execute --claim lee2022/norm-increase --scale quick [--seed-offset K]   (no Snakemake)

The executed notebook and its HTML are written whether or not the notebook
fails (papermill marks the failing cell), and normalized so that the same run
gives the same bytes. The HTML loads MathJax from results/mathjax/ by a relative
path (`python -m bnrepro.mathjax` puts it there), so its math renders offline.
The exit status is non-zero when the notebook failed or finished without
writing its verdict, so a failure is never taken for a result.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import papermill
from nbconvert import HTMLExporter

from bnrepro import claims, mathjax

_VOLATILE = ("start_time", "end_time", "duration")
# where IPython compiles each cell: a per-process temp path that shows in warnings and tracebacks
_CELL_FILE = re.compile(r"/tmp/ipykernel_\d+/\d+\.py")
# glibc returns every large block (torch's activations) to the kernel when it is freed and page-faults it back on
# the next step: luo2019/cnn-regularization spent 80 of its 318 CPU seconds in the kernel that way. Keeping freed
# memory in the process (read by glibc when the kernel starts; an explicit setting in the environment wins) cut that
# to 2 s; results are unchanged. Elsewhere than glibc these variables mean nothing.
_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(1 << 32), "MALLOC_TRIM_THRESHOLD_": str(1 << 32), "MALLOC_TOP_PAD_": str(1 << 28)}
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


# Kernels started at the same moment by parallel jobs can race for the same TCP port (zmq "Address already in use",
# papermill issue 511): the kernel then dies before running a cell. Seen once here, in a two-core test run.
KERNEL_START_ATTEMPTS = 3


def _ran_a_cell(ipynb: Path) -> bool:
    """Whether papermill's output notebook shows any executed cell (a kernel that started)."""
    try:
        nb = nbformat.read(ipynb, as_version=4)
    except (OSError, ValueError):
        return False
    return any(cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code")


def normalize(nb: nbformat.NotebookNode, source: Path) -> nbformat.NotebookNode:
    """Drop timestamps and durations; give cells stable ids; name the source file."""
    meta = nb.metadata.get("papermill", {})
    for key in _VOLATILE:
        meta.pop(key, None)
    if "input_path" in meta:
        meta["input_path"] = str(source)
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
        cell.metadata.pop("execution", None)
        for key in _VOLATILE:
            cell.metadata.get("papermill", {}).pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = _coalesced(cell.outputs, f"<cell {index}>")
    return nb


def _coalesced(outputs: list, cell_name: str) -> list:
    """Merge consecutive stream outputs of one stream (how printed text is split
    into chunks depends on when the kernel flushed) and name the cell's code file
    the same way in every run."""
    merged = []
    for output in outputs:
        if output.output_type == "stream":
            output.text = _CELL_FILE.sub(cell_name, output.text)
            if merged and merged[-1].output_type == "stream" and merged[-1].name == output.name:
                merged[-1].text += output.text
                continue
        elif output.output_type == "error":
            output.traceback = [_CELL_FILE.sub(cell_name, line) for line in output.traceback]
        merged.append(output)
    return merged


def render_html(nb: nbformat.NotebookNode, page_dir: Path) -> str:
    """The notebook as HTML for a page in `page_dir`. Its math is typeset by the MathJax copy in results/mathjax/
    (`bnrepro.mathjax`), linked by a relative path, so that it renders offline; nothing in it depends on the time."""
    body, _ = HTMLExporter(mathjax_url=mathjax.url(page_dir)).from_notebook_node(nb)
    return body


def execute(notebook: Path, parameters: dict, ipynb: Path, html: Path, verdict: Path) -> int:
    threads = str(parameters.get("threads", 1))
    os.environ.update({var: threads for var in _THREAD_VARS})  # read by BLAS when the kernel starts
    for var, value in _MALLOC.items():
        os.environ.setdefault(var, value)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    for path in (ipynb, html, verdict):
        path.parent.mkdir(parents=True, exist_ok=True)
    # the figure folder is a declared output, even for a claim without figures
    claims.figures_dir(parameters["claim_id"], parameters.get("seed_offset", 0)).mkdir(parents=True, exist_ok=True)
    verdict.unlink(missing_ok=True)
    source = jupytext.read(notebook)
    source.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    status = 0
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            papermill.execute_notebook(
                source,
                str(ipynb),
                parameters=parameters,
                kernel_name="python3",
                cwd=os.getcwd(),
                progress_bar=False,
                log_output=True,
                # The notebook has finished (its files are written and closed) when papermill shuts the kernel down;
                # a graceful shutdown waited 2-3 s per notebook for the kernel to exit, an immediate one does not.
                shutdown_kernel="immediate",
            )
        except papermill.PapermillExecutionError as error:
            print(f"bnrepro.execute: {notebook} failed in cell {error.exec_count}: {error.ename}: {error.evalue}", file=sys.stderr)
            status = 1
        except Exception as error:  # noqa: BLE001 - only a kernel that never ran a cell is retried
            if attempt == KERNEL_START_ATTEMPTS or _ran_a_cell(ipynb):
                raise
            print(f"bnrepro.execute: the kernel for {notebook} failed to start ({type(error).__name__}: {error}); "
                  f"starting it again ({attempt + 1} of {KERNEL_START_ATTEMPTS})", file=sys.stderr)
            continue
        break
    executed = normalize(nbformat.read(ipynb, as_version=4), notebook)
    nbformat.write(executed, ipynb)
    html.write_text(render_html(executed, html.parent))
    if status == 0 and not verdict.is_file():
        print(f"bnrepro.execute: {notebook} finished without writing {verdict}", file=sys.stderr)
        status = 1
    return status


def outputs(claim_id: str, seed_offset: int = 0) -> dict[str, Path]:
    """The executed notebook, its HTML and the verdict of one claim (replicates under results/replicates/K/)."""
    paper, slug = claims.split_id(claim_id)
    notebooks = claims.results_root(seed_offset) / "notebooks"
    return {"ipynb": notebooks / f"{paper}-{slug}.ipynb", "html": notebooks / f"{paper}-{slug}.html",
            "verdict": claims.verdict_path(claim_id, seed_offset=seed_offset)}


def run_claim(claim_id: str, *, scale: str, seed_offset: int = 0, threads: int | None = None,
              config_path: str | Path = "config/config.yaml") -> int:
    """Run one registered claim without Snakemake (for development), writing where the workflow would. The registry
    is validated (and its seed ranges expanded) exactly as the workflow does."""
    from bnrepro import registry

    try:
        config = registry.load(config_path, scale=scale)
    except registry.ConfigError as error:
        raise SystemExit(str(error)) from None
    if claim_id not in config["claims"]:
        raise SystemExit(f"unknown claim {claim_id!r}; the registry has: {', '.join(config['claims'])}")
    entry = config["claims"][claim_id]
    parameters = registry.claim_parameters(config, claim_id, threads=threads or registry.threads(entry, scale),
                                          seed_offset=seed_offset)
    return execute(Path(entry["notebook"]), parameters, **outputs(claim_id, seed_offset))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, nargs="?")
    parser.add_argument("--parameters", help="JSON object of notebook parameters")
    parser.add_argument("--ipynb", type=Path)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--verdict", type=Path)
    parser.add_argument("--threads", type=int, help="the threads the job was given (overrides the parameters' threads)")
    parser.add_argument("--claim", help="run this registered claim instead (paths and parameters from the registry)")
    parser.add_argument("--scale", default="quick", choices=("paper", "quick", "full"), help="with --claim")
    parser.add_argument("--seed-offset", type=int, default=0, help="with --claim: shift every seed list")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # papermill streams cell outputs as progress
    if args.claim:
        return run_claim(args.claim, scale=args.scale, seed_offset=args.seed_offset, threads=args.threads)
    if not all((args.notebook, args.parameters, args.ipynb, args.html, args.verdict)):
        parser.error("give NOTEBOOK --parameters --ipynb --html --verdict, or --claim ID")
    parameters = json.loads(args.parameters)
    if args.threads is not None:
        parameters["threads"] = args.threads
    return execute(args.notebook, parameters, args.ipynb, args.html, args.verdict)


if __name__ == "__main__":
    sys.exit(main())
