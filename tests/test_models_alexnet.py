"""AlexNet: torchvision's layout and parameter count, the paper's variant, the digits' variant,
and forward and backward against the torch twin (full size in float32 and float64, scaled down
in float64, in evaluation and in training mode)."""

import gc

import numpy as np
import pytest
import torch

from deepglossary import models, nn
from deepglossary.models.alexnet import PAPER
from deepglossary.twins.alexnet import alexnet as torch_alexnet
from deepglossary.twins.alexnet import twin_of
from deepglossary.verify import against_torch

# torchvision's AlexNet().named_parameters(), names and shapes, copied from its definition
TORCHVISION_PARAMETERS = {
    "features.0.weight": (64, 3, 11, 11), "features.0.bias": (64,),
    "features.3.weight": (192, 64, 5, 5), "features.3.bias": (192,),
    "features.6.weight": (384, 192, 3, 3), "features.6.bias": (384,),
    "features.8.weight": (256, 384, 3, 3), "features.8.bias": (256,),
    "features.10.weight": (256, 256, 3, 3), "features.10.bias": (256,),
    "classifier.1.weight": (4096, 9216), "classifier.1.bias": (4096,),
    "classifier.4.weight": (4096, 4096), "classifier.4.bias": (4096,),
    "classifier.6.weight": (1000, 4096), "classifier.6.bias": (1000,),
}


def count(model) -> int:
    return sum(p.size for p in model.parameters())


def test_full_size_float64_against_twin_once():
    model = models.AlexNet(dtype=np.float64, rng=np.random.default_rng(2)).eval()
    x = np.random.default_rng(3).standard_normal((1, 3, 224, 224))
    assert against_torch(model, twin_of(model), x).ok
    del model
    gc.collect()


@pytest.fixture(scope="module")
def full():
    model = models.AlexNet(rng=np.random.default_rng(0))
    yield model
    del model
    gc.collect()


def test_torchvision_names_shapes_and_count(full):
    assert {n: p.shape for n, p in full.named_parameters()} == TORCHVISION_PARAMETERS
    assert list(dict(full.named_parameters())) == list(TORCHVISION_PARAMETERS)
    assert count(full) == 61_100_840
    assert all(p.dtype == np.float32 for p in full.parameters())
    twin = twin_of(full)
    assert {n: tuple(p.shape) for n, p in twin.named_parameters()} == TORCHVISION_PARAMETERS
    kinds = [type(layer).__name__ for layer in full.features]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d"] * 2 + ["Conv2d", "ReLU"] * 3 + ["MaxPool2d"]
    assert [type(layer).__name__ for layer in full.classifier] == \
        ["Dropout", "Affine", "ReLU", "Dropout", "Affine", "ReLU", "Affine"]
    assert [type(m).__name__ for m in twin.features] == \
        [k.replace("Affine", "Linear") for k in kinds]


def test_summary_shapes_parameters_and_macs(full):
    """Output shapes from the size formula, and MACs = C_out H' W' (C_in k^2) per convolution,
    in_features out_features per affine layer, computed here independently."""
    table = models.summary(full, (1, 3, 224, 224))
    convs = [(3, 64, 11, 55), (64, 192, 5, 27), (192, 384, 3, 13), (384, 256, 3, 13),
             (256, 256, 3, 13)]
    affines = [(9216, 4096), (4096, 4096), (4096, 1000)]
    macs = (sum(c_out * h * h * c_in * k * k for c_in, c_out, k, h in convs)
            + sum(a * b for a, b in affines))
    assert table.total_params == 61_100_840
    assert table.total_macs == macs == 714_188_480
    assert table.row("features.2").output_shape == (64, 27, 27)
    assert table.row("features.12").output_shape == (256, 6, 6)
    assert table.row("avgpool").output_shape == (256, 6, 6)
    classifier = table.row("classifier").params / table.total_params
    convolutions = table.row("features").macs / table.total_macs
    assert 0.95 < classifier < 0.97 and 0.91 < convolutions < 0.92


def test_full_size_float32_against_twin_on_one_image(full):
    """One 224 x 224 image, evaluation mode (dropout off), every parameter's gradient."""
    full.eval()
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    report = against_torch(full, twin_of(full), x)
    assert report.ok and len(report.rows_on("cpu")) == 2 + 16
    full.zero_grad()
    gc.collect()


def torch_masks(model, shapes, seed, dtype):
    """The keep-masks torch's two classifier dropouts draw after ``torch.manual_seed(seed)``,
    in order; given to our Dropout layers as ``fixed_mask``."""
    torch.manual_seed(seed)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    masks = [torch.nn.functional.dropout(torch.ones(s, dtype=tdtype), model.config["dropout"])
             != 0 for s in shapes]
    for layer, mask in zip([m for m in model.classifier if isinstance(m, nn.Dropout)], masks):
        layer.fixed_mask = mask.numpy()
    return masks


def seeded(twin, seed):
    """The twin, reseeded before every forward: its dropouts draw the masks torch_masks drew."""
    def reseed(module, args):
        torch.manual_seed(seed)               # returns None: the inputs stay as they are

    twin.register_forward_pre_hook(reseed)
    return twin


@pytest.mark.parametrize("variant", ["relu", "tanh", "lrn"])
@pytest.mark.parametrize("training", [False, True])
def test_digits_variant_float64_against_twin(variant, training):
    model = models.alexnet_digits(1 / 8, dtype=np.float64, lrn=variant == "lrn",
                                  activation="tanh" if variant == "tanh" else "relu")
    x = np.random.default_rng(4).standard_normal((5, 1, 28, 28))
    twin = twin_of(model)
    if training:
        shapes = [(5, model.classifier[1].in_features), (5, model.config["hidden"])]
        masks = torch_masks(model, shapes, 7, np.float64)
        assert all(0 < m.double().mean() < 1 for m in masks)
        twin = seeded(twin, 7)
    model.train(training)
    # torch's masks come from the CPU generator: on a GPU the twin would draw others
    report = against_torch(model, twin, x, devices=["cpu"] if training else None)
    assert report.ok and len(report.rows_on("cpu")) == 2 + 16


def test_paper_variant_groups_and_lrn_float64_against_twin():
    """The paper's layout (96, 256, 384, 384, 256 kernels in 1, 2, 1, 2, 2 groups, LRN, no
    padding first), scaled to width 1/8 on a 67 x 67 image: 15 -> 7 -> 7 -> 3 -> 1, pooled up to
    6 x 6 by the adaptive pooling."""
    model = models.alexnet_paper(width=1 / 8, dtype=np.float64, rng=np.random.default_rng(5))
    assert [layer.groups for layer in model.features if isinstance(layer, nn.Conv2d)] == \
        [1, 2, 1, 2, 2]
    x = np.random.default_rng(6).standard_normal((2, 3, 67, 67))
    assert against_torch(model.eval(), twin_of(model), x).ok


def test_paper_variant_counts_sixty_million():
    model = models.alexnet_paper(rng=np.random.default_rng(0))
    assert count(model) == 60_965_224
    assert sum(p.numel() for p in torch_alexnet(lrn=True, **PAPER).parameters()) == 60_965_224
    kinds = [type(layer).__name__ for layer in model.features][:8]
    assert kinds == ["Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d"] * 2
    with nn.no_grad():
        y = model.eval()(np.zeros((1, 3, 227, 227), np.float32))
    assert y.shape == (1, 1000)
    del model
    gc.collect()


def test_digits_variant_shapes_and_size():
    model = models.alexnet_digits()
    table = models.summary(model, (2, 1, 28, 28))
    assert [table.row(f"features.{i}").output_shape[1] for i in (2, 5, 12)] == [13, 6, 2]
    assert model.config["channels"] == (4, 12, 24, 16, 16) and model.config["hidden"] == 256
    assert table.total_params == count(model) == sum(p.numel() for p in
                                                     twin_of(model).parameters())


def test_eval_is_deterministic_and_train_drops_units():
    model = models.alexnet_digits(dropout=0.5)
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    with nn.no_grad():
        model.eval()
        a, b = model(x), model(x)
        model.train()
        c, d = model(x), model(x)
        model.classifier[0].p = model.classifier[3].p = 0.0
        e = model(x)
    np.testing.assert_array_equal(a, b)
    assert np.abs(c - d).max() > 1e-4 and np.abs(c - a).max() > 1e-4
    np.testing.assert_allclose(e, a, rtol=1e-6)              # no dropout: train = eval


def test_same_seed_same_network_and_float32_default():
    a, b = models.alexnet_digits(seed=3), models.alexnet_digits(seed=3)
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        assert p.dtype == np.float32


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(width=0), ValueError, "width must be a positive number"),
    (dict(activation="sigmoid"), ValueError, "activation must be one of"),
    (dict(kernels=(11, 5, 3, 3)), ValueError, "kernels must be five integers"),
    (dict(paddings=(2, 2, 1, 1, -1)), ValueError, "paddings must be five integers >= 0"),
    (dict(groups=(1, 5, 1, 1, 1), width=1 / 16), ValueError, "divisible by groups"),
])
def test_refuses_bad_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        models.AlexNet(**kwargs)


def test_refuses_bad_inputs():
    model = models.alexnet_digits()
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\).*\(2, 3, 28, 28\)"):
        model(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\).*\(1, 28, 28\)"):
        model(np.zeros((1, 28, 28), np.float32))
    with pytest.raises(ValueError, match="larger than the padded input"):
        model(np.zeros((1, 1, 8, 8), np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        models.alexnet_digits().backward(np.zeros((1, 10)))
