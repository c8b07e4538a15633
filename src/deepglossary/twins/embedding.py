"""The torch twins of ``nn.Embedding`` and ``nn.EmbeddingBag``, and their comparison.

The inputs of these layers are integer token ids (and offsets), so ``verify.against_torch``
takes the comparison's precision from the table's dtype; :func:`embedding_against_torch` is
``against_torch`` with the twin built from the layer's settings (:func:`torch_twin`).

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

import numpy as np

from deepglossary.verify import Report, against_torch, torch_module


def torch_twin(layer):
    """A fresh ``torch.nn.Embedding`` or ``torch.nn.EmbeddingBag`` with ``layer``'s settings
    (sizes, padding_idx, mode, include_last_offset) and dtype; the values are not copied."""
    torch = torch_module()
    from deepglossary import nn

    if not isinstance(layer, nn.Embedding | nn.EmbeddingBag):
        raise TypeError(f"torch_twin takes an Embedding or EmbeddingBag, got "
                        f"{type(layer).__name__}")
    dtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[
        layer.weight.dtype]
    if isinstance(layer, nn.EmbeddingBag):
        twin = torch.nn.EmbeddingBag(layer.num_embeddings, layer.embedding_dim, mode=layer.mode,
                                     include_last_offset=layer.include_last_offset,
                                     padding_idx=layer.padding_idx, dtype=dtype)
    else:
        twin = torch.nn.Embedding(layer.num_embeddings, layer.embedding_dim,
                                  padding_idx=layer.padding_idx, dtype=dtype)
    twin.weight.requires_grad_(getattr(layer.weight, "requires_grad", True))
    return twin


def embedding_against_torch(ours, *inputs, theirs=None, seed: int = 0,
                            title: str | None = None, tolerance: float | None = None) -> Report:
    """``ours`` (an ``nn.Embedding`` or ``nn.EmbeddingBag``) against ``theirs`` (by default
    :func:`torch_twin`) on ``inputs`` (``ids`` and, for a bag, ``offsets`` and
    ``per_sample_weights``, any of them None), as ``verify.against_torch`` does for layers with
    floating inputs: our table copied into the twin, one seeded standard normal upstream
    gradient, output and gradients compared on every device, in the table's dtype, norm-wise
    and entry-wise (both sides rerun in the other precision). The dtypes are checked too.

    Returns the :class:`~deepglossary.verify.Report`; raises ``VerificationError`` on a
    mismatch.
    """
    theirs = torch_twin(ours) if theirs is None else theirs
    return against_torch(ours, theirs, *inputs, seed=seed, title=title, tolerance=tolerance)
