"""Backpropagation through structure against central differences, for a whole
:class:`~deepglossary.recursive.RecursiveNet` (the comparison with PyTorch is
:func:`deepglossary.twins.recursive.model_against_torch`)."""

from __future__ import annotations

import copy

import numpy as np

from deepglossary import nn, verify
from deepglossary.recursive.batch import TreeBatch
from deepglossary.recursive.layers import RecursiveNet


def gradcheck_model(model: RecursiveNet, batch: TreeBatch, nodes=None, *, eps: float = 1e-6,
                    seed: int = 0, tolerance: float = 1e-6):
    """The model's backward pass against central differences, in float64 (on a copy of the
    model): with a random upstream gradient ``g`` on the logits of ``nodes`` (default the
    roots), ``(L(+eps) - L(-eps)) / 2 eps`` of ``L = sum(g * logits)`` for every entry of every
    parameter. Returns a ``verify.Report``; raises ``VerificationError`` on a mismatch."""
    model = copy.deepcopy(model)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    nodes = batch.roots if nodes is None else np.asarray(nodes)
    g = np.random.default_rng([seed, 0x5EED]).standard_normal(
        (len(nodes), model.classifier.out_features))
    model.zero_grad()
    model(batch, nodes)
    model.backward(g)

    def loss() -> float:
        with nn.no_grad():
            return float(np.sum(g * model(batch, nodes)))

    report = verify.Report(title="RecursiveNet vs central differences")
    for name, p in model.named_parameters():
        numeric, flat = np.zeros_like(p.data), p.data.reshape(-1)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + eps
            up = loss()
            flat[i] = keep - eps
            numeric.reshape(-1)[i] = (up - loss()) / (2 * eps)
            flat[i] = keep
        report.add("cpu", np.float64, f"grad {name}", p.grad, numeric, tolerance=tolerance)
    return report.raise_if_mismatch()
