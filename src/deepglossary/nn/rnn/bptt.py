"""Backpropagation through time for one direction of one layer: the adjoint of
``kernels.forward``, which it reads its cache from (the module docstring there has the frame:
the fused products, the state buffer ``hs`` and its offset, the LSTM's gate order g, i, f, o).
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.rnn.kernels import lstm_rows


def backward(cache, g_out, g_hn, g_cn=None):
    """Backpropagation through time for one direction of one layer.

    Shape:
        g_out: (T, N, H) the gradient of every output;  g_hn, g_cn: (N, H) of h_n and c_n
        returns dx (T, N, D), dh0 (N, H), dc0 (N, H) or None, and the parameter gradients
        (dw_ih (G H, D), dw_hh (G H, H), db_ih (G H,) or None, db_hh (G H,) or None)

    Each mode first fills dA with the factors of the chain rule that do not depend on the
    incoming gradient, for all steps at once, then multiplies them in place, step by step,
    by the gradient arriving from the output and from the future: few ufunc calls per step,
    and no large temporary arrays (fresh memory costs page faults).
    """
    mode, hs, pre, off = cache["mode"], cache["hs"], cache["pre"], cache["off"]
    t_len, n, gh = pre.shape
    hid = hs.shape[2]
    order = cache["steps"][::-1]                                    # back through time
    w_hh = cache["w_hh"]                                            # (G H, H)
    h_prev = hs[1 - off:1 - off + t_len]                            # H_prev (T, N, H)
    dh = g_hn.copy()                                                # dL/dh_t from the future
    dc0 = None
    if mode == "LSTM":
        dpre, dhh, dh, dc0 = _lstm_back(cache, g_out, dh, g_cn, order, w_hh)
    elif mode == "GRU":
        dpre, dhh, dh = _gru_back(cache, g_out, dh, h_prev, order, w_hh)
    else:
        out = hs[off:off + t_len]
        dpre = dhh = np.empty_like(pre)                             # dA (T, N, H)
        if mode == "RNN_TANH":
            np.multiply(out, out, out=dpre)
            np.subtract(1, dpre, out=dpre)                          # tanh' = 1 - h^2
        else:
            np.sign(out, out=dpre)                                  # relu' = 1 where h > 0
        for t in order:
            dh += g_out[t]                                          # dL/dh_t (N, H)
            dpre[t] *= dh                                           # dL/da_t = dh_t f'(a_t)
            np.matmul(dpre[t], w_hh, out=dh)                        # dL/dh_{t-1} (N, H)
    d2 = dpre.reshape(t_len * n, gh)                                # (T N, G H)
    dh2 = dhh.reshape(t_len * n, gh)                                # dA as W_hh sees it
    x2d, h2d = cache["x2d"], h_prev.reshape(t_len * n, hid)         # (T N, D), (T N, H)
    if dhh is dpre:                                                 # one product for both:
        both = d2.T @ np.concatenate([x2d, h2d], axis=1)            # dA^T [X, H_prev]
        dw_ih, dw_hh = both[:, :x2d.shape[1]], both[:, x2d.shape[1]:]
    else:                                                           # the GRU's differ
        dw_ih = d2.T @ x2d                                          # dW_ih = dA^T X (G H, D)
        dw_hh = dh2.T @ h2d                                         # dW_hh = dA^T H_prev
    db_ih = d2.sum(axis=0) if cache["bias"] else None               # (G H,)
    db_hh = dh2.sum(axis=0) if cache["bias"] else None
    dx = (d2 @ cache["w_ih"]).reshape(t_len, n, -1)                 # dX = dA W_ih (T, N, D)
    grads = (dw_ih, dw_hh, db_ih, db_hh)
    if mode == "LSTM":                                              # rows back to i, f, g, o
        back = np.argsort(lstm_rows(hid))
        grads = tuple(None if a is None else a[back] for a in grads)
    return dx, dh, dc0, grads


def _lstm_back(cache, g_out, dh, g_cn, order, w_hh):
    """The LSTM step backward, with dc the gradient of the cell state:
        dc_t = dc_{t+1} f_{t+1} + dh_t o (1 - tanh(c_t)^2)
        dA_i = dc g i(1-i),  dA_f = dc c_{t-1} f(1-f),  dA_g = dc i (1-g^2)
        dA_o = dh tanh(c_t) o(1-o)
    """
    acts, cs, tcs, off = cache["pre"], cache["cs"], cache["tcs"], cache["off"]
    t_len, n, gh = acts.shape
    hid = gh // 4
    g, i, f, o = (acts[..., k * hid:(k + 1) * hid] for k in range(4))   # each (T, N, H)
    c_prev = cs[1 - off:1 - off + t_len]                            # c_{t-1} (T, N, H)
    dpre = np.empty_like(acts)                                      # the factors, then dA
    fg, fi, ff, fo = (dpre[..., k * hid:(k + 1) * hid] for k in range(4))
    np.subtract(1, acts[..., hid:], out=dpre[..., hid:])
    dpre[..., hid:] *= acts[..., hid:]                              # s (1 - s) for i, f, o
    fi *= g                                                         # g i (1 - i)
    ff *= c_prev                                                    # c_{t-1} f (1 - f)
    fo *= tcs                                                       # tanh(c_t) o (1 - o)
    np.multiply(g, g, out=fg)
    np.subtract(1, fg, out=fg)
    fg *= i                                                         # i (1 - g^2)
    to_c = np.multiply(tcs, tcs)
    np.subtract(1, to_c, out=to_c)
    to_c *= o                                                       # dc_t/dh_t (T, N, H)
    dpre3 = dpre.reshape(t_len, n, 4, hid)
    dc, tmp = g_cn.copy(), np.empty_like(dh)
    for t in order:
        dh += g_out[t]                                              # dL/dh_t (N, H)
        dc += np.multiply(dh, to_c[t], out=tmp)                     # dL/dc_t (N, H)
        dpre3[t, :, :3] *= dc[:, None, :]                           # dA_g, dA_i, dA_f
        dpre[t, :, 3 * hid:] *= dh                                  # dA_o
        dc *= f[t]                                                  # dL/dc_{t-1} via c_t
        np.matmul(dpre[t], w_hh, out=dh)                            # dL/dh_{t-1} (N, H)
    return dpre, dpre, dh, dc


def _gru_back(cache, g_out, dh, h_prev, order, w_hh):
    """The GRU step backward:
        dA_z = dh (h_{t-1} - n) z(1-z),  dA_n = dh (1-z)(1-n^2),  dA_r = dA_n (W_hn h + b_hn) r(1-r)
    and on the hidden side the n gate's gradient is dA_n r (the reset gate multiplies it):
        dL/dh_{t-1} = dh z + [dA_r, dA_z, dA_n r] W_hh
    """
    acts, hn = cache["pre"], cache["hn"]
    t_len, n, gh = acts.shape
    hid = gh // 3
    r, z, nt = (acts[..., k * hid:(k + 1) * hid] for k in range(3))   # each (T, N, H)
    dpre = np.empty_like(acts)                                      # the factors, then dA
    dhh = np.empty_like(acts)                                       # dA as W_hh sees it
    fr, fz, fn = (dpre[..., k * hid:(k + 1) * hid] for k in range(3))
    np.subtract(h_prev, nt, out=fz)
    fz *= z
    np.subtract(1, z, out=fn)
    fz *= fn                                                        # (h_{t-1} - n) z (1 - z)
    np.multiply(nt, nt, out=fr)
    np.subtract(1, fr, out=fr)
    fn *= fr                                                        # (1 - z)(1 - n^2)
    np.subtract(1, r, out=fr)
    fr *= r
    fr *= hn                                                        # hn r (1 - r)
    dpre3 = dpre.reshape(t_len, n, 3, hid)
    tmp = np.empty_like(dh)
    for t in order:
        dh += g_out[t]                                              # dL/dh_t (N, H)
        d, side = dpre[t], dhh[t]                                   # (N, 3H) each
        dpre3[t, :, 1:] *= dh[:, None, :]                           # dA_z, dA_n
        d[:, :hid] *= d[:, 2 * hid:]                                # dA_r
        side[:, :2 * hid] = d[:, :2 * hid]
        np.multiply(d[:, 2 * hid:], r[t], out=side[:, 2 * hid:])    # d(W_hn h + b_hn)
        dh *= z[t]                                                  # through h = ... + z h
        dh += np.matmul(side, w_hh, out=tmp)                        # dL/dh_{t-1} (N, H)
    return dpre, dhh, dh
