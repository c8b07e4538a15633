"""Torch twins of GoogLeNet and its parts, written from ``torch.nn`` like torchvision's
``googlenet.py`` (torchvision itself does not import beside the project's CPU torch).

Parameter and buffer names equal torchvision's (and so ours): ``conv1.conv.weight``,
``inception3a.branch2.1.bn.running_mean``, ``aux1.fc1.weight``, ... The extra arguments of our
:class:`deepglossary.models.GoogLeNet` (``in_channels``, ``width``, ``small_input``,
``kernel5``) are mirrored so that the scaled-down network has a twin too.
"""

from __future__ import annotations

import functools

from deepglossary.verify import torch_module


@functools.cache
def _classes():
    """The torch.nn.Module classes, defined once torch is imported."""
    torch = torch_module()
    nn, F = torch.nn, torch.nn.functional

    class BasicConv2d(nn.Module):
        def __init__(self, in_channels, out_channels, **kwargs):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
            self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    class Inception(nn.Module):
        def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                     kernel5=3):
            super().__init__()
            self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
            self.branch2 = nn.Sequential(
                BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
            self.branch3 = nn.Sequential(          # torchvision: kernel 3 (vision issue 906)
                BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                BasicConv2d(ch5x5red, ch5x5, kernel_size=kernel5, padding=kernel5 // 2))
            self.branch4 = nn.Sequential(
                nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                BasicConv2d(in_channels, pool_proj, kernel_size=1))

        def forward(self, x):
            return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x),
                              self.branch4(x)], 1)

    class InceptionAux(nn.Module):
        def __init__(self, in_channels, num_classes, dropout=0.7, conv=128, hidden=1024):
            super().__init__()
            self.conv = BasicConv2d(in_channels, conv, kernel_size=1)
            self.fc1 = nn.Linear(conv * 16, hidden)
            self.fc2 = nn.Linear(hidden, num_classes)
            self.dropout = nn.Dropout(p=dropout)

        def forward(self, x):
            x = F.adaptive_avg_pool2d(x, (4, 4))
            x = torch.flatten(self.conv(x), 1)
            x = self.dropout(F.relu(self.fc1(x)))
            return self.fc2(x)

    class GoogLeNet(nn.Module):
        def __init__(self, num_classes=1000, aux_logits=False, transform_input=False,
                     dropout=0.2, dropout_aux=0.7, in_channels=3, width=1.0,
                     small_input=False, kernel5=3):
            super().__init__()
            from deepglossary.models.googlenet import GoogLeNet as Ours

            c = functools.partial(Ours.scale, width=width)
            self.aux_logits, self.transform_input = aux_logits, transform_input
            if small_input:
                self.conv1 = BasicConv2d(in_channels, c(64), kernel_size=3, padding=1)
            else:
                self.conv1 = BasicConv2d(in_channels, c(64), kernel_size=7, stride=2,
                                         padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            self.conv2 = BasicConv2d(c(64), c(64), kernel_size=1)
            self.conv3 = BasicConv2d(c(64), c(192), kernel_size=3, padding=1)
            self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            for name, channels in Ours.INCEPTIONS:
                if name == "inception4a":
                    self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
                if name == "inception5a":
                    self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
                setattr(self, name, Inception(*map(c, channels), kernel5=kernel5))
            if aux_logits:
                self.aux1 = InceptionAux(c(512), num_classes, dropout_aux, c(128), c(1024))
                self.aux2 = InceptionAux(c(528), num_classes, dropout_aux, c(128), c(1024))
            else:
                self.aux1 = self.aux2 = None
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.dropout = nn.Dropout(p=dropout)
            self.fc = nn.Linear(c(1024), num_classes)

        def forward(self, x):
            if self.transform_input:
                x = torch.cat([x[:, 0:1] * (0.229 / 0.5) + (0.485 - 0.5) / 0.5,
                               x[:, 1:2] * (0.224 / 0.5) + (0.456 - 0.5) / 0.5,
                               x[:, 2:3] * (0.225 / 0.5) + (0.406 - 0.5) / 0.5], 1)
            x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
            x = self.maxpool3(self.inception3b(self.inception3a(x)))
            x = self.inception4a(x)
            aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
            x = self.inception4d(self.inception4c(self.inception4b(x)))
            aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
            x = self.maxpool4(self.inception4e(x))
            x = self.inception5b(self.inception5a(x))
            x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
            if self.training and self.aux_logits:
                return x, aux2, aux1
            return x

    return BasicConv2d, Inception, InceptionAux, GoogLeNet


def basic_conv2d(in_channels: int, out_channels: int, **kwargs):
    """torchvision's ``BasicConv2d``: Conv2d without bias, BatchNorm2d(eps=0.001), ReLU."""
    return _classes()[0](in_channels, out_channels, **kwargs)


def inception(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, kernel5=3):
    """torchvision's ``Inception`` module (``kernel5=5`` for the paper's 5x5 branch)."""
    return _classes()[1](in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                         kernel5)


def inception_aux(in_channels: int, num_classes: int, dropout: float = 0.7):
    """torchvision's ``InceptionAux`` head."""
    return _classes()[2](in_channels, num_classes, dropout)


def googlenet(num_classes: int = 1000, aux_logits: bool = False, **kwargs):
    """torchvision's ``GoogLeNet`` (``init_weights`` aside: ``against_torch`` copies ours in);
    in training with ``aux_logits`` it returns ``(logits, aux2, aux1)`` as torchvision does."""
    return _classes()[3](num_classes, aux_logits, **kwargs)


def twin_of(model):
    """The twin of one of our GoogLeNet, Inception or BasicConv2d layers, same settings."""
    from deepglossary.models.googlenet import GoogLeNet
    from deepglossary.nn.inception import BasicConv2d, Inception

    if isinstance(model, GoogLeNet):
        return googlenet(**model.settings)
    if isinstance(model, Inception):
        b2, b3 = model.branch2, model.branch3
        return inception(model.in_channels, model.branch1.out_channels, b2[0].out_channels,
                         b2[1].out_channels, b3[0].out_channels, b3[1].out_channels,
                         model.branch4[1].out_channels, model.kernel5)
    if isinstance(model, BasicConv2d):
        conv = model.conv
        return basic_conv2d(conv.in_channels, conv.out_channels, kernel_size=conv.kernel_size,
                            stride=conv.stride, padding=conv.padding)
    raise TypeError(f"twins.googlenet has no twin for {type(model).__name__}")
