"""Learnable against fixed BN affine parameters, trained side by side (claim fixed-affine)."""

import numpy as np
import torch

from bnrepro.balestriero2022 import affine
from bnrepro.data.subsets import Split


def _blobs(seed=0):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(3), 40))
    x = rng.standard_normal((120, 4)) + 4.0 * np.eye(3, 4)[y]
    return x, y


def test_fixed_models_keep_gamma_beta_and_share_weights_and_batches():
    x, y = _blobs()
    data = Split(x[:90], y[:90], x[90:], y[90:])
    seen = []
    run = affine.train_learnable_and_fixed([4, 8, 8, 3], [0, 1], data, slope=0.0, epochs=2, batch_size=15, lr=0.05,
                                           momentum=0.9, progress=lambda e, acc: seen.append(e))
    assert seen == [1, 2] and run.curve.shape == (3, 4) and run.train_accuracy.shape == (4,) and len(run.losses) == 2
    for g, b in zip(run.net.gammas, run.net.betas, strict=True):
        assert torch.equal(g[2:], torch.ones_like(g[2:])) and torch.equal(b[2:], torch.zeros_like(b[2:]))
        assert not torch.equal(g[:2], torch.ones_like(g[:2]))
    untrained = affine.train_learnable_and_fixed([4, 8, 8, 3], [0, 1], data, slope=0.0, epochs=0, batch_size=15,
                                                 lr=0.05, momentum=0.9)
    torch.testing.assert_close(untrained.net.weights[0][:2], untrained.net.weights[0][2:])  # model s and S + s: seed s
    np.testing.assert_array_equal(untrained.curve[0, :2], untrained.curve[0, 2:])
    assert (run.curve[-1] > 0.5).all()
