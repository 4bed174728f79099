"""bnrepro.execute: the same run must give the same bytes; one claim runs without Snakemake as the workflow would run it."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from bnrepro.execute import normalize


def test_normalize_merges_stream_chunks_and_names_cell_files():
    warning = "/tmp/ipykernel_4711/123456.py:3: UserWarning: DATA SUBSTITUTION\n"
    cell = new_code_cell("print('a'); print('b')", outputs=[
        new_output("stream", name="stdout", text="epoch 1\n"),
        new_output("stream", name="stdout", text="epoch 2\n"),
        new_output("stream", name="stderr", text=warning),
        new_output("stream", name="stdout", text="done\n"),
        new_output("error", ename="ValueError", evalue="x", traceback=["File /tmp/ipykernel_99/42.py:1"]),
    ])
    cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01"}
    nb = normalize(new_notebook(cells=[new_code_cell("x = 1"), cell]), Path("notebooks/x.py"))
    outputs = nb.cells[1].outputs
    assert [(o.output_type, o.get("name")) for o in outputs] == [("stream", "stdout"), ("stream", "stderr"), ("stream", "stdout"), ("error", None)]
    assert outputs[0].text == "epoch 1\nepoch 2\n"
    assert outputs[1].text == "<cell 1>:3: UserWarning: DATA SUBSTITUTION\n"
    assert outputs[3].traceback == ["File <cell 1>:1"]
    assert [c.id for c in nb.cells] == ["cell-0", "cell-1"] and "execution" not in nb.cells[1].metadata
    nbformat.validate(nb)


def test_run_claim_validates_the_registry_and_expands_seed_ranges(tmp_path, monkeypatch):
    import yaml

    from bnrepro import execute

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config/config.yaml").read_text())
    config["claims"]["lee2022/norm-increase"]["params"]["quick"]["seeds"] = {"start": 3, "count": 4}
    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "notebooks").symlink_to(root / "notebooks")
    seen = {}
    monkeypatch.setattr(execute, "execute", lambda notebook, parameters, **paths: seen.update(parameters) or 0)
    monkeypatch.chdir(tmp_path)
    assert execute.run_claim("lee2022/norm-increase", scale="quick", seed_offset=10) == 0
    assert seen["seeds"] == [13, 14, 15, 16] and seen["scale"] == "quick" and seen["seed_offset"] == 10
    config["claims"]["lee2022/norm-increase"]["params"]["quick"]["seeds"] = {"start": 0}
    (tmp_path / "config/config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(SystemExit, match="lee2022/norm-increase -> params -> quick -> seeds: 'count' is a required"):
        execute.run_claim("lee2022/norm-increase", scale="quick")
