"""ResNet-18/34/50 (torchvision's layout, names, counts and initialisation) and the CIFAR
ResNets of He et al. (plain and residual, option A and B shortcuts) against their torch twins.

Full size, one 224x224 photograph: the forward and backward pass in float64, in training mode
(batch statistics of one image), to 1e-10; in float32 the forward pass only. A float32
*gradient* comparison at full size is not a test of the implementation: among the millions of
ReLU inputs a few lie within float32 rounding of 0, and there the two sides' gradients take
different branches (measured here: the two sides' float32 gradients then differ by 1e-4 to 1e-1
of their scale, in training and in evaluation mode, depending on the network and the image).
"""

import gc

import numpy as np
import pytest
import torch

from deepglossary import models, nn
from deepglossary.models.summary import named_layers
from deepglossary.twins import resnet as twins
from deepglossary.verify import against_torch, copy_parameters


def count(model):
    return sum(p.size for p in model.parameters())


def photograph(dtype):
    """One 224x224 colour image: matplotlib's Grace Hopper, centre-cropped and resized."""
    import matplotlib.cbook as cbook
    from PIL import Image

    image = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    side = min(image.size)
    image = image.crop((0, 0, side, side)).resize((224, 224), Image.BILINEAR)
    x = np.asarray(image, dtype=np.float64) / 255
    x = (x - x.mean(axis=(0, 1))) / x.std(axis=(0, 1))
    return x.transpose(2, 0, 1)[None].astype(dtype)               # (1, 3, 224, 224)


@pytest.mark.parametrize("build,expected", [(models.resnet18, 11_689_512),
                                            (models.resnet34, 21_797_672),
                                            (models.resnet50, 25_557_032)])
def test_parameter_counts_are_torchvisions(build, expected):
    model = build()
    assert count(model) == expected
    twin = twins.twin(model)
    assert sum(p.numel() for p in twin.parameters()) == expected
    ours = [(n, p.shape) for n, p in model.named_parameters()]
    assert ours == [(n, tuple(p.shape)) for n, p in twin.named_parameters()]
    buffers = [n for n, _ in model.named_buffers()]
    assert buffers == [n for n, _ in twin.named_buffers() if not n.endswith("num_batches_tracked")]
    del model, twin
    gc.collect()


def test_layout_names_and_shapes_of_resnet50():
    model = models.resnet50()
    names = [n for n, _ in model.named_children()]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                     "avgpool", "flatten", "fc"]
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [3, 4, 6, 3]
    assert model.conv1.weight.shape == (64, 3, 7, 7) and model.conv1.bias is None
    assert model.conv1.stride == (2, 2) and model.conv1.padding == 3
    assert model.fc.weight.shape == (1000, 2048)
    assert model.layer2[0].conv2.stride == (2, 2) and model.layer2[0].conv1.stride == (1, 1)
    assert model.layer1[0].downsample is not None            # 64 -> 256 channels, stride 1
    assert model.layer1[1].downsample is None
    table = models.summary(model, (1, 3, 224, 224))
    shapes = {f"layer{i}": table.row(f"layer{i}").output_shape for i in range(1, 5)}
    assert shapes == {"layer1": (256, 56, 56), "layer2": (512, 28, 28),
                      "layer3": (1024, 14, 14), "layer4": (2048, 7, 7)}
    assert table.row("maxpool").output_shape == (64, 56, 56)
    assert table.total_params == 25_557_032
    assert 4.0e9 < table.total_macs < 4.2e9                  # the "4.1 GFLOPs" of the tables
    del model
    gc.collect()


def test_macs_of_resnet18():
    table = models.summary(models.resnet18(), (1, 3, 224, 224))
    assert 1.80e9 < table.total_macs < 1.83e9                # the "1.8 GFLOPs" of the paper
    conv1 = table.row("conv1")
    assert conv1.output_shape == (64, 112, 112) and conv1.macs == 64 * 112 * 112 * 3 * 49


def test_initialisation_is_torchvisions():
    model = models.resnet18(rng=3)
    w = model.layer3[1].conv2.weight.data                     # fan_out = 256 * 9
    assert w.std() == pytest.approx(np.sqrt(2 / (256 * 9)), rel=0.02)
    assert abs(w.mean()) < 3e-4
    w = model.conv1.weight.data                               # fan_out = 64 * 49
    assert w.std() == pytest.approx(np.sqrt(2 / (64 * 49)), rel=0.05)
    for _, layer in named_layers(model):
        if isinstance(layer, nn.BatchNorm):
            assert np.all(layer.weight.data == 1) and np.all(layer.bias.data == 0)
    bound = 1 / np.sqrt(512)                                  # the Linear default
    assert np.abs(model.fc.weight.data).max() <= bound and model.fc.weight.data.std() > bound / 2
    zero = models.ResNet(nn.Bottleneck, (1, 1, 1, 1), num_classes=10, zero_init_residual=True)
    for stage in (zero.layer1, zero.layer4):
        assert np.all(stage[0].bn3.weight.data == 0) and np.all(stage[0].bn1.weight.data == 1)
        assert np.all(stage[0].downsample[1].weight.data == 1)
    basic = models.resnet18(num_classes=10, zero_init_residual=True)
    assert np.all(basic.layer2[1].bn2.weight.data == 0)


def test_same_seed_same_network_and_float32_default():
    a, b = models.resnet18(num_classes=10, rng=5), models.resnet18(num_classes=10, rng=5)
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.data, q.data)
    c = models.resnet18(num_classes=10, rng=6)
    assert not np.array_equal(a.conv1.weight.data, c.conv1.weight.data)


@pytest.mark.parametrize("block,layers", [(nn.BasicBlock, (1, 2, 1, 1)),
                                          (nn.Bottleneck, (1, 1, 2, 1))])
@pytest.mark.parametrize("shortcut", [True, False], ids=["residual", "plain"])
def test_small_imagenet_layout_float64_against_twin(block, layers, shortcut):
    """The ImageNet layout with fewer blocks, on 2 images of 40x40, training mode."""
    model = models.ResNet(block, layers, num_classes=7, shortcut=shortcut, dtype=np.float64,
                          rng=1)
    x = np.random.default_rng(2).standard_normal((2, 3, 40, 40))
    report = against_torch(model, twins.twin(model), x)
    assert report.max_error < 1e-10
    if not shortcut:
        assert all(b.downsample is None for i in range(1, 5) for b in getattr(model, f"layer{i}"))


@pytest.mark.parametrize("build", [models.resnet18, models.resnet50], ids=["18", "50"])
def test_full_size_float64_training_against_twin(build):
    """One photograph, 224x224, training mode, every parameter's gradient, to 1e-10."""
    model = build(dtype=np.float64)
    report = against_torch(model, twins.twin(model), photograph(np.float64))
    assert report.ok and report.max_error < 1e-10
    assert len(report.rows_on("cpu")) == 2 + len(model.parameters()) + 2 * sum(
        isinstance(layer, nn.BatchNorm) for _, layer in named_layers(model))
    del model, report
    gc.collect()


@pytest.mark.parametrize("build", [models.resnet18, models.resnet50], ids=["18", "50"])
def test_full_size_float32_forward_against_twin_and_backward_in_float32(build):
    """float32: the output against torch's (evaluation and training mode), and a backward pass
    that stays in float32 (see the module's docstring for why its values are not compared)."""
    torch.set_grad_enabled(False)
    try:
        model = build()
        twin = twins.twin(model)
        x = photograph(np.float32)
        for training in (True, False):
            model.train(training)
            copy_parameters(model, twin)
            twin.train(training)
            with nn.no_grad():
                y = model(x)
            expected = twin(torch.from_numpy(x)).numpy()
            assert y.dtype == np.float32
            assert np.abs(y - expected).max() <= 1e-5 * max(np.abs(expected).max(), 1)
    finally:
        torch.set_grad_enabled(True)
    model.train()
    y = model(x)
    grad = model.backward(np.random.default_rng(0).standard_normal(y.shape).astype(np.float32))
    assert grad.dtype == np.float32 and grad.shape == x.shape and np.isfinite(grad).all()
    assert all(p.grad.dtype == np.float32 and np.isfinite(p.grad).all()
               for p in model.parameters())
    del model, twin
    gc.collect()


@pytest.mark.parametrize("shortcut,kind", [(True, "A"), (True, "B"), (False, "A")],
                         ids=["option-A", "option-B", "plain"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_cifar_resnet_float64_against_twin(shortcut, kind, training):
    model = models.CifarResNet(2, (4, 6, 8), in_channels=1, shortcut=shortcut,
                               shortcut_type=kind, dtype=np.float64, rng=0)
    assert model.depth == 14
    if not training:                    # running statistics away from 0 and 1 first
        with nn.no_grad():
            model(np.random.default_rng(3).standard_normal((4, 1, 14, 14)) + 1.0)
        model.eval()
    x = np.random.default_rng(4).standard_normal((3, 1, 14, 14))
    report = against_torch(model, twins.twin(model), x)
    assert report.max_error < 1e-10


def test_cifar_resnet_layout_and_counts():
    paper = models.CifarResNet(3, in_channels=3)                  # ResNet-20 of the paper
    convs = [layer for _, layer in named_layers(paper) if isinstance(layer, nn.Conv2d)]
    assert len(convs) + 1 == paper.depth == 20                    # + fc
    assert count(paper) == 269_722                              # the paper's "0.27M"
    plain = models.CifarResNet(3, in_channels=3, shortcut=False)
    assert count(plain) == count(paper)                          # option A adds nothing
    b = models.CifarResNet(3, in_channels=3, shortcut_type="B")
    assert count(b) == count(paper) + (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)
    table = models.summary(paper, (1, 3, 32, 32))
    assert [table.row(f"layer{i}").output_shape for i in (1, 2, 3)] == [
        (16, 32, 32), (32, 16, 16), (64, 8, 8)]
    small = models.summary(models.CifarResNet(1, (8, 16, 32), in_channels=1), (1, 1, 7, 7))
    assert [small.row(f"layer{i}").output_shape for i in (1, 2, 3)] == [
        (8, 7, 7), (16, 4, 4), (32, 2, 2)]
    assert isinstance(paper.layer2[0].downsample, nn.PadShortcut)
    assert plain.layer2[0].downsample is None and not plain.layer2[0].shortcut


def test_residual_and_plain_share_their_parameters_by_name():
    """Same seed, same depth: the plain network is the residual one without the additions."""
    residual = models.CifarResNet(2, (4, 8, 8), in_channels=1, rng=3)
    plain = models.CifarResNet(2, (4, 8, 8), in_channels=1, shortcut=False, rng=3)
    for (n, p), (m, q) in zip(residual.named_parameters(), plain.named_parameters()):
        assert n == m
        np.testing.assert_array_equal(p.data, q.data)
    x = np.random.default_rng(0).standard_normal((2, 1, 9, 9)).astype(np.float32)
    with nn.no_grad():
        assert not np.allclose(residual(x), plain(x))


@pytest.mark.parametrize("make,error,message", [
    (lambda: models.ResNet(nn.ReLU, (2, 2, 2, 2)), TypeError, "BasicBlock or Bottleneck"),
    (lambda: models.ResNet(nn.BasicBlock, (2, 2, 2)), ValueError, "four positive"),
    (lambda: models.ResNet(nn.BasicBlock, (2, 0, 2, 2)), ValueError, "four positive"),
    (lambda: models.CifarResNet(0), ValueError, "positive integer"),
    (lambda: models.CifarResNet(2, widths=(4, 8)), ValueError, "three positive"),
    (lambda: models.CifarResNet(2, shortcut_type="C"), ValueError, "'A'"),
])
def test_refuses_bad_settings(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_refuses_bad_inputs():
    model = models.CifarResNet(1, (4, 4, 4), in_channels=1)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        model(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        model(np.zeros((1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        model(np.zeros((1, 1, 1, 1), np.float32))           # batch norm of one value
