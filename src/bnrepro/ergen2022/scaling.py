"""Cost of the exact convex program against n at fixed d (ergen2022/convex-equivalence).

Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci (ICLR 2022), abstract: the convex representations "can be
trained in polynomial-time". For fixed data rank r the whitened matrix U' (n x (r+1)) has at most
2 sum_{k<=r} C(n-1, k) = O(n^r) arrangement patterns (docs/papers/ergen2022.md, section 1.3), so the group lasso has
O(n^r) groups and O(n^(r+1)) cone constraints. `solve_scaling` enumerates the patterns exactly (d <= 2 only, the one
case with an exact enumeration here) and solves the program at each n, recording the problem size, which is
deterministic, and the wall time, which is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnrepro import stats

from . import convex, tasks

__all__ = ["Scaling", "solve_scaling"]


@dataclass
class Scaling:
    """Per n: exact pattern count, cone-constraint rows (2 P n), the convex value and the solve wall time (s)."""

    ns: np.ndarray
    patterns: np.ndarray
    constraint_rows: np.ndarray
    values: np.ndarray
    seconds: np.ndarray

    def slope(self, quantity: str) -> float:
        """Least-squares log-log slope of `quantity` ("patterns", "constraint_rows" or "seconds") against n."""
        return float(stats.loglog_slope(self.ns, getattr(self, quantity)))


def solve_scaling(ns, d: int, beta: float, seed: int) -> Scaling:
    """The exact convex program on `tasks.regression_data(seed, n, d)` for every n in `ns` (d <= 2)."""
    patterns, rows, values, seconds = [], [], [], []
    for n in ns:
        X, y = tasks.regression_data(seed, int(n), d)
        wh = convex.whiten(X)
        arrangement = convex.arrangements_exact(wh.Up)
        sol = convex.solve_convex(wh.Up, y, beta, arrangement)
        patterns.append(len(arrangement))
        rows.append(2 * len(arrangement) * int(n))
        values.append(sol.value)
        seconds.append(sol.solve_time)
    return Scaling(np.asarray(ns), np.array(patterns), np.array(rows), np.array(values), np.array(seconds))
