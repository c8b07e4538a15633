"""Checkers for the exercises of the VGG chapter: a configuration-to-layers builder that also
takes the paper's other kernel sizes (the 1x1 convolutions of configuration C, the 5x5 ones of
the shallow B), and the memory a VGG's layer outputs take, counted from the configuration.

The chapter shows the package's own ``make_layers`` (numbers and "M" only) and ``cost``
(parameters and multiply-accumulates); these exercises ask for what neither computes, and the
references below are the checkers' own."""

from __future__ import annotations

import contextlib

import numpy as np

from deepglossary import nn
from deepglossary.exercises import passed
from deepglossary.models.vgg import CONFIGS, scaled_config
from deepglossary.nn.core import Layer, no_grad

# (config, batch_norm, in_channels): VGG-11's configuration; a pooling first; two poolings in a
# row; one input channel; batch norm (its place, its channel count, its buffers); the paper's
# configuration C (1x1 convolutions) scaled down; 5x5 layers (the shallow B); a 7x7 layer and
# mixed kernels with batch norm.
BUILDER_CASES = [
    (CONFIGS["11"], False, 3),
    ([4, "M", 6, 6, "M"], False, 1),
    (["M", 5, 7], False, 2),
    ([3, "M", "M", 6], False, 3),
    ([4, 4, "M", 8], True, 3),
    ([4, 4, "M", 8, 8, (8, 1), "M", 8, (8, 1)], False, 3),
    ([(4, 5), "M", (6, 5), "M"], False, 1),
    ([(3, 7), "M", 5, (6, 1)], True, 2),
    ([(2, 1), (3, 3), (4, 5), "M"], True, 1),
]


def _entries(config) -> list:
    """Each entry of a configuration as "M" or ``(channels, kernel)``."""
    out = []
    for entry in config:
        if entry == "M":
            out.append("M")
        elif isinstance(entry, tuple):
            out.append((int(entry[0]), int(entry[1])))
        else:
            out.append((int(entry), 3))
    return out


def _reference_layers(config, batch_norm=False, in_channels=3, rng=None) -> nn.Sequential:
    layers = []
    for entry in _entries(config):
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        channels, kernel = entry
        layers.append(nn.Conv2d(in_channels, channels, kernel, padding=kernel // 2, rng=rng))
        if batch_norm:
            layers.append(nn.BatchNorm2d(channels))
        layers.append(nn.ReLU())
        in_channels = channels
    return nn.Sequential(*layers)


def _describe(layer) -> tuple:
    """What must agree: the type and its settings (not the random weights)."""
    if isinstance(layer, nn.Conv2d):
        return ("Conv2d", layer.in_channels, layer.out_channels, layer.kernel_size,
                layer.stride, layer.window.padding, layer.bias is not None)
    if isinstance(layer, nn.MaxPool2d):
        return ("MaxPool2d", layer.kernel_size, layer.stride, layer.padding)
    if isinstance(layer, nn.BatchNorm):
        return ("BatchNorm2d", layer.num_features, layer.eps, layer.momentum, layer.affine)
    return (type(layer).__name__,)


def check_make_layers(make_layers):
    """``make_layers(config, batch_norm=False, in_channels=3)`` returns an ``nn.Sequential``:
    for each entry of ``config``, a number v is a 3x3 ``Conv2d`` with padding 1 from the
    current number of channels to v; a pair ``(v, k)`` a k x k ``Conv2d`` (k odd) with padding
    k // 2; either is followed by ``BatchNorm2d(v)`` (with ``batch_norm``) and ``ReLU``; "M" is
    a 2x2 ``MaxPool2d`` with stride 2. Checked on: VGG-11's configuration, a pooling first, two
    poolings in a row, one input channel, batch norm, 1x1, 5x5 and 7x7 kernels, layer by layer
    (type, channels, kernel, stride, padding, bias; batch norm's eps, momentum and affine), by
    the names and shapes of the parameters (``"0.weight"``) and of the buffers
    (``"1.running_mean"``, ``"1.running_var"``): the names torchvision's weights load by; then
    on an input, with the reference's weights, for the output and the running statistics."""
    rng = np.random.default_rng(3)
    for config, batch_norm, in_channels in BUILDER_CASES:
        case = f"config {config}, batch_norm={batch_norm}, in_channels={in_channels}"
        try:
            got = make_layers(list(config), batch_norm=batch_norm, in_channels=in_channels)
        except Exception as err:
            raise AssertionError(f"make_layers raised {type(err).__name__}: {err} ({case})") \
                from err
        if not isinstance(got, nn.Sequential):
            raise AssertionError(f"expected an nn.Sequential, got {type(got).__name__} ({case})")
        want = _reference_layers(config, batch_norm, in_channels, rng=rng)
        mine, theirs = [_describe(m) for m in got], [_describe(m) for m in want]
        if mine != theirs:
            first = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b),
                         min(len(mine), len(theirs)))
            raise AssertionError(
                f"layer {first} differs ({case}):\nexpected {theirs[first:first + 3]}\n"
                f"got      {mine[first:first + 3]}\n(expected {len(theirs)} layers, got "
                f"{len(mine)})")
        for what, named in (("parameter", "named_parameters"), ("buffer", "named_buffers")):
            names = {name: np.shape(p) for name, p in getattr(want, named)()}
            got_names = {name: np.shape(p) for name, p in getattr(got, named)()}
            if got_names != names:
                raise AssertionError(f"{what} names or shapes differ ({case}): expected "
                                     f"{names}, got {got_names}")
        for (_, p), (_, q) in zip(got.named_parameters(), want.named_parameters()):
            p.data = q.data.copy()                   # the reference's weights, then one input
        x = rng.standard_normal((2, in_channels, 32, 32))      # 32: five poolings fit
        with no_grad():                                  # training mode: batch statistics
            y_want = want(x)
            try:
                y_got = got(x)
            except Exception as err:
                raise AssertionError(f"the layers fail on an input of shape {x.shape} ({case}): "
                                     f"{err}") from err
        if y_got.shape != y_want.shape or not np.allclose(y_got, y_want, atol=1e-12):
            raise AssertionError(f"with the same weights the outputs differ ({case}): "
                                 f"shape {y_got.shape}, {y_want.shape} expected")
        for (name, a), (_, b) in zip(got.named_buffers(), want.named_buffers()):
            if not np.allclose(a, b, atol=1e-12):
                raise AssertionError(f"after one batch the buffer {name} differs ({case})")
    return passed("configuration to layers, with kernel sizes", len(BUILDER_CASES))


def reference_footprint(config, batch_norm: bool = False, size: int = 224, *,
                        in_channels: int = 3, num_classes: int = 1000, pool_size: int = 7,
                        hidden: int = 4096) -> tuple[int, int]:
    """``(values, values_in_place)``: how many numbers the layers of ``VGG(config,
    batch_norm)`` output for one ``size`` x ``size`` image, each layer's output counted once
    (every convolution, batch norm, ReLU and max-pooling, the adaptive pooling, and the
    classifier's affine layers, ReLUs and dropouts; the flattening is a reshape), and how
    many of them remain when every ReLU works in place (its output is its input's memory)."""
    values = relu = 0
    side, channels = size, in_channels
    for entry in scaled_config(config):
        if entry == "M":
            side //= 2                                  # 2x2, stride 2: floor
            values += channels * side * side
            continue
        maps = entry * side * side                      # padding 1 keeps the side
        values += maps * (3 if batch_norm else 2)       # conv [+ batch norm] + ReLU
        relu += maps
        channels = entry
    values += channels * pool_size**2                   # the adaptive pooling: 7x7 always
    values += 2 * 3 * hidden + num_classes              # (affine, ReLU, dropout) x 2, affine
    relu += 2 * hidden
    return values, values - relu


FOOTPRINT_CASES = [(name, bn, 224) for name in CONFIGS for bn in (False, True)]
FOOTPRINT_CASES += [("16", False, 225), ("11", True, 100), ("19", False, 32),
                    ([8, "M", 16, 16, "M"], True, 28), ([4, "M", "M", 6], False, 30)]


@contextlib.contextmanager
def _no_layer_runs():
    """During the check no layer may run: the count is to come from the configuration."""
    original = Layer.__call__

    def refuse(self, *inputs):
        raise AssertionError("count from the configuration alone: the check lets no layer run "
                             f"(a {type(self).__name__} was called)")

    Layer.__call__ = refuse
    try:
        yield
    finally:
        Layer.__call__ = original


def check_vgg_memory(footprint):
    """``footprint(config, batch_norm, size)`` returns ``(values, values_in_place)``: the
    number of values the layers of ``VGG(config, batch_norm)`` (3 input channels, 1,000
    classes, the 7x7 adaptive pooling, 4,096 hidden units) output for one ``size`` x ``size``
    image, each layer's output counted once (every convolution, batch norm, ReLU and pooling,
    the adaptive pooling, the classifier's affine layers, ReLUs and dropouts), and the number
    left when the ReLUs work in place, as torchvision's do. Counted from the configuration
    alone: no layer may run during the check. Checked on the four configurations with and
    without batch norm at 224, on sizes that do not halve evenly (225, 100: every pooling
    rounds down), a 32 x 32 input (1 x 1 maps, which the adaptive pooling spreads to 7 x 7),
    and small custom configurations, one with two poolings in a row."""
    with _no_layer_runs():
        for config, batch_norm, size in FOOTPRINT_CASES:
            expected = reference_footprint(config, batch_norm, size)
            try:
                got = footprint(list(config) if not isinstance(config, str) else config,
                                batch_norm, size)
                got = tuple(int(v) for v in got)
            except AssertionError:
                raise
            except Exception as err:
                raise AssertionError(f"footprint raised {type(err).__name__}: {err} (config "
                                     f"{config}, batch_norm={batch_norm}, {size}x{size})") \
                    from err
            if got != expected:
                raise AssertionError(
                    f"config {config}, batch_norm={batch_norm}, {size}x{size}: expected "
                    f"(values, values with in-place ReLUs) = ({expected[0]:,}, "
                    f"{expected[1]:,}), got ({', '.join(f'{v:,}' for v in got)})")
    return passed("VGG layer outputs, with and without in-place ReLUs", len(FOOTPRINT_CASES))
