"""The cao2023 library against exact identities: autograd, Lemmas 4.1 and 4.3, a hand-solved SVM."""

import numpy as np
import pytest
import torch

from bnrepro import cao2023
from bnrepro.data import gaussian_classification


@pytest.fixture
def problem():
    X, y, w = gaussian_classification([3, 7], n=12, d=30)
    gamma = np.array([0.8, 1.7])
    return X, y, w, gamma


def test_gradients_match_autograd_of_the_papers_model(problem):
    X, y, w, gamma = problem
    grad_w, grad_gamma, loss, margins = cao2023.bn_gradients(w, gamma, X, y)
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
    assert cao2023.loglog_slope(power, 1e-3, 1e-6)[0] == pytest.approx(-3.0, rel=1e-3)
    assert cao2023.loglog_slope(power, 1e-6, 1e-9)[0] == pytest.approx(-3.0, rel=1e-3)
    fast = np.exp(-2.0 * np.log(0.01 * np.concatenate([[0.0], t]) + 1) ** 2)[:, None]
    r2_log2, r2_power = cao2023.rate_fits(fast, 0.01, upper=1e-3, lower=1e-18)
    assert r2_log2[0] == pytest.approx(1.0, abs=1e-12)
    assert r2_power[0] < 0.999
    r2_log2, r2_power = cao2023.rate_fits(power, 0.01, upper=1e-3, lower=1e-9)
    assert r2_power[0] == pytest.approx(1.0, abs=1e-9) and r2_log2[0] < r2_power[0]
    assert cao2023.first_step_below(np.array([[1.0], [0.5], [0.1]]), 0.2).tolist() == [2]
    assert cao2023.first_step_below(np.array([[1.0], [0.5]]), 0.2).tolist() == [-1]
