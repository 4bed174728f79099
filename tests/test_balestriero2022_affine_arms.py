"""Learnable, fixed and positive-control BN affine arms trained side by side (claim fixed-affine)."""

import numpy as np
import pytest
import torch

from bnrepro.balestriero2022 import affine_arms
from bnrepro.data.subsets import Split


def _blobs(seed=0):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(3), 40))
    x = rng.standard_normal((120, 4)) + 4.0 * np.eye(3, 4)[y]
    return Split(x[:90], y[:90], x[90:], y[90:])


def test_arms_keep_their_affine_share_weights_and_record_every_k_epochs():
    data = _blobs()
    seen = []
    run = affine_arms.train_affine_arms([4, 8, 8, 3], [0, 1], data, control_beta=-2.0, slope=0.0, epochs=5,
                                       batch_size=15, lr=0.05, momentum=0.9, eval_every=2,
                                       progress=lambda e, te, tr: seen.append(e))
    assert seen == [2, 4, 5] and list(run.epochs_recorded) == [0, 2, 4, 5]
    assert run.test_curve.shape == (4, 6) and run.train_curve.shape == (4, 6) and len(run.losses) == 5
    for g, b in zip(run.net.gammas, run.net.betas, strict=True):
        assert torch.equal(g[2:], torch.ones_like(g[2:]))
        assert torch.equal(b[2:4], torch.zeros_like(b[2:4])) and torch.equal(b[4:], torch.full_like(b[4:], -2.0))
        assert not torch.equal(g[:2], torch.ones_like(g[:2]))
    np.testing.assert_array_equal(run.final("fixed"), run.test_curve[-1, 2:4])
    np.testing.assert_array_equal(run.final("control", "train"), run.train_curve[-1, 4:])
    assert (run.final("learnable") > 0.9).all() and (run.final("fixed") > 0.9).all()


def test_zero_epochs_arms_share_initial_weights_and_learnable_equals_fixed():
    data = _blobs(1)
    run = affine_arms.train_affine_arms([4, 8, 3], [3, 4], data, control_beta=-1.0, slope=0.0, epochs=0,
                                       batch_size=15, lr=0.05, momentum=0.9)
    w = run.net.weights[0]
    torch.testing.assert_close(w[:2], w[2:4])
    torch.testing.assert_close(w[:2], w[4:])
    np.testing.assert_array_equal(run.test_curve[0, :2], run.test_curve[0, 2:4])  # gamma, beta = 1, 0 in both


def test_control_with_zero_beta_trains_exactly_like_fixed():
    data = _blobs(2)
    run = affine_arms.train_affine_arms([4, 8, 8, 3], [0], data, control_beta=0.0, slope=0.0, epochs=2,
                                       batch_size=15, lr=0.05, momentum=0.9)
    for w in run.net.weights:
        torch.testing.assert_close(w[1], w[2], rtol=0, atol=0)


def test_eval_every_must_be_positive():
    with pytest.raises(ValueError):
        affine_arms.train_affine_arms([4, 8, 3], [0], _blobs(), control_beta=-2.0, slope=0.0, epochs=1, batch_size=15,
                                      lr=0.05, momentum=0.9, eval_every=0)


def test_float32_arms_start_from_the_float64_weights_rounded():
    data = _blobs(2)
    kw = dict(control_beta=-2.0, slope=0.0, batch_size=15, lr=0.05, momentum=0.9)
    wide = affine_arms.train_affine_arms([4, 8, 3], [5, 6], data, epochs=0, **kw)
    single = affine_arms.train_affine_arms([4, 8, 3], [5, 6], data, epochs=0, dtype=torch.float32, **kw)
    for w64, w32 in zip(wide.net.weights, single.net.weights, strict=True):
        assert w32.dtype == torch.float32 and torch.equal(w32, w64.float())
    assert torch.equal(single.net.betas[0][4:], torch.full_like(single.net.betas[0][4:], -2.0))
    trained = affine_arms.train_affine_arms([4, 8, 3], [5, 6], data, epochs=4, dtype=torch.float32, **kw)
    assert (trained.final("learnable") > 0.9).all() and (trained.final("fixed") > 0.9).all()
