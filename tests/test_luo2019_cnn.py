"""Units of the batched switchable CNN (luo2019/cnn-regularization) against plain torch."""

import numpy as np
import pytest
import torch

from bnrepro.luo2019 import cnn


def _net(models=3, dtype=torch.float64, eps=1e-5):
    net = cnn.SwitchableCNN(2, (4, 6), 5, models, image_size=8, seeds=list(range(10, 10 + models)), eps=eps, dtype=dtype)
    with torch.no_grad():  # non-trivial affine parameters and biases
        gen = torch.Generator().manual_seed(0)
        for p in (*net.gammas, *net.betas, net.bias1, net.bias2, net.out_bias):
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=dtype))
    return net


def _reference(net, m, mode, stats=None):
    """Model m of `net` as a plain torch Sequential (BatchNorm2d in train mode, or eval mode with `stats`)."""
    c1, c2 = net.widths
    conv1 = torch.nn.Conv2d(net.in_channels, c1, 3, padding=1, bias=mode == "none", dtype=net.dtype)
    conv2 = torch.nn.Conv2d(c1, c2, 3, padding=1, bias=mode == "none", dtype=net.dtype)
    linear = torch.nn.Linear(net.features, net.classes, dtype=net.dtype)
    with torch.no_grad():
        conv1.weight.copy_(net.conv1[m])
        conv2.weight.copy_(net.conv2[m])
        linear.weight.copy_(net.linear[m])
        linear.bias.copy_(net.out_bias[m])
        if mode == "none":
            conv1.bias.copy_(net.bias1[m])
            conv2.bias.copy_(net.bias2[m])
    norms = []
    for layer, c in enumerate((c1, c2)):
        if mode == "none":
            norms.append(torch.nn.Identity())
            continue
        bn = torch.nn.BatchNorm2d(c, eps=net.eps, dtype=net.dtype)
        with torch.no_grad():
            bn.weight.copy_(net.gammas[layer][m])
            bn.bias.copy_(net.betas[layer][m])
            if mode == "population":
                bn.running_mean.copy_(stats.mean[layer][m])
                bn.running_var.copy_(stats.std[layer][m] ** 2 - net.eps)
        bn.train(mode == "batch")
        norms.append(bn)
    return torch.nn.Sequential(conv1, norms[0], torch.nn.ReLU(), torch.nn.MaxPool2d(2), conv2, norms[1], torch.nn.ReLU(),
                               torch.nn.MaxPool2d(2), torch.nn.Flatten(), linear)


@pytest.mark.parametrize("mode", ["batch", "population", "none"])
def test_batched_forward_equals_per_model_loop(mode):
    net = _net()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 7, 2, 8, 8, generator=gen, dtype=torch.float64)  # each model its own images
    stats = net.statistics(torch.randn(40, 2, 8, 8, generator=gen, dtype=torch.float64), chunk=15)
    out = net(x, mode, stats)
    for m in range(3):
        ref = _reference(net, m, mode, stats)(x[m])
        torch.testing.assert_close(out[m], ref, rtol=1e-10, atol=1e-10)
    shared = net(x[0], mode, stats)  # one set of images for all models
    for m in range(3):
        torch.testing.assert_close(shared[m], _reference(net, m, mode, stats)(x[0]), rtol=1e-10, atol=1e-10)


def test_mixed_modes_and_statistics_match_batch_mode():
    net = _net()
    x = torch.randn(20, 2, 8, 8, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    stats = net.statistics(x, chunk=6)  # chunked statistics of x = the batch statistics of all of x
    torch.testing.assert_close(net(x, "population", stats), net(x, "batch"), rtol=1e-9, atol=1e-9)
    mixed = net(x, ["batch", "population", "none"], stats)
    for m, mode in enumerate(["batch", "population", "none"]):
        torch.testing.assert_close(mixed[m], net(x, mode, stats)[m])


def test_population_mode_has_no_gradient_through_statistics():
    net = _net(models=1)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(6, 2, 8, 8, generator=gen, dtype=torch.float64)
    stats = net.statistics(torch.randn(30, 2, 8, 8, generator=gen, dtype=torch.float64))
    assert not any(t.requires_grad for t in (*stats.mean, *stats.std))
    net(x, "population", stats).square().sum().backward()
    grad = net.conv1.grad.clone()
    # the same gradient with the statistics as explicit constants, through plain torch in eval mode
    ref = _reference(net, 0, "population", stats)
    ref(x).square().sum().backward()
    torch.testing.assert_close(grad[0], ref[0].weight.grad, rtol=1e-10, atol=1e-12)


def test_gamma_penalty_adds_two_lambda_gamma():
    lam = torch.tensor([0.0, 1e-3, 0.5], dtype=torch.float64)
    x = torch.randn(5, 2, 8, 8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3, 4])
    grads = []
    for with_penalty in (False, True):
        net = _net()
        loss = cnn.loss_fn(net(x, "batch"), y) + (net.gamma_penalty(lam) if with_penalty else 0.0)
        loss.backward()
        grads.append([g.grad.clone() for g in net.gammas])
        gammas = [g.detach() for g in net.gammas]
    for layer in range(2):
        torch.testing.assert_close(grads[1][layer] - grads[0][layer], 2 * lam[:, None] * gammas[layer], rtol=1e-10, atol=1e-14)


def test_batch_mode_is_scale_invariant_and_none_is_not():
    net = _net(eps=0.0)
    x = torch.randn(6, 2, 8, 8, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    before = {mode: net(x, mode) for mode in ("batch", "none")}
    with torch.no_grad():
        net.conv1[:, 1].mul_(3.7)  # rescale one filter of the first conv
        net.conv2[:, 2].mul_(0.2)  # and one of the second
    torch.testing.assert_close(net(x, "batch"), before["batch"], rtol=1e-10, atol=1e-10)
    assert (net(x, "none") - before["none"]).abs().max() > 1e-3


def test_train_is_paired_and_deterministic():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    runs = []
    for _ in range(2):
        net = cnn.SwitchableCNN(1, (3, 4), 3, 4, image_size=8, seeds=[0, 1, 0, 1])
        loss = cnn.train(net, x, y, modes=["batch", "batch", "population", "population"], lambdas=[0, 0, 0, 1e-3],
                         epochs=2, batch_size=8, lr=0.05, momentum=0.9, order_seeds=[0, 1, 0, 1], stats_x=x[:16],
                         refresh_samples=16)
        runs.append((loss, [p.detach().clone() for p in net.parameters()]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        assert torch.equal(a, b)
    assert np.isfinite(runs[0][0]).all()


def test_downsample_and_splits():
    img = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    np.testing.assert_allclose(cnn.downsample(img, 2)[0, 0], [[2.5, 4.5], [10.5, 12.5]])

    class DS:
        used = "toy"
        x_train = np.random.default_rng(0).random((60, 1, 16, 16), dtype=np.float32)
        y_train = np.repeat(np.arange(3), 20)
        x_test = x_train[:30]
        y_test = np.repeat(np.arange(3), 10)

    sp = cnn.image_splits(DS, 10, 5, 4, seed=0, factor=2)
    assert sp.x_train.shape == (30, 1, 8, 8) and sp.x_val.shape == (15, 1, 8, 8) and sp.x_test.shape == (12, 1, 8, 8)
    assert np.bincount(sp.y_train).tolist() == [10] * 3 and np.bincount(sp.y_val).tolist() == [5] * 3
    assert abs(float(sp.x_train.mean())) < 1e-5
    train_rows = {r.tobytes() for r in sp.x_train}
    assert not any(r.tobytes() in train_rows for r in sp.x_val)  # disjoint


def test_flattened_head_needs_the_declared_image_size():
    net = _net()
    assert net.features == 6 * 2 * 2  # c2 x (8 // 4)^2: the head sees the spatial map, not a global average
    with pytest.raises(ValueError, match="8x8"):
        net(torch.zeros(2, 2, 12, 12, dtype=torch.float64), "batch")


def test_regularizer_gap_equals_a_loop_over_mini_batches():
    """Each partition's Delta(M) against plain torch: BatchNorm2d in train mode on every mini-batch of M images of the
    partition, minus eval mode with the statistics of all images on the same images (hand-rolled paired Monte Carlo)."""
    net = _net(models=2)
    gen = torch.Generator().manual_seed(6)
    x = torch.randn(26, 2, 8, 8, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 5, (26,), generator=gen)
    sizes, seeds = [4, 6, 26], [3, 9]
    gap = cnn.regularizer_gap(net, x, y, sizes, partitions=2, order_seeds=seeds, chunk=5)
    assert gap.shape == (2, 3, 2)
    stats = net.statistics(x)
    for m, seed in enumerate(seeds):
        pn, bn_ref = _reference(net, m, "population", stats), _reference(net, m, "batch")
        pn_loss = torch.nn.functional.cross_entropy(pn(x), y, reduction="none").detach()
        for r in range(2):
            gen_r = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, r]).generate_state(1)[0]))
            order = torch.randperm(26, generator=gen_r)
            for k, M in enumerate(sizes):
                batches = order[:(26 // M) * M].view(-1, M)
                bn = torch.cat([torch.nn.functional.cross_entropy(bn_ref(x[b]), y[b], reduction="none").detach() for b in batches])
                assert gap[m, k, r] == pytest.approx(float(bn.mean() - pn_loss[batches.flatten()].mean()), abs=1e-10)
    np.testing.assert_allclose(gap[:, 2], 0.0, atol=1e-10)  # M = N: batch statistics are the population's


def test_steps_equal_epochs_times_steps_per_epoch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    params = []
    for how in ({"epochs": 3}, {"steps": 9}):  # 20 // 6 = 3 steps per epoch
        net = cnn.SwitchableCNN(1, (3, 4), 3, 2, image_size=8, seeds=[0, 1])
        cnn.train(net, x, y, modes="batch", lambdas=[0, 0], batch_size=6, lr=0.05, momentum=0.9, order_seeds=[0, 1], **how)
        params.append([p.detach().clone() for p in net.parameters()])
    for a, b in zip(*params):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="exactly one"):
        cnn.train(net, x, y, modes="batch", lambdas=[0, 0], batch_size=6, lr=0.05, momentum=0.9, order_seeds=[0, 1])
