"""One direction of one recurrent layer over a whole sequence, forward (backward: ``bptt``).

Every mode shares the frame; only the step inside the loop differs:

    before the loop   P = X W_ih^T + b            (T N, G H)  every step and every gate: one GEMM
    each step t       A_t = P_t + h_{t-1} W_hh^T   (N, G H)    all gates: one GEMM
    after backward    dW_ih = dA^T X,  dW_hh = dA^T H_prev,  dX = dA W_ih   one GEMM each

with G the number of gates (1 for the plain RNN, 4 for the LSTM, 3 for the GRU in the order
r, z, n), dA the gradient of every pre-activation stacked over all steps and H_prev the
states each step read. The backward loop (``bptt.py``) does only what must be sequential: the
elementwise chain rule of one step and the product dh_{t-1} = dA_t W_hh.

A direction runs left to right, or right to left (``reverse``: the backward half of a
bidirectional layer). The states sit in one buffer ``hs`` of T + 1 rows: h_t in row t + off and
the state step t reads in row t + 1 - off, where off = 1 left to right (h0 in row 0) and 0
right to left (h0 in row T). So the outputs are ``hs[off:off + T]`` and the states read are
``hs[1 - off:1 - off + T]``, both plain views in time order.

The LSTM's weights come in torch's gate order i, f, g, o; the kernel reorders their rows to
g, i, f, o on the way in (and the weight gradients' rows back on the way out), so that one
sigmoid call covers i, f, o and one product covers the three gradients that dc multiplies.
"""

from __future__ import annotations

import numpy as np

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def lstm_rows(hid: int) -> np.ndarray:
    """Row indices taking torch's LSTM gate blocks (i, f, g, o) to the kernel's (g, i, f, o)."""
    return np.concatenate([np.arange(k * hid, (k + 1) * hid) for k in (2, 0, 1, 3)])


def sigmoid_(a: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """sigma(a) = 1 / (1 + e^-a), written into ``a``; ``scratch``, a contiguous array of a's
    shape, holds the steps between (ufuncs run about twice as fast on contiguous memory as on
    a view of some columns, which is what a gate is). e^-a overflows to inf for a < -88
    (float32), and 1 / (1 + inf) = 0 is then the right answer: the overflow is silenced.

    Not ``np.negative``: NumPy 2.4.6 writes wrong values with it into a one-column view whose
    rows are 16 bytes (float32) or 64 bytes (float64) apart; ``test_rnn`` draws such shapes."""
    with np.errstate(over="ignore"):
        np.multiply(a, -1, out=scratch)
        np.exp(scratch, out=scratch)
    scratch += 1
    return np.divide(1, scratch, out=a)


def forward(mode: str, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse: bool = False):
    """Run one direction of one layer.

    Shape:
        x: (T, N, D) time-major;  h0, c0: (N, H) (c0 for the LSTM only, else None)
        w_ih: (G H, D);  w_hh: (G H, H);  b_ih, b_hh: (G H,) or None
        returns out (T, N, H), h_n (N, H), c_n (N, H) or None, and the cache for ``backward``
    """
    t_len, n, d = x.shape
    hid = w_hh.shape[1]
    if mode == "LSTM":                                              # g, i, f, o (module doc)
        rows = lstm_rows(hid)
        w_ih, w_hh = w_ih[rows], w_hh[rows]
        b_ih, b_hh = (None, None) if b_ih is None else (b_ih[rows], b_hh[rows])
    x2d = x.reshape(t_len * n, d)                                   # (T N, D)
    pre = (x2d @ w_ih.T).reshape(t_len, n, -1)                      # P = X W_ih^T (T, N, G H)
    if b_ih is not None:
        if mode == "GRU":
            pre += b_ih
            pre[..., :2 * hid] += b_hh[:2 * hid]    # b_hn stays inside r * (W_hn h + b_hn)
        else:
            pre += b_ih + b_hh                      # the two biases only ever appear summed
    off = 0 if reverse else 1
    hs = np.empty((t_len + 1, n, hid), dtype=x.dtype)              # states, see module doc
    hs[t_len if reverse else 0] = h0
    steps = range(t_len - 1, -1, -1) if reverse else range(t_len)
    cache = {"mode": mode, "x2d": x2d, "hs": hs, "pre": pre, "off": off, "steps": steps,
             "w_ih": w_ih, "w_hh": w_hh, "bias": b_ih is not None}
    w_hh_t = np.ascontiguousarray(w_hh.T)                           # (H, G H)
    rec = np.empty((n, w_hh.shape[0]), dtype=x.dtype)               # h_{t-1} W_hh^T (N, G H)
    c_n = None
    if mode == "LSTM":
        c_n = _lstm_steps(pre, hs, c0, w_hh_t, rec, steps, off, cache)
    elif mode == "GRU":
        _gru_steps(pre, hs, w_hh_t, b_hh, rec, steps, off, cache)
    else:
        for t in steps:
            a = pre[t]                                              # (N, H)
            a += np.matmul(hs[t + 1 - off], w_hh_t, out=rec)        # + h_{t-1} W_hh^T
            if mode == "RNN_TANH":
                np.tanh(a, out=hs[t + off])                         # h_t = tanh(a_t)
            else:
                np.maximum(a, 0, out=hs[t + off])                   # h_t = relu(a_t)
    return hs[off:off + t_len], hs[steps[-1] + off].copy(), c_n, cache


def _lstm_steps(pre, hs, c0, w_hh_t, rec, steps, off, cache):
    """c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t); the gates (g, i, f, o) overwrite
    ``pre`` in place."""
    hid = hs.shape[2]
    cs = np.empty_like(hs)                                          # cell states, like hs
    cs[len(steps) if off == 0 else 0] = c0                          # row 0, or row T reversed
    tcs = np.empty(pre.shape[:2] + (hid,), dtype=pre.dtype)         # tanh(c_t) (T, N, H)
    ig = np.empty(hs.shape[1:], dtype=pre.dtype)                    # i * g (N, H)
    scratch = np.empty((hs.shape[1], 3 * hid), dtype=pre.dtype)     # for the sigmoid
    for t in steps:
        a = pre[t]                                                  # (N, 4H)
        a += np.matmul(hs[t + 1 - off], w_hh_t, out=rec)            # pre-activations, 4 gates
        np.tanh(a[:, :hid], out=a[:, :hid])                         # g
        sigmoid_(a[:, hid:], scratch)                               # i, f, o
        c = cs[t + off]                                             # (N, H)
        np.multiply(a[:, 2 * hid:3 * hid], cs[t + 1 - off], out=c)  # f * c_{t-1}
        c += np.multiply(a[:, hid:2 * hid], a[:, :hid], out=ig)     # + i * g
        np.tanh(c, out=tcs[t])
        np.multiply(a[:, 3 * hid:], tcs[t], out=hs[t + off])        # h_t = o * tanh(c_t)
    cache.update(cs=cs, tcs=tcs)
    return cs[steps[-1] + off].copy()


def _gru_steps(pre, hs, w_hh_t, b_hh, hh, steps, off, cache):
    """r, z = sigma(...), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h = (1 - z) n + z h."""
    hid = hs.shape[2]
    hn = np.empty(pre.shape[:2] + (hid,), dtype=pre.dtype)          # W_hn h_{t-1} + b_hn
    rhn = np.empty(hs.shape[1:], dtype=pre.dtype)                   # r * hn (N, H)
    scratch = np.empty((hs.shape[1], 2 * hid), dtype=pre.dtype)     # for the sigmoid
    for t in steps:
        h_prev = hs[t + 1 - off]                                    # (N, H)
        np.matmul(h_prev, w_hh_t, out=hh)                           # (N, 3H): one GEMM
        a = pre[t]                                                  # (N, 3H), b_hr, b_hz in
        rz = a[:, :2 * hid]
        rz += hh[:, :2 * hid]
        sigmoid_(rz, scratch)                                       # r, z
        if b_hh is None:
            hn[t] = hh[:, 2 * hid:]
        else:
            np.add(hh[:, 2 * hid:], b_hh[2 * hid:], out=hn[t])
        nt = a[:, 2 * hid:]
        nt += np.multiply(rz[:, :hid], hn[t], out=rhn)              # + r * (W_hn h + b_hn)
        np.tanh(nt, out=nt)                                         # n
        h = hs[t + off]
        np.subtract(h_prev, nt, out=h)                              # h = n + z (h_prev - n)
        h *= rz[:, hid:]
        h += nt
    cache["hn"] = hn
