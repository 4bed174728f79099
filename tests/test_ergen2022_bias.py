"""ergen2022/gd-implicit-bias library (Ergen et al., ICLR 2022; docs/papers/ergen2022.md section 3):
pre-activation GD is GD on W, and the whitened-input control shares U' and equalizes the spectrum."""

import numpy as np
import pytest

from bnrepro.ergen2022 import bias, convex, training


def _data(seed=0, n=20, d=50):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.logspace(0, -1.5, d) + 2.0
    return X, np.where(rng.standard_normal(n) > 0, 1.0, -1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_gram_gd_is_gd_on_the_first_layer_weights(seed):
    X, y = _data(seed)
    n, d = X.shape
    lr, steps, m = 1e-3, 60, 7
    net, trace = training.train(X, y, 0.01, width=m, seeds=[seed], optimizer="gd", lr=lr, steps=steps, progress=False)
    init = training.BNNetworks(d, m, [seed], n).networks()[0]
    Xc = X - X.mean(axis=0)
    run = bias.train_gram_gd((Xc @ init.W)[None], (Xc @ Xc.T)[None], init.a[None], y[None], 0.01, lr=lr, steps=steps,
                             snapshot=10)
    np.testing.assert_allclose(run.objective[0], trace.objective[0], rtol=1e-12)
    trained = net.networks()[0]
    np.testing.assert_allclose(init.W - lr * Xc.T @ run.grad_sum[0], trained.W, atol=1e-12)
    np.testing.assert_allclose(np.sqrt(n) * run.bn_weight[0], trained.gamma, atol=1e-12)
    np.testing.assert_allclose(run.a[0], trained.a, atol=1e-12)
    assert not np.allclose(run.grad_sum_snapshot[0], run.grad_sum[0])


def test_models_train_independently_in_one_batch():
    X, y = _data(2)
    Xc = X - X.mean(axis=0)
    init = training.BNNetworks(X.shape[1], 5, [4], len(X)).networks()[0]
    one = bias.train_gram_gd((Xc @ init.W)[None], (Xc @ Xc.T)[None], init.a[None], y[None], 0.01, lr=1e-3, steps=20,
                             snapshot=5)
    K2 = 3.0 * Xc @ Xc.T
    two = bias.train_gram_gd(np.stack([Xc @ init.W] * 2), np.stack([Xc @ Xc.T, K2]), np.stack([init.a] * 2),
                             np.stack([y, -y]), 0.01, lr=1e-3, steps=20, snapshot=5)
    np.testing.assert_allclose(two.objective[0], one.objective[0], rtol=1e-13)
    assert not np.allclose(two.objective[1], one.objective[0])


def test_whitened_inputs_share_u_and_equalize_the_spectrum():
    X, _ = _data(3)
    wh = convex.whiten(X)
    Xw, c = bias.whitened_inputs(X, wh)
    wh_w = convex.whiten(Xw)
    assert wh_w.rank == wh.rank
    np.testing.assert_allclose(wh_w.U @ wh_w.U.T, wh.U @ wh.U.T, atol=1e-10)
    np.testing.assert_allclose(wh_w.sigma, c, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(Xw - Xw.mean(0)), np.linalg.norm(X - X.mean(0)), rtol=1e-12)
    np.testing.assert_allclose(Xw.mean(axis=0), X.mean(axis=0), atol=1e-12)
    # the control's coordinates: v = c V^T w, so its energy of a direction V e_i is all on direction i
    ctrl = bias.control_whitening(wh, c)
    E = ctrl.direction_energy(wh.V[:, [2]])
    assert E[2] == pytest.approx(1.0) and E.sum() == pytest.approx(1.0)
