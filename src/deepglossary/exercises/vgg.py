"""Checkers for the exercises of the VGG chapter: the configuration-to-layers builder, and the
parameter and multiply-accumulate count of a whole VGG from its configuration."""

import numpy as np

from deepglossary import nn
from deepglossary.exercises import passed
from deepglossary.models.vgg import CONFIGS, cost
from deepglossary.models.vgg import make_layers as reference_layers
from deepglossary.nn.core import no_grad

# (config, batch_norm, in_channels): VGG-11's configuration; a pooling first; two poolings in a
# row; one input channel; batch norm (its place and its channel count); a stage of three.
BUILDER_CASES = [
    (CONFIGS["11"], False, 3),
    ([4, "M", 6, 6, "M"], False, 1),
    (["M", 5, 7], False, 2),
    ([3, "M", "M", 6], False, 3),
    ([4, 4, "M", 8], True, 3),
    ([2, "M", 3, 5, 7, "M"], True, 1),
]


def _describe(layer) -> tuple:
    """What must agree: the type and its settings (not the random weights)."""
    if isinstance(layer, nn.Conv2d):
        return ("Conv2d", layer.in_channels, layer.out_channels, layer.kernel_size,
                layer.stride, layer.window.padding)
    if isinstance(layer, nn.MaxPool2d):
        return ("MaxPool2d", layer.kernel_size, layer.stride, layer.padding)
    if isinstance(layer, nn.BatchNorm):
        return ("BatchNorm2d", layer.num_features)
    return (type(layer).__name__,)


def check_make_layers(make_layers):
    """``make_layers(config, batch_norm=False, in_channels=3)`` returns an ``nn.Sequential``:
    for each number v of ``config`` a 3x3 ``Conv2d`` with padding 1 from the current number of
    channels to v, then (with ``batch_norm``) ``BatchNorm2d(v)``, then ``ReLU``; for each "M" a
    2x2 ``MaxPool2d`` with stride 2. Checked on: VGG-11's configuration, a pooling first, two
    poolings in a row, one input channel and batch norm, layer by layer (type, channels,
    kernel, stride, padding) and by parameter names (``"0.weight"``, ``"1.running_mean"``: the
    names torchvision's weights load by), then on an input, with the reference's weights, for
    the output."""
    rng = np.random.default_rng(3)
    for config, batch_norm, in_channels in BUILDER_CASES:
        case = f"config {config}, batch_norm={batch_norm}, in_channels={in_channels}"
        got = make_layers(list(config), batch_norm=batch_norm, in_channels=in_channels)
        if not isinstance(got, nn.Sequential):
            raise AssertionError(f"expected an nn.Sequential, got {type(got).__name__} ({case})")
        want = reference_layers(config, batch_norm, in_channels, dtype=np.float64, rng=rng)
        mine, theirs = [_describe(m) for m in got], [_describe(m) for m in want]
        if mine != theirs:
            first = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b),
                         min(len(mine), len(theirs)))
            raise AssertionError(
                f"layer {first} differs ({case}):\nexpected {theirs[first:first + 3]}\n"
                f"got      {mine[first:first + 3]}\n(expected {len(theirs)} layers, got "
                f"{len(mine)})")
        names = {name: p.shape for name, p in want.named_parameters()}
        got_names = {name: p.shape for name, p in got.named_parameters()}
        if got_names != names:
            raise AssertionError(f"parameter names or shapes differ ({case}): expected "
                                 f"{names}, got {got_names}")
        for (_, p), (_, q) in zip(got.named_parameters(), want.named_parameters()):
            p.data = q.data.copy()                   # the reference's weights, then one input
        x = rng.standard_normal((2, in_channels, 32, 32))      # 32: five poolings fit
        with no_grad():
            y_want = want(x)
            try:
                y_got = got(x)
            except Exception as err:
                raise AssertionError(f"the layers fail on an input of shape {x.shape} ({case}): "
                                     f"{err}") from err
        if y_got.shape != y_want.shape or not np.allclose(y_got, y_want, atol=1e-12):
            raise AssertionError(f"with the same weights the outputs differ ({case}): "
                                 f"shapes {y_got.shape} and {y_want.shape} expected")
    return passed("configuration to layers", len(BUILDER_CASES))


COST_CASES = [(name, bn, 224) for name in CONFIGS for bn in (False, True)]
COST_CASES += [("16", False, 225), ("11", True, 100), ("19", False, 32),
               ([8, "M", 16, 16, "M"], True, 28), ([4, "M", "M", 6], False, 30)]


def check_vgg_cost(count):
    """``count(config, batch_norm, size)`` returns ``(parameters, multiply_accumulates)`` of
    ``VGG(config, batch_norm)`` (3 input channels, 1,000 classes, the 7x7 adaptive pooling,
    4,096 hidden units) on one ``size`` x ``size`` image, MACs counted for convolutions and
    affine layers only. Checked on the four configurations with and without batch norm at 224
    (torchvision's published parameter counts), and on sizes that do not halve evenly (225,
    100: every pooling rounds down), a 32 x 32 input (1 x 1 maps, which the adaptive pooling
    spreads to 7 x 7: the classifier does not change), and small custom configurations,
    one with two poolings in a row."""
    for config, batch_norm, size in COST_CASES:
        expected = cost(config, batch_norm, size)
        got = count(list(config) if not isinstance(config, str) else config, batch_norm, size)
        if tuple(int(v) for v in got) != expected:
            raise AssertionError(
                f"config {config}, batch_norm={batch_norm}, {size}x{size}: expected "
                f"(parameters, MACs) = ({expected[0]:,}, {expected[1]:,}), got "
                f"({int(got[0]):,}, {int(got[1]):,})")
    return passed("VGG parameters and multiply-accumulates", len(COST_CASES))
