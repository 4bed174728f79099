"""Verdicts v2: check kinds, intervals and decisions, the status rules, strict reading, reproducible writes."""

import json
import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats as st

from bnrepro import claims, figures, stats


def make(**kw):
    return claims.Verdict(id="cao2023/uniform-margin", statement="s", source="Thm", evidence="full-text", scale="quick", seeds=[0], **kw)


# --- intervals against scipy.stats reference values -------------------------------------------


def test_binomial_interval_is_clopper_pearson():
    low, high = stats.binomial_interval(18, 20)
    # Clopper-Pearson from the beta quantiles
    assert low == pytest.approx(st.beta.ppf(0.025, 18, 3)) and high == pytest.approx(st.beta.ppf(0.975, 19, 2))
    assert stats.binomial_interval(20, 20) == (pytest.approx(0.025 ** (1 / 20)), 1.0)


def test_t_interval_matches_the_t_quantiles():
    x = np.array([0.3, 1.1, -0.2, 0.8, 0.5])
    half = st.t.ppf(0.975, 4) * x.std(ddof=1) / np.sqrt(5)
    assert stats.t_interval(x) == (pytest.approx(x.mean() - half), pytest.approx(x.mean() + half))
    assert stats.t_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)  # no spread: the interval is the value
    assert stats.t_interval([1.0]) == (-math.inf, math.inf)  # one seed decides nothing


def test_bootstrap_interval_is_reproducible_and_brackets_the_median():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 1.0, 30)
    a, b = stats.bootstrap_interval(x), stats.bootstrap_interval(x)
    assert a == b and a[0] < np.median(x) < a[1]
    ref = st.bootstrap((x,), np.median, n_resamples=stats.BOOTSTRAP_RESAMPLES, method="BCa",
                       rng=np.random.default_rng(stats.BOOTSTRAP_SEED)).confidence_interval
    assert a == (pytest.approx(ref.low), pytest.approx(ref.high))
    with pytest.raises(ValueError, match="finite"):
        stats.bootstrap_interval([1.0, np.nan, 2.0])


def test_shared_fits():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert stats.loglog_slope(x, 3 * x**-1.5) == pytest.approx(-1.5)
    np.testing.assert_allclose(stats.loglog_slope(x, np.stack([x, x**2])), [1.0, 2.0])
    assert stats.cosine([1.0, 0.0], [1.0, 1.0]) == pytest.approx(2**-0.5)
    assert stats.spearman([1, 2, 3], [3, 5, 9]) == 1.0 and stats.spearman([1, 2, 3], [1, 1, 1]) == 0.0


# --- decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, low, high, decision",
    [(">=", 0.96, 1.0, "pass"), (">=", 0.5, 0.94, "fail"), (">=", 0.9, 1.0, "undecided"), (">", 0.95, 1.0, "undecided"),
     ("<=", 0.1, 0.95, "pass"), ("<=", 0.96, 1.2, "fail"), ("<", 0.5, 0.95, "undecided"), ("<", 0.1, 0.9, "pass")],
)
def test_decision_from_the_interval(op, low, high, decision):
    assert claims.decide(op, 0.95, low, high) == decision


def test_tolerance_makes_a_near_threshold_value_undecided():
    assert claims.decide(">=", 1.0, 1.0000001, 1.0000001) == "pass"
    assert claims.decide(">=", 1.0, 1.0000001, 1.0000001, tolerance=1e-3) == "undecided"


def test_aggregated_checks_report_n_interval_and_decision():
    v = make()
    c = v.check("fraction", [True] * 19 + [False], ">=", 0.5, kind="claim", aggregate="fraction")
    assert (c.n, c.observed, c.decision) == (20, 0.95, "pass") and c.interval == stats.binomial_interval(19, 20)
    c = v.check("fraction at 95%", [True] * 20, ">=", 0.95, kind="claim", aggregate="fraction")
    assert c.decision == "undecided"  # 20/20 cannot show a rate above 95%
    c = v.check("mean gain", [0.1, 0.2, 0.15, 0.12], ">", 0.0, kind="claim", aggregate="mean")
    assert c.decision == "pass" and c.interval[0] > 0
    c = v.check("p < 0.01 as a 99% interval", [0.1, -0.05, 0.2, 0.02], ">", 0.0, kind="claim", aggregate="mean", confidence=0.99)
    assert c.decision == "undecided" and c.confidence == 0.99
    c = v.check("worst seed", [1.6, 1.47, 1.9], ">=", 1.5, kind="claim", aggregate="min")
    assert (c.observed, c.interval, c.decision) == (1.47, None, "fail")
    c = v.check("median ratio", [2.1, 2.5, 3.0, 2.2, 2.8, 2.6], ">=", 2.0, kind="claim", aggregate="median")
    assert c.decision == "pass"
    c = v.check("a nan seed", [1.0, np.nan], ">=", 0.5, kind="claim", aggregate="mean")
    assert math.isnan(c.observed) and c.decision == "undecided"


def test_bad_checks_are_rejected():
    v = make()
    with pytest.raises(ValueError, match="kind 'essential'"):
        v.check("x", 1, ">=", 0, kind="essential")
    with pytest.raises(ValueError, match="unknown comparison"):
        v.check("x", 1, "==", 1, kind="claim")
    with pytest.raises(ValueError, match="need an aggregate"):
        v.check("x", [1.0, 2.0], ">=", 0, kind="claim")
    with pytest.raises(ValueError, match="a fraction needs booleans"):
        v.check("x", [0.2, 0.7], ">=", 0, kind="claim", aggregate="fraction")
    with pytest.raises(ValueError, match="belongs to the whole claim"):
        v.check("x", 1, ">=", 0, kind="regime", part="a")
    with pytest.raises(TypeError):
        v.check("x", 1, ">=", 0)  # a kind is required
    with pytest.raises(ValueError, match="bad claim id"):
        claims.Verdict(id="nobody2020/x", statement="s", source="s", evidence="abstract", scale="quick", seeds=[0])
    with pytest.raises(ValueError, match="evidence"):
        claims.Verdict(id="cao2023/x", statement="s", source="s", evidence="hearsay", scale="quick", seeds=[0])


# --- status rules -----------------------------------------------------------------------------


def status(*checks):
    v = make()
    for name, kind, ok, part in checks:
        observed = {"pass": 1.0, "fail": -1.0, "undecided": [1.0, -1.0]}[ok]
        v.check(name, observed, ">", 0.0, kind=kind, part=part, aggregate="mean" if ok == "undecided" else None)
    j = v.judgement()
    return j.status, {p["name"]: p["status"] for p in j.parts}, j.reason


def test_every_claim_check_passes_is_reproduced():
    assert status(("a", "claim", "pass", None), ("id", "sanity", "pass", None))[:2] == ("reproduced", {"main": "reproduced"})


def test_a_failed_claim_check_is_not_reproduced():
    s, parts, reason = status(("a", "claim", "pass", None), ("b", "claim", "fail", None))
    assert (s, parts) == ("not-reproduced", {"main": "not-reproduced"}) and "'b' fails" in reason


def test_an_undecided_claim_check_is_inconclusive():
    s, parts, reason = status(("a", "claim", "undecided", None))
    assert (s, parts) == ("inconclusive", {"main": "inconclusive"}) and "straddles" in reason


def test_a_failed_control_makes_its_part_inconclusive_even_when_the_claim_fails():
    s, parts, reason = status(("a", "claim", "fail", "x"), ("ctl", "control", "fail", "x"), ("b", "claim", "pass", "y"))
    assert parts == {"x": "inconclusive", "y": "reproduced"} and s == "partial" and "cannot discriminate" in reason


def test_a_control_without_a_part_covers_every_part():
    s, parts, _ = status(("a", "claim", "pass", "x"), ("b", "claim", "pass", "y"), ("ctl", "control", "undecided", None))
    assert s == "inconclusive" and parts == {"x": "inconclusive", "y": "inconclusive"}


def test_a_failed_regime_check_is_inconclusive_out_of_regime():
    s, parts, reason = status(("a", "claim", "fail", None), ("competent", "regime", "fail", None))
    assert s == "inconclusive" and reason.startswith("out of regime") and parts == {"main": "not-reproduced"}


def test_a_failed_sanity_check_is_an_error_whatever_else():
    s, _, reason = status(("a", "claim", "pass", None), ("competent", "regime", "fail", None), ("id", "sanity", "fail", None))
    assert s == "error" and "'id'" in reason
    v = make()
    v.check("a", 1.0, ">", 0, kind="claim")
    assert v.check("nan identity", float("nan"), "<=", 1e-12, kind="sanity").decision == "fail"


def test_parts_that_disagree_are_partial_and_an_erratum_never_counts():
    s, parts, reason = status(("a", "claim", "pass", "x"), ("b", "claim", "fail", "y"), ("printed", "erratum", "fail", None))
    assert s == "partial" and parts == {"x": "reproduced", "y": "not-reproduced"} and "part 'y'" in reason
    assert status(("a", "claim", "pass", None), ("printed", "erratum", "fail", None))[0] == "reproduced"


def test_no_part_reproduced_but_one_failed_is_not_reproduced():
    s, parts, reason = status(("a", "claim", "fail", "x"), ("b", "claim", "undecided", "y"))
    assert s == "not-reproduced" and "1 part(s) inconclusive" in reason


def test_a_verdict_needs_a_claim_check_and_controls_need_their_part():
    v = make()
    v.check("id", 0.0, "<=", 1e-12, kind="sanity")
    with pytest.raises(ValueError, match="at least one claim check"):
        v.judgement()
    v.check("a", 1.0, ">", 0, kind="claim", part="x")
    v.check("ctl", 1.0, ">", 0, kind="control", part="typo")
    with pytest.raises(ValueError, match="no claim check"):
        v.judgement()


# --- files ------------------------------------------------------------------------------------


def test_write_names_file_separates_run_record_and_reads_back(tmp_path):
    v = make(stand_ins=["network: ours"])
    v.check("a", [1.0, 2.0, 1.5], ">", 0, kind="claim", aggregate="mean")
    v.check("nan", float("nan"), ">=", 0, kind="claim", part="other")
    v.timing("solve", 0.1234567)
    with pytest.raises(ValueError, match="must be named cao2023-uniform-margin.json"):
        v.write(tmp_path / "other.json")
    path = v.write(tmp_path / "cao2023-uniform-margin.json")
    first = path.read_bytes()
    data = claims.read(path)
    assert data["version"] == 2 and data["status"] == "partial" and data["evidence"] == "full-text"
    assert data["checks"][0]["n"] == 3 and len(data["checks"][0]["interval"]) == 2 and data["checks"][1]["observed"] == "nan"
    assert data["stand_ins"] == ["network: ours"] and "runtime_s" not in data
    run = json.loads(claims.run_record_path(path).read_text())
    assert run["runtime_s"] >= 0 and run["timings"] == {"solve": 0.123} and "solve" not in first.decode()
    v.write(path)
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def _written(tmp_path):
    v = make()
    v.check("a", [1.0, 2.0, 1.5], ">", 0, kind="claim", aggregate="mean")
    path = v.write(tmp_path / "cao2023-uniform-margin.json")
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(status="reproduced", reason="typed"), "does not follow from its checks"),
        (lambda d: d["checks"][0].pop("kind"), "has no kind"),
        (lambda d: d["checks"][0].pop("interval"), "lacks n or interval"),
        (lambda d: d["checks"][0].update(decision="fail"), "its numbers give 'pass'"),
        (lambda d: d["checks"][0].update(interval=[-1.0, 3.0]), "its numbers give 'undecided'"),
        (lambda d: d.pop("version"), "version None"),
        (lambda d: d.pop("stand_ins"), "lacks ['stand_ins']"),
    ],
)
def test_read_rejects_verdicts_that_do_not_follow(tmp_path, edit, message):
    path, data = _written(tmp_path)
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=re.escape(message)):
        claims.read(path)


def test_paths_of_main_run_and_replicates():
    assert str(claims.verdict_path("lee2022/norm-increase")) == "results/claims/lee2022-norm-increase.json"
    assert str(claims.verdict_path("lee2022/norm-increase", seed_offset=1000)) == "results/replicates/1000/claims/lee2022-norm-increase.json"
    assert str(claims.figures_dir("lee2022/norm-increase", 7)) == "figures/replicates/7/lee2022/norm-increase"


def test_open_sets_up_and_finish_writes_where_the_workflow_expects(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    v = claims.open("lee2022/demo", statement="s", source="abstract", evidence="abstract", scale="quick",
                    seeds=[3, 4], threads=1, seed_offset=3, stand_ins=["condition: ours"])
    assert v.threads == 1 and v.device in ("cpu", "cuda") and v.out_dir == claims.figures_dir("lee2022/demo", 3)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    v.figure(fig, "line")
    v.check("a", [True, True], ">=", 0.5, kind="claim", aggregate="fraction")

    class Provenance:
        def provenance(self):
            return {"requested": "cifar10", "used": "digits", "substituted": True, "reason": "offline"}

    v.use_dataset(Provenance())
    v.finish()
    data = claims.read(tmp_path / "results/replicates/3/claims/lee2022-demo.json")
    assert data["seed_offset"] == 3 and data["figures"] == ["figures/replicates/3/lee2022/demo/line.png"]
    assert data["stand_ins"][0] == "condition: ours" and data["stand_ins"][1].startswith("dataset: digits instead of cifar10, which")
    assert data["dataset"]["reason"] == "offline"
    out = capsys.readouterr().out
    assert "lee2022/demo (abstract): scale=quick, 2 seeds, replicate with seeds shifted by 3" in out and "INCONCLUSIVE" in out


def test_write_refuses_a_figure_that_does_not_exist(tmp_path):
    v = make()
    v.check("a", 1, ">=", 0, kind="claim")
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


def test_a_decision_that_its_rounding_shadow_reads_otherwise_is_undecided(tmp_path):
    v = make()
    agree = v.check("ratio", [0.3, 0.35, 0.32], "<=", 0.5, kind="claim", aggregate="max", shadow=[0.31, 0.34, 0.33])
    flips = v.check("ratio 2", [1.40, 1.31], "<=", 0.5, kind="claim", part="b", aggregate="mean", shadow=[1.46, 0.2])
    scalar = v.check("one", 0.9, ">=", 1.0, kind="claim", part="c", shadow=1.01)
    assert agree.decision == "pass" and flips.decision == "undecided" and scalar.decision == "undecided"
    assert flips.rounding_sensitive and not agree.rounding_sensitive
    j = v.judgement()
    assert "depends on float rounding" in j.reason and {p["name"]: p["status"] for p in j.parts}["b"] == "inconclusive"
    path = v.write(tmp_path / "cao2023-uniform-margin.json")
    data = claims.read(path)
    assert data["checks"][1]["shadow"]["decision"] == "undecided" and data["checks"][1]["decision"] == "undecided"
    data["checks"][1]["shadow"]["decision"] = "fail"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="shadow's decision"):
        claims.read(path)
