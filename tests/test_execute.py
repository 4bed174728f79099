"""bnrepro.execute: the same run must give the same bytes; one claim runs without Snakemake as the workflow would run it."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from bnrepro.execute import normalize
from conftest import demo_notebook


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


DEMO = demo_notebook("lee2022/demo-retry")


@pytest.mark.parametrize("failures, ran_a_cell, expected", [(1, False, 0), (3, False, RuntimeError), (1, True, RuntimeError)])
def test_a_kernel_that_dies_before_its_first_cell_is_started_again(tmp_path, monkeypatch, failures, ran_a_cell, expected):
    """Kernels started together can race for a port and die before running a cell: execute starts one again (up to
    three attempts); a kernel that died after running a cell is not retried."""
    import papermill

    from bnrepro import execute

    monkeypatch.chdir(tmp_path)
    notebook = tmp_path / "demo.py"
    notebook.write_text(DEMO)
    real, calls = papermill.execute_notebook, []

    def flaky(source, output, **kwargs):
        calls.append(output)
        if len(calls) <= failures:
            cells = [new_code_cell("x = 1", execution_count=1 if ran_a_cell else None)]
            nbformat.write(new_notebook(cells=cells), output)
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(source, output, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    from bnrepro import claims

    paths = {k: tmp_path / f"out.{k}" for k in ("ipynb", "html")} | {"verdict": claims.verdict_path("lee2022/demo-retry")}
    parameters = {"claim_id": "lee2022/demo-retry", "scale": "quick", "seeds": [0], "threads": 1, "seed_offset": 0}
    if expected == 0:
        assert execute.execute(notebook, parameters, **paths) == 0 and len(calls) == 2
    else:
        with pytest.raises(expected):
            execute.execute(notebook, parameters, **paths)
        assert len(calls) == (1 if ran_a_cell else execute.KERNEL_START_ATTEMPTS)
