"""GoogLeNet against its torch twin (torchvision's definition rebuilt from torch.nn): parameter
counts, names, shapes, a full-size forward and backward on one 224x224 image, and the
scaled-down network for the digits in float64 with and without the auxiliary classifiers."""

import gc

import numpy as np
import pytest
import torch

from deepglossary import nn
from deepglossary.models import GoogLeNet, GoogLeNetOutputs, googlenet_digits, summary
from deepglossary.twins.googlenet import twin_of
from deepglossary.verify import against_torch

# torchvision's documented size of googlenet (GoogLeNet_Weights.IMAGENET1K_V1: num_params)
TORCHVISION_PARAMS = 6_624_904
# aux1 (512 in) + aux2 (528 in): conv 1x1 to 128 with batch norm, fc1 2048 -> 1024, fc2
AUX_PARAMS = sum(c * 128 + 2 * 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000 for c in (512, 528))


def count(model):
    return sum(p.size for p in model.parameters())


def test_parameter_counts_are_torchvisions():
    model = GoogLeNet()
    assert count(model) == TORCHVISION_PARAMS
    with_aux = GoogLeNet(aux_logits=True)
    assert count(with_aux) == TORCHVISION_PARAMS + AUX_PARAMS == 13_004_888
    assert sum(p.numel() for p in twin_of(with_aux).parameters()) == 13_004_888
    paper = GoogLeNet(kernel5=5)         # the paper's 5x5 kernels: 16 more weights per pair
    extra = sum(red * out * 16 for _, (_, _, _, _, red, out, _) in GoogLeNet.INCEPTIONS)
    assert count(paper) == TORCHVISION_PARAMS + extra


def test_names_are_torchvisions():
    model = GoogLeNet(aux_logits=True)
    names = [name for name, _ in model.named_parameters()]
    buffers = [name for name, _ in model.named_buffers()]
    for expected in ("conv1.conv.weight", "conv3.bn.bias", "inception3a.branch2.1.conv.weight",
                     "inception5b.branch4.1.bn.weight", "aux1.conv.conv.weight",
                     "aux2.fc1.weight", "aux2.fc2.bias", "fc.weight"):
        assert expected in names
    assert "inception4e.branch3.1.bn.running_var" in buffers
    assert set(names) == {name for name, _ in twin_of(model).named_parameters()}
    assert names[-2:] == ["fc.weight", "fc.bias"]


def test_shapes_and_macs_of_the_stages():
    table = summary(GoogLeNet(), (1, 3, 224, 224))
    shapes = {r.name: r.output_shape for r in table.grouped(1)}
    assert shapes["conv1"] == (64, 112, 112) and shapes["maxpool1"] == (64, 56, 56)
    assert shapes["maxpool2"] == (192, 28, 28) and shapes["inception3b"] == (480, 28, 28)
    assert shapes["maxpool3"] == (480, 14, 14) and shapes["inception4e"] == (832, 14, 14)
    assert shapes["maxpool4"] == (832, 7, 7) and shapes["inception5b"] == (1024, 7, 7)
    assert table.total_params == TORCHVISION_PARAMS
    assert 1.45e9 < table.total_macs < 1.55e9           # "1.5 billion multiply-adds"


def test_initialisation_is_torchvisions():
    model = GoogLeNet(seed=3)
    w = model.inception4c.branch2[1].conv.weight.data
    assert abs(w.std() - 0.01) < 5e-4 and np.abs(w).max() < 2
    assert model.fc.weight.data.std() == pytest.approx(0.01, rel=0.05)
    assert np.all(model.conv1.bn.weight.data == 1) and np.all(model.conv1.bn.bias.data == 0)
    default = GoogLeNet(init_weights=False, seed=3)
    assert default.inception4c.branch2[1].conv.weight.data.std() > 0.01   # kaiming uniform


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


def test_full_size_float32_eval_matches_torch():
    """Evaluation mode after one training forward has moved the running statistics."""
    x = photograph(np.float32)
    model = GoogLeNet(dropout=0.0)
    with nn.no_grad():
        model(x)                                  # training mode: running statistics move
    model.eval()
    report = against_torch(model, twin_of(model), x)
    assert report.max_error < 1e-5
    del model, report
    gc.collect()


def test_full_size_float64_training_matches_torch():
    """Training mode (batch statistics of one image) in float64. In float32 this comparison
    is meaningless at 1e-5: both torch's and our float32 weight gradients differ from the
    float64 ones by percents (the batch-norm backward of one image is ill-conditioned)."""
    x = photograph(np.float64)
    model = GoogLeNet(dropout=0.0, dtype=np.float64)
    report = against_torch(model, twin_of(model), x)
    assert report.max_error < 1e-10
    del model, report
    gc.collect()


class Joined(nn.Layer):
    """The three outputs of a training forward with auxiliary heads side by side, so that
    against_torch can compare them and their gradients as one array."""

    def __init__(self, net):
        self.net = net

    def forward(self, x):
        out = self.net(x)
        assert isinstance(out, GoogLeNetOutputs)
        return np.concatenate(out, axis=1)                          # (N, 3 classes)

    def backward(self, grad_output):
        self._backward_begins()
        return self.net.backward(tuple(np.split(grad_output, 3, axis=1)))


class JoinedTwin(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.cat(self.net(x), 1)


def digits(n, dtype=np.float64):
    """n training digits, standardised, with a little noise: the digits' flat background
    makes exactly equal values after a convolution in our implementation and values a few
    ulps apart in torch's (another summation order), so a max-pooling window over it routes
    its gradient to different, equally right, places; the noise breaks the ties."""
    from deepglossary.data import mnist

    data = mnist()
    x = (data.x_train[:n] - data.x_train.mean()) / data.x_train.std()
    x = x + np.random.default_rng(n).normal(0, 0.05, x.shape)
    return x.reshape(-1, 1, 28, 28).astype(dtype)


@pytest.mark.parametrize("small_input", [False, True])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_digits_network_matches_torch_in_float64(training, small_input):
    model = googlenet_digits(dtype=np.float64, dropout=0.0, small_input=small_input, seed=1)
    x = digits(4)
    if not training:
        with nn.no_grad():
            model(x)
        model.eval()
    report = against_torch(model, twin_of(model), x)
    assert report.max_error < 1e-10 and report.rows[0].shape == (4, 10)


def test_digits_network_with_auxiliary_heads_matches_torch():
    model = googlenet_digits(aux_logits=True, dropout=0.0, dropout_aux=0.0, dtype=np.float64)
    x = digits(3)
    out = model(x)
    assert isinstance(out, GoogLeNetOutputs) and all(o.shape == (3, 10) for o in out)
    twin = JoinedTwin(twin_of(model))
    report = against_torch(Joined(model), twin, x)
    aux_rows = [r for r in report.rows if ".aux" in f".{r.quantity.split()[-1]}"]
    assert len(aux_rows) >= 2 * 7                    # every auxiliary parameter compared
    model.eval()
    assert model(x).shape == (3, 10)                 # evaluation: the main logits only


def test_transform_input_matches_torch():
    model = GoogLeNet(num_classes=4, transform_input=True, width=1 / 16, dtype=np.float64,
                      dropout=0.0)
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40))
    against_torch(model, twin_of(model), x)


def test_digits_sizes_need_ceil_mode():
    """At 28x28 the stages see 14, 7, 3, 1 and 1 pixels; with floor rounding maxpool4 would
    get no window on the 1x1 map (ceil mode keeps one)."""
    table = summary(googlenet_digits(), (1, 1, 28, 28))
    sizes = [r.output_shape[-1] for r in table.grouped(1) if r.name.startswith("maxpool")]
    assert sizes == [7, 3, 1, 1]
    with pytest.raises(ValueError, match="larger than the padded input"):
        nn.MaxPool2d(2, stride=2)(np.zeros((1, 1, 1, 1)))


def test_refusals():
    model = googlenet_digits(aux_logits=True)
    model(digits(2, np.float32))
    with pytest.raises(ValueError, match="three gradients as a tuple"):
        model.backward(np.zeros((2, 10), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        model(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match="transform_input"):
        GoogLeNet(transform_input=True, in_channels=1)
