"""Seeded loaders and model-axis helpers for the balestriero2022 training claims."""

import numpy as np
import pytest
import torch

from bnrepro import nets
from bnrepro.balestriero2022 import datasets, initialization
from bnrepro.data import subsets
from bnrepro.nets import SwitchableMLP, sgd


def test_moons_are_seeded_shifted_and_split_balanced():
    a, b = datasets.moons(200, 0.2, seed=3, shift=3.0), datasets.moons(200, 0.2, seed=3, shift=3.0)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, datasets.moons(200, 0.2, seed=4, shift=3.0).x_train)
    centred = datasets.moons(200, 0.2, seed=3)
    np.testing.assert_allclose(a.x_train, centred.x_train + 3.0)  # same draw and split, shifted
    assert a.x_train.shape == (100, 2) and a.x_test.shape == (100, 2) and a.x_train.dtype == np.float64
    assert np.bincount(a.y_train).tolist() == [50, 50] and np.bincount(a.y_test).tolist() == [50, 50]


def test_moons_batch_stacks_one_draw_per_seed():
    batch = datasets.moons_batch([1, 2], 100, 0.1, shift=3.0)
    assert batch.x_train.shape == (2, 50, 2) and batch.y_test.shape == (2, 50)
    np.testing.assert_array_equal(batch.x_train[1], datasets.moons(100, 0.1, 2, shift=3.0).x_train)


class _Images:  # the fields of bnrepro.data.real.Dataset that image_subset reads
    def __init__(self):
        rng = np.random.default_rng(0)
        self.x_train = rng.random((300, 1, 4, 4)).astype(np.float32)
        self.y_train = np.repeat(np.arange(3), 100)
        self.x_test = rng.random((90, 1, 4, 4)).astype(np.float32)
        self.y_test = np.repeat(np.arange(3), 30)


def test_image_subset_is_balanced_flattened_and_seeded():
    ds = _Images()
    sub = subsets.image_subset(ds, 20, 10, seed=0)
    assert sub.x_train.shape == (60, 16) and sub.x_test.shape == (30, 16) and sub.x_train.dtype == np.float64
    assert np.bincount(sub.y_train).tolist() == [20] * 3 and np.bincount(sub.y_test).tolist() == [10] * 3
    assert sub.x_train.min() >= 0 and sub.x_train.max() <= 1  # pixels untouched by default
    np.testing.assert_array_equal(sub.x_train, subsets.image_subset(ds, 20, 10, seed=0).x_train)
    assert not np.array_equal(sub.x_train, subsets.image_subset(ds, 20, 10, seed=1).x_train)
    std = subsets.image_subset(ds, 20, 10, seed=0, standardize=True)
    np.testing.assert_allclose(std.x_train.mean(axis=0), 0, atol=1e-12)
    assert sub.note == ""
    small = subsets.image_subset(ds, 101, 10, seed=0)  # more than there are: capped, and said
    assert np.bincount(small.y_train).min() == np.bincount(ds.y_train).min() and "used" in small.note
    with pytest.raises(ValueError, match="fewer than per_class"):
        subsets.balanced_indices(ds.y_train, 101, seed=0)


def test_digits_are_flattened_pixels_in_unit_interval():
    d = datasets.digits()
    assert d.x_train.shape[1] == 64 and d.x_train.min() >= 0 and d.x_train.max() <= 1
    assert len(d.x_train) + len(d.x_test) == 1797


@pytest.fixture
def shifted():
    return datasets.moons_batch([0, 1], 200, 0.2, shift=3.0)


def test_five_initializations_at_epoch_zero(shifted):
    seeds, sizes = [0, 1], [2, 8, 8, 8, 1]
    x = torch.as_tensor(shifted.x_train)
    plain, bn = initialization.initializations(sizes, seeds, shifted.x_train)
    S = len(seeds)
    blocks = dict(zip(initialization.PLAIN_INITIALIZATIONS, range(4)))
    x4 = torch.cat([x] * 4)
    # same random weights per seed in every block (the full fold rescales them by 1/sigma, row by row)
    for k in ("zero", "torch", "bninit_center"):
        torch.testing.assert_close(plain.weights[0][blocks[k] * S:(blocks[k] + 1) * S], bn.weights[0])
    assert torch.count_nonzero(plain.biases[0][:S]) == 0 and torch.count_nonzero(plain.biases[0][S:2 * S]) > 0
    # bninit_fold computes the BN network's function in population mode (training-set statistics), on and off the data
    out = plain(x4, "none")[2 * S:3 * S]
    np.testing.assert_allclose(out.detach(), bn(x, "population", bn.statistics(x)).detach(), atol=1e-12)
    new = torch.as_tensor(datasets.moons_batch([5, 6], 200, 0.2).x_test)
    out_new = plain(torch.cat([new] * 4), "none")[2 * S:3 * S]
    np.testing.assert_allclose(out_new.detach(), bn(new, "population", bn.statistics(x)).detach(), atol=1e-12)
    # bninit_center: every hidden layer's pre-activation has mean 0 over the training set, weights unscaled
    for layer, h in enumerate(plain.preactivations(x4, "none")):
        np.testing.assert_allclose(h[3 * S:].mean(dim=1).detach(), 0.0, atol=1e-12)
        assert h[3 * S:].std(dim=1).min() > 0
        torch.testing.assert_close(plain.weights[layer][3 * S:], bn.weights[layer])
        # bninit_fold: mean 0, variance 1 (the BN normalization itself)
        np.testing.assert_allclose(h[2 * S:3 * S].var(dim=1, unbiased=False).detach(), 1.0, rtol=1e-10)


def test_concat_models_keeps_each_model():
    a = SwitchableMLP([3, 4, 2], 2, seeds=[0, 1], bias="torch")
    b = SwitchableMLP([3, 4, 2], 1, seeds=[2])
    c = nets.concat_models([a, b])
    x = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(c(x, "none"), torch.cat([a(x, "none"), b(x, "none")]))
    with pytest.raises(ValueError, match="share sizes"):
        nets.concat_models([a, SwitchableMLP([3, 5, 2], 1)])


def test_masked_affine_stays_fixed_while_the_rest_trains():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((120, 2)))
    y = (x[:, 0] > x[:, 1]).long()
    net = SwitchableMLP([2, 8, 8, 1], 4, seeds=[0, 1, 0, 1], affine="learnable")
    nets.mask_affine_gradients(net, [False, False, True, True])
    sgd(net, x, y, mode="batch", epochs=2, batch_size=30, lr=0.1, momentum=0.9, order_seeds=[0, 1, 0, 1])
    for g, b in zip(net.gammas, net.betas):
        assert torch.equal(g[2:], torch.ones_like(g[2:])) and torch.equal(b[2:], torch.zeros_like(b[2:]))
        assert not torch.equal(g[:2], torch.ones_like(g[:2]))
    assert not torch.equal(net.weights[0][0], net.weights[0][2])  # same init, different affine -> different paths
    with pytest.raises(ValueError, match="affine='learnable'"):
        nets.mask_affine_gradients(SwitchableMLP([2, 3, 1], 1), [True])
