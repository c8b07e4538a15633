"""The torch twin of ``deepglossary.models.AlexNet``: torchvision's ``AlexNet`` rebuilt from
``torch.nn``.

Layer for layer as ``torchvision/models/alexnet.py``, with the same parameter names
(``features.0.weight``, ``classifier.6.bias``), so ``verify.copy_parameters`` loads ours into
it and torchvision's pretrained weights would load into both. The keyword arguments scale and
change it exactly as they scale and change ``models.AlexNet`` (the paper's variant with local
response normalization and groups, the digits' variant).
"""

from __future__ import annotations

from deepglossary.models.alexnet import PAPER_LRN, TORCHVISION
from deepglossary.verify import torch_module


def alexnet(num_classes: int = 1000, dropout: float = 0.5, *, lrn: bool = False,
            in_channels: int = 3, channels=TORCHVISION["channels"],
            kernels=TORCHVISION["kernels"], strides=TORCHVISION["strides"],
            paddings=TORCHVISION["paddings"], groups=TORCHVISION["groups"], pool_size=6,
            hidden: int = 4096, activation: str = "relu"):
    """torchvision's ``AlexNet(num_classes, dropout)`` as a ``torch.nn.Module`` with its
    default (PyTorch) initialisation. The other arguments are those of ``models.AlexNet``
    after scaling (``channels`` and ``hidden`` already multiplied by the width)."""
    torch = torch_module()
    nn = torch.nn
    act = {"relu": lambda: nn.ReLU(inplace=True), "tanh": nn.Tanh}[activation]

    class AlexNet(nn.Module):
        def __init__(self):
            super().__init__()
            layers, c_in = [], in_channels
            for i, (c, k, s, p, g) in enumerate(zip(channels, kernels, strides, paddings,
                                                    groups)):
                layers += [nn.Conv2d(c_in, c, kernel_size=k, stride=s, padding=p, groups=g),
                           act()]
                if lrn and i < 2:
                    layers.append(nn.LocalResponseNorm(**PAPER_LRN))
                if i in (0, 1, 4):
                    layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
                c_in = c
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
            ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
            self.classifier = nn.Sequential(
                nn.Dropout(p=dropout), nn.Linear(c_in * ph * pw, hidden), act(),
                nn.Dropout(p=dropout), nn.Linear(hidden, hidden), act(),
                nn.Linear(hidden, num_classes))

        def forward(self, x):
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.classifier(x)

    return AlexNet()


def twin_of(model):
    """A fresh torch twin with the layout of our ``models.AlexNet`` instance ``model`` (its
    widths, kernels, groups, normalization, pooling size, activation and dropout), ready for
    ``against_torch``."""
    return alexnet(**model.config)
