# Registry loading and validation: runs when the Snakefile is parsed, so a bad
# config is rejected before any job starts, with a message naming the key.
import json
import re
import sys
from pathlib import Path

from snakemake_interface_executor_plugins.settings import DeploymentMethod

# bnrepro is imported from the checkout, so a conda user (--use-conda) needs no install step.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
try:
    from bnrepro import page, registry, runlock, table
    from bnrepro.data import provision
    from bnrepro.claims import run_record_path, split_id, verdict_path
except ImportError as error:
    raise WorkflowError(
        f"cannot import bnrepro ({error}). Install the project first: `make setup` "
        "(or `pip install -c constraints.txt -e .` in your environment)."
    )

# A run killed before it could remove its locks would block every later run until `snakemake --unlock`:
# the main process clears such a stale lock itself, and refuses to start beside a run that is still going.
if workflow.is_main_process:
    try:
        _note = runlock.recover(Path.cwd())  # where .snakemake/ is
    except runlock.Busy as error:
        raise WorkflowError(str(error))
    if _note:
        print(f"bnrepro: {_note}", file=sys.stderr)

try:
    registry.validate(config, root=workflow.basedir, schema=Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
except registry.ConfigError as error:
    raise WorkflowError(str(error))

# The interpreter that runs Snakemake, unless rules run in their conda environment.
USE_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
PYTHON = "python" if USE_CONDA else sys.executable
# How rules run a bnrepro module: from this checkout's src/, installed or not.
BNREPRO = f"PYTHONPATH=src${{PYTHONPATH:+:$PYTHONPATH}} {PYTHON} -m bnrepro."
ENV = "../envs/bnrepro.yaml"
CLAIMS = list(config["claims"])
# --config seed_offset=K: run every claim with its seed lists shifted by K, into results/replicates/K/.
SEED_OFFSET = config["seed_offset"]
# --config replicate_offsets=[K, ...]: the main table shows these replicates' statuses beside the main one.
REPLICATE_OFFSETS = config["replicate_offsets"]
PAPERS = sorted({split_id(c)[0] for c in CLAIMS})
# A change to any library file reruns the claims (conservative, but never stale), except the modules no claim
# imports: the claims table and the reader's page (built from finished verdicts) and the stale-lock check.
NOT_IMPORTED_BY_CLAIMS = {"src/bnrepro/table.py", "src/bnrepro/page.py", "src/bnrepro/runlock.py"}
LIBRARY = sorted(str(p) for p in Path("src/bnrepro").rglob("*.py") if str(p) not in NOT_IMPORTED_BY_CLAIMS)
LIBRARY += ["src/bnrepro/house.mplstyle"]


def claim_id(wildcards):
    cid = f"{wildcards.paper}/{wildcards.slug}"
    if cid not in config["claims"]:
        raise WorkflowError(f"unknown claim {cid!r}; the registry has: {', '.join(CLAIMS)}")
    return cid


def claim_entry(wildcards):
    return config["claims"][claim_id(wildcards)]


def claim_priority(wildcards):
    """Longest first, by expected core-seconds at this run's scale (registry.priority)."""
    return registry.priority(claim_entry(wildcards), config["scale"])


def target_name(claim):
    """cao2023/uniform-margin -> cao2023_uniform_margin (a rule name for one claim)."""
    return re.sub("[^a-z0-9]", "_", claim)


def verdicts(claims, seed_offset=0):
    return [str(verdict_path(c, seed_offset=seed_offset)) for c in claims]


def seed_offset(wildcards):
    """The seed offset of a claim job: 0 for the main run, {offset} for a replicate."""
    return int(getattr(wildcards, "offset", 0))


def replicate_targets(wildcards):
    if not REPLICATE_OFFSETS:
        raise WorkflowError(
            "the `replicates` target needs seed offsets, e.g. "
            "`snakemake replicates --cores 2 --config replicate_offsets=[1000]`"
        )
    # the main table and page show the replicates; every rendered notebook, replicate or not, loads results/mathjax
    main = ["results/claims.md", "results/index.html", "results/mathjax"]
    return main + [f"results/replicates/{k}/claims.md" for k in REPLICATE_OFFSETS]


# Datasets (workflow/rules/data.smk): each one a claim's registry entry lists is provisioned once, into DATA_ROOT.
DATA_ROOT = "data"
DATASETS = sorted({d for c in CLAIMS for d in config["claims"][c].get("datasets", [])})


def manifest_path(dataset):
    return f"{DATA_ROOT}/manifests/{dataset}.json"


def claim_manifests(wildcards):
    """The manifests of the datasets a claim asks for: inputs of its job."""
    return [manifest_path(d) for d in claim_entry(wildcards).get("datasets", [])]
