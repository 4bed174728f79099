"""luo2019/learning-rate's library (`bnrepro.luo2019.mlp`): the fast trainer against `nets.sgd`, the two-stage
search of the maximal stable learning rate against known pass/fail thresholds, and the effective learning rate."""

import math

import numpy as np
import pytest
import torch

from bnrepro import nets
from bnrepro.luo2019 import mlp


def _data(n=48, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, 10, n)


@pytest.mark.parametrize("mode", ["none", "weight", "batch"])
def test_train_models_equals_the_shared_trainer(mode):
    # same initialization, mini-batch order and per-model SGD update as nets.sgd: the parameters agree to rounding
    x, y = _data()
    seeds, lrs = [3, 5, 3], [0.05, 0.2, 0.4]
    out = mlp.train_models(x, y, x[:10], y[:10], mode, seeds=seeds, lrs=lrs, width=7, epochs=3, batch_size=8,
                           dtype="float64")
    ref = nets.SwitchableMLP([6, 7, 7, 10], 3, seeds=seeds, affine=mlp.MODES[mode])
    nets.sgd(ref, x, y, mode=mode, epochs=3, batch_size=8, lr=lrs, order_seeds=seeds)
    for mine, theirs in zip(out["net"].parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12)
    assert out["rows"].shape == (4, 3, 7)
    np.testing.assert_allclose(out["rows"][-1], nets.row_norms(ref, 0).numpy(), rtol=1e-10)
    assert not np.allclose(out["rows"][-1, 0], out["rows"][-1, 2])  # same seed, other learning rate


def test_train_lr_grid_shapes_and_shared_starts():
    x, y = _data()
    out = mlp.train_lr_grid(x, y, x[:10], y[:10], "batch", "learnable", seeds=[0, 1], lr_grid=[0.01, 1.0], width=8,
                            epochs=2, batch_size=8)
    assert out["rows"].shape == (3, 2, 2, 8) and out["loss"].shape == out["acc"].shape == (2, 2)
    np.testing.assert_array_equal(out["rows"][0, 0], out["rows"][0, 1])  # same start per seed
    growth = out["rows"][1:] / out["rows"][:-1]
    assert (growth >= 1 - 1e-5).all()  # BN rows never shrink under plain SGD (scale invariance)


def _stub(thresholds, acc=0.9):
    """A fake `train_models`: model (seed, lr) trains iff lr <= thresholds[seed]; row norms 2 at every epoch."""

    def train_models(xtr, ytr, xte, yte, mode, *, seeds, lrs, width, epochs, batch_size, dtype="float32"):
        ok = np.array([lr <= thresholds[s] * (1 + 1e-12) for s, lr in zip(seeds, lrs, strict=True)])
        return {"net": None, "loss0": np.ones(len(seeds)), "loss": np.where(ok, 0.1, np.nan),
                "acc": np.full(len(seeds), acc), "rows": np.full((epochs + 1, len(seeds), width), 2.0)}

    return train_models


def test_two_stage_search_finds_the_largest_passing_fine_grid_point(monkeypatch):
    # thresholds 3^0.6, 3^-1.3, 3^2.5 (on the grid: exponent 2.5 -> j = 10), 3^5 (above the grid), 3^-9 (below it)
    thresholds = {0: 3**0.6, 1: 3**-1.3, 2: 3**2.5, 3: 3.0**5, 4: 3.0**-9}
    monkeypatch.setattr(mlp, "train_models", _stub(thresholds))
    r = mlp.max_stable_lr(None, None, None, None, "batch", seeds=[0, 1, 2, 3, 4], coarse_exponents=[-3, -2, -1, 0, 1, 2, 3],
                          refine=4, loss_drop=0.5, acc_bar=0.5, width=3, epochs=2, batch_size=8)
    # floor(4 * 0.6) = 2, floor(4 * -1.3) = -6, 10; seed 3 is censored at the coarse top (j = 12); seed 4 never trains
    np.testing.assert_array_equal(r.exponent[:4], [2, -6, 10, 12])
    assert math.isnan(r.exponent[4]) and r.lr[4] == 0
    np.testing.assert_array_equal(r.censored, [False, False, False, True, False])
    assert not r.gaps.any()
    np.testing.assert_allclose(r.lr[:3], [3**0.5, 3**-1.5, 3**2.5])
    # effective learning rate: eta_max / ||w||^2 with every row norm 2
    np.testing.assert_allclose(mlp.effective_lr(r)[:, 0], 3**0.5 / 4)


def test_search_respects_the_accuracy_bar(monkeypatch):
    monkeypatch.setattr(mlp, "train_models", _stub({0: 3.0}, acc=0.7))
    r = mlp.max_stable_lr(None, None, None, None, "none", seeds=[0], coarse_exponents=[-1, 0, 1, 2], refine=2,
                          loss_drop=0.5, acc_bar=0.8, width=3, epochs=1, batch_size=8)
    assert math.isnan(r.exponent[0])  # the loss halves but the accuracy misses the bar: nothing trains


def test_search_flags_gaps(monkeypatch):
    def train_models(xtr, ytr, xte, yte, mode, *, seeds, lrs, width, epochs, batch_size, dtype="float32"):
        ok = np.array([abs(math.log(lr, 3)) > 0.5 and lr < 5 for lr in lrs])  # fails at lr = 1 only
        return {"net": None, "loss0": np.ones(len(lrs)), "loss": np.where(ok, 0.1, 1.0), "acc": np.ones(len(lrs)),
                "rows": np.ones((epochs + 1, len(lrs), width))}

    monkeypatch.setattr(mlp, "train_models", train_models)
    r = mlp.max_stable_lr(None, None, None, None, "weight", seeds=[0], coarse_exponents=[-2, -1, 0, 1, 2], refine=2,
                          loss_drop=0.5, acc_bar=0.5, width=3, epochs=1, batch_size=8)
    assert r.gaps[0] and r.exponent[0] == 2  # coarse max 3^1, 3^1.5 = 5.2 fails


def test_modes_are_validated():
    x, y = _data()
    with pytest.raises(ValueError, match="mode"):
        mlp.train_models(x, y, x, y, "population", seeds=[0], lrs=[0.1], width=4, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="affine"):
        mlp.train_lr_grid(x, y, x, y, "none", "learnable", seeds=[0], lr_grid=[0.1], width=4, epochs=1, batch_size=8)
