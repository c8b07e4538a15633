"""Residual networks: torchvision's ImageNet ResNets (18, 34, 50, v1.5) and the small CIFAR
ResNets of He et al. (2016, section 4.2), each with a *plain* twin of the same depth.

ImageNet layout (torchvision's names): ``conv1`` 7x7 stride 2 padding 3 (no bias), ``bn1``,
``relu``, ``maxpool`` 3x3 stride 2 padding 1, four stages ``layer1`` .. ``layer4`` of residual
blocks (64, 128, 256, 512 planes; every stage but the first halves the height and width in its
first block), ``avgpool`` (global average), ``fc``. CIFAR layout: ``conv1`` 3x3 (16 channels
in the paper), ``bn1``, ``relu``, three stages of n basic blocks (16, 32, 64 channels; feature
maps 32, 16, 8 for a 32x32 image), ``avgpool``, ``fc``: 6n + 2 weighted layers.
"""

from __future__ import annotations

import numpy as np

from deepglossary import init, nn
from deepglossary.models.summary import named_layers
from deepglossary.nn.residual import BasicBlock, Bottleneck, PadShortcut, projection
from deepglossary.random import default_rng


class _Stages(nn.Layer):
    """A network whose children run one after the other in the order ``_order``: forward calls
    them in order, backward calls their backward passes in reverse (as ``Sequential`` does),
    with torchvision's names instead of "0", "1", ..."""

    _order: tuple = ()

    def forward(self, x):
        for name in self._order:
            x = getattr(self, name)(x)
        return x

    def backward(self, grad_output):
        self._backward_begins()
        for name in reversed(self._order):
            grad_output = getattr(self, name).backward(grad_output)
        return grad_output


def _initialise(model, zero_init_residual: bool, rng) -> None:
    """torchvision's initialisation: every convolution Kaiming normal with fan_out and the
    ReLU gain, sqrt(2 / (C_out k_h k_w)); batch-norm weight 1 and bias 0 (already so); the
    affine layer keeps its default. ``zero_init_residual``: the last batch norm of every
    residual branch starts at weight 0, so each block starts as the identity (before its ReLU)."""
    for _, layer in named_layers(model):
        if isinstance(layer, nn.Conv2d):
            init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu", rng=rng)
        if zero_init_residual and isinstance(layer, Bottleneck):
            layer.bn3.weight.data[:] = 0
        elif zero_init_residual and isinstance(layer, BasicBlock):
            layer.bn2.weight.data[:] = 0


class ResNet(_Stages):
    """torchvision's ResNet (v1.5: in a Bottleneck the stride sits on the 3x3 convolution).

    PyTorch twin: ``torchvision.models.ResNet`` (built from ``torch.nn`` in
    ``deepglossary.twins.resnet.resnet``); parameter and buffer names are torchvision's, so its
    pretrained weights would load by name.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: the number of blocks in each of the four stages, e.g. (2, 2, 2, 2) for ResNet-18.
        num_classes: outputs of ``fc``.
        zero_init_residual: start the last batch norm of each branch at weight 0.
        shortcut: False builds the plain network of the same depth (no shortcut at all, no
            projections), the baseline of the paper's degradation experiment.
        in_channels: 3 for colour images.
        dtype, rng: parameters' dtype and random generator (an int seeds a new one).

    Shape:
        x: (N, in_channels, H, W), H, W >= 1 (224 x 224 in the paper)
        y: (N, num_classes)
    """

    _order = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
              "avgpool", "flatten", "fc")

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False,
                 shortcut: bool = True, in_channels: int = 3, dtype=np.float32, rng=None):
        if block not in (BasicBlock, Bottleneck):
            raise TypeError(f"ResNet: block must be BasicBlock or Bottleneck, got {block!r}")
        layers = tuple(layers)
        if len(layers) != 4 or not all(isinstance(n, int | np.integer) and n >= 1
                                       for n in layers):
            raise ValueError(f"ResNet: layers must be four positive block counts, e.g. "
                             f"(2, 2, 2, 2), got {layers}")
        rng = default_rng(rng)
        self.block, self.layers, self.shortcut = block, layers, bool(shortcut)
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False, dtype=dtype,
                               rng=rng)                                    # (N, 64, H/2, W/2)
        self.bn1 = nn.BatchNorm(64, dtype=dtype)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)               # (N, 64, H/4, W/4)
        self.layer1 = self._make_layer(64, layers[0], 1, dtype, rng)
        self.layer2 = self._make_layer(128, layers[1], 2, dtype, rng)     # H/8
        self.layer3 = self._make_layer(256, layers[2], 2, dtype, rng)     # H/16
        self.layer4 = self._make_layer(512, layers[3], 2, dtype, rng)     # H/32
        self.avgpool = nn.AdaptiveAvgPool2d(1)                            # (N, 512 e, 1, 1)
        self.flatten = nn.Flatten()                                       # (N, 512 e)
        self.fc = nn.Affine(512 * block.expansion, num_classes, dtype=dtype, rng=rng)
        _initialise(self, zero_init_residual, rng)

    def _make_layer(self, planes, blocks, stride, dtype, rng) -> nn.Sequential:
        """One stage: the first block changes the stride and/or width (with a projection
        shortcut, 1x1 convolution and batch norm, where the shape changes); the others keep
        them (identity shortcuts)."""
        block, out = self.block, planes * self.block.expansion
        downsample = None
        if self.shortcut and (stride != 1 or self.inplanes != out):
            downsample = projection(self.inplanes, out, stride, dtype=dtype, rng=rng)
        stage = [block(self.inplanes, planes, stride, downsample, shortcut=self.shortcut,
                       dtype=dtype, rng=rng)]
        self.inplanes = out
        stage += [block(out, planes, shortcut=self.shortcut, dtype=dtype, rng=rng)
                  for _ in range(1, blocks)]
        return nn.Sequential(*stage)


def resnet18(num_classes: int = 1000, dtype=np.float32, rng=0, **kwargs) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 parameters with 1000 classes."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, dtype=dtype, rng=rng, **kwargs)


def resnet34(num_classes: int = 1000, dtype=np.float32, rng=0, **kwargs) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 parameters with 1000 classes."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, dtype=dtype, rng=rng, **kwargs)


def resnet50(num_classes: int = 1000, dtype=np.float32, rng=0, **kwargs) -> ResNet:
    """ResNet-50 (v1.5): bottleneck blocks (3, 4, 6, 3); 25,557,032 parameters with 1000
    classes."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, dtype=dtype, rng=rng, **kwargs)


class CifarResNet(_Stages):
    """The small ResNets of He et al. (2016, section 4.2) for 32x32 CIFAR images, here also for
    28x28 (or smaller) digits: 6n + 2 weighted layers.

    ``conv1`` (3x3, ``widths[0]`` channels, padding 1, no bias), ``bn1``, ``relu``; three stages
    ``layer1`` .. ``layer3`` of ``n`` basic blocks with ``widths`` channels (16, 32, 64 in the
    paper), the second and third starting with stride 2; ``avgpool`` (global), ``fc``.

    Shortcuts where the shape changes: ``"A"`` (the paper's CIFAR choice) a parameter-free
    :class:`~deepglossary.nn.PadShortcut`, which keeps the residual network's parameters exactly
    those of the plain one; ``"B"`` a projection (1x1 convolution and batch norm, as in the
    ImageNet ResNets). ``shortcut=False``: the plain network of the same depth.

    PyTorch twin: ``deepglossary.twins.resnet.cifar_resnet`` (torchvision has none).

    Shape:
        x: (N, in_channels, H, W)
        y: (N, num_classes)
    """

    _order = ("conv1", "bn1", "relu", "layer1", "layer2", "layer3", "avgpool", "flatten", "fc")

    def __init__(self, n: int, widths=(16, 32, 64), in_channels: int = 3,
                 num_classes: int = 10, shortcut: bool = True, shortcut_type: str = "A",
                 zero_init_residual: bool = False, dtype=np.float32, rng=None):
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
            raise ValueError(f"CifarResNet: n (blocks per stage) must be a positive integer, "
                             f"got {n!r}")
        widths = tuple(int(w) for w in widths)
        if len(widths) != 3 or min(widths) < 1:
            raise ValueError(f"CifarResNet: widths must be three positive channel counts, e.g. "
                             f"(16, 32, 64), got {widths}")
        if shortcut_type not in ("A", "B"):
            raise ValueError(f"CifarResNet: shortcut_type must be 'A' (zero padding) or 'B' "
                             f"(projection), got {shortcut_type!r}")
        rng = default_rng(rng)
        self.n, self.widths, self.shortcut, self.shortcut_type = int(n), widths, bool(shortcut), \
            shortcut_type
        self.depth = 6 * self.n + 2
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False, dtype=dtype,
                               rng=rng)
        self.bn1 = nn.BatchNorm(widths[0], dtype=dtype)
        self.relu = nn.ReLU()
        inplanes = widths[0]
        for i, planes in enumerate(widths):
            stride = 1 if i == 0 else 2
            downsample = None
            if self.shortcut and (stride != 1 or inplanes != planes):
                downsample = (PadShortcut(inplanes, planes, stride) if shortcut_type == "A"
                              else projection(inplanes, planes, stride, dtype=dtype, rng=rng))
            stage = [BasicBlock(inplanes, planes, stride, downsample, shortcut=self.shortcut,
                                dtype=dtype, rng=rng)]
            stage += [BasicBlock(planes, planes, shortcut=self.shortcut, dtype=dtype, rng=rng)
                      for _ in range(1, self.n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Affine(widths[-1], num_classes, dtype=dtype, rng=rng)
        _initialise(self, zero_init_residual, rng)
