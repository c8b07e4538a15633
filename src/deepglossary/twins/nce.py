"""The torch twin of ``losses.NCE`` and ``losses.NegativeSampling``, written as a PyTorch user
writes the objective: the logit Delta = z - c_Z - log(k P_n(y)) (without the last term for
negative sampling) and the binary cross-entropy of "data or noise" with
``torch.nn.functional.logsigmoid``, differentiated by autograd. Same names as ours: the
parameter ``log_z`` (when learned) and the buffer ``log_noise``.

``verify.against_torch(loss, torch_twin(loss), scores, words)`` compares the loss and the
gradients of the scores and of ``log_z``. torch is imported when a function is called
(``verify.torch_module``), never at import time.
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary.verify import torch_module


def torch_twin(loss):
    """A fresh torch module computing ``loss``'s objective (a :class:`deepglossary.nce.NCE`)."""
    torch = torch_module()
    from deepglossary.nce.loss import NCE

    if not isinstance(loss, NCE):
        raise TypeError(f"torch_twin takes an NCE or NegativeSampling loss, got "
                        f"{type(loss).__name__}")
    functional = torch.nn.functional

    class TorchNCE(torch.nn.Module):
        def __init__(self, log_noise, k, learn_normalizer, negative_sampling):
            super().__init__()
            self.k, self.negative_sampling = k, negative_sampling
            if log_noise is not None:
                self.register_buffer("log_noise", torch.as_tensor(np.asarray(log_noise)))
            if learn_normalizer:
                self.log_z = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

        def forward(self, scores, words=None):
            delta = scores
            if hasattr(self, "log_z"):
                delta = delta - self.log_z
            if not self.negative_sampling:
                delta = delta - (math.log(self.k) + self.log_noise[words])
            data = -functional.logsigmoid(delta[:, 0])                  # -log sigma(Delta)
            noise = -functional.logsigmoid(-delta[:, 1:]).sum(dim=1)    # -log sigma(-Delta)
            return (data + noise).mean()

    return TorchNCE(loss.log_noise, loss.k, loss.learn_normalizer, loss.negative_sampling)
