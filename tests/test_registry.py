"""The registry's per-claim parameters and its reading of notebook parameter cells."""

import pytest

from bnrepro import registry

ROOT = registry.SCHEMA.parents[2]


def test_claim_parameters_inject_the_claim_scale_threads_and_offset():
    config = registry.load(ROOT / "config/config.yaml", scale="quick")
    params = registry.claim_parameters(config, "cao2023/uniform-margin", threads=3)
    quick = config["claims"]["cao2023/uniform-margin"]["params"]["quick"]
    assert params == {**quick, "claim_id": "cao2023/uniform-margin", "scale": "quick", "threads": 3, "seed_offset": 0}


def test_the_full_scale_runs_a_claims_full_set_where_it_has_one_and_paper_elsewhere():
    config = registry.load(ROOT / "config/config.yaml", scale="full")
    claim = "cao2023/uniform-margin"
    config["claims"][claim]["params"].pop("full", None)
    params = registry.claim_parameters(config, claim, threads=1)
    assert params["scale"] == "paper" and params["seeds"] == config["claims"][claim]["params"]["paper"]["seeds"]
    config["claims"][claim]["params"]["full"] = {**config["claims"][claim]["params"]["paper"], "steps": 7}
    params = registry.claim_parameters(config, claim, threads=1)
    assert params["scale"] == "full" and params["steps"] == 7


def test_claims_are_ordered_longest_first_by_their_runtime_at_the_scale_run():
    entry = {"runtime_min": 8, "quick_runtime_s": 12, "threads": 1}
    assert registry.priority(entry, "paper") == registry.priority(entry, "full") == 480
    assert registry.priority(entry, "quick") == 12
    assert registry.priority({**entry, "threads": 2}, "paper") == 960  # core-seconds
    assert registry.priority({**entry, "threads": 2}, "quick") == 12  # the quick scale runs every claim on one thread
    assert registry.threads({"threads": 2}, "paper") == registry.threads({"threads": 2}, "full") == 2
    assert registry.threads({"threads": 2}, "quick") == 1
    claims = registry.load(ROOT / "config/config.yaml", scale="quick")["claims"]
    assert [c for c, entry in claims.items() if "quick_runtime_s" not in entry] == [], "every claim states it"


def test_a_replicate_shifts_every_seed_list_and_nothing_else():
    config = registry.load(ROOT / "config/config.yaml", scale="paper")
    claim = "ergen2022/convex-equivalence"
    paper = config["claims"][claim]["params"]["paper"]
    params = registry.claim_parameters(config, claim, threads=1, seed_offset=1000)
    assert params["seeds"] == [s + 1000 for s in paper["seeds"]] and params["init_seeds"] == [s + 1000 for s in paper["init_seeds"]]
    assert params["seed_offset"] == 1000 and params["n"] == paper["n"] and params["widths"] == paper["widths"]
    assert registry.shifted_seeds({"sweep_seeds": [0, 1], "subset_seed": 0, "steps": 5}, 7) == {"sweep_seeds": [7, 8], "subset_seed": 0, "steps": 5}


def test_replicate_offsets_from_the_command_line_become_ints():
    config = registry.load(ROOT / "config/config.yaml", replicate_offsets=["1000", "2000"])
    assert config["replicate_offsets"] == [1000, 2000] and config["seed_offset"] == 0
    with pytest.raises(registry.ConfigError, match="replicate_offsets -> 0: 0 is less than the minimum of 1"):
        registry.load(ROOT / "config/config.yaml", replicate_offsets=[0])


def test_notebook_parameters_must_be_literals(tmp_path):
    nb = tmp_path / "nb.py"
    nb.write_text('# %% tags=["parameters"]\nn = 3\nm = n + 1\n')
    with pytest.raises(registry.ConfigError, match="m is not a plain literal"):
        registry.notebook_parameters(nb)
    nb.write_text("# %%\nn = 3\n")
    with pytest.raises(registry.ConfigError, match="exactly one cell tagged 'parameters'"):
        registry.notebook_parameters(nb)


SCAN = "cao2023/patchwise-beats-maxmargin"


@pytest.mark.parametrize(
    "override, message",
    [
        ({"n_scan": [30, -1]}, "n_scan -> 1: -1 is less than the minimum of 1"),
        ({"n_scan": []}, "n_scan: [] should be non-empty"),
        ({"n_scan": 0}, "n_scan: 0 is less than the minimum of 1"),
        ({"sigma_scan": [1.0, "x"]}, "sigma_scan -> 1: 'x' is not of type 'number'"),
        ({"n_scan": 30}, "n_scan: 30 is a int, the notebook expects a list"),
        ({"P": 2.5}, "P: 2.5 is not of type 'integer'"),
    ],
)
def test_scans_and_sizes_are_validated_with_a_precise_reason(override, message):
    config = registry.load(ROOT / "config/config.yaml")
    config["claims"][SCAN]["params"]["quick"].update(override)
    with pytest.raises(registry.ConfigError) as error:
        registry.validate(config, root=ROOT)
    assert f"claims -> {SCAN} -> params -> quick -> {message}" in str(error.value)


def test_scans_are_accepted():
    config = registry.load(ROOT / "config/config.yaml")
    config["claims"][SCAN]["params"]["quick"].update({"n_scan": [20, 40], "sigma_scan": [0.5, 3.0]})
    assert registry.validate(config, root=ROOT) is config


def test_a_seed_range_is_the_list_it_stands_for_and_shifts_like_one():
    config = registry.load(ROOT / "config/config.yaml")
    claim = "ergen2022/convex-equivalence"
    config["claims"][claim]["params"]["paper"].update(seeds={"start": 5, "count": 3}, init_seeds={"start": 0, "count": 2})
    config = registry.validate(config, root=ROOT)
    assert config["claims"][claim]["params"]["paper"]["seeds"] == [5, 6, 7]
    params = registry.claim_parameters(config, claim, threads=1, seed_offset=100)
    assert params["seeds"] == [105, 106, 107] and params["init_seeds"] == [100, 101]


@pytest.mark.parametrize(
    "seeds, message",
    [
        ({"start": 0}, "'count' is a required property"),
        ({"start": -1, "count": 3}, "-1 is less than the minimum of 0"),
        ({"start": 0, "count": 0}, "0 is less than the minimum of 1"),
        ({"start": 0, "count": 3, "step": 2}, "Additional properties are not allowed"),
    ],
)
def test_a_bad_seed_range_is_rejected_naming_the_key(seeds, message):
    config = registry.load(ROOT / "config/config.yaml")
    config["claims"][SCAN]["params"]["paper"]["seeds"] = seeds
    with pytest.raises(registry.ConfigError, match="params -> paper -> seeds") as error:
        registry.validate(config, root=ROOT)
    assert message in str(error.value)


def test_the_fast_parameters_reader_agrees_with_jupytext_on_every_notebook():
    import ast

    import jupytext

    notebooks = sorted((ROOT / "notebooks").rglob("*.py"))
    assert len(notebooks) >= 21
    for path in notebooks:
        cell = next(c for c in jupytext.read(path).cells if "parameters" in c.metadata.get("tags", []))
        expected = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(cell.source).body}
        assert registry.notebook_parameters(path) == expected, path
