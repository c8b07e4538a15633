"""Checkers for the exercises of the Recursive Neural Network chapter."""

import numpy as np

from deepglossary.exercises import compare, passed


def _node_backward_reference(h_left, h_right, h, grad_h, weight):
    hid = h.shape[1]
    dz = grad_h * (1 - h * h)                                  # (m, H)
    pair = np.concatenate([h_left, h_right], axis=1)           # (m, 2H)
    d_pair = dz @ weight                                       # (m, 2H)
    return d_pair[:, :hid], d_pair[:, hid:], dz.T @ pair, dz.sum(axis=0)


def check_node_backward(node_backward):
    """``node_backward(h_left, h_right, h, grad_h, weight)`` is the backward pass of the
    composition ``h = tanh([h_left, h_right] @ weight.T + bias)`` for m nodes at once (one per
    row): h_left, h_right, h and grad_h (the gradient of the loss with respect to h) of shape
    (m, H), weight (H, 2H). It returns ``(grad_left, grad_right, grad_weight, grad_bias)``:
    (m, H), (m, H), (H, 2H) and (H,), in the inputs' dtype, the weight and bias gradients
    summed over the m nodes.

    Checked on: one node with H = 1; several nodes with distinct random values (a swap of the
    two halves of ``weight``, a transposed half, or a mean over the nodes instead of a sum is
    caught); children vectors near +-1 and h near +-1 (a derivative taken as 1 - tanh(h)^2,
    tanh applied twice, or forgotten, is caught); a single node (m = 1, where a sum and a
    mean agree, so the other cases must catch it); and float32 (the results must stay
    float32)."""
    rng = np.random.default_rng(12)
    cases = [(1, 1, 1.0, np.float64, "one node, H = 1"),
             (5, 3, 1.0, np.float64, "five nodes, H = 3"),
             (4, 4, 3.0, np.float64, "saturated: h near +-1"),
             (1, 5, 1.0, np.float64, "one node"),
             (6, 2, 1.0, np.float32, "float32")]
    for m, hid, scale, dtype, name in cases:
        weight = (rng.standard_normal((hid, 2 * hid)) * scale).astype(dtype)
        bias = rng.standard_normal(hid).astype(dtype)
        h_left, h_right = (np.tanh(rng.standard_normal((m, hid)) * scale).astype(dtype)
                           for _ in range(2))
        h = np.tanh(np.concatenate([h_left, h_right], axis=1) @ weight.T + bias).astype(dtype)
        grad_h = rng.standard_normal((m, hid)).astype(dtype)
        case = f"{name}: m = {m} nodes, H = {hid}, {np.dtype(dtype).name}"
        try:
            got = node_backward(h_left.copy(), h_right.copy(), h.copy(), grad_h.copy(),
                                weight.copy())
        except Exception as err:
            raise AssertionError(f"your function raised {type(err).__name__}: {err} ({case})") \
                from err
        if not isinstance(got, tuple | list) or len(got) != 4:
            raise AssertionError(f"return a tuple (grad_left, grad_right, grad_weight, "
                                 f"grad_bias), got {type(got).__name__} ({case})")
        expected = _node_backward_reference(h_left, h_right, h, grad_h, weight)
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
        for label, g, e in zip(("grad_left", "grad_right", "grad_weight", "grad_bias"),
                               got, expected):
            g = np.asarray(g)
            if g.dtype != dtype:
                raise AssertionError(f"{label} has dtype {g.dtype}, expected "
                                     f"{np.dtype(dtype)} ({case})")
            compare(label, g, e, case=case, **tol)
    return passed("the backward pass of a composition node", len(cases))
