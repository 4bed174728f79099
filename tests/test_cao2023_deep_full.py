"""cao2023.deep, version 3: the step schedule, image pooling, per-stage convolutions, VGG-16, `compare`, the full scale."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from bnrepro.cao2023 import deep

ROOT = Path(__file__).resolve().parents[1]


def test_learning_rate_steps_down_after_each_listed_epoch():
    rates = [deep.learning_rate(e, 0.1, (2, 4), 0.1) for e in range(1, 7)]
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert deep.learning_rate(5, 0.3) == 0.3


def test_training_applies_the_schedule():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(16, 1, 8, 8, generator=gen).numpy()
    y = np.where(np.arange(16) < 8, 1.0, -1.0).astype(np.float32)
    arch = {"width": 4, "depth": 2, "base_width": 2, "convs_per_stage": 1}
    seen = []
    original = torch.optim.SGD.step

    def spy(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    torch.optim.SGD.step = spy
    try:
        deep.train(deep.build(True, in_channels=1, image_size=8, **arch, seed=0), x, y, ("a", "b"), epochs=3, lr=0.5,
                   momentum=0.0, batch_size=8, seed=0, record=[], lr_drops=[1, 2], lr_factor=0.5, log=lambda s: None)
    finally:
        torch.optim.SGD.step = original
    np.testing.assert_allclose(seen, [0.5, 0.5, 0.25, 0.25, 0.125, 0.125])  # two minibatches per epoch


def test_pool_images_averages_blocks():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    pooled = deep.pool_images(x, 2)
    assert pooled.shape == (2, 1, 2, 2)
    assert pooled[0, 0, 0, 0] == pytest.approx(np.mean([0, 1, 4, 5]))
    np.testing.assert_array_equal(deep.pool_images(x, 1), x)
    with pytest.raises(ValueError, match="cannot pool"):
        deep.pool_images(x, 3)


def test_vgg16_layout_and_a_forward_backward_at_full_width():
    model = deep.build(True, in_channels=3, image_size=32, **deep.VGG16, seed=0)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 13
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) == 5
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert model.features(x).shape == (2, 512, 1, 1)  # the last hidden layer is 512 single post-ReLU neurons
    model(x).sum().backward()
    assert model.features[0].weight.grad is not None
    plain = deep.build(False, in_channels=3, image_size=32, **deep.VGG16, seed=0)
    assert len([m for m in plain.modules() if isinstance(m, torch.nn.Conv2d)]) == 13
    with pytest.raises(ValueError, match="convs_per_stage"):
        deep.build(True, in_channels=3, image_size=32, **{**deep.VGG16, "convs_per_stage": (2, 2)}, seed=0)


def test_compare_runs_the_full_scale_path_tiny_on_cifar_shaped_data():
    """The full scale's code path (VGG-16's layout, 3x32x32 images, the step schedule) at narrow widths, 2 epochs."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(30, 3, 32, 32)).astype(np.float32)  # real.load's layout: (N, C, H, W) in [0, 1]
    labels = np.repeat(np.arange(3), 10)
    arch = {**deep.VGG16, "width": 8, "base_width": 2}
    runs, shadow = deep.compare(x, labels, ("cat", "dog", "car"), ("cat", "dog"), [3, 4], n_per_class=4, arch=arch,
                                epochs=2, lr=0.01, momentum=0.9, batch_size=4, record=[1], lr_drops=[1],
                                weight_decay=5e-4, rounding_perturbation=1e-6, log=lambda s: None)
    assert set(runs) == set(shadow) == {(v, s) for v in ("BN", "no BN") for s in (3, 4)}
    for h in runs.values():
        assert h.epochs == [0, 1, 2] and set(h.final) == {"cat", "dog", "both"}
    again, none = deep.compare(x, labels, ("cat", "dog", "car"), ("cat", "dog"), [3], n_per_class=4, arch=arch, epochs=2,
                               lr=0.01, momentum=0.9, batch_size=4, record=[1], lr_drops=[1], weight_decay=5e-4,
                               log=lambda s: None)
    assert none == {} and again["BN", 3].loss == runs["BN", 3].loss


def test_registry_full_scale_is_the_papers_setting():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    full = config["claims"]["cao2023/deep-uniformity"]["params"]["full"]
    arch = {k: full[k] for k in ("width", "depth", "base_width")} | {"convs_per_stage": tuple(full["convs_per_stage"])}
    assert arch == deep.VGG16
    assert full["n_per_class"] == 5000 and full["epochs"] == 600 and full["lr_drops"] == [200]
    assert full["image_pool"]["cifar10"] == 1
