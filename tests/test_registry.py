"""The registry's per-claim parameters and its reading of notebook parameter cells."""

import pytest

from bnrepro import registry

ROOT = registry.SCHEMA.parents[2]


def test_claim_parameters_inject_scale_threads_and_paths():
    config = registry.load(ROOT / "config/config.yaml", scale="quick")
    params = registry.claim_parameters(config, "cao2023/uniform-margin", threads=3)
    quick = config["claims"]["cao2023/uniform-margin"]["params"]["quick"]
    assert params == {**quick, "scale": "quick", "threads": 3, "out_dir": "figures/cao2023/uniform-margin",
                      "verdict_path": "results/claims/cao2023-uniform-margin.json"}


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
