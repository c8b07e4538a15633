"""The autoencoder with a 2-D code that ships with the package (``data/autoencoder_2d.npz``)."""

from __future__ import annotations

import json
import pathlib

import numpy as np

from deepglossary.autoencoder.model import Autoencoder, undercomplete

WEIGHTS_2D = pathlib.Path(__file__).parents[1] / "data" / "autoencoder_2d.npz"
WEIGHTS_2D_SHA256 = "c50d5a92a9e9e2da593cb342d5241bec4aaace5adabdbbe1ce5a08b50b982450"


def pretrained_2d() -> tuple[Autoencoder, dict]:
    """The autoencoder with a 2-D code trained by ``scripts/train_autoencoder.py`` on the 4,000
    shipped MNIST training digits (784 -> 128 ReLU -> 2 -> 128 ReLU -> 784 logits, float32),
    and the record of its training (recipe, seconds, final loss, test error)."""
    from deepglossary.data.files import checked_file

    checked_file(WEIGHTS_2D, WEIGHTS_2D, WEIGHTS_2D_SHA256, made_by="scripts/train_autoencoder.py")
    with np.load(WEIGHTS_2D) as archive:
        record = json.loads(str(archive["record"]))
        model = undercomplete(784, 2, tuple(record["hidden"]), dtype=np.float32, rng=0)
        for name, p in model.named_parameters():
            p.data = archive[name].copy()
    return model, record
