"""Torch twins of the residual networks, written from ``torch.nn`` as torchvision writes them
(``torchvision/models/resnet.py``: ``BasicBlock``, ``Bottleneck`` v1.5, ``ResNet``), with the
same parameter and buffer names as ``deepglossary.nn.BasicBlock`` / ``Bottleneck`` and
``deepglossary.models.ResNet`` / ``CifarResNet``. One addition to torchvision's code: the blocks
take ``shortcut=False`` for the plain network of the same depth.

As in torchvision, a block has one ``relu`` module (in place) applied after ``bn1`` and after the
addition; ours has ``relu1`` and ``relu``. ReLU has no parameters, so the names that
``verify.copy_parameters`` matches are the same.

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

import functools

from deepglossary.verify import torch_module


@functools.cache
def _classes():
    """The torch module classes, defined once, on first use (they need torch)."""
    torch = torch_module()
    tnn = torch.nn

    def conv3x3(in_planes, out_planes, stride=1):
        return tnn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1,
                          bias=False)

    def conv1x1(in_planes, out_planes, stride=1):
        return tnn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)

    class BasicBlock(tnn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None, shortcut=True):
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = downsample
            self.stride = stride
            self.shortcut = shortcut

        def forward(self, x):
            identity = x
            out = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            if self.shortcut:
                out += identity
            out = self.relu(out)
            return out

    class Bottleneck(tnn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None, shortcut=True):
            super().__init__()
            width = planes                      # groups 1, base_width 64
            self.conv1 = conv1x1(inplanes, width)
            self.bn1 = tnn.BatchNorm2d(width)
            self.conv2 = conv3x3(width, width, stride)   # v1.5: the stride on the 3x3
            self.bn2 = tnn.BatchNorm2d(width)
            self.conv3 = conv1x1(width, planes * self.expansion)
            self.bn3 = tnn.BatchNorm2d(planes * self.expansion)
            self.relu = tnn.ReLU(inplace=True)
            self.downsample = downsample
            self.stride = stride
            self.shortcut = shortcut

        def forward(self, x):
            identity = x
            out = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            out = self.relu(out)
            out = self.conv3(out)
            out = self.bn3(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            if self.shortcut:
                out += identity
            out = self.relu(out)
            return out

    class PadShortcut(tnn.Module):
        """Option A of He et al.: subsample by the stride, append zero channels."""

        def __init__(self, in_channels, out_channels, stride):
            super().__init__()
            self.extra, self.stride = out_channels - in_channels, stride

        def forward(self, x):
            x = x[:, :, ::self.stride, ::self.stride]
            return tnn.functional.pad(x, (0, 0, 0, 0, 0, self.extra))

    class ResNet(tnn.Module):
        def __init__(self, block, layers, num_classes=1000, shortcut=True, in_channels=3):
            super().__init__()
            self.inplanes, self.shortcut = 64, shortcut
            self.conv1 = tnn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2,
                                    padding=3, bias=False)
            self.bn1 = tnn.BatchNorm2d(self.inplanes)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, 64, layers[0])
            self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
            self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
            self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512 * block.expansion, num_classes)
            for m in self.modules():            # torchvision's initialisation
                if isinstance(m, tnn.Conv2d):
                    tnn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, tnn.BatchNorm2d):
                    tnn.init.constant_(m.weight, 1)
                    tnn.init.constant_(m.bias, 0)

        def _make_layer(self, block, planes, blocks, stride=1):
            downsample = None
            if self.shortcut and (stride != 1 or self.inplanes != planes * block.expansion):
                downsample = tnn.Sequential(conv1x1(self.inplanes, planes * block.expansion,
                                                    stride),
                                            tnn.BatchNorm2d(planes * block.expansion))
            layers = [block(self.inplanes, planes, stride, downsample, self.shortcut)]
            self.inplanes = planes * block.expansion
            for _ in range(1, blocks):
                layers.append(block(self.inplanes, planes, shortcut=self.shortcut))
            return tnn.Sequential(*layers)

        def forward(self, x):
            x = self.conv1(x)
            x = self.bn1(x)
            x = self.relu(x)
            x = self.maxpool(x)
            x = self.layer1(x)
            x = self.layer2(x)
            x = self.layer3(x)
            x = self.layer4(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            x = self.fc(x)
            return x

    class CifarResNet(tnn.Module):
        def __init__(self, n, widths=(16, 32, 64), in_channels=3, num_classes=10,
                     shortcut=True, shortcut_type="A"):
            super().__init__()
            self.conv1 = conv3x3(in_channels, widths[0])
            self.bn1 = tnn.BatchNorm2d(widths[0])
            self.relu = tnn.ReLU(inplace=True)
            inplanes = widths[0]
            for i, planes in enumerate(widths):
                stride = 1 if i == 0 else 2
                downsample = None
                if shortcut and (stride != 1 or inplanes != planes):
                    downsample = (PadShortcut(inplanes, planes, stride) if shortcut_type == "A"
                                  else tnn.Sequential(conv1x1(inplanes, planes, stride),
                                                      tnn.BatchNorm2d(planes)))
                stage = [BasicBlock(inplanes, planes, stride, downsample, shortcut)]
                stage += [BasicBlock(planes, planes, shortcut=shortcut) for _ in range(1, n)]
                setattr(self, f"layer{i + 1}", tnn.Sequential(*stage))
                inplanes = planes
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(widths[-1], num_classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return dict(BasicBlock=BasicBlock, Bottleneck=Bottleneck, PadShortcut=PadShortcut,
                ResNet=ResNet, CifarResNet=CifarResNet, conv1x1=conv1x1)


def projection(inplanes: int, outplanes: int, stride: int = 1):
    """torchvision's ``downsample``: ``Sequential(conv1x1(inplanes, outplanes, stride),
    BatchNorm2d(outplanes))``."""
    torch = torch_module()
    return torch.nn.Sequential(_classes()["conv1x1"](inplanes, outplanes, stride),
                               torch.nn.BatchNorm2d(outplanes))


def pad_shortcut(in_channels: int, out_channels: int, stride: int = 1):
    """The option-A shortcut: ``x[:, :, ::stride, ::stride]``, then zero channels appended."""
    return _classes()["PadShortcut"](in_channels, out_channels, stride)


def basic_block(inplanes: int, planes: int, stride: int = 1, downsample=None,
                shortcut: bool = True):
    """torchvision's ``BasicBlock`` (plus ``shortcut``); ``downsample`` a torch module."""
    return _classes()["BasicBlock"](inplanes, planes, stride, downsample, shortcut)


def bottleneck(inplanes: int, planes: int, stride: int = 1, downsample=None,
               shortcut: bool = True):
    """torchvision's ``Bottleneck`` v1.5 (plus ``shortcut``); ``downsample`` a torch module."""
    return _classes()["Bottleneck"](inplanes, planes, stride, downsample, shortcut)


def resnet(block: str, layers, num_classes: int = 1000, shortcut: bool = True,
           in_channels: int = 3):
    """torchvision's ``ResNet``; ``block`` is "basic" or "bottleneck"."""
    kinds = {"basic": "BasicBlock", "bottleneck": "Bottleneck"}
    if block not in kinds:
        raise ValueError(f"block must be 'basic' or 'bottleneck', got {block!r}")
    c = _classes()
    return c["ResNet"](c[kinds[block]], tuple(layers), num_classes, shortcut, in_channels)


def resnet18(num_classes: int = 1000, **kwargs):
    """torchvision's ``resnet18()`` (random weights)."""
    return resnet("basic", (2, 2, 2, 2), num_classes, **kwargs)


def resnet34(num_classes: int = 1000, **kwargs):
    """torchvision's ``resnet34()`` (random weights)."""
    return resnet("basic", (3, 4, 6, 3), num_classes, **kwargs)


def resnet50(num_classes: int = 1000, **kwargs):
    """torchvision's ``resnet50()`` (v1.5, random weights)."""
    return resnet("bottleneck", (3, 4, 6, 3), num_classes, **kwargs)


def cifar_resnet(n: int, widths=(16, 32, 64), in_channels: int = 3, num_classes: int = 10,
                 shortcut: bool = True, shortcut_type: str = "A"):
    """He et al.'s CIFAR ResNet (6n + 2 layers), as ``models.CifarResNet`` builds it."""
    return _classes()["CifarResNet"](n, tuple(widths), in_channels, num_classes, shortcut,
                                     shortcut_type)


def twin(ours):
    """The torch twin of one of our residual layers or networks, from its settings: a
    ``BasicBlock``, ``Bottleneck``, ``PadShortcut``, projection ``Sequential``, ``ResNet`` or
    ``CifarResNet``. Parameters are not copied (``verify.against_torch`` does that)."""
    from deepglossary import models, nn

    if isinstance(ours, models.ResNet):
        block = "basic" if ours.block is nn.BasicBlock else "bottleneck"
        return resnet(block, ours.layers, ours.fc.out_features, ours.shortcut,
                      ours.conv1.in_channels)
    if isinstance(ours, models.CifarResNet):
        return cifar_resnet(ours.n, ours.widths, ours.conv1.in_channels, ours.fc.out_features,
                            ours.shortcut, ours.shortcut_type)
    if isinstance(ours, nn.PadShortcut):
        return pad_shortcut(ours.in_channels, ours.out_channels, ours.stride)
    if isinstance(ours, nn.BasicBlock | nn.Bottleneck):
        build = basic_block if isinstance(ours, nn.BasicBlock) else bottleneck
        down = None if ours.downsample is None else twin(ours.downsample)
        return build(ours.inplanes, ours.planes, ours.stride, down, ours.shortcut)
    if isinstance(ours, nn.Sequential) and len(ours) == 2 and isinstance(ours[0], nn.Conv2d) \
            and isinstance(ours[1], nn.BatchNorm):
        conv = ours[0]
        return projection(conv.in_channels, conv.out_channels, conv.stride[0])
    raise TypeError(f"no residual twin for {type(ours).__name__}")
