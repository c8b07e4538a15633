"""Checkers for the exercises of the Recursive Neural Network chapter."""

import numpy as np

from deepglossary.exercises import compare, passed


def rntn_forward(h_left, h_right, weight, tensor, bias):
    """The recursive neural tensor network's composition for m nodes at once (one per row):
    with ``x = [h_left, h_right]`` (m, 2H), entry i of node n's pre-activation is
    ``x[n] @ tensor[i] @ x[n] + (x[n] @ weight.T + bias)[i]``; returns its tanh, (m, H)."""
    x = np.concatenate([h_left, h_right], axis=1)                   # (m, 2H)
    z = np.einsum("na,iab,nb->ni", x, tensor, x) + x @ weight.T + bias   # (m, H)
    return np.tanh(z)


def _rntn_reference(h_left, h_right, h, grad_h, weight, tensor):
    hid = h.shape[1]
    x = np.concatenate([h_left, h_right], axis=1)                   # (m, 2H)
    dz = grad_h * (1 - h * h)                                       # (m, H) through the tanh
    grad_tensor = np.einsum("ni,na,nb->iab", dz, x, x)              # (H, 2H, 2H): dz_i x x^T
    grad_weight = dz.T @ x                                          # (H, 2H)
    both = tensor + tensor.transpose(0, 2, 1)                       # V + V^T, slice by slice
    dx = np.einsum("ni,iab,nb->na", dz, both, x) + dz @ weight      # (m, 2H)
    return dx[:, :hid], dx[:, hid:], grad_weight, grad_tensor, dz.sum(axis=0)


def check_rntn_backward(rntn_backward):
    """``rntn_backward(h_left, h_right, h, grad_h, weight, tensor)`` is the backward pass of
    the tensor composition ``h = rntn_forward(h_left, h_right, weight, tensor, bias)`` for m
    nodes at once (one per row): h_left, h_right, h and grad_h (the gradient of the loss with
    respect to h) of shape (m, H), weight (H, 2H), tensor (H, 2H, 2H). It returns
    ``(grad_left, grad_right, grad_weight, grad_tensor, grad_bias)``: (m, H), (m, H),
    (H, 2H), (H, 2H, 2H) and (H,), in the inputs' dtype, the parameters' gradients summed over
    the m nodes.

    Checked on: one node with H = 1; several nodes with a tensor whose slices are far from
    symmetric (a gradient ``2 V x``, which holds only for symmetric slices, or ``V^T x`` alone,
    is caught, and so are swapped halves and a mean over the nodes instead of a sum); units
    near saturation (a slope taken as 1 - tanh(h)^2, or forgotten, is caught); a single node
    (m = 1, where a sum and a mean agree, so the other cases must catch it); and float32 (the
    results must stay float32). The inputs are copies: changing them in place is harmless."""
    rng = np.random.default_rng(13)
    cases = [(1, 1, 1.0, np.float64, "one node, H = 1"),
             (5, 3, 1.0, np.float64, "five nodes, H = 3"),
             (4, 2, 2.5, np.float64, "saturated: h near +-1"),
             (1, 4, 1.0, np.float64, "one node"),
             (6, 2, 1.0, np.float32, "float32")]
    names = ("grad_left", "grad_right", "grad_weight", "grad_tensor", "grad_bias")
    for m, hid, scale, dtype, name in cases:
        weight = (rng.standard_normal((hid, 2 * hid)) * scale / 2).astype(dtype)
        tensor = (rng.standard_normal((hid, 2 * hid, 2 * hid)) * scale / 2).astype(dtype)
        bias = rng.standard_normal(hid).astype(dtype)
        h_left, h_right = (np.tanh(rng.standard_normal((m, hid)) * scale).astype(dtype)
                           for _ in range(2))
        h = rntn_forward(h_left, h_right, weight, tensor, bias).astype(dtype)
        grad_h = rng.standard_normal((m, hid)).astype(dtype)
        case = f"{name}: m = {m} nodes, H = {hid}, {np.dtype(dtype).name}"
        try:
            got = rntn_backward(h_left.copy(), h_right.copy(), h.copy(), grad_h.copy(),
                                weight.copy(), tensor.copy())
        except Exception as err:
            raise AssertionError(f"your function raised {type(err).__name__}: {err} ({case})") \
                from err
        if not isinstance(got, tuple | list) or len(got) != 5:
            what = (f"{type(got).__name__} of length {len(got)}"
                    if isinstance(got, tuple | list) else type(got).__name__)
            raise AssertionError(f"return a tuple ({', '.join(names)}), got {what} ({case})")
        expected = _rntn_reference(h_left, h_right, h, grad_h, weight, tensor)
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
        for label, g, e in zip(names, got, expected):
            g = np.asarray(g)
            if g.dtype != dtype:
                raise AssertionError(f"{label} has dtype {g.dtype}, expected "
                                     f"{np.dtype(dtype)} ({case})")
            compare(label, g, e, case=case, **tol)
    return passed("the backward pass of a tensor composition node", len(cases))
