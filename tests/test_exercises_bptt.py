"""The BPTT and Bidirectional RNN chapters' checkers accept right answers (written here
independently, with torch's autograd where it can be) and reject the naive ones."""

import numpy as np
import pytest
import torch

from deepglossary.exercises import bptt as ex


def _torch_scalar(w, u, x, h0, g, k=None):
    """Autograd through the unrolled recurrence; truncation by detaching every k steps."""
    w_t = torch.tensor(float(w), dtype=torch.float64, requires_grad=True)
    u_t = torch.tensor(float(u), dtype=torch.float64, requires_grad=True)
    h0_t = torch.tensor(float(h0), dtype=torch.float64, requires_grad=True)
    k = len(x) if k is None else k
    h, loss = h0_t, 0.0
    for t in range(len(x)):
        if t and t % k == 0:
            h = h.detach()                       # the cut: the state goes on, the gradient not
        h = w_t * h + u_t * float(x[t])
        loss = loss + float(g[t]) * h
    loss.backward()
    return tuple(0.0 if p.grad is None else p.grad.item() for p in (w_t, u_t, h0_t))


def scalar_right(w, u, x, h0, g):
    return _torch_scalar(w, u, x, h0, g)


def _states(w, u, x, h0):
    hs = [h0]
    for xt in x:
        hs.append(w * hs[-1] + u * xt)
    return hs


def scalar_no_recurrence(w, u, x, h0, g):      # dL/dh_t = g_t only: forgets the future
    hs = _states(w, u, x, h0)
    dw = sum(g[t] * hs[t] for t in range(len(x)))
    du = sum(g[t] * x[t] for t in range(len(x)))
    return dw, du, w * g[0]


def scalar_uses_h_t(w, u, x, h0, g):           # dw collects h_t instead of h_{t-1}
    hs = _states(w, u, x, h0)
    dw = du = dh = 0.0
    for t in reversed(range(len(x))):
        dh += g[t]
        dw += dh * hs[t + 1]
        du += dh * x[t]
        dh *= w
    return dw, du, dh


def scalar_dh0_short(w, u, x, h0, g):          # returns dL/dh_1 as dh0: one factor w short
    hs = _states(w, u, x, h0)
    dw = du = dh = 0.0
    for t in reversed(range(len(x))):
        dh += g[t]
        dw += dh * hs[t]
        du += dh * x[t]
        if t:
            dh *= w
    return dw, du, dh


def scalar_last_loss_only(w, u, x, h0, g):     # only the last step's loss
    g = np.r_[np.zeros(len(x) - 1), g[-1]]
    return scalar_right(w, u, x, h0, g)


def test_scalar_bptt_checker():
    ex.check_scalar_bptt(scalar_right)
    for wrong in (scalar_no_recurrence, scalar_uses_h_t, scalar_dh0_short, scalar_last_loss_only):
        with pytest.raises(AssertionError):
            ex.check_scalar_bptt(wrong)


def truncated_right(w, u, x, h0, g, k):
    return _torch_scalar(w, u, x, h0, g, k)


def truncated_from_the_end(w, u, x, h0, g, k):     # chunks counted back from the last step
    t_len = len(x)
    rev = _torch_scalar(w, u, x, h0, g, None) if k >= t_len else None
    if rev is not None:
        return rev
    first = t_len % k or k                          # the short chunk comes first
    hs = _states(w, u, x, h0)
    dw = du = 0.0
    dh0 = 0.0
    bounds = [0] + list(range(first, t_len, k)) + [t_len]
    for a, b in zip(bounds[:-1], bounds[1:]):
        dh = 0.0
        for t in reversed(range(a, b)):
            dh += g[t]
            dw += dh * hs[t]
            du += dh * x[t]
            dh *= w
        if a == 0:
            dh0 = dh
    return dw, du, dh0


def truncated_not_at_all(w, u, x, h0, g, k):
    return _torch_scalar(w, u, x, h0, g, None)


def truncated_dh0_from_last_chunk(w, u, x, h0, g, k):
    dw, du, _ = _torch_scalar(w, u, x, h0, g, k)
    start = ((len(x) - 1) // k) * k                   # the last chunk's first step
    _, _, dh = _torch_scalar(w, u, x[start:], 0.0, g[start:], None)
    return dw, du, dh * (w ** start)


def test_truncated_scalar_bptt_checker():
    ex.check_truncated_scalar_bptt(truncated_right)
    for wrong in (truncated_from_the_end, truncated_not_at_all, truncated_dh0_from_last_chunk):
        with pytest.raises(AssertionError):
            ex.check_truncated_scalar_bptt(wrong)


def _stacked(layers, x, g, *, reorder=True, reverse_grad=True, reverse_dx=True, add=True,
             axis=0, h_n_order="layer", top_gradient_everywhere=False, forward_half=False):
    """A bidirectional stack from unidirectional layers; the keywords switch in one mistake."""
    def rev(a):
        return np.flip(a, axis=axis)                            # time (0), or the batch (1)

    h_n, inputs = [], x
    for level, (fwd, bwd) in enumerate(layers):
        if forward_half and level:
            inputs = inputs[..., :fwd.hidden_size]              # reads half the layer below
        out_f, h_f = fwd(inputs)
        out_b, h_b = bwd(rev(inputs))
        inputs = np.concatenate([out_f, rev(out_b) if reorder else out_b], axis=2)
        h_n.append((h_f[0], rev(h_b)[0] if axis == 1 else h_b[0]))
    if h_n_order == "layer":
        h_n = [h for pair in h_n for h in pair]                 # f0, b0, f1, b1, ...
    elif h_n_order == "direction":
        h_n = [pair[0] for pair in h_n] + [pair[1] for pair in h_n]   # f0, f1, ..., b0, b1
    else:
        h_n = [h for pair in h_n for h in pair[::-1]]           # b0, f0, b1, f1, ...
    grad = g
    for fwd, bwd in reversed(layers):
        hid = fwd.hidden_size
        upper = g if top_gradient_everywhere else grad
        dx_f, _ = fwd.backward(upper[..., :hid])
        dx_b, _ = bwd.backward(np.ascontiguousarray(rev(upper[..., hid:]) if reverse_grad
                                                    else upper[..., hid:]))
        dx_b = rev(dx_b) if reverse_dx else dx_b
        grad = dx_f + dx_b if add else dx_f
    return inputs, np.stack(h_n), grad


def stacked_right(layers, x, g):
    return _stacked(layers, x, g)


def stacked_independent(layers, x, g):
    """Written apart from _stacked, as the chapter's solution is: the forward pass of each
    layer on the reversed array, the backward pass from the top layer down."""
    h_n, inputs = [], x
    for fwd, bwd in layers:
        out_f, h_f = fwd(inputs)
        out_b, h_b = bwd(inputs[::-1])
        inputs = np.concatenate([out_f, out_b[::-1]], axis=2)
        h_n += [h_f[0], h_b[0]]
    grad = g
    for fwd, bwd in reversed(layers):
        hid = fwd.hidden_size
        dx_f, _ = fwd.backward(grad[..., :hid])
        dx_b, _ = bwd.backward(grad[::-1, :, hid:])
        grad = dx_f + dx_b[::-1]
    return inputs, np.stack(h_n), grad


WRONG_STACKS = {
    "output not reordered": {"reorder": False},
    "gradient not reversed": {"reverse_grad": False},
    "dx not reversed": {"reverse_dx": False},
    "forward dx only": {"add": False},
    "batch axis reversed": {"axis": 1},
    "h_n direction-major": {"h_n_order": "direction"},
    "h_n backward first": {"h_n_order": "backward first"},
    "top gradient to every layer": {"top_gradient_everywhere": True},
    "upper layer reads the forward half": {"forward_half": True},
}


def test_stacked_bidirectional_checker_accepts_right_answers():
    ex.check_stacked_bidirectional(stacked_right)
    ex.check_stacked_bidirectional(stacked_independent)


@pytest.mark.parametrize("mistake", WRONG_STACKS)
def test_stacked_bidirectional_checker_rejects(mistake):
    def wrong(layers, x, g):
        return _stacked(layers, x, g, **WRONG_STACKS[mistake])

    with pytest.raises(AssertionError):
        ex.check_stacked_bidirectional(wrong)


def test_stacked_bidirectional_checker_rejects_a_double_backward():
    def twice(layers, x, g):                     # right values, but every layer's .grad doubled
        _stacked(layers, x, g)
        return _stacked(layers, x, g)

    with pytest.raises(AssertionError, match="gradient of"):
        ex.check_stacked_bidirectional(twice)


def test_h_t_slip_fails_already_at_a_single_step():
    with pytest.raises(AssertionError, match=r"x=\[2\.\]"):      # the T = 1 case, the first
        ex.check_scalar_bptt(scalar_uses_h_t)
