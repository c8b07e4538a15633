"""The trained encoder-decoders of the Attention Mechanism chapter, on the reversal task of
:mod:`deepglossary.seq2seq_tasks`, shipped with the package (never downloaded).

``pretrained(name)`` loads ``"h64"`` (no attention) or ``"h64-dot"`` from the Seq2Seq
chapter's file (``scripts/train_seq2seq_reversal.py``), and ``"h64-general"`` or
``"h64-additive"`` from this chapter's (``scripts/train_attention_reversal.py``): the same
task, recipe and size (GRU, hidden 64, float32, 3000 steps on lengths 1..12), four ways of
letting the decoder see the source. Each file's sha256 is checked.
"""

from __future__ import annotations

import pathlib

from deepglossary import seq2seq_tasks as st

ATTENTION_WEIGHTS = pathlib.Path(__file__).parent / "data" / "attention_reversal.npz"
ATTENTION_SHA256 = "c879c282ccfcfe4073c9d033d68bc61374a1cc275f23cf22d1046253cacac29d"
NAMES = {"none": "h64", "dot": "h64-dot", "general": "h64-general", "additive": "h64-additive"}


def pretrained(name: str):
    """``(model, record)`` for one of ``NAMES``' values (or keys: ``"none"``, ``"dot"``,
    ``"general"``, ``"additive"``); see :func:`deepglossary.seq2seq_tasks.pretrained`."""
    name = NAMES.get(name, name)
    if name in ("h64-general", "h64-additive"):
        return st.pretrained(name, path=ATTENTION_WEIGHTS, expected_sha256=ATTENTION_SHA256)
    if name not in ("h64", "h64-dot"):
        raise ValueError(f"no shipped model {name!r}; there are {sorted(NAMES.values())}")
    return st.pretrained(name)
