"""ergen2022/convex-equivalence cost scan (Ergen et al., ICLR 2022; docs/papers/ergen2022.md section 1.3)."""

import numpy as np

from bnrepro.ergen2022 import convex, scaling, tasks


def test_solve_scaling_enumerates_every_pattern_and_solves_the_same_program():
    ns = [6, 9, 12]
    cost = scaling.solve_scaling(ns, 2, 0.1, seed=3)
    np.testing.assert_array_equal(cost.patterns, [convex.general_position_count(n, 2) for n in ns])
    np.testing.assert_array_equal(cost.constraint_rows, 2 * cost.patterns * np.array(ns))
    X, y = tasks.regression_data(3, 9, 2)
    wh = convex.whiten(X)
    direct = convex.solve_convex(wh.Up, y, 0.1, convex.arrangements_exact(wh.Up)).value
    assert abs(cost.values[1] - direct) <= 1e-7 * direct
    assert np.all(cost.seconds > 0)
    expected = np.polyfit(np.log(ns), np.log(cost.patterns), 1)[0]
    assert abs(cost.slope("patterns") - expected) < 1e-12
