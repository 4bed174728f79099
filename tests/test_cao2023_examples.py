"""Examples 3.1 and 3.2 of Cao et al.: the distributions, and the closed-form test errors against Monte Carlo."""

import numpy as np
import pytest
from scipy.stats import norm

from bnrepro import cao2023
from bnrepro.cao2023.examples import (
    Example31,
    Example32,
    initial_weights,
    sampled_error,
)


def _within_monte_carlo_error(estimate, exact, m):
    se = np.sqrt(exact * (1 - exact) / m)
    assert abs(estimate - exact) <= 5 * se, (estimate, exact, se)


def test_example31_samples_have_the_stated_structure():
    ex = Example31(d=12, P=4, sigma=3.0, u_norm=2.0)
    X, y = ex.sample(np.random.default_rng(0), 500)
    assert X.shape == (500, 4, 12) and set(np.unique(y)) == {-1.0, 1.0}
    np.testing.assert_array_equal(X[..., 0], 2.0 * np.broadcast_to(y[:, None], (500, 4)))  # <x^(p), u/||u||> = y ||u||
    noise = X[..., 1:].reshape(-1, 11)
    assert noise.std() == pytest.approx(3.0, rel=0.03)


def test_example31_closed_form_error_matches_monte_carlo():
    ex = Example31(d=20, P=4, sigma=1.0)
    rng = np.random.default_rng(1)
    w = np.concatenate([[1.0], 0.6 * rng.standard_normal(19)])
    exact = ex.test_error(w)
    assert 0.05 < exact < 0.45  # an informative regime, not 0 or 1/2
    m = 200_000
    X, y = ex.sample(np.random.default_rng(2), m)
    _within_monte_carlo_error(sampled_error(w, X.sum(axis=1), y), exact, m)
    sampled = ex.sampled_test_error(w[None], [7], n=10, m=m)[0]
    _within_monte_carlo_error(sampled, exact, m)


def test_example31_uniform_margin_solution_is_along_u():
    # Theorem 3.3: with nP >= 2d, <w, y_i x_i^(p)> = 1 for all i, p forces w = u / ||u||^2
    ex = Example31(d=10, P=4, sigma=5.0)
    X, y = ex.training_sets([0, 1], n=5)
    w = cao2023.min_norm_interpolator(X, y)
    np.testing.assert_allclose(w, np.broadcast_to(ex.u, w.shape), atol=1e-12)
    assert (ex.test_error(w) == 0).all() and (ex.sampled_test_error(w, [0, 1], n=5, m=1000) == 0).all()


def test_example32_closed_form_errors_match_monte_carlo():
    ex = Example32(n=5, alpha=0.5, d=30, sigma=0.4, rho=0.4)
    rng = np.random.default_rng(3)
    w = np.concatenate([[1.0, 3.0], 0.25 * rng.standard_normal(28)])  # <w,u> = 1, <w,v> = 0.75
    errors = ex.test_error(w)
    strong, weak = np.exp(errors.log_strong), np.exp(errors.log_weak)
    assert 0.02 < strong < 0.45 and 0.02 < weak < 0.45
    m = 400_000
    X, y, is_weak = ex.sample(np.random.default_rng(4), m)
    wrong = y * (X.sum(axis=1) @ w) <= 0
    _within_monte_carlo_error(wrong[~is_weak].mean(), strong, (~is_weak).sum())
    _within_monte_carlo_error(wrong[is_weak].mean(), weak, is_weak.sum())
    _within_monte_carlo_error(wrong.mean(), errors.total, m)
    assert is_weak.mean() == pytest.approx(0.4, abs=0.005)


def test_example32_samples_have_the_stated_structure():
    ex = Example32.paper(n=20, alpha=20**-0.25)
    assert ex.d == round(400 * np.log(20)) and ex.sigma == pytest.approx(ex.d**-0.5) and ex.rho == pytest.approx(20**-0.75)
    X, y, weak = ex.sample(np.random.default_rng(5), 400)
    assert weak.any() and (~weak).any()
    np.testing.assert_array_equal(X[~weak, 0], y[~weak, None] * ex.u)  # strong: [y u, xi]
    np.testing.assert_array_equal(X[weak, 0], y[weak, None] * ex.v)  # weak: [y v, xi + alpha zeta u]
    np.testing.assert_array_equal(X[~weak, 1, :2], 0.0)  # strong noise is orthogonal to u and v
    assert np.linalg.norm(ex.v) == pytest.approx(ex.alpha**2)


def test_example32_alphas_share_their_noise():
    a, b = Example32.paper(30, 30**-0.25), Example32.paper(30, 30**-0.5)
    Xa, ya, wa, _ = a.training_set(3)
    Xb, yb, wb, _ = b.training_set(3)
    np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(Xa[:, 1, 1:], Xb[:, 1, 1:])  # only the alpha zeta u part differs


def test_example32_training_sets_are_conditioned_on_a_weak_example():
    ex = Example32(n=4, alpha=0.5, d=10, sigma=0.3, rho=0.1)  # P(no weak) = 0.9^4 = 0.66
    rejected = []
    for seed in range(300):
        _, _, weak, r = ex.training_set(seed)
        assert weak.any()
        rejected.append(r)
    # draws until the first success: E[rejected] = p / (1 - p) with p = P(no weak)
    p = ex.p_no_weak()
    assert p == pytest.approx(0.9**4)
    assert np.mean(rejected) == pytest.approx(p / (1 - p), rel=0.2)
    with pytest.raises(RuntimeError, match="no training set with a weak example"):
        Example32(n=2, alpha=0.5, d=5, sigma=0.3, rho=1e-12).training_set(0, max_draws=3)


def test_example32_tiny_errors_do_not_underflow():
    ex = Example32(n=5, alpha=0.5, d=10, sigma=1e-3, rho=0.3)
    w = np.concatenate([[1.0, 8.0], np.full(8, 0.1)])  # margins of thousands of standard deviations
    errors = ex.test_error(w)
    assert errors.total == 0.0  # underflows as a probability ...
    assert np.isfinite(errors.log10_total) and errors.log10_total < -300  # ... but not as a log
    assert ex.test_error(-w).total == pytest.approx(1.0, abs=1e-12)


def test_initial_weights_have_the_requested_scale_and_are_per_seed():
    w = initial_weights([0, 1], n=10, d=4000, scale=0.3)
    assert np.linalg.norm(w, axis=1) == pytest.approx([0.3, 0.3], rel=0.05)
    np.testing.assert_array_equal(initial_weights([1], n=10, d=4000, scale=0.3)[0], w[1])


def test_normal_cdf_convention():
    # the closed forms use Phi(-margin / std): a quick anchor against scipy's norm
    ex = Example31(d=3, P=1, sigma=1.0)
    assert ex.test_error(np.array([1.0, 1.0, 0.0])) == pytest.approx(norm.cdf(-1.0))
