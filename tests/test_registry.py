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
