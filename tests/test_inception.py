"""BasicConv2d and the Inception module against their torch twins (torchvision's definitions
rebuilt from torch.nn), in float64 and float32, training and evaluation mode."""

import numpy as np
import pytest

from deepglossary import nn
from deepglossary.models import summary
from deepglossary.twins.googlenet import basic_conv2d, inception, twin_of
from deepglossary.verify import against_torch


def randomise_batchnorm(layer, rng):
    """Batch-norm weights, biases and running statistics away from their 1 / 0 defaults, so
    that a forgotten scale, shift or running statistic cannot pass."""
    for name, p in layer.named_parameters():
        if ".bn." in f".{name}":
            p.data = rng.uniform(0.5, 1.5, p.shape).astype(p.dtype) if name.endswith("weight") \
                else rng.normal(0, 0.3, p.shape).astype(p.dtype)
    for name, b in layer.named_buffers():
        b[...] = rng.uniform(0.5, 1.5, b.shape) if name.endswith("var") \
            else rng.normal(0, 0.3, b.shape)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("kernel,stride,padding", [(1, 1, 0), (3, 1, 1), (7, 2, 3)])
def test_basic_conv2d_matches_torch(dtype, training, kernel, stride, padding):
    rng = np.random.default_rng(kernel)
    ours = nn.BasicConv2d(3, 5, kernel, stride=stride, padding=padding, dtype=dtype, rng=rng)
    randomise_batchnorm(ours, rng)
    ours.train(training)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    theirs = basic_conv2d(3, 5, kernel_size=kernel, stride=stride, padding=padding)
    report = against_torch(ours, theirs, x)
    names = {row.quantity for row in report.rows}
    assert {"grad conv.weight", "grad bn.weight", "grad bn.bias", "bn.running_var"} <= names
    assert ours.conv.bias is None and ours.bn.eps == 0.001


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("kernel5", [3, 5])
def test_inception_matches_torch(dtype, training, kernel5):
    rng = np.random.default_rng(kernel5)
    ours = nn.Inception(12, 4, 6, 8, 2, 5, 3, kernel5=kernel5, dtype=dtype, rng=rng)
    randomise_batchnorm(ours, rng)
    ours.train(training)
    x = rng.standard_normal((2, 12, 7, 6)).astype(dtype)
    y = ours(x)
    assert y.shape == (2, 4 + 8 + 5 + 3, 7, 6) and ours.out_channels == 20
    report = against_torch(ours, inception(12, 4, 6, 8, 2, 5, 3, kernel5), x)
    assert sum(r.quantity.startswith("grad branch") for r in report.rows_on("cpu")) == 6 * 3


def test_inception_is_the_concatenation_of_its_branches_in_order():
    rng = np.random.default_rng(0)
    ours = nn.Inception(6, 2, 3, 4, 1, 2, 3, rng=rng).eval()
    x = rng.standard_normal((1, 6, 5, 5))
    y = ours(x)
    with nn.no_grad():
        parts = [branch(x) for branch in ours.branches()]
    assert [p.shape[1] for p in parts] == [2, 4, 2, 3]
    np.testing.assert_array_equal(y, np.concatenate(parts, axis=1))


def test_inception_gradient_is_the_sum_over_branches():
    """With all branches but one silenced (a zero upstream gradient on their channels) the
    module's input gradient is that branch's; the four such gradients add up to the whole."""
    rng = np.random.default_rng(1)
    ours = nn.Inception(5, 2, 2, 3, 2, 2, 2, dtype=np.float64, rng=rng).eval()
    x = rng.standard_normal((2, 5, 4, 4))
    g = rng.standard_normal((2, 9, 4, 4))
    ours(x)
    whole = ours.backward(g)
    ends = np.cumsum([0, 2, 3, 2, 2])
    pieces = []
    for a, b in zip(ends[:-1], ends[1:]):
        only = np.zeros_like(g)
        only[:, a:b] = g[:, a:b]
        ours(x)
        pieces.append(ours.backward(only))
    assert all(np.abs(p).max() > 0 for p in pieces)
    np.testing.assert_allclose(sum(pieces), whole, rtol=1e-12, atol=1e-12)


def test_inception_3a_counts():
    """torchvision's inception3a: 155,872 parameters (its 3x3 "5x5" branch); the paper's 5x5
    kernel adds 16 * 32 * (25 - 9) weights."""
    module = nn.Inception(192, 64, 96, 128, 16, 32, 32, dtype=np.float32)
    assert sum(p.size for p in module.parameters()) == 155_872
    paper = nn.Inception(192, 64, 96, 128, 16, 32, 32, kernel5=5, dtype=np.float32)
    assert sum(p.size for p in paper.parameters()) == 155_872 + 16 * 32 * 16
    table = summary(module, (1, 192, 28, 28))
    assert table.total_params == 155_872
    per_position = 192 * 64 + 192 * 96 + 96 * 128 * 9 + 192 * 16 + 16 * 32 * 9 + 192 * 32
    assert table.total_macs == 28 * 28 * per_position
    twin = twin_of(module)
    assert sum(p.numel() for p in twin.parameters()) == 155_872


def test_inception_refuses_bad_input_and_configuration():
    module = nn.Inception(8, 2, 2, 2, 2, 2, 2)
    with pytest.raises(ValueError, match=r"\(N, 8, H, W\), got shape \(1, 7, 5, 5\)"):
        module(np.zeros((1, 7, 5, 5)))
    module(np.zeros((1, 8, 5, 5)))
    with pytest.raises(ValueError, match=r"\(1, 8, 5, 5\)"):
        module.backward(np.zeros((1, 9, 5, 5)))
    with pytest.raises(ValueError, match="kernel5 must be an odd"):
        nn.Inception(8, 2, 2, 2, 2, 2, 2, kernel5=4)
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Inception(8, 2, 2, 2, 2, 2, 2).backward(np.zeros((1, 8, 5, 5)))


def test_parameter_names_are_torchvisions():
    names = [name for name, _ in nn.Inception(8, 2, 2, 2, 2, 2, 2).named_parameters()]
    assert names[:3] == ["branch1.conv.weight", "branch1.bn.weight", "branch1.bn.bias"]
    assert "branch2.1.conv.weight" in names and "branch4.1.bn.bias" in names
    assert not any("relu" in n or "branch4.0" in n for n in names)   # parameter-free
    buffers = [name for name, _ in nn.Inception(8, 2, 2, 2, 2, 2, 2).named_buffers()]
    assert "branch3.1.bn.running_mean" in buffers
