"""The torch twins of ``nn.Embedding`` and ``nn.EmbeddingBag``, and their comparison.

``verify.against_torch`` takes its precision from its first input, which for these layers is
an integer array of token ids, so they get a comparison of their own that does the same
thing: our table copied into the twin by name, the same seeded standard normal upstream
gradient through both, the output, the table's gradient and (for a bag) the gradient of the
per-sample weights compared on every device torch sees, norm-wise and, after a second run of
both sides in the other precision, entry-wise (``verify.Report.add``).

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

import copy

import numpy as np

from deepglossary.nn.core import no_grad
from deepglossary.verify import Report, copy_parameters, devices, torch_module


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


def _run_ours(layer, inputs, g) -> dict:
    layer.zero_grad()
    out = layer(*inputs)
    grads = layer.backward(g)
    found = {"output": out,
             "grad weight": (np.zeros(layer.weight.shape, layer.weight.dtype)
                             if layer.weight.grad is None else layer.weight.grad)}
    if len(inputs) > 2 and inputs[2] is not None:
        found["grad per_sample_weights"] = grads[2]
    return found


def _run_torch(twin, inputs, g, device) -> dict:
    torch = torch_module()

    def tensor(x):
        if x is None:
            return None
        if np.issubdtype(x.dtype, np.floating):
            return torch.tensor(x, device=device, requires_grad=True)
        return torch.tensor(x.astype(np.int64), device=device)     # ids and offsets: long

    tins = [tensor(x) for x in inputs]
    twin.zero_grad(set_to_none=True)
    out = twin(*tins)
    if out.requires_grad:                                       # not for a frozen table
        out.backward(torch.as_tensor(g, device=device, dtype=out.dtype))
    grad = twin.weight.grad
    found = {"output": out.detach().cpu().numpy(),
             "grad weight": (np.zeros(tuple(twin.weight.shape)) if grad is None
                             else grad.cpu().numpy())}
    if len(tins) > 2 and tins[2] is not None:
        found["grad per_sample_weights"] = tins[2].grad.cpu().numpy()
    return found


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
    torch = torch_module()
    dtype = ours.weight.dtype
    inputs = [None if x is None else np.asarray(x) for x in inputs]
    theirs = torch_twin(ours) if theirs is None else theirs
    title = title or f"{type(ours).__name__} vs torch"
    report = Report(title)
    other = np.float32 if dtype == np.float64 else np.float64

    def cast(values, to):
        return [None if x is None else x.astype(to) if np.issubdtype(x.dtype, np.floating)
                else x for x in values]

    mine = copy.deepcopy(ours)                                  # the other precision, ours
    mine.weight.data = mine.weight.data.astype(other)
    with no_grad():
        shape = ours(*inputs).shape                             # (*, H) or (B, H)
    g = np.random.default_rng([seed, 0x5EED]).standard_normal(shape)
    found_ours = _run_ours(ours, inputs, g.astype(dtype))
    mine_other = _run_ours(mine, cast(inputs, other), g.astype(other))
    t_dtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
    snapshot = copy.deepcopy(theirs).to(device="cpu", dtype=t_dtype[np.dtype(other)])
    copy_parameters(mine, snapshot)
    theirs_other = _run_torch(snapshot, cast(inputs, other), g.astype(other), "cpu")
    for device in devices():
        theirs.to(device=device, dtype=t_dtype[dtype])
        copy_parameters(ours, theirs, device)
        found = _run_torch(theirs, inputs, g.astype(dtype), device)
        for name, value in found_ours.items():
            report.add(device, dtype, name, value, found[name], expected_dtype=dtype,
                       other_precision=theirs_other[name],
                       ours_other_precision=mine_other[name], tolerance=tolerance)
    return report.raise_if_mismatch()
