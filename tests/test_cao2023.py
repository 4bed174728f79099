"""The cao2023 library against exact identities: autograd, Lemmas 4.1 and 4.3, a hand-solved SVM."""

import numpy as np
import pytest
import torch

from bnrepro import cao2023, stats
from bnrepro.data import gaussian_classification


@pytest.fixture
def problem():
    X, y, w = gaussian_classification([3, 7], n=12, d=30)
    gamma = np.array([0.8, 1.7])
    return X, y, w, gamma


def test_gradients_match_autograd_of_the_papers_model(problem):
    X, y, w, gamma = problem
    grad_w, grad_gamma, loss, _ = cao2023.bn_gradients(w, gamma, X, y)
    for s in range(len(X)):
        Xt, yt = torch.tensor(X[s]), torch.tensor(y[s])
        wt = torch.tensor(w[s], requires_grad=True)
        gt = torch.tensor(gamma[s], requires_grad=True)
        Xw = Xt @ wt
        f = gt * Xw / torch.sqrt(torch.mean(Xw**2))  # f(w, gamma, x): no eps, no shift, biased variance
        L = torch.nn.functional.softplus(-yt * f).mean()
        L.backward()
        np.testing.assert_allclose(grad_w[s], wt.grad.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grad_gamma[s], gt.grad.item(), rtol=1e-12)
        np.testing.assert_allclose(loss[s], L.item(), rtol=1e-13)


def test_plain_gradients_match_autograd(problem):
    X, y, w, _ = problem
    grad_w, loss, _ = cao2023.linear_gradients(w, X, y)
    wt = torch.tensor(w, requires_grad=True)
    L = torch.nn.functional.softplus(-torch.tensor(y) * torch.einsum("snd,sd->sn", torch.tensor(X), wt)).mean(dim=1)
    L.sum().backward()
    np.testing.assert_allclose(grad_w, wt.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss, L.detach().numpy(), rtol=1e-13)


def test_discrepancy_is_the_pairwise_definition(problem):
    X, y, w, _ = problem
    m = cao2023.normalized_margins(w, X, y)
    pairwise = np.mean((m[:, :, None] - m[:, None, :]) ** 2, axis=(1, 2))
    np.testing.assert_allclose(cao2023.margin_discrepancy(w, X, y), pairwise, rtol=1e-13)
    np.testing.assert_allclose(np.mean(m**2, axis=1), 1.0, rtol=1e-14)  # ||w||_Sigma normalizes


def test_discrepancy_resolves_tiny_values():
    m = 1.0 + np.array([[1e-13, -1e-13, 0.0, 0.0]])
    assert cao2023.discrepancy(m)[0] == pytest.approx(2 * 0.5e-26, rel=1e-3)


def test_lemma_4_1_identity(problem):
    X, y, w, gamma = problem
    grad_w, _, _, _ = cao2023.bn_gradients(w, gamma, X, y)
    w_star = cao2023.min_norm_interpolator(X, y)
    n = X.shape[1]
    for s in range(len(X)):
        z = y[s, :, None] * X[s]
        wz = z @ w[s]
        norm = np.sqrt(np.mean((X[s] @ w[s]) ** 2))
        lp = np.abs(-1 / (1 + np.exp(gamma[s] * wz / norm)))
        pair = lp[None, :] * lp[:, None] * (wz[None, :] - wz[:, None]) * (wz[None, :] / lp[None, :] - wz[:, None] / lp[:, None])
        rhs = gamma[s] / (2 * n**2 * norm**3) * pair.sum()
        assert -grad_w[s] @ w_star[s] == pytest.approx(rhs, rel=1e-11)


def test_lemma_4_3_identity(problem):
    X, y, w, _ = problem
    w_star = cao2023.min_norm_interpolator(X, y)
    n = X.shape[1]
    for s in range(len(X)):
        Sigma = X[s].T @ X[s] / n
        wz = (y[s, :, None] * X[s]) @ w[s]
        lhs = (w[s] @ Sigma @ w[s]) * cao2023.margin_discrepancy(w[s : s + 1], X[s : s + 1], y[s : s + 1])[0]
        middle = np.mean((wz[None, :] - wz[:, None]) ** 2)
        r = w[s] - (w_star[s] @ Sigma @ w[s]) * w_star[s]
        assert lhs == pytest.approx(middle, rel=1e-12)
        assert middle == pytest.approx(2 * r @ Sigma @ r, rel=1e-10)


def test_min_norm_interpolator_and_projection(problem):
    X, y, w, _ = problem
    w_star = cao2023.min_norm_interpolator(X, y)
    np.testing.assert_allclose(np.einsum("snd,sd->sn", y[..., None] * X, w_star), 1.0, rtol=1e-12)
    p = cao2023.project_onto_span(w, X)
    np.testing.assert_allclose(cao2023.project_onto_span(p, X), p, atol=1e-13)  # a projector
    # the residual is orthogonal to every x_i
    np.testing.assert_allclose(np.einsum("snd,sd->sn", X, w - p), 0.0, atol=1e-12)


def test_max_margin_hand_solved():
    # z = y x: (1,0), (0,1), (2,2). Optimum w = (1,1); the third point is not a support vector.
    X = np.array([[[1.0, 0.0], [0.0, -1.0], [2.0, 2.0]]])
    y = np.array([[1.0, -1.0, 1.0]])
    mm = cao2023.max_margin(X, y)
    np.testing.assert_allclose(mm.w[0], [1.0, 1.0], atol=1e-12)
    assert mm.support[0].tolist() == [True, True, False]
    assert mm.n_support[0] == 2


def test_max_margin_rejects_non_separable():
    X = np.array([[[1.0], [1.0]]])
    y = np.array([[1.0, -1.0]])
    with pytest.raises(RuntimeError, match="solver status"):
        cao2023.max_margin(X, y)


def test_batched_training_equals_per_seed_training():
    X, y, w0 = gaussian_classification([0, 1, 2], n=10, d=20)
    both = cao2023.train(X, y, w0, lr=0.05, steps=300, batchnorm=True)
    one = cao2023.train(X[1:2], y[1:2], w0[1:2], lr=0.05, steps=300, batchnorm=True)
    np.testing.assert_allclose(both.discrepancy[:, 1], one.discrepancy[:, 0], rtol=1e-10)
    np.testing.assert_allclose(both.final_w[1], one.final_w[0], rtol=1e-12)


def test_bn_training_keeps_w_norm_growing_and_reduces_discrepancy():
    X, y, w0 = gaussian_classification([0], n=10, d=20)
    run = cao2023.train(X, y, w0, lr=0.01, steps=20000, batchnorm=True)
    assert (np.diff(run.w_norm, axis=0) >= -1e-14).all()  # Lemma 4.4: the gradient is orthogonal to w
    assert run.discrepancy[-1, 0] < 1e-6 * run.discrepancy[0, 0]
    assert run.snapshot_steps[0] == 0 and run.snapshot_steps[-1] == 20000


def test_training_rejects_bad_arguments():
    X, y, w0 = gaussian_classification([0], n=4, d=8)
    with pytest.raises(ValueError, match="lr > 0"):
        cao2023.train(X, y, w0, lr=-1.0, steps=10, batchnorm=True)


def test_rate_helpers_on_known_curves():
    t = np.arange(1, 100001, dtype=float)
    power = np.concatenate([[1.0], 1e3 * t**-3.0])[:, None]  # D_t = 1e3 t^-3, slope -3 everywhere
    assert cao2023.crossing_slope(power, 1e-3, 1e-6)[0] == pytest.approx(-3.0, rel=1e-3)
    assert cao2023.crossing_slope(power, 1e-6, 1e-9)[0] == pytest.approx(-3.0, rel=1e-3)
    fast = np.exp(-2.0 * np.log(0.01 * np.concatenate([[0.0], t]) + 1) ** 2)[:, None]
    r2_log2, r2_power = cao2023.rate_fits(fast, 0.01, upper=1e-3, lower=1e-18)
    assert r2_log2[0] == pytest.approx(1.0, abs=1e-12)
    assert r2_power[0] < 0.999
    r2_log2, r2_power = cao2023.rate_fits(power, 0.01, upper=1e-3, lower=1e-9)
    assert r2_power[0] == pytest.approx(1.0, abs=1e-9) and r2_log2[0] < r2_power[0]
    assert cao2023.first_step_below(np.array([[1.0], [0.5], [0.1]]), 0.2).tolist() == [2]
    assert cao2023.first_step_below(np.array([[1.0], [0.5]]), 0.2).tolist() == [-1]


# --- the two-layer single-filter linear CNN (Section 3.1): X is (S, n, P, d) ---


@pytest.fixture
def patched():
    X, y, w = gaussian_classification([5, 9], n=6, d=40, patches=3)
    return X, y, w, np.array([1.3, 0.6])


def test_cnn_gradients_match_autograd_of_the_papers_model(patched):
    X, y, w, gamma = patched
    grad_w, grad_gamma, loss, margins = cao2023.bn_gradients(w, gamma, X, y)
    for s in range(len(X)):
        Xt, yt = torch.tensor(X[s]), torch.tensor(y[s])  # (n, P, d)
        wt = torch.tensor(w[s], requires_grad=True)
        gt = torch.tensor(gamma[s], requires_grad=True)
        outputs = Xt @ wt  # <w, x_i^(p)>, (n, P)
        g = gt * outputs.sum(dim=1) / torch.sqrt(torch.mean(outputs**2))  # Sigma over batch and patches
        L = torch.nn.functional.softplus(-yt * g).mean()
        L.backward()
        np.testing.assert_allclose(grad_w[s], wt.grad.numpy(), rtol=1e-11, atol=1e-15)
        np.testing.assert_allclose(grad_gamma[s], gt.grad.item(), rtol=1e-12)
        np.testing.assert_allclose(loss[s], L.item(), rtol=1e-13)
        np.testing.assert_allclose(margins[s] * gamma[s], (yt * g).detach().numpy(), rtol=1e-13)


def test_cnn_without_bn_is_logistic_regression_on_summed_patches(patched):
    X, y, w, _ = patched
    grad_w, loss, raw = cao2023.linear_gradients(w, X, y)
    grad_sum, loss_sum, raw_sum = cao2023.linear_gradients(w, X.sum(axis=2), y)
    np.testing.assert_allclose(raw, raw_sum, rtol=1e-12)
    np.testing.assert_allclose(grad_w, grad_sum, rtol=1e-12)
    np.testing.assert_allclose(loss, loss_sum, rtol=1e-13)


def test_linear_model_is_the_cnn_with_one_patch():
    X, y, w = gaussian_classification([2], n=8, d=15)
    gamma = np.array([0.9])
    for a, b in zip(cao2023.bn_gradients(w, gamma, X, y), cao2023.bn_gradients(w, gamma, X[:, :, None, :], y)):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    assert cao2023.margin_discrepancy(w, X, y) == pytest.approx(cao2023.margin_discrepancy(w, X[:, :, None, :], y), rel=1e-13)


def test_patch_discrepancy_is_the_pairwise_definition(patched):
    X, y, w, _ = patched
    S, n, P, _ = X.shape
    norm = np.sqrt(np.mean(np.einsum("snpd,sd->snp", X, w) ** 2, axis=(1, 2)))
    m = (y[..., None] * np.einsum("snpd,sd->snp", X, w) / norm[:, None, None]).reshape(S, n * P)
    pairwise = np.mean((m[:, :, None] - m[:, None, :]) ** 2, axis=(1, 2))  # (nP)^-2 sum over (i,p), (i',p')
    np.testing.assert_allclose(cao2023.margin_discrepancy(w, X, y), pairwise, rtol=1e-13)


def test_lemma_4_3_patchwise_analogue(patched):
    # ||w||_Sigma^2 D_patch(w) = (nP)^-2 sum (<w,z_i'p'> - <w,z_ip>)^2 = 2 ||w - <w*, w>_Sigma w*||_Sigma^2,
    # with Sigma over all patches and w* the min-norm solution of <w, y_i x_i^(p)> = 1 (eq. D.1).
    X, y, w, _ = patched
    S, n, P, d = X.shape
    w_star = cao2023.min_norm_interpolator(X, y)
    np.testing.assert_allclose(cao2023.raw_patch_margins(w_star, X, y), 1.0, rtol=1e-12)  # Assumption 3.1 (nP < d)
    for s in range(S):
        flat = X[s].reshape(n * P, d)
        Sigma = flat.T @ flat / (n * P)
        wz = (y[s, :, None, None] * X[s]).reshape(n * P, d) @ w[s]
        lhs = (w[s] @ Sigma @ w[s]) * cao2023.margin_discrepancy(w[s : s + 1], X[s : s + 1], y[s : s + 1])[0]
        middle = np.mean((wz[None, :] - wz[:, None]) ** 2)
        r = w[s] - (w_star[s] @ Sigma @ w[s]) * w_star[s]
        assert lhs == pytest.approx(middle, rel=1e-12)
        assert middle == pytest.approx(2 * r @ Sigma @ r, rel=1e-10)


def test_cnn_bn_training_reaches_patchwise_uniform_margin():
    X, y, w0 = gaussian_classification([1], n=6, d=40, w0_scale=0.05, patches=3)
    run = cao2023.train(X, y, w0, lr=3e-3, steps=20000, batchnorm=True)
    assert run.discrepancy[-1, 0] < 1e-12 < run.discrepancy[0, 0]
    w_star = cao2023.min_norm_interpolator(X, y)
    assert stats.cosine(cao2023.project_onto_span(run.final_w, X), w_star)[0] > 1 - 1e-10


def test_training_in_span_coordinates_is_the_same_trajectory(patched):
    X, y, w0, _ = patched
    Q = cao2023.span_basis(X)
    assert Q.shape == (2, 40, 18)  # n*P = 18 generic patches in d = 40
    np.testing.assert_allclose(np.einsum("sdr,sdq->srq", Q, Q), np.broadcast_to(np.eye(18), (2, 18, 18)), atol=1e-13)
    full = cao2023.train(X, y, w0, lr=0.01, steps=500, batchnorm=True)
    reduced = cao2023.train(np.einsum("snpd,sdr->snpr", X, Q), y, np.einsum("sdr,sd->sr", Q, w0), lr=0.01, steps=500, batchnorm=True)
    np.testing.assert_allclose(reduced.discrepancy, full.discrepancy, rtol=1e-8, atol=1e-20)
    np.testing.assert_allclose(reduced.gamma, full.gamma, rtol=1e-12)
    in_span = np.einsum("sdr,sr->sd", Q, reduced.final_w)
    np.testing.assert_allclose(in_span, cao2023.project_onto_span(full.final_w, X), atol=1e-12)


def test_span_basis_finds_the_rank_of_degenerate_patches():
    # every first patch is +-e_0: 4 samples x 2 patches span only 1 + 4 dimensions
    rng = np.random.default_rng(0)
    X = np.zeros((1, 4, 2, 10))
    X[0, :, 0, 0] = [1.0, -1.0, 1.0, 1.0]
    X[0, :, 1, :] = rng.standard_normal((4, 10))
    Q = cao2023.span_basis(X)
    assert Q.shape[-1] == 5
    w = rng.standard_normal((1, 10))
    np.testing.assert_allclose(np.einsum("snpd,sd->snp", X, w - cao2023.project_onto_span(w, X)), 0.0, atol=1e-12)


def test_max_margin_of_the_cnn_uses_summed_patches(patched):
    X, y, _, _ = patched
    mm = cao2023.max_margin(X, y)
    np.testing.assert_allclose(mm.w, cao2023.max_margin(X.sum(axis=2), y).w, rtol=1e-9)
    margins = np.einsum("snd,sd->sn", y[..., None] * X.sum(axis=2), mm.w)
    assert margins.min() > 1 - 1e-9
    np.testing.assert_allclose(margins[mm.support], 1.0, atol=1e-9)


def test_max_margin_polish_repairs_a_wrong_active_set():
    from bnrepro.cao2023.model import _polish_active_set

    # optimum w = (1, 1, 0) with rows 0 and 1 active; row 3 has margin 1.1, row 2 margin 4
    Z = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [2.0, 2.0, 0.0], [0.5, 0.6, 0.1]])
    for guess in ([True, False, False, False], [True, True, False, True], [False, False, False, True]):
        w, active = _polish_active_set(Z, np.array(guess))
        np.testing.assert_allclose(w, [1.0, 1.0, 0.0], atol=1e-12)
        assert active.tolist() == [True, True, False, False]


def test_max_margin_is_exact_on_badly_scaled_data():
    X, y, _ = gaussian_classification([4], n=30, d=60)
    small, large = cao2023.max_margin(X, y), cao2023.max_margin(400.0 * X, y)
    np.testing.assert_allclose(large.w * 400.0, small.w, rtol=1e-9)
    assert (large.support == small.support).all()
