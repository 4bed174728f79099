"""The Snakemake workflow: lint, dry run, config validation, failing notebooks, end to end."""

import json
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from bnrepro import claims
from conftest import copy_checkout, demo_entry, demo_notebook, snakemake

pytestmark = pytest.mark.slow


def test_lint_is_clean(checkout):
    result = snakemake(checkout, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_dry_run_of_the_default_config(checkout):
    result = snakemake(checkout, "--dry-run", "--cores", "8")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((checkout / "config/config.yaml").read_text())
    job_counts = dict(line.split() for line in result.stdout.splitlines() if re.fullmatch(r"\w+\s+\d+", line.strip()))
    assert job_counts["claim"] == str(len(config["claims"])) and job_counts["claims_table"] == "1"
    for target in ("cao2023", "cao2023_uniform_margin"):
        assert snakemake(checkout, "--dry-run", target).returncode == 0


CAO = "cao2023/uniform-margin"
BAD_CONFIGS = {
    "unknown claim": ({"claims": {"nobody2024/foo": {"notebook": "notebooks/cao2023/uniform_margin.py", "threads": 1, "params": {"paper": {"seeds": [0]}, "quick": {"seeds": [0]}}}}}, "nobody2024/foo"),
    "unknown scale": ({"scale": "huge"}, "scale: 'huge' is not one of"),
    "negative size": ({"claims": {CAO: {"params": {"paper": {"n": -5}}}}}, "params -> paper -> n: -5 is less than the minimum of 1"),
    "wrong type": ({"claims": {CAO: {"params": {"quick": {"lr": "fast"}}}}}, "params -> quick -> lr"),
    "wrong type for the notebook": ({"claims": {CAO: {"params": {"quick": {"asymptotic_from": 1.5}}}}}, "asymptotic_from: 1.5 is a float, the notebook expects a int"),
    "missing notebook": ({"claims": {CAO: {"notebook": "notebooks/cao2023/nope.py"}}}, "notebooks/cao2023/nope.py does not exist"),
    "unknown parameter": ({"claims": {CAO: {"params": {"paper": {"n_hidden_typo": 3}}}}}, "n_hidden_typo: not a parameter of"),
    "unknown top-level key": ({"scal": "quick"}, "'scal' was unexpected"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_rejected_before_any_job(checkout, tmp_path, case):
    override, message = BAD_CONFIGS[case]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(override))
    result = snakemake(checkout, "--dry-run", "--configfile", "config/config.yaml", str(bad))
    assert result.returncode != 0
    assert message in result.stderr + result.stdout, result.stderr
    assert not (checkout / "results").exists()


OK_NOTEBOOK = demo_notebook("lee2022/demo-ok")
FAILING_NOTEBOOK = OK_NOTEBOOK.replace("demo-ok", "demo-fails").replace("verdict.check(", "1 / 0\nverdict.check(")


def test_failing_notebook_is_kept_and_tabled_as_error(tmp_path):
    root = copy_checkout(tmp_path)
    for name, text in [("demo_ok", OK_NOTEBOOK), ("demo_fails", FAILING_NOTEBOOK)]:
        (root / f"notebooks/lee2022/{name}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"notebooks/lee2022/{name}.py").write_text(text)
    config = {"scale": "quick", "claims": {"lee2022/demo-fails": demo_entry("notebooks/lee2022/demo_fails.py"), "lee2022/demo-ok": demo_entry("notebooks/lee2022/demo_ok.py")}}
    (root / "config/config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(root, "--cores", "2")
    assert result.returncode != 0
    table = (root / "results/claims.md").read_text()
    assert "| `lee2022/demo-fails` | | | 💥 error: no verdict" in table
    assert "| `lee2022/demo-ok` | demo | abstract only | **✅ reproduced**" in table
    page = (root / "results/index.html").read_text()  # the reader's page too, written by onerror
    assert '<article class="claim s-error" id="lee2022-demo-fails">' in page and 'id="lee2022-demo-ok"' in page
    assert not (root / "results/claims/lee2022-demo-fails.json").exists()
    executed = nbformat.read(root / "results/notebooks/lee2022-demo-fails.ipynb", as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "ZeroDivisionError"
    assert "ZeroDivisionError" in (root / "results/notebooks/lee2022-demo-fails.html").read_text()


RERUN = ["cao2023/uniform-margin", "balestriero2022/fixed-affine", "lee2022/support-vectors", "ergen2022/closed-form",
         "luo2019/pn-gamma-decay"]
# The claims that train in torch: their statuses and decisions must not depend on the CPU kernels torch picks.
TORCH_CLAIMS = ["cao2023/deep-uniformity", "balestriero2022/partition-adaptation", "balestriero2022/smart-init",
                "balestriero2022/fixed-affine", "balestriero2022/minibatch-margin", "ergen2022/convex-equivalence",
                "ergen2022/closed-form", "ergen2022/gd-implicit-bias", "ergen2022/convex-implicit-reg",
                "luo2019/gamma-decay-batch-size", "luo2019/learning-rate", "luo2019/generalization",
                "luo2019/cnn-regularization"]


def _outputs(root: Path) -> dict[str, bytes]:
    paths = [*root.glob("results/claims/*.json"), *root.glob("figures/**/*.*"), *root.glob("results/notebooks/*.*")]
    return {str(p.relative_to(root)): p.read_bytes() for p in paths if ".run." not in p.name}  # run records and measured-time figures vary


def _verdict(root: Path, claim: str, seed_offset: int = 0) -> dict:
    return claims.read(root / claims.verdict_path(claim, seed_offset=seed_offset))


def _decisions(verdict: dict) -> dict:
    """What must not change between machines: the status, each part's status, each check's decision (not the
    numbers, which agree only within rounding, nor the reasons, which quote them)."""
    return {"status": verdict["status"], "parts": [(p["name"], p["status"]) for p in verdict["parts"]],
            "checks": [(c["name"], c["kind"], c["decision"]) for c in verdict["checks"]]}


def test_quick_pipeline_end_to_end_rerun_determinism_and_machine_invariance(tmp_path):
    root = copy_checkout(tmp_path / "a")
    first = snakemake(root, "--cores", "2", "--config", "scale=quick", timeout=1800)
    assert first.returncode == 0, first.stderr[-3000:]
    config = yaml.safe_load((root / "config/config.yaml").read_text())
    table = (root / "results/claims.md").read_text()
    for claim in config["claims"]:
        verdict = _verdict(root, claim)  # a valid v2 verdict: decisions and status follow from the checks
        assert verdict["status"] != "error" and verdict["scale"] == "quick", (claim, verdict["reason"])
        paper, slug = claims.split_id(claim)
        assert (root / f"results/notebooks/{paper}-{slug}.html").stat().st_size > 10_000
        assert all((root / f).is_file() for f in verdict["figures"]) and verdict["figures"]
        assert f"`{claim}`" in table
    assert "Implementation verified:" in table

    started = time.perf_counter()
    again = snakemake(root, "--cores", "2", "--config", "scale=quick")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    assert time.perf_counter() - started < 15
    other_scale = snakemake(root, "--dry-run", "--config", "scale=paper", "--", "cao2023_uniform_margin")
    assert "Params have changed since last execution" in other_scale.stdout + other_scale.stderr

    outputs = _outputs(root)
    assert any(k.endswith(".png") for k in outputs) and any(k.endswith(".ipynb") for k in outputs)
    # Determinism: rerun one claim of each paper from scratch (every claim twice would double CI time;
    # each notebook's own double run was checked when it was added) and compare every output.
    for claim in RERUN:
        paper, slug = claim.split("/")
        for path in [*root.glob(f"results/claims/{paper}-{slug}.*"), *root.glob(f"results/notebooks/{paper}-{slug}.*")]:
            path.unlink()
        shutil.rmtree(root / "figures" / paper / slug)
    (root / "results/claims.md").unlink()
    rerun = snakemake(root, "--cores", "2", "--config", "scale=quick")
    assert rerun.returncode == 0
    log = rerun.stdout + rerun.stderr
    assert sorted(re.findall(r"wildcards: paper=(\w+), slug=([\w-]+)", log)) == sorted(tuple(c.split("/")) for c in RERUN)
    assert _outputs(root).keys() == outputs.keys()
    differing = [k for k, v in _outputs(root).items() if v != outputs[k]]
    assert differing == []

    # Machine invariance: torch's generic CPU kernels (what a machine without AVX2 runs) round differently;
    # no status and no decision may change.
    generic = copy_checkout(tmp_path / "generic")
    targets = [re.sub("[^a-z0-9]", "_", c) for c in TORCH_CLAIMS]
    run = snakemake(generic, "--cores", "2", "--config", "scale=quick", "--", *targets, timeout=1800,
                    env={"ATEN_CPU_CAPABILITY": "default"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads((generic / "results/claims/luo2019-learning-rate.run.json").read_text())["cpu_capability"] == "DEFAULT"
    flipped = {c: (_decisions(_verdict(root, c)), _decisions(_verdict(generic, c))) for c in TORCH_CLAIMS
               if _decisions(_verdict(root, c)) != _decisions(_verdict(generic, c))}
    assert flipped == {}


REPLICATED = ["lee2022/norm-increase", "lee2022/support-vectors", "luo2019/pn-gamma-decay"]


def test_a_replicate_shifts_every_seed_and_the_table_shows_it_beside_the_main_run(tmp_path):
    root = copy_checkout(tmp_path)
    config = yaml.safe_load((root / "config/config.yaml").read_text())
    config["claims"] = {c: config["claims"][c] for c in REPLICATED}
    (root / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake(root, "replicates", "--cores", "2", "--config", "scale=quick", "replicate_offsets=[1000]")
    assert result.returncode == 0, result.stderr[-3000:]
    table = (root / "results/claims.md").read_text()
    for claim in REPLICATED:
        main, replicate = _verdict(root, claim), _verdict(root, claim, seed_offset=1000)
        assert replicate["seeds"] == [s + 1000 for s in main["seeds"]] and replicate["seed_offset"] == 1000
        assert all(f.startswith("figures/replicates/1000/") and (root / f).is_file() for f in replicate["figures"])
        row = next(line for line in table.splitlines() if line.startswith(f"| `{claim}`"))
        assert f"+1000: {replicate['status']}" in row
        assert ("⚠️ differs" in row) == (replicate["status"] != main["status"])
    assert (root / "results/replicates/1000/claims.md").is_file()
    assert (root / "results/replicates/1000/notebooks/lee2022-norm-increase.html").is_file()
    assert (root / "results/mathjax/MathJax.js").is_file() and (root / "results/index.html").is_file()
    # the same replicate through --config seed_offset: already done
    again = snakemake(root, "--cores", "2", "--config", "scale=quick", "seed_offset=1000")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    missing = snakemake(root, "replicates", "--dry-run", "--config", "scale=quick")
    assert missing.returncode != 0 and "replicate_offsets=[1000]" in missing.stdout + missing.stderr
