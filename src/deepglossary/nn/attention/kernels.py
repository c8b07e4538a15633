"""What every attention layer shares: input checks, the masked softmax over the keys, the
weighted sum of the values, and their backward passes, written out by hand.

Shapes: N batch entries, Tq queries, Tk keys, Dv value size (leading dimensions ``*`` may be
(N,) or (N, heads)).
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.core import as_input


def checked_3d(x, layer: str, what: str, last_dim: int | None = None) -> np.ndarray:
    """A float32/float64 array of shape (N, T, D) (``D == last_dim`` when given)."""
    x = as_input(x, layer)
    if x.ndim != 3 or (last_dim is not None and x.shape[-1] != last_dim):
        size = "D" if last_dim is None else str(last_dim)
        raise ValueError(f"{layer} expects {what} of shape (N, T, {size}), got shape {x.shape}")
    return x


def check_qkv(layer: str, query, keys, values, dq=None, dk=None, dv=None):
    """Check query (N, Tq, Dq), keys (N, Tk, Dk) and values (N, Tk, Dv) (or None) together:
    the same dtype, the same N, keys and values of the same length Tk."""
    query = checked_3d(query, layer, "a query", dq)
    keys = checked_3d(keys, layer, "keys", dk)
    arrays = [("keys", keys)]
    if values is not None:
        values = checked_3d(values, layer, "values", dv)
        arrays.append(("values", values))
    for name, a in arrays:
        if a.dtype != query.dtype:
            raise TypeError(f"{layer}: {name} have dtype {a.dtype} but the query has "
                            f"{query.dtype}; give every input the same dtype")
        if a.shape[0] != query.shape[0]:
            raise ValueError(f"{layer}: the query holds {query.shape[0]} batch entries but "
                             f"{name} hold {a.shape[0]} (shapes {query.shape}, {a.shape})")
    if values is not None and values.shape[1] != keys.shape[1]:
        raise ValueError(f"{layer}: keys and values must have the same length Tk, got "
                         f"{keys.shape[1]} keys and {values.shape[1]} values (shapes "
                         f"{keys.shape}, {values.shape})")
    return query, keys, values


def padding_mask(mask, n: int, tk: int, layer: str) -> np.ndarray | None:
    """``key_padding_mask`` checked: a boolean array (N, Tk), True = padding (ignored), as
    torch's ``MultiheadAttention`` takes it; every batch entry must keep at least one key."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{layer}: key_padding_mask must be a boolean array (True = padding), "
                        f"got dtype {mask.dtype}")
    if mask.shape != (n, tk):
        raise ValueError(f"{layer}: key_padding_mask must have shape (N, Tk) = ({n}, {tk}), "
                         f"got shape {mask.shape}")
    empty = np.flatnonzero(mask.all(axis=1))
    if empty.size:
        raise ValueError(f"{layer}: every key of batch entr{'y' if empty.size == 1 else 'ies'} "
                         f"{empty.tolist()} is masked, so its softmax over the keys would be "
                         "0/0 (torch returns NaN there); keep at least one key per row")
    return mask


def masked_softmax(scores: np.ndarray, ignore: np.ndarray | None, layer: str,
                   has_inf: bool = False) -> np.ndarray:
    """Softmax over the last axis of ``scores`` (*, Tq, Tk), with the entries where
    ``ignore`` (broadcastable to the scores) is True set to -inf first, so that their
    weight is exactly 0. ``has_inf``: the scores may already hold -inf (a float mask was
    added). A row with every key ignored raises ValueError, naming it."""
    if ignore is not None or has_inf:
        if ignore is not None:
            scores = np.where(ignore, -np.inf, scores)             # (*, Tq, Tk)
        dead = np.isneginf(scores).all(axis=-1)                    # (*, Tq)
        if dead.any():
            rows = [tuple(int(i) for i in r) for r in np.argwhere(dead)[:5]]
            raise ValueError(f"{layer}: {int(dead.sum())} row(s) of the attention have every "
                             f"key masked (first indices (batch, ..., query): {rows}); a "
                             "softmax over no key is 0/0 (torch returns NaN there)")
    top = scores.max(axis=-1, keepdims=True)                       # (*, Tq, 1), finite
    e = np.exp(scores - top)                                       # (*, Tq, Tk), 0 if ignored
    return e / e.sum(axis=-1, keepdims=True)                       # (*, Tq, Tk)


def softmax_backward(weights: np.ndarray, grad_weights: np.ndarray) -> np.ndarray:
    """dL/dscores from dL/dweights: the softmax Jacobian w_i (delta_ij - w_j) applied as
    w * (g - sum(g w)); 0 where a weight is 0 (a masked key gets no gradient)."""
    inner = np.sum(grad_weights * weights, axis=-1, keepdims=True)  # (*, Tq, 1)
    return weights * (grad_weights - inner)                         # (*, Tq, Tk)


def check_grads(layer: str, grad_context, grad_weights, context_shape, weights_shape):
    """The upstream gradients checked against the shapes of the outputs they belong to."""
    grad_context = np.asarray(grad_context)
    if grad_context.shape != context_shape:
        raise ValueError(f"{layer}.backward expects grad_context of the context's shape "
                         f"{context_shape}, got shape {grad_context.shape}")
    if grad_weights is not None:
        grad_weights = np.asarray(grad_weights)
        if grad_weights.shape != weights_shape:
            raise ValueError(f"{layer}.backward expects grad_weights of the weights' shape "
                             f"{weights_shape}, got shape {grad_weights.shape}")
    return grad_context, grad_weights
