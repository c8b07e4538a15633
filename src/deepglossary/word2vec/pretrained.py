"""The word vectors ``scripts/train_word2vec.py`` trained on the World English Bible and
shipped as ``data/word2vec_web.npz`` (float16; read back as float32), with the numbers the
script measured on them and the cached runs behind the chapter's widget. Never downloaded.

    vecs = pretrained()
    vecs.W_in, vecs.W_out        # (V, 100) our skip-gram's input and output vectors
    vecs.gensim                  # (V, 100) gensim's Word2Vec on the same stream and settings
    vecs.vocab, vecs.index       # the vocabulary of word_corpus(min_count=5), most frequent first
    vecs.metadata["sweep"]       # per window size: scores, neighbours, a 2-D projection
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field

import numpy as np

from deepglossary.data.files import checked_file

WEIGHTS = pathlib.Path(__file__).resolve().parents[1] / "data" / "word2vec_web.npz"
WEIGHTS_SHA256 = "0d6335843aec6ffa29db07b715b47657bf7c7f7dac6d8951c31540768690fdf6"


@dataclass
class PretrainedWord2Vec:
    """``W_in``, ``W_out``, ``gensim``: (V, d) float32; ``vocab`` (list of V words) and
    ``index`` (word -> row); ``metadata``: the recipe, the training times, the losses, the
    scores the script measured on these (float16-rounded) vectors, and the widget's sweep."""

    W_in: np.ndarray = field(repr=False)
    W_out: np.ndarray = field(repr=False)
    gensim: np.ndarray = field(repr=False)
    vocab: list = field(repr=False)
    index: dict = field(repr=False)
    metadata: dict = field(repr=False)

    def __repr__(self) -> str:
        V, d = self.W_in.shape
        return f"PretrainedWord2Vec({V:,} words x {d}, {self.metadata['recipe']['model']})"


def pretrained(*, path=None, expected_sha256: str | None = None) -> PretrainedWord2Vec:
    """Load the shipped vectors after checking the file's sha256 (``ValueError`` naming both
    hashes when it differs, ``FileNotFoundError`` when it is missing)."""
    path = checked_file(path, WEIGHTS, WEIGHTS_SHA256, expected_sha256,
                        made_by="scripts/train_word2vec.py")
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(str(arrays.pop("metadata")))
    vocab = list(metadata.pop("vocab"))
    return PretrainedWord2Vec(arrays["W_in"].astype(np.float32),
                              arrays["W_out"].astype(np.float32),
                              arrays["gensim"].astype(np.float32), vocab,
                              {w: i for i, w in enumerate(vocab)}, metadata)
