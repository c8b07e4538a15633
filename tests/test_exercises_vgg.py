"""The VGG chapter's checkers accept right answers and reject the naive ones, and the memory
checker's reference agrees with ``models.summary`` on networks that run."""

import numpy as np
import pytest

from deepglossary import models, nn
from deepglossary.exercises import vgg
from deepglossary.models import vgg as vgg_module
from deepglossary.models.vgg import CONFIGS


def entries(config):
    for v in config:
        if v == "M":
            yield "M", None
        elif isinstance(v, tuple):
            yield v
        else:
            yield v, 3


def layers_right(config, batch_norm=False, in_channels=3):
    layers = []
    for v, k in entries(config):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers.append(nn.Conv2d(in_channels, v, k, padding=k // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            in_channels = v
    return nn.Sequential(*layers)


def layers_stale_channels(config, batch_norm=False, in_channels=3):   # never updates C_in
    layers = []
    for v, k in entries(config):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, v, k, padding=k // 2)]
            layers += [nn.BatchNorm2d(v)] if batch_norm else []
            layers += [nn.ReLU()]
    return nn.Sequential(*layers)


def layers_relu_before_bn(config, batch_norm=False, in_channels=3):
    layers = []
    for v, k in entries(config):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, v, k, padding=k // 2), nn.ReLU()]
            layers += [nn.BatchNorm2d(v)] if batch_norm else []
            in_channels = v
    return nn.Sequential(*layers)


def layers_padding_one(config, batch_norm=False, in_channels=3):   # padding 1 for any kernel
    layers = []
    for v, k in entries(config):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, v, k, padding=1)]
            layers += [nn.BatchNorm2d(v)] if batch_norm else []
            layers += [nn.ReLU()]
            in_channels = v
    return nn.Sequential(*layers)


def layers_kernel_ignored(config, batch_norm=False, in_channels=3):   # every kernel 3x3
    flat = [v if v == "M" else (v[0] if isinstance(v, tuple) else v) for v in config]
    return layers_right(flat, batch_norm, in_channels)


def layers_overlapping_pool(config, batch_norm=False, in_channels=3):   # stride 1
    model = layers_right(config, batch_norm, in_channels)
    for i, layer in enumerate(model):
        if isinstance(layer, nn.MaxPool2d):
            setattr(model, str(i), nn.MaxPool2d(2, 1))
    return model


def layers_ignore_bn(config, batch_norm=False, in_channels=3):
    return layers_right(config, False, in_channels)


def layers_bn_without_affine(config, batch_norm=False, in_channels=3):
    model = layers_right(config, batch_norm, in_channels)
    for i, layer in enumerate(model):
        if isinstance(layer, nn.BatchNorm):
            setattr(model, str(i), nn.BatchNorm2d(layer.num_features, affine=False))
    return model


def layers_bn_momentum(config, batch_norm=False, in_channels=3):   # Keras's momentum
    model = layers_right(config, batch_norm, in_channels)
    for i, layer in enumerate(model):
        if isinstance(layer, nn.BatchNorm):
            setattr(model, str(i), nn.BatchNorm2d(layer.num_features, momentum=0.01))
    return model


def layers_as_list(config, batch_norm=False, in_channels=3):
    return list(layers_right(config, batch_norm, in_channels))


def layers_delegated(config, batch_norm=False, in_channels=3):   # the package's, numbers only
    return vgg_module.make_layers(config, batch_norm, in_channels)


def test_builder_checker():
    vgg.check_make_layers(layers_right)
    for wrong in (layers_stale_channels, layers_relu_before_bn, layers_padding_one,
                  layers_kernel_ignored, layers_overlapping_pool, layers_ignore_bn,
                  layers_bn_without_affine, layers_bn_momentum, layers_as_list,
                  layers_delegated):
        with pytest.raises(AssertionError):
            vgg.check_make_layers(wrong)


def footprint_right(config, batch_norm, size):
    config = CONFIGS[config] if isinstance(config, str) else config
    values = relu = 0
    c = 3
    for v in config:
        if v == "M":
            size //= 2
            values += c * size * size
        else:
            values += (3 if batch_norm else 2) * v * size * size
            relu += v * size * size
            c = v
    values += c * 49 + 3 * 4096 * 2 + 1000
    relu += 2 * 4096
    return values, values - relu


def footprint_conv_only(config, batch_norm, size):   # the convolutions' outputs only
    config = CONFIGS[config] if isinstance(config, str) else config
    values = 0
    for v in config:
        if v == "M":
            size //= 2
        else:
            values += v * size * size
    return values, values


def footprint_no_bn(config, batch_norm, size):        # forgets batch norm's outputs
    return footprint_right(config, False, size)


def footprint_ceil(config, batch_norm, size):         # rounds the pooled size up
    config = CONFIGS[config] if isinstance(config, str) else config
    values = relu = 0
    c = 3
    for v in config:
        if v == "M":
            size = -(-size // 2)
            values += c * size * size
        else:
            values += (3 if batch_norm else 2) * v * size * size
            relu += v * size * size
            c = v
    values += c * 49 + 3 * 4096 * 2 + 1000
    relu += 2 * 4096
    return values, values - relu


def footprint_map_not_7(config, batch_norm, size):    # the adaptive pooling's output = the map
    values, in_place = footprint_right(config, batch_norm, size)
    config = CONFIGS[config] if isinstance(config, str) else config
    c = [v for v in config if v != "M"][-1]
    side = size >> config.count("M")
    return values + c * (side * side - 49), in_place + c * (side * side - 49)


def footprint_relu_not_in_place(config, batch_norm, size):
    values, _ = footprint_right(config, batch_norm, size)
    return values, values


def footprint_by_running(config, batch_norm, size):   # runs the network: refused
    table = models.summary(vgg_module.VGG(config, batch_norm, width=1 / 64, hidden=8),
                           (1, 3, size, size))
    total = sum(int(np.prod(r.output_shape)) for r in table.rows if r.leaf)
    return total, total


def test_memory_checker():
    vgg.check_vgg_memory(footprint_right)
    for wrong in (footprint_conv_only, footprint_no_bn, footprint_ceil, footprint_map_not_7,
                  footprint_relu_not_in_place, footprint_by_running):
        with pytest.raises(AssertionError):
            vgg.check_vgg_memory(wrong)
    with pytest.raises(AssertionError, match="configuration alone"):
        vgg.check_vgg_memory(footprint_by_running)
    assert nn.ReLU()(np.array([-1.0, 2.0]))[1] == 2.0            # Layer.__call__ restored


@pytest.mark.parametrize(("config", "batch_norm", "size"),
                         [("11", False, 64), ("16", True, 37), ("13", False, 32),
                          ([4, "M", "M", 6], True, 30)])
def test_reference_footprint_is_what_summary_measures(config, batch_norm, size):
    """The reference, written independently of ``models.summary``, agrees with the outputs
    the summary records when the network runs (narrow: the formula takes the width)."""
    model = vgg_module.VGG(config, batch_norm, num_classes=5, width=1 / 16, hidden=12,
                           rng=np.random.default_rng(0))
    table = models.summary(model, (1, 3, size, size))
    leaves = [r for r in table.rows if r.leaf]
    values = sum(int(np.prod(r.output_shape)) for r in leaves)
    relu = sum(int(np.prod(r.output_shape)) for r in leaves if r.kind == "ReLU")
    assert vgg.reference_footprint(model.config, batch_norm, size, num_classes=5,
                                   hidden=12) == (values, values - relu)
