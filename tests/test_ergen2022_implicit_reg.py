"""The truncated and weighted convex encodings of GD's bias and the comparison of convex-implicit-reg
(bnrepro.ergen2022.implicit_reg; Ergen et al., ICLR 2022, docs/papers/ergen2022.md section 3)."""

import numpy as np
import pytest

from bnrepro import ergen2022 as eg
from bnrepro.ergen2022 import implicit_reg as ir
from bnrepro.ergen2022 import tasks
from bnrepro.ergen2022 import training as tr


class _Images:  # the fields of bnrepro.data.real.Dataset that image_task reads
    used = "fake"
    classes = ("a", "b", "c")

    def __init__(self):
        rng = np.random.default_rng(0)
        self.x_train = rng.random((60, 1, 3, 3)).astype(np.float32)
        self.y_train = np.repeat(np.arange(3), 20)
        self.x_test = rng.random((30, 1, 3, 3)).astype(np.float32)
        self.y_test = np.repeat(np.arange(3), 10)


def _problem(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), np.sign(rng.standard_normal(n)), rng


def test_member_weights_are_the_spectral_ratios_then_one():
    np.testing.assert_allclose(ir.member_weights([4.0, 2.0, 0.5], 1.0), [1.0, 2.0, 8.0, 1.0])
    np.testing.assert_allclose(ir.member_weights([4.0, 2.0, 0.5], 0.5), [1.0, np.sqrt(2.0), np.sqrt(8.0), 1.0])
    np.testing.assert_array_equal(ir.member_weights([3.0, 1.0], 0.0), [1.0, 1.0, 1.0])
    assert ir.Member(25).label == "k=25" and ir.Member(50, 0.5).label == "k=50, p=0.5"


def test_unweighted_member_is_the_truncated_program():
    X, y, rng = _problem(20, 12, 5)
    X_new = rng.standard_normal((7, 12))
    wh = eg.whiten(X)
    fit = ir.fit_member(wh, ir.Member(4), y, 30, [1, 4], [X, X_new], 0.1)
    reference = tasks.fit_truncated(wh, 4, y[:, None], 30, [1, 4], [X, X_new], 0.1)
    assert fit.sampled == reference.sampled
    for mine, theirs in zip(fit.outputs, reference.outputs, strict=True):
        np.testing.assert_array_equal(mine, theirs[:, 0])


def test_weighted_member_is_the_plain_program_on_rescaled_columns():
    """||Lambda q|| with q~ = Lambda q is the unweighted program on U' Lambda^-1 (same patterns: s -> Lambda^-1 s
    is a bijection), so value and fitted training outputs (unique: the loss is strictly convex in them) agree (to the solver's accuracy); and the weighted value is above the unweighted one (weights >= 1)."""
    X, y, _ = _problem(20, 12, 6)
    wh = eg.whiten(X)
    fit = ir.fit_member(wh, ir.Member(4, 1.0), y, 30, [2, 4], [X], 0.1)
    wk = wh.truncate(4)
    lam = ir.member_weights(wk.sigma, 1.0)
    assert lam[1:-1].min() > 1.0  # the test is not vacuous
    patterns = eg.unique_patterns(eg.arrangements_sampled(wk.Up, 30, np.random.default_rng([2, 4])), eg.sign_patterns(y))
    rescaled = eg.solve_convex(wk.Up / lam, y, 0.1, patterns)
    assert fit.value == pytest.approx(rescaled.value, rel=1e-6)
    np.testing.assert_allclose(fit.outputs[0], eg.relu_predict(wk.features(X) / lam, rescaled.Q, rescaled.Qp), atol=1e-5)
    plain = ir.fit_member(wh, ir.Member(4), y, 30, [2, 4], [X], 0.1)
    assert fit.value > plain.value


def test_gd_baseline_in_two_legs_is_one_gd_run():
    task = tasks.image_task(_Images(), ("a", "b"), 6, 2, 5, seed=0)
    base = ir.gd_baseline(task, 0.01, width=4, lr=1e-3, steps=40, seed=3)
    net, trace = tr.train(task.X_train, task.y_train, 0.01, width=4, seeds=[3], optimizer="gd", lr=1e-3, steps=40,
                          progress=False)
    assert base.objective == pytest.approx(trace.objective[0, -1], rel=1e-10)
    assert base.test == tasks.accuracy(tasks.gd_predict(net, task.X_test, task.X_train), task.labels_test)
    assert base.train == tasks.accuracy(tasks.gd_predict(net, task.X_train, task.X_train), task.labels_train)
    half, _ = tr.train(task.X_train, task.y_train, 0.01, width=4, seeds=[3], optimizer="gd", lr=1e-3, steps=20,
                       progress=False)
    assert base.test_half == tasks.accuracy(tasks.gd_predict(half, task.X_test, task.X_train), task.labels_test)


def test_select_takes_the_first_best():
    np.testing.assert_array_equal(ir.select([[0.5, 0.7, 0.7], [0.9, 0.1, 0.2]]), [1, 0])


def test_compare_selects_on_validation_and_keeps_the_whitened_optimum_last():
    members = [ir.Member(1), ir.Member(3), ir.Member(3, 1.0)]
    seen = []
    res = ir.compare(_Images(), ("a", "b"), (4, 3, 5), [0, 1], members, 5, beta=0.01, width=3, gd_lr=1e-3, gd_steps=6,
                     solver_options={}, timing=lambda name, s: seen.append(name))
    assert res["labels"] == ["k=1", "k=3", "k=3, p=1", "whitened"]
    assert res["val"].shape == res["test"].shape == (2, 4)
    np.testing.assert_array_equal(res["test"][:, -1], res["white"])
    for s in range(2):
        assert res["selected"][s] == int(np.argmax(res["val"][s])) and res["encoded"][s] == res["test"][s, res["selected"][s]]
        trunc_cols = [0, 1, 3]
        best = trunc_cols[int(np.argmax(res["val"][s, trunc_cols]))]
        assert res["selected_trunc"][s] == best and res["trunc"][s] == res["test"][s, best]
    assert np.all(res["rank"] == 7) and np.all(res["p_star"] > 0) and np.all(res["gd_train"] <= 1)
    assert any("GD-BN" in name for name in seen) and any("convex solve" in name for name in seen)
