"""The VGG chapter's checkers accept right answers and reject the naive ones."""

import pytest

from deepglossary import nn
from deepglossary.exercises import vgg
from deepglossary.models.vgg import CONFIGS


def layers_right(config, batch_norm=False, in_channels=3):
    layers = []
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers.append(nn.Conv2d(in_channels, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            in_channels = v
    return nn.Sequential(*layers)


def layers_stale_channels(config, batch_norm=False, in_channels=3):   # never updates C_in
    layers = []
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, v, 3, padding=1)]
            layers += [nn.BatchNorm2d(v)] if batch_norm else []
            layers += [nn.ReLU()]
    return nn.Sequential(*layers)


def layers_relu_before_bn(config, batch_norm=False, in_channels=3):
    layers = []
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, v, 3, padding=1), nn.ReLU()]
            layers += [nn.BatchNorm2d(v)] if batch_norm else []
            in_channels = v
    return nn.Sequential(*layers)


def layers_no_padding(config, batch_norm=False, in_channels=3):
    layers = []
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, v, 3)]
            layers += [nn.BatchNorm2d(v)] if batch_norm else []
            layers += [nn.ReLU()]
            in_channels = v
    return nn.Sequential(*layers)


def layers_overlapping_pool(config, batch_norm=False, in_channels=3):   # stride 1
    model = layers_right(config, batch_norm, in_channels)
    for i, layer in enumerate(model):
        if isinstance(layer, nn.MaxPool2d):
            setattr(model, str(i), nn.MaxPool2d(2, 1))
    return model


def layers_ignore_bn(config, batch_norm=False, in_channels=3):
    return layers_right(config, False, in_channels)


def layers_as_list(config, batch_norm=False, in_channels=3):
    return list(layers_right(config, batch_norm, in_channels))


def test_builder_checker():
    vgg.check_make_layers(layers_right)
    for wrong in (layers_stale_channels, layers_relu_before_bn, layers_no_padding,
                  layers_overlapping_pool, layers_ignore_bn, layers_as_list):
        with pytest.raises(AssertionError):
            vgg.check_make_layers(wrong)


def cost_right(config, batch_norm, size):
    config = CONFIGS[config] if isinstance(config, str) else config
    params = macs = 0
    c = 3
    for v in config:
        if v == "M":
            size //= 2
        else:
            params += 9 * c * v + v + (2 * v if batch_norm else 0)
            macs += 9 * c * v * size * size
            c = v
    for n_in, n_out in ((c * 49, 4096), (4096, 4096), (4096, 1000)):
        params += n_in * n_out + n_out
        macs += n_in * n_out
    return params, macs


def cost_no_bn(config, batch_norm, size):          # forgets batch norm's scale and shift
    return cost_right(config, False, size)


def cost_ceil(config, batch_norm, size):           # rounds the pooled size up
    params, _ = cost_right(config, batch_norm, size)
    config = CONFIGS[config] if isinstance(config, str) else config
    c, macs = 3, 0
    for v in config:
        if v == "M":
            size = -(-size // 2)
        else:
            macs += 9 * c * v * size * size
            c = v
    return params, macs + c * 49 * 4096 + 4096 * 4096 + 4096 * 1000


def cost_classifier_from_the_map(config, batch_norm, size):   # no adaptive pooling
    config = CONFIGS[config] if isinstance(config, str) else config
    params, macs = cost_right(config, batch_norm, size)
    c = [v for v in config if v != "M"][-1]
    side = size
    for v in config:
        if v == "M":
            side //= 2
    extra = c * (side * side - 49) * 4096
    return params + extra, macs + extra


def cost_no_biases(config, batch_norm, size):
    params, macs = cost_right(config, batch_norm, size)
    config = CONFIGS[config] if isinstance(config, str) else config
    biases = sum(v for v in config if v != "M") + 4096 + 4096 + 1000
    return params - biases, macs


def test_cost_checker():
    vgg.check_vgg_cost(cost_right)
    for wrong in (cost_no_bn, cost_ceil, cost_classifier_from_the_map, cost_no_biases):
        with pytest.raises(AssertionError):
            vgg.check_vgg_cost(wrong)
