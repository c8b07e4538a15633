"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012), as torchvision ships it, and the paper's.

torchvision's layout, which ``AlexNet()`` reproduces name for name:

    features    0 Conv2d(3, 64, 11, stride 4, padding 2)  1 ReLU  2 MaxPool2d(3, 2)
                3 Conv2d(64, 192, 5, padding 2)           4 ReLU  5 MaxPool2d(3, 2)
                6 Conv2d(192, 384, 3, padding 1)          7 ReLU
                8 Conv2d(384, 256, 3, padding 1)          9 ReLU
               10 Conv2d(256, 256, 3, padding 1)         11 ReLU 12 MaxPool2d(3, 2)
    avgpool     AdaptiveAvgPool2d((6, 6))
    classifier  0 Dropout  1 Linear(9216, 4096)  2 ReLU  3 Dropout  4 Linear(4096, 4096)  5 ReLU
                6 Linear(4096, num_classes)

61,100,840 parameters with 1,000 classes. The 2012 paper's network differs: 96, 256, 384, 384,
256 kernels, the second, fourth and fifth convolutions split in two groups (one per GPU),
local response normalization after the first two ReLUs, and a 227 x 227 input without padding
(:func:`alexnet_paper`). The keyword arguments of :class:`AlexNet` scale the same code down to
the 28 x 28 digits (:func:`alexnet_digits`).
"""

from __future__ import annotations

import numpy as np

from deepglossary import nn
from deepglossary.random import default_rng

TORCHVISION = dict(channels=(64, 192, 384, 256, 256), kernels=(11, 5, 3, 3, 3),
                   strides=(4, 1, 1, 1, 1), paddings=(2, 2, 1, 1, 1), groups=(1, 1, 1, 1, 1))
PAPER = dict(channels=(96, 256, 384, 384, 256), kernels=(11, 5, 3, 3, 3),
             strides=(4, 1, 1, 1, 1), paddings=(0, 2, 1, 1, 1), groups=(1, 2, 1, 2, 2))
# the paper's normalization: k = 2, n = 5, alpha = 1e-4 on the plain sum, beta = 0.75; torch's
# LocalResponseNorm divides alpha by n, so the same formula is alpha = 5 * 1e-4 there
PAPER_LRN = dict(size=5, alpha=5e-4, beta=0.75, k=2.0)
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def _five(value, name: str) -> tuple[int, ...]:
    """Five integers, one per convolution (paddings may be 0, the rest at least 1)."""
    lowest = 0 if name == "paddings" else 1
    values = tuple(value)
    if len(values) != 5 or any(isinstance(v, bool) or not isinstance(v, int | np.integer)
                               or v < lowest for v in values):
        raise ValueError(f"AlexNet: {name} must be five integers >= {lowest}, one per "
                         f"convolution, got {value!r}")
    return tuple(int(v) for v in values)


class AlexNet(nn.Layer):
    """AlexNet. PyTorch twin: ``torchvision.models.AlexNet`` (rebuilt from ``torch.nn`` in
    ``deepglossary.twins.alexnet``, since torchvision does not import beside the project's torch).

    Shape (the defaults, one 224 x 224 colour image per example):
        x:          (N, 3, 224, 224)
        features.0: (N, 64, 55, 55)    floor((224 + 2*2 - 11) / 4) + 1 = 55
        features.2: (N, 64, 27, 27)    overlapping max-pooling, 3 x 3 windows, stride 2
        features.5: (N, 192, 13, 13)
        features:   (N, 256, 6, 6)
        avgpool:    (N, 256, 6, 6)     the identity at 224 x 224; other sizes are pooled to 6x6
        flatten:    (N, 9216)
        y:          (N, num_classes)   the logits

    Args:
        num_classes, dropout: as in torchvision (1000 and 0.5).
        lrn: a ``LocalResponseNorm`` (the paper's k = 2, n = 5, alpha, beta) after the first
            two ReLUs, as in the 2012 paper. Not torchvision-compatible: the layers after it
            are numbered two further (``features.4`` is the second convolution).
        in_channels: 3 for photographs, 1 for the digits.
        channels, kernels, strides, paddings, groups: five each, one per convolution
            (torchvision's by default; :data:`PAPER` has the paper's).
        width: multiplies every channel count and ``hidden`` (rounded, at least 1).
        pool_size: the output size of ``avgpool`` (6 in torchvision).
        hidden: the width of the two hidden affine layers (4,096).
        activation: "relu" (the paper's point) or "tanh" (what it replaced), everywhere.

    Initialisation is each layer's PyTorch default, as in torchvision's AlexNet (which sets
    none of its own).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, dtype=np.float32,
                 rng=None, *, lrn: bool = False, in_channels: int = 3,
                 channels=TORCHVISION["channels"], kernels=TORCHVISION["kernels"],
                 strides=TORCHVISION["strides"], paddings=TORCHVISION["paddings"],
                 groups=TORCHVISION["groups"], width: float = 1.0, pool_size=6,
                 hidden: int = 4096, activation: str = "relu"):
        rng = default_rng(rng)
        if not (isinstance(width, int | float) and not isinstance(width, bool) and width > 0):
            raise ValueError(f"AlexNet: width must be a positive number, got {width!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"AlexNet: activation must be one of {sorted(ACTIVATIONS)}, "
                             f"got {activation!r}")
        channels = tuple(max(1, round(c * width)) for c in _five(channels, "channels"))
        kernels, strides = _five(kernels, "kernels"), _five(strides, "strides")
        paddings, groups = _five(paddings, "paddings"), _five(groups, "groups")
        hidden = max(1, round(hidden * width))
        act = ACTIVATIONS[activation]
        self.config = dict(num_classes=int(num_classes), dropout=float(dropout), lrn=bool(lrn),
                           in_channels=int(in_channels), channels=channels, kernels=kernels,
                           strides=strides, paddings=paddings, groups=groups,
                           pool_size=pool_size, hidden=hidden, activation=activation)
        layers, c_in = [], int(in_channels)
        for i, (c, k, s, p, g) in enumerate(zip(channels, kernels, strides, paddings, groups)):
            layers += [nn.Conv2d(c_in, c, k, stride=s, padding=p, groups=g, dtype=dtype,
                                 rng=rng), act()]
            if lrn and i < 2:
                layers.append(nn.LocalResponseNorm(**PAPER_LRN))
            if i in (0, 1, 4):                    # overlapping pooling: 3 x 3 windows, stride 2
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
            c_in = c
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        ph, pw = self.avgpool.output_size
        self.classifier = nn.Sequential(
            nn.Dropout(dropout, rng=rng), nn.Affine(c_in * ph * pw, hidden, dtype=dtype, rng=rng),
            act(), nn.Dropout(dropout, rng=rng), nn.Affine(hidden, hidden, dtype=dtype, rng=rng),
            act(), nn.Affine(hidden, num_classes, dtype=dtype, rng=rng))

    def forward(self, x):
        x = nn.as_input(x, "AlexNet")
        c = self.config["in_channels"]
        if x.ndim != 4 or x.shape[1] != c:
            raise ValueError(f"AlexNet expects an input of shape (N, {c}, H, W), got shape "
                             f"{x.shape}")
        h = self.features(x)                              # (N, 256, 6, 6) at 224 x 224
        h = self.avgpool(h)                               # (N, 256, 6, 6)
        self._cache = h.shape
        return self.classifier(h.reshape(len(h), -1))     # torch.flatten(h, 1): (N, 9216)

    def backward(self, grad_output):
        shape = self._saved()
        g = self.classifier.backward(grad_output)         # (N, 9216)
        g = self.avgpool.backward(g.reshape(shape))       # (N, 256, 6, 6)
        return self.features.backward(g)                  # (N, 3, 224, 224)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


def alexnet(**kwargs) -> AlexNet:
    """torchvision's ``alexnet()`` (untrained): 61,100,840 parameters."""
    return AlexNet(**kwargs)


def alexnet_paper(**kwargs) -> AlexNet:
    """The 2012 paper's network on one device: 96, 256, 384, 384, 256 kernels, the second,
    fourth and fifth convolutions in two groups (the two GPUs), local response normalization,
    no padding in the first layer; input (N, 3, 227, 227). 60,965,224 parameters."""
    return AlexNet(lrn=True, **{**PAPER, **kwargs})


def alexnet_digits(width: float = 1 / 16, *, dropout: float = 0.5, lrn: bool = False,
                   activation: str = "relu", dtype=np.float32, seed: int = 0) -> AlexNet:
    """The same code scaled down for the 28 x 28 digits: ``width`` times the channels and the
    hidden units (4, 12, 24, 16, 16 channels and 256 units for 1/16), 1 input channel, 5 x 5
    then 3 x 3 kernels, stride 1, the same three overlapping 3 x 3 stride-2 poolings
    (28 -> 13 -> 6 -> 2), ``avgpool`` to 2 x 2 (the identity), and 10 classes.

    Shape: x (N, 1, 28, 28) -> y (N, 10).
    """
    return AlexNet(10, dropout, dtype, np.random.default_rng(seed), lrn=lrn, in_channels=1,
                   kernels=(5, 3, 3, 3, 3), strides=(1, 1, 1, 1, 1), paddings=(2, 1, 1, 1, 1),
                   width=width, pool_size=2, activation=activation)
