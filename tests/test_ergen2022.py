"""The ergen2022 convex BN model against exact identities, the closed form, the
convex program (cvxpy + Clarabel) and gradient descent on the non-convex network."""

import numpy as np
import pytest
import torch

from bnrepro import ergen2022 as eg
from bnrepro.ergen2022 import convex, tasks
from bnrepro.ergen2022 import training as tr


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


def test_torch_networks_match_numpy_objective_torch_batchnorm_and_test_time_bn():
    X, y, _ = _problem(15, 3, 8)
    nets = tr.BNNetworks(3, 6, seeds=[4, 5], n=15)
    with torch.no_grad():
        nets.alpha.normal_(generator=torch.Generator().manual_seed(0))
    values = nets.objective(torch.tensor(X), torch.tensor(y)[:, None], 0.1).detach().numpy()
    for value, net in zip(values, nets.networks()):
        params = [torch.tensor(p) for p in (net.W, net.gamma, net.alpha, net.a)]
        assert value == pytest.approx(_objective(X, y, 0.1, net), rel=1e-12)
        assert value == pytest.approx(_torch_objective(X, y, 0.1, params).item(), rel=1e-10)
    X_new = np.random.default_rng(1).standard_normal((4, 3))
    net = nets.networks()[1]
    wh = eg.whiten(X)
    expected = eg.relu_predict(wh.features(X_new), wh.q_of(net.W, net.gamma, net.alpha) * (net.a[:, None] > 0),
                               wh.q_of(net.W, net.gamma, net.alpha) * (net.a[:, None] < 0) * 0)
    got = eg.bn_predict(X_new, X, net.W, net.gamma, net.alpha, np.where(net.a > 0, 1.0, 0.0))
    np.testing.assert_allclose(got, expected, atol=1e-12)  # BN with training statistics = whitened features
    torch_pred = nets(torch.tensor(X_new), torch.tensor(X))[1, :, 0].detach().numpy()
    np.testing.assert_allclose(torch_pred, eg.bn_predict(X_new, X, net.W, net.gamma, net.alpha, net.a), atol=1e-12)
    assert [n.W.tobytes() for n in tr.BNNetworks(3, 6, seeds=[5], n=15).networks()] == [net.W.tobytes()]  # per seed


@pytest.mark.parametrize("optimizer, lr", [("gd", 0.01), ("adam", 0.02)])
def test_training_never_goes_below_convex_optimum_and_comes_close(small, optimizer, lr):
    """Full-batch GD / Adam (m = 20, three seeds at once): every iterate stays above the
    convex optimum, and the best run ends within 5 % of it."""
    X, y, beta, _, sol = small
    _, trace = tr.train(X, y, beta, width=20, seeds=[0, 1, 2], optimizer=optimizer, lr=lr, steps=3000, progress=False)
    assert trace.objective.shape == (3, 3001) and np.all(np.diff(trace.seconds) >= 0)
    assert trace.objective.min() >= sol.value * (1 - 1e-6)
    assert trace.objective[:, -1].min() <= sol.value * 1.05


# --- truncation, test-time features, spectral energy -------------------------


def test_truncated_whitening_features_and_direction_energy():
    X, _, _ = _problem(30, 8, 9)
    wh = eg.whiten(X)
    np.testing.assert_allclose(wh.features(X), wh.Up, atol=1e-12)
    k3 = wh.truncate(3)
    assert k3.Up.shape == (30, 4) and k3.rank == 3
    np.testing.assert_allclose(k3.Up.T @ k3.Up, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(k3.features(X), k3.Up, atol=1e-12)
    with pytest.raises(ValueError, match="truncation k"):
        wh.truncate(9)
    W = wh.V[:, [0, 2]] / wh.sigma[[0, 2]]  # whitened directions e_0 and e_2
    np.testing.assert_allclose(wh.direction_energy(W), [0.5, 0, 0.5, 0, 0, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(wh.direction_energy(W, weights=[3.0, -1.0]), [0.75, 0, 0.25, 0, 0, 0, 0, 0], atol=1e-12)


def test_weighted_penalty_all_ones_is_the_bn_program_and_weights_shrink(small):
    _, y, beta, wh, sol = small
    same = eg.solve_convex(wh.Up, y, beta, sol.patterns, weights=np.ones(wh.rank + 1))
    assert same.value == pytest.approx(sol.value, rel=1e-7)
    heavy = eg.solve_convex(wh.Up, y, beta, sol.patterns, weights=np.array([1.0, 50.0, 1.0]))
    assert heavy.value > sol.value
    assert np.abs(np.vstack([heavy.Q, heavy.Qp])[:, 1]).max() < np.abs(np.vstack([sol.Q, sol.Qp])[:, 1]).max()
    with pytest.raises(ValueError, match="weights must be 3 positive"):
        eg.solve_convex(wh.Up, y, beta, sol.patterns, weights=np.ones(2))


# --- image tasks -------------------------------------------------------------


class _Images:  # the fields of bnrepro.data.real.Dataset that image_task reads
    used = "fake"
    classes = ("a", "b", "c")

    def __init__(self):
        rng = np.random.default_rng(0)
        self.x_train = rng.random((60, 1, 2, 2)).astype(np.float32)
        self.y_train = np.repeat(np.arange(3), 20)
        self.x_test = rng.random((30, 1, 2, 2)).astype(np.float32)
        self.y_test = np.repeat(np.arange(3), 10)


def test_image_task_is_seeded_disjoint_and_labelled():
    ds = _Images()
    task = tasks.image_task(ds, ("c", "a"), 5, 3, 4, seed=1)
    assert task.X_train.shape == (10, 4) and task.X_val.shape == (6, 4) and task.X_test.shape == (8, 4)
    def rows(X):
        return {r.tobytes() for r in X}

    assert not rows(task.X_train) & rows(task.X_val)
    np.testing.assert_array_equal(task.y_train, np.repeat([1.0, -1.0], 5))  # +1 on the first named class
    assert rows(task.X_train[:5]) <= rows(ds.x_train[40:].reshape(20, 4).astype(np.float64))  # class "c"
    np.testing.assert_array_equal(task.X_train, tasks.image_task(ds, ("c", "a"), 5, 3, 4, seed=1).X_train)
    everything = tasks.image_task(ds, None, 5, 0, 4, seed=0)
    assert everything.y_train.shape == (15, 3) and np.all(everything.y_train.sum(axis=1) == -1)
    assert tasks.accuracy(everything.y_train, everything.labels_train) == 1.0
    assert tasks.accuracy(-task.y_train, task.labels_train) == 0.0
    with pytest.raises(ValueError, match="not in fake"):
        tasks.image_task(ds, ("a", "z"), 5, 3, 4, seed=0)
    with pytest.raises(ValueError, match="'a' of fake has 20 images, fewer than 21"):
        tasks.image_task(ds, ("a", "b"), 18, 3, 4, seed=0)


def test_training_continues_a_given_network_with_a_fresh_optimizer(small):
    X, y, beta, _, _ = small
    net, first = tr.train(X, y, beta, width=8, seeds=[3], lr=0.02, steps=200, progress=False)
    same, more = tr.train(X, y, beta, net=net, lr=0.002, steps=200, progress=False)
    assert same is net and more.objective[0, 0] == pytest.approx(first.objective[0, -1], rel=1e-12)
    assert more.objective[0, -1] < more.objective[0, 0]
    with pytest.raises(ValueError, match="width and seeds, or a net"):
        tr.train(X, y, beta, lr=0.1, steps=1)


def test_row_space_gd_is_the_same_iteration_as_gd_on_w():
    """n < d: GD on Z (W = W0 + R^T Z) and GD on W give the same trace and weights (float64
    rounding), for two outputs and a masked width; with n >= d nothing changes (no basis)."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(12, 30)), rng.choice([-1.0, 1.0], size=(12, 2))
    runs = [tr.train(X, Y, 0.05, width=6, seeds=[1, 2], widths=[6, 4], optimizer="gd", lr=0.003, steps=300,
                     progress=False, row_space=rs) for rs in (True, False)]
    (net_r, trace_r), (net_w, trace_w) = runs
    assert trace_w.objective[:, -1].max() < 0.5 * trace_w.objective[:, 0].min()  # it trained
    np.testing.assert_allclose(trace_r.objective, trace_w.objective, rtol=1e-10)
    np.testing.assert_allclose(net_r.W.detach().numpy(), net_w.W.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert tr._row_basis(torch.tensor(X)).shape == (12, 30) and tr._row_basis(torch.tensor(X.T)) is None
    rank_deficient = torch.tensor(X[:3].repeat(4, axis=0))  # the basis may span more than the row space
    R = tr._row_basis(rank_deficient)
    torch.testing.assert_close(R.T @ (R @ rank_deficient.T), rank_deficient.T)


def test_fit_truncated_is_the_truncated_program_and_runs_in_worker_processes():
    """One (seed, k) job: per output column, the convex program on U'_k over the shared sampled patterns
    plus that column's label patterns; the same numbers from joblib worker processes."""
    from joblib import Parallel, delayed

    X, _, rng = _problem(20, 12, 5)
    Y = np.sign(rng.standard_normal((20, 2)))
    X_new = rng.standard_normal((7, 12))
    wh = eg.whiten(X)
    fit = tasks.fit_truncated(wh, 4, Y, 30, [1, 4], [X, X_new], 0.1)
    wk = wh.truncate(4)
    sampled = eg.arrangements_sampled(wk.Up, 30, np.random.default_rng([1, 4]))
    assert fit.sampled == len(sampled) and len(fit.solve_seconds) == 2
    for c in range(2):
        sol = eg.solve_convex(wk.Up, Y[:, c], 0.1, eg.unique_patterns(sampled, eg.sign_patterns(Y[:, c])))
        np.testing.assert_allclose(fit.outputs[0][:, c], eg.convex_predict(wk.Up, sol.patterns, sol.Q, sol.Qp), atol=1e-6)
        np.testing.assert_array_equal(fit.outputs[1][:, c], eg.relu_predict(wk.features(X_new), sol.Q, sol.Qp))
    in_workers = Parallel(n_jobs=2)(delayed(tasks.fit_truncated)(wh, k, Y, 30, [1, k], [X_new], 0.1) for k in (4, 2))
    np.testing.assert_array_equal(in_workers[0].outputs[0], fit.outputs[1])


# --- the notebooks' helpers ----------------------------------------------------


def test_synthetic_draws_are_seeded_and_shaped():
    X, y = tasks.regression_data(3, 30, 2)
    assert X.shape == (30, 2) and y.shape == (30,)
    np.testing.assert_array_equal(X, tasks.regression_data(3, 30, 2)[0])
    designs, y2 = tasks.closed_form_designs(0, 20, 50, 80)
    assert designs["X"].shape == (20, 50) and designs["X_alt"].shape == (20, 80) and y2.shape == (20,)
    assert abs(designs["X_alt"].mean() - 3.0) < 0.1  # the second design has mean 3
    np.testing.assert_array_equal(designs["X_alt"], tasks.closed_form_designs(0, 20, 50, 80)[0]["X_alt"])


def test_relative_difference_and_has_pattern():
    np.testing.assert_allclose(tasks.relative_difference([2.0, -4.0], [1.0, -4.0]), [0.5, 0.0])
    np.testing.assert_allclose(tasks.relative_difference([[3.0, 4.0]], [[3.0, 3.0]]), [0.2])
    patterns = np.array([[True, False], [False, False]])
    assert eg.has_pattern(patterns, [False, False]) and not eg.has_pattern(patterns, [True, True])


def test_movement_is_the_rms_change_of_the_whitened_directions():
    X, _, rng = _problem(12, 5, 11)
    wh = eg.whiten(X)
    W0, W1 = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    dv = wh.sigma[:, None] * (wh.V.T @ (W1 - W0))
    np.testing.assert_allclose(wh.movement(W0, W1), np.sqrt(np.mean(dv**2, axis=1)), rtol=1e-12)
    np.testing.assert_array_equal(wh.movement(W0, W0), np.zeros(wh.rank))


def test_three_methods_selects_k_on_validation_and_reports_per_seed():
    ds = _Images()
    seen = []
    res = tasks.three_methods("fake", ds, ("a", "b"), (2, 3, 4), [0, 1], [1, 2], 5, beta=0.01, width=3, gd_lr=1e-3,
                              gd_steps=5, solver_options={}, timing=lambda name, s: seen.append(name))
    assert res["gd"].shape == res["white"].shape == res["trunc"].shape == (2,)
    assert res["val"].shape == res["test"].shape == (2, 2)
    for s in range(2):
        best = int(np.argmax(res["val"][s]))
        assert res["k_star"][s] == [1, 2][best] and res["trunc"][s] == res["test"][s, best]
    assert np.all((0 <= res["white"]) & (res["white"] <= 1)) and np.all(res["p_star"] > 0)
    assert any("GD-BN training" in name for name in seen) and any("convex solve" in name for name in seen)


def test_closed_form_n_is_capped_by_the_rank_of_a_small_image_set():
    from bnrepro.data import real

    ds = real.load("digits")
    pair = tasks.DEFAULT_PAIRS["digits"]
    n, note = tasks.closed_form_n(ds, pair, 100)
    assert n < 100 and n % 2 == 0 and f"n cut to {n}" in note
    assert tasks.closed_form_n(ds, pair, 20) == (20, "")
    for seed in range(10):  # the closed form's condition holds at the capped n
        task = tasks.image_task(ds, pair, n // 2, 0, 5, seed=seed)
        assert convex.whiten(task.X_train).rank == n - 1
