"""bnrepro.lee2022.monotone against `neuron.flow` (the reference trajectories), the norm identity and hand-built
cases: the per-seed outcomes of the norm-increase claim."""

import numpy as np

from bnrepro import lee2022
from bnrepro.lee2022 import monotone


def test_norm_monotonicity_matches_the_recorded_flow():
    """Same Euler steps as neuron.flow: the per-seed outcome, N(w0), first decrease and sign agreement agree with
    what the full trajectory shows."""
    seeds, n, d, eta, steps = [0, 1, 2, 3, 4, 5], 20, 3, 0.02, 1500
    X, y, _ = lee2022.teacher_data(seeds, n, d)
    for scale in (1e-3, 0.5, 3.0):
        w0 = lee2022.init_weights(seeds, d, scale)
        f = lee2022.flow(X, y, w0, eta=eta, steps=steps)
        r = monotone.norm_monotonicity(X, y, w0, eta=eta, steps=steps, loss_floor=1e-12, rounding_floor=1e-16,
                                       retire_every=steps + 1)
        np.testing.assert_allclose(r.rate0, lee2022.norm_rate(w0, X, y), rtol=1e-13)
        np.testing.assert_array_equal(r.increasing, lee2022.strictly_increasing(f.norm, f.loss, 1e-12))
        np.testing.assert_allclose(r.final_norm, f.norm[-1], rtol=1e-12)
        np.testing.assert_allclose(r.peak_norm, f.norm.max(axis=0), rtol=1e-12)
        np.testing.assert_allclose(r.final_loss, f.loss[-1], rtol=1e-10, atol=1e-300)
        np.testing.assert_array_equal(r.initial_decrease, f.norm[1] < f.norm[0])
        bad = (np.diff(f.norm, axis=0) <= 0) & (f.loss[:-1] >= 1e-12)
        first = np.where(bad.any(axis=0), np.argmax(bad, axis=0) * eta, np.inf)
        np.testing.assert_allclose(r.first_decrease, first)
        late = (np.diff(f.norm, axis=0) <= 0) & (f.loss[:-1] < 1e-12) & (f.loss[:-1] >= 1e-16)
        np.testing.assert_array_equal(r.late_decrease, late.any(axis=0))
        resolved = f.loss[:-1] >= 1e-16
        agree = np.sum(resolved & (np.sign(np.diff(f.norm, axis=0)) == np.sign(f.norm_rate[:-1])))
        assert (r.sign_agree, r.sign_total) == (agree, resolved.sum())


def test_retiring_converged_runs_changes_no_outcome():
    """Runs below the rounding floor leave the batch: every judged quantity is the same as without retiring."""
    seeds = list(range(12))
    X, y, _ = lee2022.teacher_data(seeds, 20, 2)
    w0 = lee2022.init_weights(seeds, 2, 1e-3)
    kept = monotone.norm_monotonicity(X, y, w0, eta=0.05, steps=3000, retire_every=10**6)
    retired = monotone.norm_monotonicity(X, y, w0, eta=0.05, steps=3000, retire_every=50)
    assert np.sum(kept.final_loss < 1e-16) >= 6  # most runs do retire
    for name in ("increasing", "first_decrease", "late_decrease", "initial_decrease", "rate0", "positive_active0",
                 "sign_agree", "sign_total"):
        np.testing.assert_array_equal(getattr(retired, name), getattr(kept, name), err_msg=name)
    np.testing.assert_allclose(retired.final_norm, kept.final_norm, rtol=1e-6)
    np.testing.assert_allclose(retired.peak_norm, kept.peak_norm, rtol=1e-6)
    assert np.all(retired.final_loss[kept.final_loss < 1e-16] < 1e-16)


def test_norm_monotonicity_on_hand_built_cases():
    """w0 = v/2: z = y/2 on the teacher's active set, N > 0 and the norm climbs to ||v|| = 1; w0 = -v/1000: only
    label-0 points are active, N(w0) = -(1/n) sum z^2 < 0 and the norm falls; w0 = 3 v: it falls at once."""
    X, y, v = lee2022.teacher_data([7, 8], n=30, d=3)
    up = monotone.norm_monotonicity(X, y, 0.5 * v, eta=0.01, steps=3000)
    assert np.all(up.rate0 > 0) and np.all(up.increasing) and np.all(up.final_norm < 1 + 1e-9)
    down = monotone.norm_monotonicity(X, y, -1e-3 * v, eta=0.01, steps=100)
    z = np.einsum("snd,sd->sn", X, -1e-3 * v)
    np.testing.assert_allclose(down.rate0, -np.sum(np.where(z > 0, z, 0) ** 2, axis=1) / 30, rtol=1e-12)
    assert np.all(down.positive_active0 == 0) and not np.any(down.increasing)
    big = monotone.norm_monotonicity(X, y, 3 * v, eta=0.01, steps=1)
    assert np.all(big.initial_decrease) and np.all(big.first_decrease == 0)


def test_norm_increase_runs_uses_the_seeded_data_and_direction():
    r, cos0 = monotone.norm_increase_runs([3, 4], 10, 2, 0.2, eta=0.01, steps=5)
    X, y, v = lee2022.teacher_data([3, 4], 10, 2)
    w0 = lee2022.init_weights([3, 4], 2, 0.2)
    np.testing.assert_allclose(cos0, np.sum(w0 * v, axis=1) / 0.2, rtol=1e-14)
    np.testing.assert_allclose(r.rate0, lee2022.norm_rate(w0, X, y), rtol=1e-13)
