"""VGG: torchvision's layout and parameter counts, its initialisation, the full-size VGG-16 on
one photograph against its torch twin (float32, once), scaled-down variants in float64."""

import gc

import numpy as np
import pytest
import torch
from matplotlib import cbook
from PIL import Image

from deepglossary import models, nn
from deepglossary.models import vgg as vgg_module
from deepglossary.models.vgg import VGG, cost, scaled_config, vgg_digits
from deepglossary.twins import vgg as twins
from deepglossary.verify import against_torch, copy_parameters

# torchvision's documented parameter counts (torchvision.models, "num_params" of the weights)
PUBLISHED = {("11", False): 132_863_336, ("13", False): 133_047_848,
             ("16", False): 138_357_544, ("19", False): 143_667_240,
             ("16", True): 138_365_992}


def photograph() -> np.ndarray:
    """Grace Hopper (matplotlib's sample photograph), centre-cropped to a square, resized to
    224 x 224 and normalised with ImageNet's channel means and deviations: (1, 3, 224, 224)."""
    image = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    image = image.convert("RGB").crop((0, 44, 512, 556)).resize((224, 224), Image.BILINEAR)
    rgb = np.asarray(image, dtype=np.float32) / 255                          # (224, 224, 3)
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    return ((rgb - mean) / std).transpose(2, 0, 1)[None].copy()            # (1, 3, 224, 224)


def count(model) -> int:
    return sum(p.size for p in model.parameters())


@pytest.mark.parametrize(("config", "batch_norm"), list(PUBLISHED))
def test_parameter_counts_match_torchvision_and_the_twin(config, batch_norm):
    twin = twins.vgg(config, batch_norm, init_weights=False)
    theirs = sum(p.numel() for p in twin.parameters())
    shapes = {name: tuple(p.shape) for name, p in twin.named_parameters()}
    del twin
    model = VGG(config, batch_norm, init_weights=False, rng=0)
    ours = count(model)
    assert ours == theirs == PUBLISHED[config, batch_norm] == cost(config, batch_norm)[0]
    assert {name: p.shape for name, p in model.named_parameters()} == shapes
    del model
    gc.collect()


def test_configurations_have_their_number_of_weight_layers():
    """VGG-n has n layers with weights: convolutions plus the three affine layers."""
    for config in ("11", "13", "16", "19"):
        model = VGG(config, width=1 / 64, hidden=8, num_classes=3, rng=0)
        layers = [m for m in [*model.features, *model.classifier]
                  if isinstance(m, nn.Conv2d | nn.Affine)]
        assert len(layers) == int(config)
        assert sum(isinstance(m, nn.MaxPool2d) for m in model.features) == 5
        assert all(m.kernel_size == (3, 3) and m.padding == 1 for m in layers[:-3])
    bn = VGG("11", batch_norm=True, width=1 / 64, hidden=8, rng=0)
    kinds = [type(m).__name__ for m in bn.features][:4]
    assert kinds == ["Conv2d", "BatchNorm", "ReLU", "MaxPool2d"]      # torchvision's order


def test_scaled_config():
    assert scaled_config("11", 1 / 8, 3) == [8, "M", 16, "M", 32, 32, "M"]
    assert scaled_config([64, "M", 100], 0.5) == [32, "M", 50]
    assert scaled_config("16") == vgg_module.CONFIGS["16"]
    assert scaled_config("19", 1 / 1000)[0] == 1                       # at least one channel
    for bad in ("17", [64, "M", 0], ["M"], [64, 2.5]):
        with pytest.raises(ValueError):
            scaled_config(bad)
    with pytest.raises(ValueError, match="stages"):
        scaled_config("11", 1, 6)
    with pytest.raises(ValueError, match="width"):
        scaled_config("11", 0)


def test_initialisation_is_torchvisions():
    """Kaiming normal (fan_out, ReLU) convolutions, N(0, 0.01^2) affine weights, zero biases,
    batch-norm scale 1 and shift 0: each layer's standard deviation matches the formula and
    the twin's own initialisation (torch's init functions) within sampling error."""
    model = VGG("11", batch_norm=True, width=1 / 2, hidden=1024, rng=0)
    twin = twins.vgg("11", batch_norm=True, width=1 / 2, hidden=1024)
    theirs = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        t = theirs[name].detach().numpy()
        if name.endswith("bias"):
            assert not p.data.any() and not t.any()
        elif p.data.ndim == 1:                                       # batch-norm scale
            assert (p.data == 1).all() and (t == 1).all()
        else:
            expected = (0.01 if p.data.ndim == 2
                        else np.sqrt(2 / (p.shape[0] * 9)))           # fan_out = C_out 3 3
            for std in (p.data.std(), t.std()):
                assert abs(std / expected - 1) < 6 / np.sqrt(p.size), (name, std, expected)
            assert abs(p.data.mean()) < 6 * expected / np.sqrt(p.size)
    default = VGG("11", width=1 / 8, hidden=64, init_weights=False, rng=0)
    bound = 1 / np.sqrt(default.features[0].weight.data[0].size)    # torch's default uniform
    assert np.abs(default.features[0].weight.data).max() <= bound
    digits = vgg_digits("11")                  # Kaiming convolutions, default affine layers
    conv, affine = digits.features[0].weight.data, digits.classifier[0].weight.data
    assert abs(conv.std() / np.sqrt(2 / 72) - 1) < 0.25 and not digits.features[0].bias.data.any()
    assert np.abs(affine).max() <= 1 / np.sqrt(affine.shape[1]) and affine.std() > 0.03


@pytest.fixture(scope="module")
def vgg16():
    model = VGG("16", rng=np.random.default_rng(0))
    yield model
    del model
    gc.collect()


def test_summary_of_vgg16(vgg16):
    table = models.summary(vgg16, (1, 3, 224, 224))
    params, macs = cost("16")
    assert table.total_params == params == PUBLISHED["16", False]
    assert table.total_macs == macs == 15_470_264_320
    assert table.row("features.0").macs == 64 * 3 * 9 * 224 * 224
    assert table.row("features").output_shape == (512, 7, 7)
    assert table.row("classifier.0").params == 25088 * 4096 + 4096
    assert table.row("classifier").params > 0.89 * params             # where parameters sit
    assert table.row("features").macs > 0.99 * macs                  # and where compute does


def test_full_size_vgg16_float32_on_a_photograph_against_twin_layer_by_layer(vgg16):
    """One forward and backward of the whole network on the photograph, recorded; the logits
    against the twin's end to end, every layer against the twin's layer on the input and
    upstream gradient it had (once: the entry-wise reruns make it the slowest test here)."""
    model = vgg16.eval()
    twin = twins.twin_of(model).eval()
    x = photograph()
    g = np.random.default_rng(1).standard_normal((1, 1000)).astype(np.float32)
    model.zero_grad()
    with twins.recording(model) as calls:
        logits = model(x)
        dx = model.backward(g)
    assert logits.dtype == dx.dtype == np.float32 and dx.shape == x.shape
    assert "forward" not in vars(model.features[0])                      # unwrapped again
    copy_parameters(model, twin)
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    assert np.abs(logits - theirs).max() < 1e-5 * max(np.abs(theirs).max(), 1)
    report = twins.against_twin_by_layer(model, twin, calls)
    assert report.ok
    compared = {row.check.split("[")[0].split(" ")[0] for row in report.rows}
    assert compared == {name for name, _ in twins.leaves(model)}        # every layer
    weights = [r for r in report.rows_on("cpu") if r.quantity.startswith("grad weight")]
    assert sum(np.prod(r.shape) for r in weights if r.check.startswith("classifier.0[")) \
        == 25088 * 4096                                                  # all blocks
    del calls, twin, report
    model.zero_grad()
    gc.collect()


def test_by_layer_refuses_a_model_that_was_not_recorded():
    model = vgg_digits("11", width=1 / 8)
    with pytest.raises(ValueError, match="recording"):
        twins.against_twin_by_layer(model, twins.twin_of(model), {})


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("config", ["11", "16"])
def test_scaled_down_float64_training_mode_against_twin(config, batch_norm):
    model = vgg_digits(config, batch_norm, dtype=np.float64, seed=1)
    x = np.random.default_rng(2).standard_normal((4, 1, 28, 28))
    report = against_torch(model, twins.twin_of(model), x)
    compared = {row.quantity for row in report.rows}
    assert report.ok and {"output", "grad input"} <= compared
    assert {f"grad {name}" for name, _ in model.named_parameters()} <= compared
    if batch_norm:                                          # the running statistics too
        assert {"features.1.running_mean", "features.1.running_var"} <= compared


def test_scaled_down_float64_eval_mode_with_dropout_and_running_statistics():
    model = vgg_digits("13", True, dropout=0.5, dtype=np.float64, seed=3)
    rng = np.random.default_rng(4)
    model(rng.standard_normal((6, 1, 28, 28)))             # training pass: running statistics
    assert not np.allclose(model.features[1].running_mean, 0)
    model.eval()
    assert against_torch(model, twins.twin_of(model), rng.standard_normal((3, 1, 28, 28))).ok


def test_all_five_stages_on_32x32_with_dropout_masks_in_training():
    """A 32x32 input leaves 1x1 maps after five poolings; the adaptive pooling spreads each to
    7x7 (the classifier still sees 512 * 7 * 7 inputs, scaled). Dropout in training mode, with
    torch's own masks given to our layers."""
    model = VGG("11", batch_norm=True, width=1 / 16, hidden=24, num_classes=5, dtype=np.float64,
                rng=np.random.default_rng(5))
    x = np.random.default_rng(6).standard_normal((3, 3, 32, 32))
    torch.manual_seed(7)
    masks = [torch.nn.functional.dropout(torch.ones(3, n, dtype=torch.float64), 0.5) != 0
             for n in (24, 24)]
    for layer, mask in zip([m for m in model.classifier if isinstance(m, nn.Dropout)], masks):
        layer.fixed_mask = mask.numpy()
    twin = twins.twin_of(model)

    def reseed(module, args):            # before each forward: torch draws the masks above
        torch.manual_seed(7)             # (returns None: a returned value would replace args)

    twin.register_forward_pre_hook(reseed)
    report = against_torch(model, twin, x, devices=["cpu"])      # the CPU generator's masks
    assert report.ok
    assert model.classifier[0].in_features == 32 * 49


def test_computes_in_the_inputs_dtype():
    model = vgg_digits("11", dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28))
    y = model(x)
    assert y.dtype == np.float64 and y.shape == (2, 10)
    assert model.backward(np.ones_like(y)).dtype == np.float64
    assert model.features[0].weight.grad.dtype == np.float32


def test_clear_errors():
    model = vgg_digits("11")
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\) with H, W >= 8"):
        model(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match="H, W >= 8"):
        model(np.zeros((2, 1, 28, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        model(np.zeros((1, 28, 28), np.float32))
    with pytest.raises(TypeError):
        model(np.zeros((2, 1, 28, 28), np.int64))
    with pytest.raises(RuntimeError, match="before forward"):
        vgg_digits("11").backward(np.zeros((2, 10), np.float32))
    with pytest.raises(ValueError, match="unknown configuration"):
        VGG("12")


def test_recording_leaves_the_layers_as_they_were():
    model = vgg_digits("11")
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal((2, 10)).astype(np.float32)
    plain = model(x), model.backward(g)
    with twins.recording(model) as calls:
        recorded = model(x), model.backward(g)
    for a, b in zip(plain, recorded):
        np.testing.assert_array_equal(a, b)
    assert set(calls) == {name for name, _ in twins.leaves(model)}
    np.testing.assert_array_equal(calls["features.0"]["input"], x)
    np.testing.assert_array_equal(calls["classifier.6"]["grad_output"], g)
    assert all("forward" not in vars(layer) for _, layer in twins.leaves(model))
    with twins.recording(model, ["features.2", "classifier.6"]) as some:   # only those
        recorded = model(x), model.backward(g)
    assert set(some) == {"features.2", "classifier.6"}
    np.testing.assert_array_equal(some["classifier.6"]["grad_output"], g)
    assert all("forward" not in vars(layer) for _, layer in twins.leaves(model))
    with pytest.raises(ValueError, match="no layer named"), twins.recording(model, ["features.99"]):
        pass


def test_digits_variant_trains():
    """Adam steps on one batch of 32 shipped digits fit it (the chapter trains it fully)."""
    from deepglossary.data import mnist
    from deepglossary.losses import CrossEntropy
    from deepglossary.optim import Adam

    digits = mnist()
    x = ((digits.x_train[:32] - 0.13) / 0.31).reshape(-1, 1, 28, 28).astype(np.float32)
    y = digits.y_train[:32]
    model = vgg_digits("11")
    optimizer, loss_fn, losses = Adam(model.parameters(), lr=2e-3), CrossEntropy(), []
    for _ in range(40):
        optimizer.zero_grad()
        losses.append(loss_fn(model(x), y))
        model.backward(loss_fn.backward())
        optimizer.step()
    assert losses[0] > 2 and losses[-1] < 0.25 * losses[0]
