"""Verdicts: status derived from checks, strict file naming, atomic and reproducible writes."""

import json

import matplotlib.pyplot as plt
import pytest

from bnrepro import claims, figures


def make(**kw):
    return claims.Verdict(id="cao2023/uniform-margin", statement="s", source="Thm", scale="quick", seeds=[0], **kw)


def test_status_is_derived_from_checks():
    v = make()
    v.check("a", 1e-20, "<=", 1e-15)
    assert v.status == "reproduced"
    v.check("b", 0.3, ">", 0.5, essential=False)
    assert v.status == "partial"
    v.check("c", 2.0, "<", 1.0)
    assert v.status == "not-reproduced"


def test_nan_never_passes_and_is_written_readably(tmp_path):
    v = make()
    v.check("nan", float("nan"), ">=", 0)
    assert v.status == "not-reproduced"
    path = v.write(tmp_path / "cao2023-uniform-margin.json")
    assert json.loads(path.read_text())["checks"][0]["observed"] == "nan"
    assert claims.read(path)["status"] == "not-reproduced"


def test_no_checks_is_an_error():
    with pytest.raises(ValueError, match="at least one check"):
        make().status


def test_unknown_operator_and_bad_id_are_rejected():
    with pytest.raises(ValueError, match="unknown comparison"):
        make().check("x", 1, "==", 1)
    with pytest.raises(ValueError, match="bad claim id"):
        claims.Verdict(id="nobody2020/x", statement="s", source="s", scale="quick", seeds=[0])


def test_write_names_file_and_separates_run_record(tmp_path):
    v = make()
    v.check("a", 1, ">=", 0)
    v.timing("solve", 0.1234567)
    with pytest.raises(ValueError, match="must be named cao2023-uniform-margin.json"):
        v.write(tmp_path / "other.json")
    path = v.write(tmp_path / "cao2023-uniform-margin.json", threads=2, device="cpu")
    first = path.read_bytes()
    data = json.loads(first)
    assert data["status"] == "reproduced" and data["checks"][0]["passed"] is True
    assert "runtime_s" not in data  # run-dependent numbers live in the run record
    run = json.loads(claims.run_record_path(path).read_text())
    assert run["threads"] == 2 and run["runtime_s"] >= 0
    assert run["timings"] == {"solve": 0.123} and "solve" not in first.decode()  # measured times: run record only
    v.write(path)
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_read_rejects_a_hand_edited_status(tmp_path):
    v = make()
    v.check("a", 2, "<=", 1)
    path = v.write(tmp_path / "cao2023-uniform-margin.json")
    data = json.loads(path.read_text())
    data["status"] = "reproduced"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="does not follow from its checks"):
        claims.read(path)


def test_write_refuses_a_figure_that_does_not_exist(tmp_path):
    v = make()
    v.check("a", 1, ">=", 0)
    v.figures.append(str(tmp_path / "missing.png"))
    with pytest.raises(FileNotFoundError, match="missing.png"):
        v.write(tmp_path / "cao2023-uniform-margin.json")


def test_figures_save_is_byte_reproducible_and_registers(tmp_path):
    v = make()

    def draw():
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [1, 0, 2], label="x")
        ax.legend()
        return fig

    paths = figures.save(draw(), "f", out_dir=tmp_path / "a", verdict=v, formats=("png", "pdf", "svg"))
    again = figures.save(draw(), "f", out_dir=tmp_path / "b", formats=("png", "pdf", "svg"))
    for p, q in zip(paths, again):
        assert p.read_bytes() == q.read_bytes(), p.suffix
    assert v.figures == [str(tmp_path / "a" / "f.png")]
    assert b"Matplotlib" not in paths[1].read_bytes()  # PDF producer stripped
    with pytest.raises(ValueError, match="unsupported figure format"):
        figures.save(draw(), "f", out_dir=tmp_path, formats=("bmp",))


def test_measured_time_figure_is_marked_and_closed(tmp_path):
    v = make()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    paths = figures.save(fig, "vs-time", out_dir=tmp_path, verdict=v, measured_time=True)
    assert [p.name for p in paths] == ["vs-time.run.png", "vs-time.run.pdf"]
    assert v.figures == [str(tmp_path / "vs-time.run.png")]
    assert not plt.fignum_exists(fig.number)  # not embedded in the rendered notebook
