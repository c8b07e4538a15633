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


def bi_right(fwd, bwd, x, g):
    hid = fwd.hidden_size
    out_f, h_f = fwd(x)
    out_b, h_b = bwd(x[::-1])                               # read right to left
    output = np.concatenate([out_f, out_b[::-1]], axis=2)   # back in time order
    dx_f, _ = fwd.backward(g[..., :hid])
    dx_b, _ = bwd.backward(g[::-1, :, hid:])                # reverse the gradient too
    return output, np.concatenate([h_f, h_b]), dx_f + dx_b[::-1]


def bi_not_reordered(fwd, bwd, x, g):
    output, h_n, dx = bi_right(fwd, bwd, x, g)
    hid = fwd.hidden_size
    output[..., hid:] = output[::-1, :, hid:]
    return output, h_n, dx


def bi_gradient_not_reversed(fwd, bwd, x, g):
    hid = fwd.hidden_size
    output, h_n, _ = bi_right(fwd, bwd, x, g)
    dx_f, _ = fwd.backward(g[..., :hid])
    dx_b, _ = bwd.backward(np.ascontiguousarray(g[..., hid:]))
    return output, h_n, dx_f + dx_b[::-1]


def bi_dx_not_reversed(fwd, bwd, x, g):
    hid = fwd.hidden_size
    output, h_n, _ = bi_right(fwd, bwd, x, g)
    dx_f, _ = fwd.backward(g[..., :hid])
    dx_b, _ = bwd.backward(g[::-1, :, hid:])
    return output, h_n, dx_f + dx_b


def bi_forward_gradient_only(fwd, bwd, x, g):
    hid = fwd.hidden_size
    output, h_n, _ = bi_right(fwd, bwd, x, g)
    dx_f, _ = fwd.backward(g[..., :hid])
    return output, h_n, dx_f


def bi_h_n_swapped(fwd, bwd, x, g):
    output, h_n, dx = bi_right(fwd, bwd, x, g)
    return output, h_n[::-1], dx


def bi_batch_reversed(fwd, bwd, x, g):             # reverses the batch axis, not time
    hid = fwd.hidden_size
    out_f, h_f = fwd(x)
    out_b, h_b = bwd(x[:, ::-1])
    output = np.concatenate([out_f, out_b[:, ::-1]], axis=2)
    dx_f, _ = fwd.backward(g[..., :hid])
    dx_b, _ = bwd.backward(g[:, ::-1, hid:])
    return output, np.concatenate([h_f, h_b[:, ::-1]]), dx_f + dx_b[:, ::-1]


def test_bidirectional_checker():
    ex.check_bidirectional(bi_right)
    for wrong in (bi_not_reordered, bi_gradient_not_reversed, bi_dx_not_reversed,
                  bi_forward_gradient_only, bi_h_n_swapped, bi_batch_reversed):
        with pytest.raises(AssertionError):
            ex.check_bidirectional(wrong)
