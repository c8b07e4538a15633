"""The torch twin of GloVe's objective, written as a PyTorch user writes it: four parameters
with our names (``weight``, ``bias``, ``context_weight``, ``context_bias``) and the loss in a
few tensor operations, differentiated by autograd. ``verify.against_torch(model,
torch_twin(model), rows, cols, counts)`` compares the loss and the four gradients.

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

import numpy as np

from deepglossary.verify import torch_module


def torch_twin(model):
    """A fresh torch module computing ``model``'s objective (a :class:`deepglossary.glove.GloVe`)
    with its sizes, x_max and alpha; the values are copied by ``against_torch``."""
    torch = torch_module()
    from deepglossary.glove import GloVe

    if not isinstance(model, GloVe):
        raise TypeError(f"torch_twin takes a GloVe model, got {type(model).__name__}")
    dtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[
        model.weight.dtype]

    class TorchGloVe(torch.nn.Module):
        def __init__(self, vocab_size, dim, x_max, alpha):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(vocab_size, dim, dtype=dtype))
            self.bias = torch.nn.Parameter(torch.zeros(vocab_size, dtype=dtype))
            self.context_weight = torch.nn.Parameter(torch.zeros(vocab_size, dim, dtype=dtype))
            self.context_bias = torch.nn.Parameter(torch.zeros(vocab_size, dtype=dtype))
            self.x_max, self.alpha = x_max, alpha

        def forward(self, rows, cols, counts):
            dot = (self.weight[rows] * self.context_weight[cols]).sum(-1)
            residual = dot + self.bias[rows] + self.context_bias[cols] - torch.log(counts)
            f = torch.clamp((counts / self.x_max) ** self.alpha, max=1.0)
            return (f * residual ** 2).sum()

    return TorchGloVe(model.vocab_size, model.dim, model.x_max, model.alpha)
