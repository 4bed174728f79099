"""The switchable-normalization MLP shared by the balestriero2022 claims."""

import numpy as np
import pytest
import torch

from bnrepro.nets import SwitchableMLP, accuracy, sgd


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
