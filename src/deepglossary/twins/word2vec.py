"""The torch twins of ``deepglossary.word2vec``'s :class:`SkipGram` and :class:`CBOW`: two
``torch.nn.Embedding`` tables named ``in_embed`` and ``out_embed`` as ours, and the
negative-sampling loss written with ``F.logsigmoid``, so that autograd gives the gradients
our hand-derived backward passes are compared with (``word2vec_against_torch``).

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

import numpy as np

from deepglossary.verify import Report, against_torch, torch_module


def torch_twin(layer):
    """A fresh torch module with ``layer``'s sizes and dtype (values are not copied): forward
    ``(centres, contexts, negatives)`` for a SkipGram, ``(contexts, mask, targets, negatives)``
    for a CBOW, returning the (B,) loss of each example."""
    torch = torch_module()
    F = torch.nn.functional
    from deepglossary.word2vec import CBOW, SkipGram

    if not isinstance(layer, SkipGram | CBOW):
        raise TypeError(f"torch_twin takes a word2vec SkipGram or CBOW, got "
                        f"{type(layer).__name__}")
    dtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[
        layer.in_embed.weight.dtype]
    cbow = isinstance(layer, CBOW)

    class TorchWord2Vec(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.in_embed = torch.nn.Embedding(layer.num_words, layer.dim, dtype=dtype)
            self.out_embed = torch.nn.Embedding(layer.num_words, layer.dim, dtype=dtype)

        def loss(self, v, observed, negatives):
            u_pos, u_neg = self.out_embed(observed), self.out_embed(negatives)
            s_pos = (u_pos * v).sum(-1)                                  # (B,)
            s_neg = torch.bmm(u_neg, v.unsqueeze(-1)).squeeze(-1)       # (B, K)
            return -F.logsigmoid(s_pos) - F.logsigmoid(-s_neg).sum(-1)   # (B,)

        def forward(self, *inputs):
            if cbow:
                contexts, mask, targets, negatives = inputs
                m = mask.to(dtype)                                       # (B, C)
                h = (self.in_embed(contexts) * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True)
                return self.loss(h, targets, negatives)
            centres, contexts, negatives = inputs
            return self.loss(self.in_embed(centres), contexts, negatives)

    return TorchWord2Vec()


def word2vec_against_torch(ours, *inputs, seed: int = 0, title: str | None = None) -> Report:
    """``verify.against_torch`` of our SkipGram or CBOW against :func:`torch_twin`: our tables
    copied in, one seeded standard normal upstream gradient on the (B,) losses, the losses and
    both tables' gradients compared on every device, in the tables' dtype. Raises
    ``VerificationError`` on a mismatch; returns the :class:`~deepglossary.verify.Report`."""
    return against_torch(ours, torch_twin(ours), *inputs, seed=seed, title=title)
