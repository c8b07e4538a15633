"""GoogLeNet (Inception v1, Szegedy et al. 2015), as torchvision builds it.

    conv1 7x7/2 -> maxpool1 3/2 -> conv2 1x1 -> conv3 3x3 -> maxpool2 3/2
    -> inception3a, 3b -> maxpool3 3/2 -> inception4a .. 4e -> maxpool4 2/2
    -> inception5a, 5b -> global average pooling -> dropout -> fc

Every convolution is a ``BasicConv2d`` (convolution, batch normalization, ReLU: torchvision's
version, which adds batch normalization to the paper's network), every max pooling rounds up
(``ceil_mode=True``, as the original Caffe model did). Optional auxiliary classifiers
(``InceptionAux``) read the outputs of inception4a and inception4d during training.

Beyond torchvision's arguments: ``in_channels``, ``width`` (every channel count multiplied by
it, for a small network with the same code), ``small_input`` (conv1 becomes 3x3 with stride
1, for 28x28 digits) and ``kernel5`` (see ``nn.Inception``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from deepglossary.nn.activations import ReLU
from deepglossary.nn.affine import Affine
from deepglossary.nn.core import Layer, as_input
from deepglossary.nn.dropout import Dropout
from deepglossary.nn.inception import BasicConv2d, Inception
from deepglossary.nn.pooling import AdaptiveAvgPool2d, MaxPool2d


class GoogLeNetOutputs(NamedTuple):
    """What a training forward with auxiliary classifiers returns (torchvision's namedtuple):
    the main logits and the two auxiliary heads' logits, each (N, num_classes)."""

    logits: np.ndarray
    aux_logits2: np.ndarray
    aux_logits1: np.ndarray


class InceptionAux(Layer):
    """An auxiliary classifier: average pool to 4x4, 1x1 BasicConv2d to 128 channels, fc1 to
    1024, ReLU, dropout 0.7, fc2 to the classes. PyTorch twin: torchvision's
    ``googlenet.InceptionAux`` (it pools and applies the ReLU as functions; ours are the
    parameter-free children ``avgpool`` and ``relu``).

    Shape: x (N, in_channels, H, W) -> (N, num_classes); (N, 512, 14, 14) for aux1 in the
    full-size network.
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7,
                 conv_channels: int = 128, hidden: int = 1024, dtype=np.float32, rng=None):
        self.avgpool = AdaptiveAvgPool2d(4)
        self.conv = BasicConv2d(in_channels, conv_channels, 1, dtype=dtype, rng=rng)
        self.fc1 = Affine(conv_channels * 16, hidden, dtype=dtype, rng=rng)
        self.relu = ReLU()
        self.fc2 = Affine(hidden, num_classes, dtype=dtype, rng=rng)
        self.dropout = Dropout(dropout, rng=rng)

    def forward(self, x):
        x = self.conv(self.avgpool(x))                               # (N, 128, 4, 4)
        self._cache = x.shape
        h = self.dropout(self.relu(self.fc1(x.reshape(len(x), -1))))  # (N, 1024)
        return self.fc2(h)                                           # (N, num_classes)

    def backward(self, grad_output):
        shape = self._saved()
        g = self.fc2.backward(grad_output)                           # (N, 1024)
        g = self.fc1.backward(self.relu.backward(self.dropout.backward(g)))   # (N, 2048)
        return self.avgpool.backward(self.conv.backward(g.reshape(shape)))     # (N, C, H, W)


class GoogLeNet(Layer):
    """GoogLeNet as torchvision defines it. PyTorch twin: ``torchvision.models.GoogLeNet``
    (built from ``torch.nn`` in ``deepglossary.twins.googlenet``; same parameter names).

    Args (torchvision's): ``num_classes``, ``aux_logits`` (default False here, True in
    torchvision unless pretrained), ``transform_input`` (re-normalise ImageNet-standardised
    input the way the ported weights expect), ``init_weights`` (torchvision's: convolution and
    dense weights N(0, 0.01^2) truncated to [-2, 2], batch normalization 1 and 0; otherwise the
    layers' defaults), ``dropout``, ``dropout_aux``. Ours: ``in_channels``, ``width``,
    ``small_input``, ``kernel5`` (see the module's docstring), ``dtype``, ``seed``.

    Shape: x (N, 3, 224, 224) -> logits (N, num_classes); in training with ``aux_logits`` a
    :class:`GoogLeNetOutputs` (logits, aux_logits2, aux_logits1), whose backward takes the
    three gradients as a tuple in the same order.
    """

    # (name, (in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)), Table 1 of the
    # paper and torchvision
    INCEPTIONS = (
        ("inception3a", (192, 64, 96, 128, 16, 32, 32)),
        ("inception3b", (256, 128, 128, 192, 32, 96, 64)),
        ("inception4a", (480, 192, 96, 208, 16, 48, 64)),
        ("inception4b", (512, 160, 112, 224, 24, 64, 64)),
        ("inception4c", (512, 128, 128, 256, 24, 64, 64)),
        ("inception4d", (512, 112, 144, 288, 32, 64, 64)),
        ("inception4e", (528, 256, 160, 320, 32, 128, 128)),
        ("inception5a", (832, 256, 160, 320, 32, 128, 128)),
        ("inception5b", (832, 384, 192, 384, 48, 128, 128)),
    )
    _TRANSFORM = (np.array([0.229, 0.224, 0.225]) / 0.5,
                  (np.array([0.485, 0.456, 0.406]) - 0.5) / 0.5)

    @staticmethod
    def scale(channels: int, width: float = 1.0) -> int:
        """``channels`` times ``width``, rounded, at least 1."""
        return max(1, int(round(channels * width)))

    def __init__(self, num_classes: int = 1000, aux_logits: bool = False,
                 transform_input: bool = False, init_weights: bool = True,
                 dropout: float = 0.2, dropout_aux: float = 0.7, *, in_channels: int = 3,
                 width: float = 1.0, small_input: bool = False, kernel5: int = 3,
                 dtype=np.float32, seed: int = 0):
        if not width > 0:
            raise ValueError(f"GoogLeNet: width must be positive, got {width!r}")
        if transform_input and in_channels != 3:
            raise ValueError("GoogLeNet: transform_input re-normalises 3 (RGB) channels, got "
                             f"in_channels={in_channels}")
        self.settings = dict(num_classes=num_classes, aux_logits=aux_logits,
                             transform_input=transform_input, dropout=dropout,
                             dropout_aux=dropout_aux, in_channels=in_channels, width=width,
                             small_input=small_input, kernel5=kernel5)
        self.aux_logits, self.transform_input = bool(aux_logits), bool(transform_input)
        self.in_channels = in_channels
        rng = np.random.default_rng(seed)
        kw = {"dtype": dtype, "rng": rng}

        def c(n):
            return self.scale(n, width)

        if small_input:
            self.conv1 = BasicConv2d(in_channels, c(64), 3, padding=1, **kw)
        else:
            self.conv1 = BasicConv2d(in_channels, c(64), 7, stride=2, padding=3, **kw)
        self.maxpool1 = MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(c(64), c(64), 1, **kw)
        self.conv3 = BasicConv2d(c(64), c(192), 3, padding=1, **kw)
        self.maxpool2 = MaxPool2d(3, stride=2, ceil_mode=True)
        for name, channels in self.INCEPTIONS:
            if name == "inception4a":
                self.maxpool3 = MaxPool2d(3, stride=2, ceil_mode=True)
            if name == "inception5a":
                self.maxpool4 = MaxPool2d(2, stride=2, ceil_mode=True)
            setattr(self, name, Inception(*map(c, channels), kernel5=kernel5, **kw))
        self.aux1 = self.aux2 = None
        if aux_logits:
            self.aux1 = InceptionAux(c(512), num_classes, dropout_aux, c(128), c(1024), **kw)
            self.aux2 = InceptionAux(c(528), num_classes, dropout_aux, c(128), c(1024), **kw)
        self.avgpool = AdaptiveAvgPool2d(1)
        self.dropout = Dropout(dropout, rng=rng)
        self.fc = Affine(c(1024), num_classes, **kw)
        if init_weights:
            self._initialize_weights(rng)

    def _initialize_weights(self, rng) -> None:
        """torchvision's: every convolution and dense weight N(0, 0.01^2) truncated to [-2, 2]
        (redrawn outside), batch normalization weight 1 and bias 0 (already so)."""
        for name, p in self.named_parameters():
            if name.endswith("conv.weight") or name.split(".")[-2] in ("fc", "fc1", "fc2") \
                    and name.endswith("weight"):
                w = rng.normal(0.0, 0.01, p.shape)
                while (outside := np.abs(w) > 2).any():
                    w[outside] = rng.normal(0.0, 0.01, int(outside.sum()))
                p.data = w.astype(p.dtype)

    def _trunk(self):
        """The main path's layers, in order: (name, layer)."""
        names = ["conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a",
                 "inception3b", "maxpool3", "inception4a", "inception4b", "inception4c",
                 "inception4d", "inception4e", "maxpool4", "inception5a", "inception5b",
                 "avgpool"]
        return [(name, getattr(self, name)) for name in names]

    def forward(self, x):
        x = as_input(x, "GoogLeNet")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"GoogLeNet expects an input of shape (N, {self.in_channels}, H, W), "
                             f"got shape {x.shape}")
        if self.transform_input:
            scale, shift = (a.astype(x.dtype).reshape(1, 3, 1, 1) for a in self._TRANSFORM)
            x = x * scale + shift                                    # (N, 3, H, W)
        with_aux = self.training and self.aux1 is not None
        aux = {}
        for name, layer in self._trunk():
            x = layer(x)
            if with_aux and name == "inception4a":
                aux["aux1"] = self.aux1(x)                           # (N, num_classes)
            if with_aux and name == "inception4d":
                aux["aux2"] = self.aux2(x)
        self._cache = (x.shape, with_aux)                            # x: (N, 1024, 1, 1)
        logits = self.fc(self.dropout(x.reshape(len(x), -1)))        # (N, num_classes)
        if with_aux and self.aux_logits:
            return GoogLeNetOutputs(logits, aux["aux2"], aux["aux1"])
        return logits

    def backward(self, grad_output):
        pooled_shape, with_aux = self._saved()
        if with_aux:
            if not (isinstance(grad_output, tuple) and len(grad_output) == 3):
                raise ValueError("GoogLeNet.backward: the forward returned (logits, aux_logits2, "
                                 "aux_logits1); pass their three gradients as a tuple")
            grad_output, g_aux2, g_aux1 = grad_output
        g = self.dropout.backward(self.fc.backward(grad_output))    # (N, 1024)
        g = g.reshape(pooled_shape)                                  # (N, 1024, 1, 1)
        for name, layer in reversed(self._trunk()):
            if with_aux and name == "inception4d":                   # its output forked
                g = g + self.aux2.backward(g_aux2)                   # (N, 528, 14, 14)
            if with_aux and name == "inception4a":
                g = g + self.aux1.backward(g_aux1)                   # (N, 512, 14, 14)
            g = layer.backward(g)
        if self.transform_input:
            g = g * self._TRANSFORM[0].astype(g.dtype).reshape(1, 3, 1, 1)
        return g                                                     # (N, 3, H, W)


def googlenet(**kwargs) -> GoogLeNet:
    """``GoogLeNet(**kwargs)``, torchvision's builder name (no pretrained weights here)."""
    return GoogLeNet(**kwargs)


def googlenet_digits(width: float = 1 / 8, *, small_input: bool = False,
                     aux_logits: bool = False, dropout: float = 0.2, dropout_aux: float = 0.7,
                     kernel5: int = 3, dtype=np.float32, seed: int = 0) -> GoogLeNet:
    """The same code scaled down for the 28 x 28 digits: ``width`` times every channel count
    (8, 8, 24 in the stem and 32 to 128 out of the Inception modules for 1/8), 1 input
    channel, 10 classes. With torchvision's stem (the default) the maps are 14, 7, 3, 1 and 1
    pixels wide after conv1 and the four poolings: ceil mode keeps a window on the 1x1 map
    that floor mode would not. ``small_input=True`` makes conv1 3x3 with stride 1 (28, 14, 7,
    3, 2 pixels), four times the computation.

    Shape: x (N, 1, 28, 28) -> y (N, 10).
    """
    return GoogLeNet(10, aux_logits, dropout=dropout, dropout_aux=dropout_aux, in_channels=1,
                     width=width, small_input=small_input, kernel5=kernel5, dtype=dtype,
                     seed=seed)
