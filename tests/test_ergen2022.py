"""The ergen2022 convex BN model against exact identities, the closed form, the
convex program (cvxpy + Clarabel) and gradient descent on the non-convex network."""

import numpy as np
import pytest
import torch

from bnrepro import ergen2022 as eg


def _problem(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n), rng


@pytest.fixture(scope="module")
def small():
    """d = 2, n = 15 with every arrangement of U' (212 patterns) and its convex optimum."""
    X, y, _ = _problem(15, 2, 1)
    beta = 0.1
    wh = eg.whiten(X)
    patterns = eg.arrangements_exact(wh.Up)
    sol = eg.solve_convex(wh.Up, y, beta, patterns)
    return X, y, beta, wh, sol


def _objective(X, y, beta, net):
    return eg.objective(X, y, net.W, net.gamma, net.alpha, net.a, beta)


def _random_network(rng, d, m, scale=1.0):
    return eg.Network(*(scale * rng.standard_normal(shape) for shape in [(d, m), m, m, m]))


# --- whitening -------------------------------------------------------------


@pytest.mark.parametrize("n, d, rank", [(12, 3, 3), (10, 30, 9), (14, 6, 2)])
def test_whitening_identities(n, d, rank):
    rng = np.random.default_rng(n + d)
    X = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d)) + rng.standard_normal(d)
    wh = eg.whiten(X)
    assert wh.rank == min(rank, n - 1)
    assert wh.Up.shape == (n, wh.rank + 1)
    np.testing.assert_allclose(wh.Up.T @ wh.Up, np.eye(wh.rank + 1), atol=1e-12)
    np.testing.assert_allclose(wh.U * wh.sigma @ wh.V.T, X - X.mean(axis=0), atol=1e-12)
    m = 7
    W, gamma, alpha = rng.standard_normal((d, m)), rng.standard_normal(m), rng.standard_normal(m)
    q = wh.q_of(W, gamma, alpha)
    np.testing.assert_allclose(eg.convex.batch_norm(X @ W, gamma, alpha), wh.Up @ q.T, atol=1e-12)
    np.testing.assert_allclose(np.sum(q**2, axis=1), gamma**2 + alpha**2, rtol=1e-12)


def test_bn_forward_matches_torch_batchnorm_in_the_spec_scaling():
    """gamma = sqrt(n) gamma_pt, alpha = sqrt(n) beta_pt (training mode, biased variance)."""
    X, y, rng = _problem(9, 4, 3)
    net = _random_network(rng, 4, 5)
    n = len(y)
    H = torch.tensor(X) @ torch.tensor(net.W)
    bn = torch.nn.functional.batch_norm(
        H, None, None, torch.tensor(net.gamma) / n**0.5, torch.tensor(net.alpha) / n**0.5, training=True, eps=1e-300
    )
    f = torch.relu(bn) @ torch.tensor(net.a)
    np.testing.assert_allclose(eg.bn_forward(X, net.W, net.gamma, net.alpha, net.a), f.numpy(), rtol=1e-12)


# --- arrangements ----------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("n", [10, 23, 30])
def test_exact_enumeration_count_equals_general_position_formula(n, d):
    X, _, _ = _problem(n, d, 10 * n + d)
    wh = eg.whiten(X)
    patterns = eg.arrangements_exact(wh.Up)
    assert patterns.dtype == bool and patterns.shape[1] == n
    assert len(patterns) == eg.general_position_count(n, d) == len(np.unique(patterns, axis=0))
    assert eg.general_position_count(30, 2) == 872


@pytest.mark.parametrize("d", [1, 2])
def test_sampled_patterns_are_a_subset_of_the_exact_ones(d):
    X, _, rng = _problem(12, d, 5 + d)
    wh = eg.whiten(X)
    exact = {p.tobytes() for p in eg.arrangements_exact(wh.Up)}
    sampled = eg.arrangements_sampled(wh.Up, 20000, rng)
    assert {p.tobytes() for p in sampled} <= exact
    assert len(sampled) >= 0.9 * len(exact)
    if d == 1:  # 24 arcs on a circle: dense sampling finds them all
        assert len(sampled) == len(exact)


def test_exact_enumeration_survives_degenerate_position():
    """Duplicated points and three collinear points (planes through one line):
    still every pattern that dense sampling can find, and nothing else."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((8, 2))
    X = np.vstack([X, X[0], 0.5 * (X[1] + X[2])])
    wh = eg.whiten(X)
    exact = {p.tobytes() for p in eg.arrangements_exact(wh.Up)}
    sampled = {p.tobytes() for p in eg.arrangements_sampled(wh.Up, 50000, rng)}
    assert sampled <= exact
    assert len(exact) < eg.general_position_count(len(X), 2)


# --- the convex program, weight recovery, closed form ----------------------


def test_closed_form_matches_convex_program():
    """n <= d: Clarabel on sampled patterns plus the sign(y) patterns reaches the closed-form p*."""
    X, y, rng = _problem(8, 12, 2)
    beta = 0.1
    wh = eg.whiten(X)
    patterns = eg.unique_patterns(eg.arrangements_sampled(wh.Up, 2000, rng), eg.sign_patterns(y))
    sol = eg.solve_convex(wh.Up, y, beta, patterns)
    cf = eg.closed_form(X, y, beta)
    assert sol.value == pytest.approx(cf.value, rel=1e-6)
    assert eg.convex_objective(wh.Up, y, beta, patterns, sol.Q, sol.Qp) == pytest.approx(cf.value, rel=1e-6)


@pytest.mark.parametrize("beta", [1e-2, 0.5, 3.0])
def test_closed_form_weights_give_p_star(beta):
    """Through the real BN forward pass; beta = 3 kills the neuron of the smaller sign part."""
    X, y, _ = _problem(20, 50, 0)
    y = y + 0.4
    cf = eg.closed_form(X, y, beta)
    net = cf.network
    assert net.width == 2
    assert _objective(X, y, beta, net) == pytest.approx(cf.value, rel=1e-10)
    np.testing.assert_allclose(eg.bn_forward(X, net.W, net.gamma, net.alpha, net.a), cf.u - cf.u_neg, atol=1e-10)
    s_pos, s_neg = np.linalg.norm(np.maximum(y, 0)), np.linalg.norm(np.maximum(-y, 0))
    assert (net.a[1] == 0) == (s_neg <= beta) and (net.a[0] == 0) == (s_pos <= beta)


def test_closed_form_rejects_low_rank_data():
    X, y, _ = _problem(20, 3, 0)
    with pytest.raises(ValueError):
        eg.closed_form(X, y, 0.1)


def test_recovered_weights_reproduce_convex_optimum_d2(small):
    X, y, beta, wh, sol = small
    net = eg.recover_weights(sol, wh)
    assert 0 < net.width < 2 * len(sol.patterns)
    assert _objective(X, y, beta, net) == pytest.approx(sol.value, rel=1e-6)


def test_recovered_weights_reproduce_convex_optimum_d1():
    X, y, _ = _problem(20, 1, 6)
    beta = 0.05
    wh = eg.whiten(X)
    sol = eg.solve_convex(wh.Up, y, beta, eg.arrangements_exact(wh.Up))
    net = eg.recover_weights(sol, wh)
    assert _objective(X, y, beta, net) == pytest.approx(sol.value, rel=1e-6)


def test_convex_optimum_lower_bounds_random_and_perturbed_networks(small):
    X, y, beta, wh, sol = small
    rng = np.random.default_rng(7)
    floor = sol.value * (1 - 1e-7)
    for m, scale in [(1, 1.0), (5, 0.3), (30, 0.5), (100, 0.1)]:
        for _ in range(20):
            assert _objective(X, y, beta, _random_network(rng, X.shape[1], m, scale)) >= floor
    best = eg.recover_weights(sol, wh)
    for eps in [1e-4, 1e-2]:
        for _ in range(20):
            noisy = eg.Network(*(p + eps * rng.standard_normal(p.shape) for p in (best.W, best.gamma, best.alpha, best.a)))
            assert _objective(X, y, beta, noisy) >= floor


def _torch_objective(X, y, beta, params):
    """The objective through torch's BatchNorm (gamma_pt = gamma / sqrt(n), beta_pt = alpha / sqrt(n))."""
    W, gamma, alpha, a = params
    n = X.shape[0]
    bn = torch.nn.functional.batch_norm(
        torch.tensor(X) @ W, None, None, gamma / n**0.5, alpha / n**0.5, training=True, eps=1e-300
    )
    return 0.5 * torch.sum((torch.relu(bn) @ a - torch.tensor(y)) ** 2) + 0.5 * beta * sum(torch.sum(p**2) for p in params[1:])


def test_objective_and_gradient_match_torch_autograd():
    X, y, rng = _problem(15, 3, 8)
    net = _random_network(rng, 3, 6)
    params = [torch.tensor(p, requires_grad=True) for p in (net.W, net.gamma, net.alpha, net.a)]
    loss = _torch_objective(X, y, 0.1, params)
    loss.backward()
    value, grads = eg.objective_grad(X, y, net.W, net.gamma, net.alpha, net.a, 0.1)
    assert value == pytest.approx(loss.item(), rel=1e-12)
    assert _objective(X, y, 0.1, net) == pytest.approx(loss.item(), rel=1e-12)
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_descent_never_goes_below_convex_optimum(small, seed):
    """Full-batch GD (2000 steps, m = 20) on the non-convex network: every iterate
    stays above the convex optimum, and the last is within 5 % of it."""
    X, y, beta, _, sol = small
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((X.shape[1], 20))] + [rng.standard_normal(20) * s for s in (1.0, 0.5, 0.5)]
    values = []
    for _ in range(2000):
        value, grads = eg.objective_grad(X, y, *params, beta)
        values.append(value)
        params = [p - 0.1 * g for p, g in zip(params, grads)]
    values = np.array(values)
    assert values.min() >= sol.value * (1 - 1e-6)
    assert values[-1] <= sol.value * 1.05
