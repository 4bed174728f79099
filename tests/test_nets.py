"""The shared switchable network (`bnrepro.nets`): its normalization modes, weight normalization, scale invariance,
gamma decay, per-model lr."""

import numpy as np
import pytest
import torch

from bnrepro.nets import (
    SwitchableMLP,
    accuracy,
    gamma_penalty,
    loss_fn,
    per_model_loss,
    sgd,
    weight_gradient_alignment,
)


def _data(n=40, d=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, classes, size=n)


def _randomize_affine(net, seed=1):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for g, b in zip(net.gammas, net.betas, strict=True):
            g.copy_(0.5 + torch.rand(g.shape, generator=gen, dtype=g.dtype))
            b.copy_(0.3 * torch.randn(b.shape, generator=gen, dtype=b.dtype))
        for c in net.biases:
            c.copy_(torch.randn(c.shape, generator=gen, dtype=c.dtype))


def test_weight_mode_forward_matches_hand_computation():
    x, _ = _data(n=7, d=4)
    net = SwitchableMLP([4, 6, 5, 3], 2, seeds=[3, 4], affine="learnable")
    _randomize_affine(net)
    got = net(x, "weight").detach().numpy()
    for m in range(2):
        z = x
        for layer in range(2):
            w = net.weights[layer][m].detach().numpy()
            g, b = net.gammas[layer][m].detach().numpy(), net.betas[layer][m].detach().numpy()
            v = w / np.sqrt((w ** 2).sum(axis=1, keepdims=True))  # each unit's incoming weights, unit norm
            z = np.maximum(g * (z @ v.T) + b, 0.0)
        want = z @ net.weights[2][m].detach().numpy().T + net.biases[2][m].detach().numpy()
        np.testing.assert_allclose(got[m], want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("mode", ["batch", "weight"])
def test_scale_invariance_identity(mode):
    x, y = _data(n=32, d=6, classes=4)
    net = SwitchableMLP([6, 10, 8, 4], 3, seeds=[0, 1, 2], affine="learnable")
    _randomize_affine(net)
    for layer_alignment in weight_gradient_alignment(net, x, y, mode):
        assert layer_alignment.shape[0] == 3
        assert torch.isfinite(layer_alignment).all()
        assert layer_alignment.max() <= 1e-10  # |<W_k, dL/dW_k>| <= 1e-10 ||W_k|| ||dL/dW_k||


def test_scale_invariance_fails_without_normalization():
    x, y = _data(n=32, d=6, classes=4)
    net = SwitchableMLP([6, 10, 8, 4], 3, seeds=[0, 1, 2], affine="learnable")
    _randomize_affine(net)
    alignment = torch.cat([a.flatten() for a in weight_gradient_alignment(net, x, y, "none")])
    alive = alignment[alignment > 0]  # a dead ReLU unit has a zero gradient (alignment 0)
    assert alive.numel() > 10
    assert alive.median() > 1e-3


@pytest.mark.parametrize("mode", ["batch", "weight"])
def test_loss_unchanged_when_a_row_is_rescaled(mode):
    x, y = _data(n=32, d=6, classes=4)
    net = SwitchableMLP([6, 10, 8, 4], 2, seeds=[5, 6], affine="learnable")
    _randomize_affine(net)
    before = per_model_loss(net, x, y, mode)
    with torch.no_grad():
        net.weights[0][:, 3] *= 7.5
        net.weights[1][:, 2] *= 0.04
    after = per_model_loss(net, x, y, mode)
    np.testing.assert_allclose(after.numpy(), before.numpy(), rtol=1e-12)
    with torch.no_grad():
        net.weights[0][:, 3] *= 3.0
    assert not torch.allclose(per_model_loss(net, x, y, "none"), after)  # "none" does see the scale


def test_gamma_decay_adds_exactly_the_penalty_gradient():
    x, y = _data(n=16, d=5, classes=3)
    lam = 0.37

    def one_step(decay):
        net = SwitchableMLP([5, 7, 6, 3], 2, seeds=[0, 1], affine="learnable")
        _randomize_affine(net)
        start = [g.detach().clone() for g in net.gammas]
        sgd(net, x, y, mode="batch", epochs=1, batch_size=16, lr=1.0, order_seeds=[0, 1], gamma_decay=decay)
        return start, [g.detach() for g in net.gammas], net

    start, plain, _ = one_step(0.0)
    _, decayed, net = one_step(lam)
    for g0, a, b in zip(start, plain, decayed, strict=True):
        # with lr = 1, one full-batch step: gamma_decayed - gamma_plain = -2 lambda gamma_0
        torch.testing.assert_close(b - a, -2 * lam * g0, rtol=1e-12, atol=1e-14)
    assert gamma_penalty(net).shape == (2,)


def test_gamma_decay_zero_is_the_plain_objective():
    x, y = _data(n=16, d=5, classes=3)
    nets = []
    for decay in (None, 0.0):
        net = SwitchableMLP([5, 7, 3], 2, seeds=[0, 1], affine="learnable")
        kwargs = {} if decay is None else {"gamma_decay": decay}
        sgd(net, x, y, mode="batch", epochs=2, batch_size=8, lr=0.3, order_seeds=[0, 1], **kwargs)
        nets.append(net)
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("mode,momentum", [("batch", 0.0), ("weight", 0.9), ("none", 0.0)])
def test_per_model_lr_equals_separate_runs(mode, momentum):
    x, y = _data(n=48, d=5, classes=3)
    lrs, seeds = [0.05, 0.2, 0.7], [0, 1, 2]
    kw = {"mode": mode, "epochs": 2, "batch_size": 8, "momentum": momentum}
    joint = SwitchableMLP([5, 9, 7, 3], 3, seeds=seeds, affine="learnable")
    sgd(joint, x, y, lr=lrs, order_seeds=seeds, **kw)
    for m, (lr, seed) in enumerate(zip(lrs, seeds, strict=True)):
        alone = SwitchableMLP([5, 9, 7, 3], 1, seeds=[seed], affine="learnable")
        sgd(alone, x, y, lr=lr, order_seeds=[seed], **kw)  # torch's own SGD
        for a, b in zip(joint.parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(a[m], b[0], rtol=1e-11, atol=1e-13)


def test_diverging_model_leaves_the_others_unchanged():
    x, y = _data(n=48, d=5, classes=3)
    kw = {"mode": "batch", "epochs": 2, "batch_size": 8}
    ref = SwitchableMLP([5, 9, 7, 3], 3, seeds=[0, 1, 2], affine="learnable")
    sgd(ref, x, y, lr=[0.1, 0.2, 0.3], order_seeds=[0, 1, 2], **kw)
    bad = SwitchableMLP([5, 9, 7, 3], 3, seeds=[0, 1, 2], affine="learnable")
    with torch.no_grad():
        bad.weights[0][1, 0, 0] = float("nan")  # model 1 is NaN from the start
    sgd(bad, x, y, lr=[0.1, 1e300, 0.3], order_seeds=[0, 1, 2], **kw)
    assert not torch.isfinite(bad.weights[0][1]).all()
    for a, b in zip(ref.parameters(), bad.parameters(), strict=True):
        for m in (0, 2):
            assert torch.equal(a[m], b[m])


def test_per_model_lr_is_validated():
    x, y = _data(n=16, d=5, classes=3)
    net = SwitchableMLP([5, 7, 3], 2, seeds=[0, 1])
    with pytest.raises(ValueError, match="lr must be"):
        sgd(net, x, y, mode="none", epochs=1, batch_size=8, lr=[0.1], order_seeds=[0, 1])
    with pytest.raises(ValueError, match="lr must be"):
        sgd(net, x, y, mode="none", epochs=1, batch_size=8, lr=[0.1, -1.0], order_seeds=[0, 1])
    with pytest.raises(ValueError, match="gamma_decay"):
        sgd(net, x, y, mode="none", epochs=1, batch_size=8, lr=0.1, order_seeds=[0, 1], gamma_decay=-1.0)


def test_loss_fn_still_sums_model_means():
    x, y = _data(n=10, d=5, classes=3)
    net = SwitchableMLP([5, 4, 3], 2, seeds=[0, 1])
    total = loss_fn(net(x, "weight"), torch.as_tensor(y).expand(2, -1))
    torch.testing.assert_close(total, per_model_loss(net, x, y, "weight").sum())


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((300, 2)) + 3.0)
    y = (x[:, 0] > x[:, 1]).long()
    return x, y


def test_population_mode_with_own_statistics_equals_batch_mode(data):
    x, _ = data
    net = SwitchableMLP([2, 8, 8, 1], 3, slope=0.1)
    np.testing.assert_allclose(net(x, "population", net.statistics(x)).detach(), net(x, "batch").detach(), atol=1e-13)


def test_batch_mode_normalizes_every_unit(data):
    x, _ = data
    net = SwitchableMLP([2, 16, 16, 16, 1], 2, slope=0.1)
    for h in net.preactivations(x, "batch"):
        np.testing.assert_allclose(h.mean(dim=1).detach(), 0.0, atol=1e-12)
        np.testing.assert_allclose(h.var(dim=1, unbiased=False).detach(), 1.0, rtol=1e-12)


@pytest.mark.parametrize("affine", ["fixed", "learnable"])
def test_folding_bn_statistics_leaves_the_function_unchanged(data, affine):
    x, _ = data
    net = SwitchableMLP([2, 8, 8, 8, 3], 2, slope=0.1, affine=affine)
    with torch.no_grad():
        for g, b in zip(net.gammas, net.betas):  # non-trivial affine parameters
            g.uniform_(0.5, 2.0)
            b.uniform_(-1.0, 1.0)
    folded = net.fold(x)
    np.testing.assert_allclose(folded(x, "none").detach(), net(x, "batch").detach(), atol=1e-12)
    new = torch.randn(50, 2, dtype=torch.float64)  # and off the data, against the population statistics
    np.testing.assert_allclose(folded(new, "none").detach(), net(new, "population", net.statistics(x)).detach(), atol=1e-12)


def test_center_only_fold_puts_every_hyperplane_through_the_centroid(data):
    x, _ = data
    net = SwitchableMLP([2, 8, 8, 1], 2, slope=0.1)
    folded = net.fold(x, center_only=True)
    for layer, h in enumerate(folded.preactivations(x, "none")):
        np.testing.assert_allclose(h.mean(dim=1).detach(), 0.0, atol=1e-12)
        torch.testing.assert_close(folded.weights[layer], net.weights[layer])  # no rescaling


def test_models_are_independent_and_seeded():
    a = SwitchableMLP([4, 5, 1], 3, seeds=[7, 8, 9], bias="torch")
    b = SwitchableMLP([4, 5, 1], 1, seeds=[8], bias="torch")
    torch.testing.assert_close(a.weights[0][1], b.weights[0][0])
    torch.testing.assert_close(a.biases[0][1], b.biases[0][0])
    assert not torch.equal(a.weights[0][0], a.weights[0][1])
    assert b.biases[0].abs().max() <= 1 / np.sqrt(4)
    assert torch.count_nonzero(SwitchableMLP([4, 5, 1], 1).biases[0]) == 0


def test_affine_parameters_are_fixed_unless_learnable(data):
    x, y = data
    fixed = SwitchableMLP([2, 8, 1], 1)
    sgd(fixed, x, y, mode="batch", epochs=1, batch_size=50, lr=0.1, order_seeds=[0])
    assert torch.equal(fixed.gammas[0], torch.ones_like(fixed.gammas[0]))
    learnable = SwitchableMLP([2, 8, 1], 1, affine="learnable")
    sgd(learnable, x, y, mode="batch", epochs=1, batch_size=50, lr=0.1, order_seeds=[0])
    assert not torch.equal(learnable.gammas[0], torch.ones_like(learnable.gammas[0]))


def test_sgd_trains_every_model_and_equal_order_seeds_give_equal_models(data):
    x, y = data
    net = SwitchableMLP([2, 16, 16, 1], 3, seeds=[0, 0, 1], slope=0.0)
    before = accuracy(net, x, y, "population", net.statistics(x))
    losses = sgd(net, x, y, mode="batch", epochs=20, batch_size=32, lr=0.05, momentum=0.9, order_seeds=[5, 5, 6])
    after = accuracy(net, x, y, "population", net.statistics(x))
    assert losses[-1] < losses[0] and (after > 0.95).all() and (after >= before).all()
    torch.testing.assert_close(net.weights[0][0], net.weights[0][1])  # same init, same batches
    assert not torch.equal(net.weights[0][0], net.weights[0][2])


def test_population_mode_training_uses_full_data_statistics(data):
    x, y = data
    net = SwitchableMLP([2, 8, 1], 1)
    seen = []
    original = net.statistics
    net.statistics = lambda rows: seen.append(rows.shape[1]) or original(rows)
    sgd(net, x, y, mode="population", epochs=1, batch_size=100, lr=0.1, order_seeds=[0])
    assert seen == [300, 300, 300]


def test_bad_arguments_are_rejected(data):
    x, y = data
    net = SwitchableMLP([2, 4, 1], 2)
    with pytest.raises(ValueError, match="mode must be one of"):
        net(x, "layer")
    with pytest.raises(ValueError, match="needs the statistics"):
        net(x, "population")
    with pytest.raises(ValueError, match="x must be"):
        net(torch.zeros(3, 5, dtype=torch.float64), "batch")
    with pytest.raises(ValueError, match="one order seed per model"):
        sgd(net, x, y, mode="batch", epochs=1, batch_size=10, lr=0.1, order_seeds=[0])
