"""The claims registry (config/config.yaml): validation and per-claim parameters.

`validate` runs before any job: the JSON Schema first, then every claim's
notebook is checked to exist and to declare, in its `parameters` cell, each
parameter the registry sets, with a matching type. Errors name the key.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from bnrepro.claims import split_id

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
# Parameters every notebook declares; the workflow sets them, the registry must not. The notebook's
# output paths derive from claim_id and seed_offset (bnrepro.claims.verdict_path, figures_dir).
INJECTED = ("claim_id", "scale", "threads", "seed_offset")


class ConfigError(ValueError):
    pass


def _where(path) -> str:
    return " -> ".join(str(p) for p in path) or "(top level)"


def _specific(error):
    """For a oneOf (a size, or a list of sizes), the reason from the branch that
    matches the value's shape: "-1 is less than the minimum of 1", not "is not
    valid under any of the given schemas"."""
    if error.validator != "oneOf" or not error.context:
        return error
    reasons = [e for e in error.context if not (e.validator == "type" and not e.relative_path)] or error.context
    return max(reasons, key=lambda e: len(e.relative_path))


def validate(config: dict, *, root: str | Path = ".", schema: str | Path = SCHEMA) -> dict:
    """Check `config` (a parsed config.yaml, with defaults filled in); return it."""
    _coerce_offsets(config)
    validator = jsonschema.Draft202012Validator(yaml.safe_load(Path(schema).read_text()))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        errors = [_specific(e) for e in errors]
        lines = [f"  {_where(e.absolute_path)}: {e.message}" for e in errors]
        raise ConfigError("invalid config/config.yaml:\n" + "\n".join(lines))
    for entry in config["claims"].values():
        for scale, params in entry["params"].items():
            entry["params"][scale] = expand_seed_ranges(params)
    config.setdefault("strict_data", False)
    config.setdefault("seed_offset", 0)
    config.setdefault("replicate_offsets", [])
    problems = []
    for claim_id, entry in config["claims"].items():
        notebook = Path(root) / entry["notebook"]
        if not notebook.is_file():
            problems.append(f"  claims -> {claim_id} -> notebook: {entry['notebook']} does not exist")
            continue
        declared = notebook_parameters(notebook)
        missing = [p for p in INJECTED if p not in declared]
        if missing:
            problems.append(f"  {entry['notebook']}: its parameters cell lacks {missing}")
        for scale, params in entry["params"].items():
            for key, value in params.items():
                where = f"claims -> {claim_id} -> params -> {scale} -> {key}"
                if key not in declared:
                    problems.append(f"  {where}: not a parameter of {entry['notebook']} (it has {sorted(declared)})")
                elif not _same_type(value, declared[key]):
                    problems.append(
                        f"  {where}: {value!r} is a {type(value).__name__}, the notebook expects "
                        f"a {type(declared[key]).__name__} (default {declared[key]!r})"
                    )
    if problems:
        raise ConfigError("invalid config/config.yaml:\n" + "\n".join(problems))
    return config


def _coerce_offsets(config: dict) -> None:
    """`--config replicate_offsets=[1000,2000]` reaches us as strings, `=1000` as one int: make it a list of ints;
    `--config strict_data=true` as a string: make it a boolean."""
    strict = config.get("strict_data")  # `--config strict_data=true` reaches us as the string "true"
    if isinstance(strict, str) and strict.strip().lower() in ("true", "false"):
        config["strict_data"] = strict.strip().lower() == "true"
    offsets = config.get("replicate_offsets")
    if isinstance(offsets, (int, str)):
        offsets = [offsets]
    if isinstance(offsets, list):
        config["replicate_offsets"] = [int(k) if isinstance(k, str) and k.strip().isdigit() else k for k in offsets]


def _same_type(value, default) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return type(value) is type(default)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, list):
        return isinstance(value, list) and (not default or all(_same_type(v, default[0]) for v in value))
    return type(value) is type(default)


# A py:percent cell starts at a line "# %%", its options after it: the parameters cell is `# %% tags=["parameters"]`.
_CELL_START = re.compile(r"^# %%(?P<options>.*)$", re.MULTILINE)
_PARAMETERS_TAG = re.compile(r"""tags\s*=\s*\[[^\]]*["']parameters["']""")


@cache
def _parameters_cached(path: str, mtime: float) -> dict:
    # Read as text, not through jupytext: this runs for every notebook on every Snakemake invocation.
    text = Path(path).read_text()
    starts = list(_CELL_START.finditer(text))
    ends = [m.start() for m in starts[1:]] + [len(text)]
    cells = [text[m.end():end] for m, end in zip(starts, ends) if _PARAMETERS_TAG.search(m.group("options"))]
    if len(cells) != 1:
        raise ConfigError(f"{path}: needs exactly one cell tagged 'parameters', found {len(cells)}")
    params = {}
    for node in ast.parse(cells[0]).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ConfigError(f"{path}: the parameters cell may hold only 'name = literal' lines (line {node.lineno})")
        try:
            params[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise ConfigError(f"{path}: parameter {node.targets[0].id} is not a plain literal (line {node.lineno})") from None
    return params


def notebook_parameters(path: str | Path) -> dict:
    """The names and default values of a notebook's `parameters` cell."""
    path = Path(path).resolve()
    return dict(_parameters_cached(str(path), path.stat().st_mtime))


def _is_seed_list(key: str, value) -> bool:
    return _is_seed_key(key) and isinstance(value, list)


def expand_seed_ranges(params: dict) -> dict:
    """A seed list written as a range, `{start: 0, count: 10000}`, as the list it stands for (thousands of seeds
    for float64 experiments that batch them, without a thousand-line registry)."""
    return {k: list(range(v["start"], v["start"] + v["count"])) if isinstance(v, dict) and _is_seed_key(k) else v
            for k, v in params.items()}


def _is_seed_key(key: str) -> bool:
    return key == "seeds" or key.endswith("_seeds")


def shifted_seeds(params: dict, offset: int) -> dict:
    """Every seed list (`seeds`, `init_seeds`, ...) shifted by `offset`: a replicate on seeds nobody tuned on."""
    return {k: [s + offset for s in v] if _is_seed_list(k, v) else v for k, v in params.items()}


def priority(entry: dict, scale: str) -> int:
    """A claim job's Snakemake priority: its expected core-seconds at `scale` (runtime times threads), longest first
    (a long claim started last leaves the other cores idle at the end of a run). Snakemake starts the set of ready
    jobs with the largest total priority that fits the free cores, so a two-core claim goes before two single-core
    ones only when it holds more core-seconds than they do together. `runtime_min` is the paper scale's expected
    runtime (and full's; about twice what was measured, as it is also the cluster time limit); `quick_runtime_s` the
    quick scale's, whose order differs (kernel start and rendering weigh more there)."""
    seconds = entry.get("quick_runtime_s", 10) if scale == "quick" else 60 * entry.get("runtime_min", 30)
    return int(seconds * threads(entry, scale))


def threads(entry: dict, scale: str) -> int:
    """The threads a claim job takes: the registry's `threads` at the paper and full scales, one at the quick scale,
    whose small tensors gain nothing from a second thread (measured: luo2019/cnn-regularization's quick run took
    twice the CPU time at two threads, for a longer wall time when the other core had a job of its own)."""
    return 1 if scale == "quick" else int(entry.get("threads", 1))


def effective_scale(entry: dict, scale: str) -> str:
    """The scale a claim runs at: `full` is the paper's own setting where the claim defines one, else `paper`."""
    return "paper" if scale == "full" and "full" not in entry["params"] else scale


def claim_parameters(config: dict, claim_id: str, *, threads: int, seed_offset: int = 0) -> dict:
    """Everything papermill passes to the claim's notebook at the configured scale and seed offset."""
    split_id(claim_id)
    entry = config["claims"][claim_id]
    declared = notebook_parameters(entry["notebook"])
    scale = effective_scale(entry, config["scale"])
    params = dict(entry["params"][scale])
    if seed_offset:  # seed lists the registry leaves at the notebook's default are shifted too
        params = {**{k: v for k, v in declared.items() if _is_seed_list(k, v)}, **params}
    params = shifted_seeds(params, seed_offset)
    params.update(claim_id=claim_id, scale=scale, threads=threads, seed_offset=seed_offset)
    if "strict_data" in declared:
        params["strict_data"] = config["strict_data"]
    return params


def load(path: str | Path = "config/config.yaml", **overrides) -> dict:
    """Read, override and validate a config file (for tests and scripts)."""
    config = yaml.safe_load(Path(path).read_text())
    config.update(overrides)
    return validate(config, root=Path(path).resolve().parents[1])
