"""The part-1 convolutional network: a small LeNet for the 28x28 digits."""

import numpy as np

from deepglossary import nn


def lenet(dtype=np.float32, seed: int = 0, hidden: int = 64) -> nn.Sequential:
    """The LeNet-like network of the Convolutional Neural Network chapter.

    Conv 1->6 5x5 padding 2, ReLU, max-pool 2 (6x14x14); conv 6->16 5x5, ReLU, max-pool 2
    (16x5x5); flatten 400 -> ``hidden`` -> ReLU -> 10 logits. Input (N, 1, 28, 28). The
    parameter names are those of the same ``torch.nn.Sequential`` ("0.weight", "3.bias", ...).
    """
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, dtype=dtype, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, dtype=dtype, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Affine(400, hidden, dtype=dtype, rng=rng), nn.ReLU(),
        nn.Affine(hidden, 10, dtype=dtype, rng=rng))
