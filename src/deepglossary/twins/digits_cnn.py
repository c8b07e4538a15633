"""The torch twin of ``deepglossary.pretrained.DigitsCNN``, the project's pretrained digit network.

Children ``features`` (a ``torch.nn.Sequential`` numbered as ours), ``avgpool`` and ``fc``, with
the same parameter and buffer names (``features.0.weight``, ``features.1.running_mean``,
``fc.bias``), so ``verify.copy_parameters`` loads ours into it, and a torch ``state_dict`` built
from the shipped ``digits_cnn.npz`` loads into it with ``strict=False`` (the file has no
``num_batches_tracked``).
"""

from __future__ import annotations

from deepglossary.verify import torch_module

WIDTHS = (16, 32, 64, 64)


def digits_cnn(num_classes: int = 10):
    """A ``torch.nn.Module``: for each width of (16, 32, 64, 64) Conv2d(3x3, padding 1, no
    bias) + BatchNorm2d + ReLU, a MaxPool2d(2) after each but the last; then
    AdaptiveAvgPool2d(1), ``torch.flatten(x, 1)`` and Linear(64, ``num_classes``). Its weights
    are torch's defaults; ``against_torch`` copies ours in."""
    torch = torch_module()
    nn = torch.nn

    class DigitsCNN(nn.Module):
        def __init__(self):
            super().__init__()
            layers, before = [], 1
            for i, width in enumerate(WIDTHS):
                layers += [nn.Conv2d(before, width, kernel_size=3, padding=1, bias=False),
                           nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                if i < len(WIDTHS) - 1:
                    layers.append(nn.MaxPool2d(2))
                before = width
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(before, num_classes)

        def forward(self, x):
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.fc(x)

    return DigitsCNN()
