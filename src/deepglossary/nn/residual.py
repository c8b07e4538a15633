"""Residual blocks: ``BasicBlock`` and ``Bottleneck`` (torchvision's ResNet v1.5), and the
parameter-free ``PadShortcut`` of the CIFAR networks (He et al. 2016, option A).

A residual block computes a *branch* F(x) (two or three convolutions, each followed by batch
normalization) and adds its input back before the last ReLU:

    forward    s = F(x) + P(x)        P: the identity, or a projection when the shape changes
               y = relu(s)
    backward   s_bar = y_bar * 1[s > 0]
               x_bar = F'(x)^T s_bar + P'(x)^T s_bar     (the fork: the two gradients add)

Where P is the identity the second term is ``s_bar`` itself: the gradient reaches the block's
input unchanged, whatever the branch does to it. ``shortcut=False`` drops P (the *plain* block of
the same depth, y = relu(F(x))), for the degradation experiment of the ResNet chapter.
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.activations import ReLU
from deepglossary.nn.batchnorm import BatchNorm
from deepglossary.nn.conv import Conv2d
from deepglossary.nn.core import Layer, Sequential, as_input


def _positive_int(value, name: str, layer: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


class PadShortcut(Layer):
    """The parameter-free shortcut of He et al.'s CIFAR networks ("option A"): keep every
    ``stride``-th row and column, and append zero channels up to ``out_channels``.

    PyTorch twin: none in ``torch.nn``; ``deepglossary.twins.resnet.pad_shortcut`` builds one
    (``x[:, :, ::s, ::s]`` then ``torch.nn.functional.pad`` on the channel axis).

    Shape:
        x: (N, in_channels, H, W)
        y: (N, out_channels, ceil(H / stride), ceil(W / stride)); channels
           ``in_channels, ..., out_channels - 1`` are zero.

    Backward: the gradient of the kept entries is the upstream gradient of their copies; the
    rows and columns skipped by the stride, and the appended channels, send nothing back.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        name = "PadShortcut"
        self.in_channels = _positive_int(in_channels, "in_channels", name)
        self.out_channels = _positive_int(out_channels, "out_channels", name)
        self.stride = _positive_int(stride, "stride", name)
        if out_channels < in_channels:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be at least "
                             f"in_channels ({in_channels}); it only appends zero channels")

    def forward(self, x):
        x = as_input(x, "PadShortcut")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"PadShortcut expects an input of shape (N, {self.in_channels}, "
                             f"H, W), got shape {x.shape}")
        s = self.stride
        kept = x[:, :, ::s, ::s]                                          # (N, C_in, Ho, Wo)
        y = np.zeros((x.shape[0], self.out_channels, *kept.shape[2:]), dtype=x.dtype)
        y[:, :self.in_channels] = kept                                    # (N, C_out, Ho, Wo)
        self._cache = x.shape
        return y

    def backward(self, grad_output):
        shape = self._saved()
        s = self.stride
        ho, wo = -(-shape[2] // s), -(-shape[3] // s)                     # ceil(H / s)
        g = self._check_grad(grad_output, (shape[0], self.out_channels, ho, wo), "PadShortcut")
        dx = np.zeros(shape, dtype=g.dtype)                               # (N, C_in, H, W)
        dx[:, :, ::s, ::s] = g[:, :self.in_channels]      # skipped entries, zero channels: 0
        return dx

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class _ResidualBlock(Layer):
    """What BasicBlock and Bottleneck share: the branch (children listed in ``_branch``, run in
    order), the optional shortcut, the addition and the last ReLU, forward and backward."""

    _branch: tuple = ()
    expansion = 1

    def _setup_shortcut(self, inplanes, planes, stride, downsample, shortcut):
        name = type(self).__name__
        out = planes * self.expansion
        if downsample is not None and not isinstance(downsample, Layer):
            raise TypeError(f"{name}: downsample must be a Layer (e.g. Sequential(Conv2d 1x1, "
                            f"BatchNorm)) or None, got {type(downsample).__name__}")
        if not shortcut and downsample is not None:
            raise ValueError(f"{name}: a plain block (shortcut=False) has no shortcut to "
                             "project; pass downsample=None")
        if shortcut and downsample is None and (stride != 1 or inplanes != out):
            raise ValueError(
                f"{name}({inplanes}, {planes}, stride={stride}): the branch's output has "
                f"{out} channels at stride {stride}, the identity has {inplanes} at stride 1; "
                "give a downsample (torchvision: Sequential(Conv2d 1x1 with that stride, "
                "BatchNorm)) or a PadShortcut")
        self.inplanes, self.planes, self.stride = inplanes, planes, stride
        self.shortcut = bool(shortcut)
        self.downsample = downsample

    def forward(self, x):
        name = type(self).__name__
        x = as_input(x, name)
        if x.ndim != 4 or x.shape[1] != self.inplanes:
            raise ValueError(f"{name} expects an input of shape (N, {self.inplanes}, H, W), "
                             f"got shape {x.shape}")
        out = x
        for name in self._branch:
            out = getattr(self, name)(out)                        # F(x): (N, C_out, Ho, Wo)
        if self.shortcut:
            identity = x if self.downsample is None else self.downsample(x)   # P(x), same shape
            if identity.shape != out.shape:
                raise ValueError(f"{type(self).__name__}: the shortcut gives shape "
                                 f"{identity.shape}, the branch {out.shape}; they must agree")
            out = out + identity                                  # s = F(x) + P(x)
        y = self.relu(out)                                        # y = relu(s)
        self._cache = y.shape
        return y

    def backward(self, grad_output):
        shape = self._saved()                                     # (N, C_out, Ho, Wo)
        g = self._check_grad(grad_output, shape, type(self).__name__)
        g = self.relu.backward(g)                                 # s_bar = y_bar 1[s > 0]
        grad_x = g
        for name in reversed(self._branch):
            grad_x = getattr(self, name).backward(grad_x)         # F'(x)^T s_bar: (N, C_in, H, W)
        if self.shortcut:
            if self.downsample is None:
                grad_x = grad_x + g                               # identity: s_bar itself
            else:
                grad_x = grad_x + self.downsample.backward(g)     # P'(x)^T s_bar
        return grad_x


class BasicBlock(_ResidualBlock):
    """Two 3x3 convolutions with batch normalization, and the shortcut: the block of
    ResNet-18 and -34. PyTorch twin: ``torchvision.models.resnet.BasicBlock`` (built from
    ``torch.nn`` in ``deepglossary.twins.resnet.basic_block``).

    ``conv1`` (3x3, ``stride``, padding 1, no bias), ``bn1``, ``relu1``, ``conv2`` (3x3, padding 1,
    no bias), ``bn2``, the addition of the shortcut, ``relu``. Parameter names are torchvision's
    (``conv1.weight``, ``bn1.weight``, ..., ``downsample.0.weight``, ``downsample.1.weight``).
    torchvision uses one ``relu`` module twice; a layer here stores the inputs of one call, so
    the first ReLU is a child of its own, ``relu1`` (it has no parameters: names still match).

    Args: ``downsample``, the projection of the shortcut when the shape changes (or None for
    the identity); ``shortcut=False`` gives the plain block y = relu(bn2(conv2(...))).

    Shape:
        x: (N, inplanes, H, W)
        y: (N, planes, Ho, Wo),  Ho = floor((H - 1) / stride) + 1
    """

    expansion = 1
    _branch = ("conv1", "bn1", "relu1", "conv2", "bn2")

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Layer | None = None, shortcut: bool = True, dtype=np.float64,
                 rng=None):
        name = "BasicBlock"
        inplanes = _positive_int(inplanes, "inplanes", name)
        planes = _positive_int(planes, "planes", name)
        stride = _positive_int(stride, "stride", name)
        self.conv1 = Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False,
                            dtype=dtype, rng=rng)
        self.bn1 = BatchNorm(planes, dtype=dtype)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(planes, planes, 3, padding=1, bias=False, dtype=dtype, rng=rng)
        self.bn2 = BatchNorm(planes, dtype=dtype)
        self._setup_shortcut(inplanes, planes, stride, downsample, shortcut)
        self.relu = ReLU()


class Bottleneck(_ResidualBlock):
    """1x1 (reduce), 3x3, 1x1 (expand by 4) convolutions with batch normalization, and the
    shortcut: the block of ResNet-50, -101 and -152. PyTorch twin:
    ``torchvision.models.resnet.Bottleneck`` (``deepglossary.twins.resnet.bottleneck``).

    ResNet *v1.5*, as torchvision: the stride sits on the 3x3 ``conv2``, not on the 1x1
    ``conv1`` as in the original paper's (Caffe) model, so that no input position is skipped by
    a strided 1x1 convolution. ``conv1`` (1x1, no bias), ``bn1``, ``relu1``, ``conv2`` (3x3,
    ``stride``, padding 1), ``bn2``, ``relu2``, ``conv3`` (1x1 to ``planes * 4``), ``bn3``, the
    addition, ``relu``. Names as torchvision's; the ReLUs as in :class:`BasicBlock`.

    Shape:
        x: (N, inplanes, H, W)
        y: (N, 4 planes, Ho, Wo),  Ho = floor((H - 1) / stride) + 1
    """

    expansion = 4
    _branch = ("conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3")

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Layer | None = None, shortcut: bool = True, dtype=np.float64,
                 rng=None):
        name = "Bottleneck"
        inplanes = _positive_int(inplanes, "inplanes", name)
        planes = _positive_int(planes, "planes", name)
        stride = _positive_int(stride, "stride", name)
        self.conv1 = Conv2d(inplanes, planes, 1, bias=False, dtype=dtype, rng=rng)
        self.bn1 = BatchNorm(planes, dtype=dtype)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False,
                            dtype=dtype, rng=rng)
        self.bn2 = BatchNorm(planes, dtype=dtype)
        self.relu2 = ReLU()
        self.conv3 = Conv2d(planes, planes * self.expansion, 1, bias=False, dtype=dtype, rng=rng)
        self.bn3 = BatchNorm(planes * self.expansion, dtype=dtype)
        self._setup_shortcut(inplanes, planes, stride, downsample, shortcut)
        self.relu = ReLU()


def projection(inplanes: int, outplanes: int, stride: int = 1, dtype=np.float64,
               rng=None) -> Sequential:
    """torchvision's ``downsample``: ``Sequential(Conv2d 1x1 with the stride, no bias,
    BatchNorm)``, named ``0`` and ``1``. PyTorch twin: the same ``torch.nn.Sequential``."""
    return Sequential(Conv2d(inplanes, outplanes, 1, stride=stride, bias=False, dtype=dtype,
                             rng=rng),
                      BatchNorm(outplanes, dtype=dtype))
