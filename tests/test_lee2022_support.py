"""bnrepro.lee2022.support against `neuron.flow` (the reference trajectories) and the closed forms of least squares:
the limit formulas and identities of the support-vectors claim."""

import numpy as np

from bnrepro import lee2022
from bnrepro.lee2022 import support


def test_support_limit_formula_holds_exactly_when_no_point_leaves():
    """error_support (w0 + X_S^+(y_S - X_S w0)) is at rounding level exactly in the runs where no ever-active point
    left S, and clearly off in the others; the identities (tau formula, span, deletion) hold in every run."""
    seeds = list(range(40))
    r = support.support_vector_runs(seeds, 10, 50, 0.1, eta=0.025, steps=2000, record_every=100)
    left = np.any(r.relu.ever_active & ~r.relu.final_active, axis=1)
    assert left.any() and (~left).any()
    assert np.all(r.error_support[~left] < 1e-10)
    assert np.all(r.error_support[left] > 1e-6)
    assert r.error_tau.max() < 1e-8 and r.span.max() < 1e-10 and r.deletion.max() == 0
    assert r.error_linear.max() < 1e-10
    # the formula against an explicit pseudo-inverse of the active rows, one seed
    s = int(np.flatnonzero(left)[0])
    S = r.relu.final_active[s]
    XS = r.X[s][S]
    expected = r.w0[s] + np.linalg.pinv(XS) @ (r.y[s][S] - XS @ r.w0[s])
    np.testing.assert_allclose(support.relative_error(r.relu.final_w[s:s + 1], expected[None]), r.error_support[s:s + 1],
                               rtol=1e-8)
    assert np.array_equal(r.deactivated, left | r.relu.reactivated.any(axis=1))


def test_support_runs_are_the_single_flows():
    seeds = [2, 5]
    r = support.support_vector_runs(seeds, 6, 12, 0.1, eta=0.05, steps=50, record_every=10)
    X, y, _ = lee2022.teacher_data(seeds, 6, 12)
    w0 = lee2022.init_weights(seeds, 12, 0.1)
    np.testing.assert_array_equal(r.relu.w, lee2022.flow(X, y, w0, eta=0.05, steps=50, record_every=10).w)
    np.testing.assert_array_equal(r.linear.w, lee2022.flow(X, y, w0, eta=0.05, steps=50, record_every=10, linear=True).w)
    np.testing.assert_array_equal(r.half.final_w, lee2022.flow(X, y, w0, eta=0.025, steps=100, record_every=20).final_w)
    np.testing.assert_array_equal(r.initial_active, lee2022.active_set(w0, X))


def test_relative_error():
    w = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(support.relative_error(w, np.array([[3.0, 0.0], [0.0, 0.0]])), [0.8, 0.0])
