"""Residual blocks (BasicBlock, Bottleneck v1.5, PadShortcut) against their torch twins, the
fork's gradient, the plain blocks, torchvision's names, and the errors."""

import numpy as np
import pytest
import torch

from deepglossary import nn
from deepglossary.nn.residual import projection
from deepglossary.twins import resnet as twins
from deepglossary.verify import against_torch, gradcheck


def block(kind, inplanes, planes, stride, down, dtype, seed=0, shortcut=True):
    """A block with random batch-norm affine parameters and running statistics, so that a
    swapped bn1/bn2 or a missed buffer cannot hide behind ones and zeros."""
    rng = np.random.default_rng(seed)
    cls = nn.BasicBlock if kind == "basic" else nn.Bottleneck
    out = planes * cls.expansion
    downsample = None
    if down == "projection":
        downsample = projection(inplanes, out, stride, dtype=dtype, rng=rng)
    elif down == "pad":
        downsample = nn.PadShortcut(inplanes, out, stride)
    layer = cls(inplanes, planes, stride, downsample, shortcut=shortcut, dtype=dtype, rng=rng)
    for name, p in layer.named_parameters():
        if "bn" in name or name.startswith("downsample.1"):
            p.data[:] = rng.uniform(0.5, 1.5, p.shape) if name.endswith("weight") \
                else rng.uniform(-0.3, 0.3, p.shape)
    for _, bn in _batchnorms(layer):
        bn.running_mean[:] = rng.uniform(-0.2, 0.2, bn.num_features)
        bn.running_var[:] = rng.uniform(0.5, 2.0, bn.num_features)
    return layer


def _batchnorms(layer, prefix=""):
    for name, child in layer.named_children():
        if isinstance(child, nn.BatchNorm):
            yield prefix + name, child
        yield from _batchnorms(child, prefix + name + ".")


# (kind, inplanes, planes, stride, downsample)
CASES = [
    ("basic", 4, 4, 1, None),               # identity shortcut
    ("basic", 4, 6, 2, "projection"),       # stride 2 and wider: 1x1 conv + BN
    ("basic", 4, 6, 1, "projection"),       # wider only
    ("basic", 4, 4, 2, "projection"),       # stride only
    ("basic", 3, 5, 2, "pad"),              # option A: subsample and zero channels
    ("bottleneck", 8, 2, 1, None),          # 4 * planes == inplanes: identity
    ("bottleneck", 6, 3, 2, "projection"),
    ("bottleneck", 4, 3, 1, "projection"),
]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}-s{c[3]}-{c[4]}"
                                             for c in CASES])
def test_block_matches_torch(dtype, case, training):
    kind, inplanes, planes, stride, down = case
    ours = block(kind, inplanes, planes, stride, down, dtype).train(training)
    x = np.random.default_rng(1).standard_normal((3, inplanes, 7, 6)).astype(dtype)
    report = against_torch(ours, twins.twin(ours), x)
    n_params = len(ours.parameters())
    n_buffers = len(list(ours.named_buffers()))
    assert len(report.rows_on("cpu")) == 2 + n_params + n_buffers


@pytest.mark.parametrize("kind", ["basic", "bottleneck"])
def test_plain_block_matches_torch(dtype, kind):
    """shortcut=False: the same branch, no addition."""
    inplanes = 5 if kind == "basic" else 8
    ours = block(kind, inplanes, 3, 2, None, dtype, shortcut=False)
    assert ours.downsample is None and not ours.shortcut
    x = np.random.default_rng(2).standard_normal((2, inplanes, 6, 6)).astype(dtype)
    against_torch(ours, twins.twin(ours), x)
    with nn.no_grad():
        y = ours(x)
        branch = x
        for name in ours._branch:
            branch = getattr(ours, name)(branch)
    np.testing.assert_array_equal(y, np.maximum(branch, 0))


def test_pad_shortcut_matches_torch(dtype):
    for cin, cout, stride, size in ((3, 5, 2, (7, 6)), (4, 4, 1, (5, 5)), (2, 7, 3, (8, 4))):
        ours = nn.PadShortcut(cin, cout, stride)
        x = np.random.default_rng(3).standard_normal((2, cin, *size)).astype(dtype)
        against_torch(ours, twins.pad_shortcut(cin, cout, stride), x)
        y = ours(x)
        assert y.shape == (2, cout, -(-size[0] // stride), -(-size[1] // stride))
        assert np.all(y[:, cin:] == 0)
        g = np.random.default_rng(4).standard_normal(y.shape).astype(dtype)
        dx = ours.backward(g)
        skipped = np.ones(x.shape, bool)
        skipped[:, :, ::stride, ::stride] = False
        assert np.all(dx[skipped] == 0)                     # rows the stride skips: nothing


@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[4], CASES[5]],
                         ids=["basic-identity", "basic-projection", "basic-pad",
                              "bottleneck-identity"])
def test_block_against_central_differences(case):
    """Independent of torch: the backward pass against finite differences (float64, training
    mode, so the batch statistics are differentiated too)."""
    kind, inplanes, planes, stride, down = case
    ours = block(kind, inplanes, planes, stride, down, np.float64, seed=5)
    x = np.random.default_rng(6).standard_normal((2, inplanes, 5, 5))
    gradcheck(ours, x)


def test_gradient_at_the_fork_is_the_sum_of_the_two_paths():
    """With an identity shortcut, x_bar = (branch's gradient) + s_bar, where s_bar is the
    gradient after the last ReLU; dropping either term is wrong."""
    ours = block("basic", 4, 4, 1, None, np.float64, seed=7)
    x = np.random.default_rng(8).standard_normal((2, 4, 6, 6))
    g = np.random.default_rng(9).standard_normal((2, 4, 6, 6))
    y = ours(x)
    x_bar = ours.backward(g)
    s_bar = g * (y > 0)                                       # through the final ReLU
    branch = s_bar
    for name in reversed(ours._branch):                       # the branch alone, same caches
        branch = getattr(ours, name).backward(branch)
    np.testing.assert_allclose(x_bar, branch + s_bar, rtol=1e-12, atol=1e-12)
    assert np.abs(x_bar - branch).max() > 0.1 and np.abs(x_bar - s_bar).max() > 0.1


def test_zero_init_last_gamma_makes_the_block_the_identity():
    """bn2.weight = 0 (and bn2.bias = 0): s = 0 + x, so y = relu(x) = x for x >= 0, and the
    gradient reaches x through the shortcut alone."""
    ours = nn.BasicBlock(4, 4, rng=np.random.default_rng(0))
    ours.bn2.weight.data[:] = 0
    x = np.abs(np.random.default_rng(1).standard_normal((2, 4, 5, 5))) + 0.1
    np.testing.assert_array_equal(ours(x), x)
    g = np.random.default_rng(2).standard_normal(x.shape)
    np.testing.assert_allclose(ours.backward(g), g, rtol=0, atol=1e-15)
    assert np.abs(ours.bn2.weight.grad).max() > 0           # yet gamma itself learns


def test_names_are_torchvisions():
    basic = block("basic", 4, 6, 2, "projection", np.float32)
    expected = ["conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight",
                "bn2.bias", "downsample.0.weight", "downsample.1.weight", "downsample.1.bias"]
    assert [n for n, _ in basic.named_parameters()] == expected
    assert [n for n, _ in twins.twin(basic).named_parameters()] == expected
    bottle = block("bottleneck", 6, 3, 2, "projection", np.float32)
    names = [n for n, _ in bottle.named_parameters()]
    assert names[:9] == ["conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight",
                         "bn2.weight", "bn2.bias", "conv3.weight", "bn3.weight", "bn3.bias"]
    assert names == [n for n, _ in twins.twin(bottle).named_parameters()]
    buffers = {n for n, _ in bottle.named_buffers()}
    theirs = {n for n, _ in twins.twin(bottle).named_buffers()
              if not n.endswith("num_batches_tracked")}
    assert buffers == theirs


def test_bottleneck_is_v1_5_stride_on_the_3x3():
    ours = nn.Bottleneck(8, 4, 2, projection(8, 16, 2))
    assert ours.conv1.stride == (1, 1) and ours.conv1.kernel_size == (1, 1)
    assert ours.conv2.stride == (2, 2) and ours.conv2.kernel_size == (3, 3)
    assert ours.conv3.weight.shape == (16, 4, 1, 1)
    y = ours(np.random.default_rng(0).standard_normal((2, 8, 7, 7)))
    assert y.shape == (2, 16, 4, 4)


def test_float32_stays_float32():
    ours = block("bottleneck", 6, 3, 2, "projection", np.float32)
    x = np.random.default_rng(0).standard_normal((2, 6, 5, 5)).astype(np.float32)
    y = ours(x)
    assert y.dtype == np.float32
    assert ours.backward(np.ones_like(y)).dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in ours.parameters())


@pytest.mark.parametrize("make,message", [
    (lambda: nn.BasicBlock(4, 8), "give a downsample"),
    (lambda: nn.BasicBlock(4, 4, stride=2), "give a downsample"),
    (lambda: nn.Bottleneck(8, 4), "16 channels"),
    (lambda: nn.BasicBlock(4, 8, 2, projection(4, 8, 2), shortcut=False), "plain block"),
    (lambda: nn.BasicBlock(4, 4, downsample="yes"), "downsample must be a Layer"),
    (lambda: nn.BasicBlock(0, 4), "inplanes must be a positive integer"),
    (lambda: nn.Bottleneck(4, 2.5), "planes must be a positive integer"),
    (lambda: nn.PadShortcut(4, 2), "at least in_channels"),
])
def test_refuses_bad_settings(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_refuses_bad_inputs_naming_the_shape():
    ours = nn.BasicBlock(4, 4)
    with pytest.raises(ValueError, match=r"\(N, 4, H, W\)"):
        ours(np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"\(N, 4, H, W\)"):
        ours(np.zeros((4, 5, 5)))
    with pytest.raises(TypeError):
        ours(np.zeros((2, 4, 5, 5), dtype=np.int64))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        nn.PadShortcut(3, 5, 2)(np.zeros((2, 4, 5, 5)))
    y = ours(np.random.default_rng(0).standard_normal((2, 4, 5, 5)))
    with pytest.raises(ValueError, match="grad_output"):
        ours.backward(np.zeros((2, 4, 4, 4)))
    assert y.shape == (2, 4, 5, 5)


def test_backward_before_forward_is_refused():
    with pytest.raises(RuntimeError, match="before forward"):
        nn.BasicBlock(4, 4).backward(np.zeros((1, 4, 3, 3)))


def test_twin_refuses_unknown_layers():
    with pytest.raises(TypeError, match="no residual twin"):
        twins.twin(nn.ReLU())
    assert isinstance(twins.twin(projection(3, 6, 2)), torch.nn.Sequential)
