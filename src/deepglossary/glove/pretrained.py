"""The vectors ``scripts/train_glove.py`` trained on the World English Bible and shipped as
``data/glove_web.npz``, read back after a sha256 check."""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass

import numpy as np

from deepglossary.data.files import checked_file

WEIGHTS = pathlib.Path(__file__).resolve().parents[1] / "data" / "glove_web.npz"
WEIGHTS_SHA256 = "0db09f74d39ffb095edd596fc47ff95f8839e3d3634793df93f99f3dfc11e4e9"


@dataclass
class WordVectors:
    """Shipped word vectors: ``words`` (V,) strings, ``vectors`` (V, d) float32, W + W~ of
    the main run; the training ``record`` (settings, seconds, losses, scores); ``extra``: the
    other arrays of the file (``weight``, ``context_weight``, biases, ``vectors-<alpha>`` of
    the other runs, the histogram of the counts and its ``bins``)."""

    words: list
    vectors: np.ndarray
    record: dict
    extra: dict

    def index(self, word: str) -> int:
        return self.words.index(word)


def pretrained(path=None, expected_sha256: str | None = None) -> WordVectors:
    """The vectors ``scripts/train_glove.py`` trained on the World English Bible, after
    checking the file's sha256 (``ValueError`` when it differs)."""
    path = checked_file(path, WEIGHTS, WEIGHTS_SHA256, expected_sha256,
                        made_by="scripts/train_glove.py")
    with np.load(path, allow_pickle=False) as f:
        record = json.loads(str(f["record"]))
        words = [str(w) for w in f["words"]]
        extra = {k: f[k] for k in f.files if k not in ("record", "words")}
    vectors = (extra["weight"].astype(np.float32)
               + extra["context_weight"].astype(np.float32))      # W + W~, (V, d)
    return WordVectors(words, vectors, record, extra)
