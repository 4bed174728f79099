"""cao2023.deep (Figure 2): the metric against its definition, the two model variants, a training smoke test."""

import numpy as np
import pytest
import torch

from bnrepro.cao2023 import deep

ARCH = {"in_channels": 1, "image_size": 16, "width": 8, "depth": 3, "base_width": 4, "convs_per_stage": 2}


def double_sum(a, y, min_active=2):
    """Figure 2's formula written out: for each neuron, a Python double loop over its activated points."""
    out = []
    for j in range(a.shape[1]):
        idx = [i for i in range(len(y)) if a[i, j] > 0]
        m = len(idx)
        if m < min_active:
            out.append(np.nan)
            continue
        pairs = sum((y[k] * a[k, j] - y[i] * a[i, j]) ** 2 for i in idx for k in idx) / m**2
        out.append(pairs / (sum(a[i, j] ** 2 for i in idx) / m))
    return np.array(out)


@pytest.fixture
def activations():
    rng = np.random.default_rng(5)
    a = np.maximum(rng.normal(0.3, 1.0, size=(40, 9)), 0) * rng.uniform(0.1, 10, size=9)
    a[:, 2] = 0.0  # never activated
    a[:, 5] = 0.0
    a[7, 5] = 1.3  # activated once: a single point is trivially uniform, so excluded
    a[:, 6] = 0.0
    a[[3, 9], 6] = [0.5, 2.0]  # activated twice: the smallest counted case
    y = rng.choice([-1.0, 1.0], size=40)
    return a, y


def test_metric_matches_the_double_sum(activations):
    a, y = activations
    u = deep.margin_discrepancy(a, y)
    expected = double_sum(a, y)
    np.testing.assert_array_equal(np.isnan(u.per_neuron), np.isnan(expected))
    np.testing.assert_allclose(u.per_neuron, expected, rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(u.active, (a > 0).sum(axis=0))
    assert u.n_excluded == 2 and u.n_valid == 7
    assert u.mean == pytest.approx(np.nanmean(expected), rel=1e-12)


def test_metric_identity_and_range(activations):
    a, y = activations
    u = deep.margin_discrepancy(a, y)
    for j in np.flatnonzero(u.valid):
        z = (y * a[:, j])[a[:, j] > 0]
        assert u.per_neuron[j] == pytest.approx(2 * (1 - z.mean() ** 2 / np.mean(z**2)), rel=1e-12, abs=1e-15)
    assert np.all((u.per_neuron[u.valid] >= 0) & (u.per_neuron[u.valid] <= 2))


def test_metric_hand_cases():
    # equal margins -> 0; two points +-c -> 2 (the maximum); scale invariance per neuron
    a = np.array([[2.0, 1.0, 3.0], [2.0, 1.0, 1.0]])
    u = deep.margin_discrepancy(a, np.array([1.0, -1.0]))
    np.testing.assert_allclose(u.per_neuron, [2.0, 2.0, 2 * (1 - 1 / 5)])
    u = deep.margin_discrepancy(a, np.array([1.0, 1.0]))
    np.testing.assert_allclose(u.per_neuron, [0.0, 0.0, 2 * (1 - 4 / 5)])
    np.testing.assert_allclose(deep.margin_discrepancy(7 * a, np.ones(2)).per_neuron, u.per_neuron)
    # a constant offset added to both margins is where float32 one-pass variance would fail
    big = np.array([[1e8 + 1.0], [1e8 - 1.0]])
    assert deep.margin_discrepancy(big, np.ones(2)).per_neuron[0] == pytest.approx(2 * 2 / (2e16 + 2), rel=1e-6)


def test_metric_no_valid_neuron_and_bad_input():
    u = deep.margin_discrepancy(np.zeros((5, 3)), np.ones(5))
    assert u.n_valid == 0 and np.isnan(u.mean)
    with pytest.raises(ValueError, match="min_active"):
        deep.margin_discrepancy(np.ones((3, 2)), np.ones(3), min_active=1)
    with pytest.raises(ValueError, match="labels"):
        deep.margin_discrepancy(np.ones((3, 2)), np.array([1.0, 0.0, 1.0]))


def test_class_sets(activations):
    a, y = activations
    sets = deep.class_set_discrepancy(a, y, ("cat", "dog"))
    assert list(sets) == ["cat", "dog", "both"]
    np.testing.assert_allclose(sets["cat"].per_neuron, double_sum(a[y == 1], y[y == 1]), equal_nan=True)
    np.testing.assert_allclose(sets["dog"].per_neuron, double_sum(a[y == -1], y[y == -1]), equal_nan=True)
    np.testing.assert_allclose(sets["both"].per_neuron, double_sum(a, y), equal_nan=True)


def test_binary_subset_is_balanced_seeded_and_standardized():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(60, 1, 4, 4)).astype(np.float32)
    labels = np.repeat(np.arange(3), 20)
    xs, ys = deep.binary_subset(x, labels, ("a", "b", "c"), ("c", "a"), 5, seed=3)
    again, _ = deep.binary_subset(x, labels, ("a", "b", "c"), ("c", "a"), 5, seed=3)
    np.testing.assert_array_equal(xs, again)
    assert xs.shape == (10, 1, 4, 4) and xs.dtype == np.float32
    np.testing.assert_array_equal(ys, [1] * 5 + [-1] * 5)
    assert abs(xs.mean()) < 1e-5 and xs.std() == pytest.approx(1, rel=1e-4)
    with pytest.raises(ValueError, match="fewer than"):
        deep.binary_subset(x, labels, ("a", "b", "c"), ("c", "a"), 21, seed=3)
    with pytest.raises(ValueError, match="two distinct"):
        deep.binary_subset(x, labels, ("a", "b", "c"), ("c", "z"), 5, seed=3)


def test_variants_differ_only_by_batchnorm():
    bn = deep.build(True, **ARCH, seed=1)
    plain = deep.build(False, **ARCH, seed=1)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in bn.modules()) == 6
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    shared = dict(plain.named_parameters())
    for name, _p in plain.named_parameters():
        assert name.startswith(("features.", "head."))
    convs_bn = [m for m in bn.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    convs_plain = [m for m in plain.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(convs_bn) == len(convs_plain) == 7 and len(shared) == 14
    for m_bn, m_plain in zip(convs_bn, convs_plain):
        assert torch.equal(m_bn.weight, m_plain.weight) and torch.equal(m_bn.bias, m_plain.bias)
    assert [m.out_channels for m in convs_plain[:-1]] == [4, 4, 8, 8, 8, 8]
    x = torch.randn(6, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    for model in (bn, plain):
        assert model(x).shape == (6,)
        hidden = model.hidden(x)
        assert hidden.shape == (6, 8) and bool((hidden >= 0).all())
    other = deep.build(True, **ARCH, seed=2)
    assert not torch.equal(other.features[0].weight, bn.features[0].weight)
    same = deep.build(True, **ARCH, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(same.parameters(), bn.parameters()))
    with pytest.raises(ValueError, match="max-pools"):
        deep.build(True, **{**ARCH, "depth": 5}, seed=1)
    assert deep.max_depth(16) == 4 and deep.max_depth(28) == 4 and deep.max_depth(8) == 3


def test_training_reduces_the_loss_and_is_deterministic():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 1, 16, 16, generator=gen).numpy()
    y = np.where(np.arange(32) < 16, 1.0, -1.0).astype(np.float32)
    x[y == 1] += 0.5  # a learnable difference
    runs = []
    for batchnorm in (True, False, True):
        model = deep.build(batchnorm, **ARCH, seed=0)
        lines = []
        h = deep.train(model, x, y, ("a", "b"), epochs=3, lr=0.05, momentum=0.9, batch_size=8, seed=0, record=[2],
                       log=lines.append)
        assert h.epochs == [0, 2, 3] and len(lines) == 3
        assert h.loss[-1] < h.loss[0]
        assert set(h.metric) == {"a", "b", "both"} and len(h.metric["both"]) == 3
        runs.append(h)
    assert runs[0].loss == runs[2].loss and runs[0].metric == runs[2].metric
