"""The gated chapters' checkers (LSTM, GRU) accept right answers and reject the usual slips."""

import numpy as np
import pytest

from deepglossary.exercises import gated


def sig(a):
    return 1 / (1 + np.exp(-a))


# --- LSTM step backward -------------------------------------------------------------------

def lstm_backward(x, h, c, w_ih, w_hh, b_ih, b_hh, g_h, g_c, *, order=(0, 1, 2, 3),
                  incoming_c=True, tanh_path=True, forget_path=True):
    """The derivation's formulas; the keywords switch on one slip each."""
    hid = h.shape[1]
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh                     # (N, 4H)
    zi, zf, zg, zo = (z[:, k * hid:(k + 1) * hid] for k in order)
    i, f, g, o = sig(zi), sig(zf), np.tanh(zg), sig(zo)
    c_new = f * c + i * g
    tc = np.tanh(c_new)
    dc = (g_c if incoming_c else 0) + (g_h * o * (1 - tc**2) if tanh_path else 0)
    do = g_h * tc
    di, df, dg = dc * g, dc * c, dc * i
    blocks = {order[0]: di * i * (1 - i), order[1]: df * f * (1 - f),
              order[2]: dg * (1 - g**2), order[3]: do * o * (1 - o)}
    dz = np.concatenate([blocks[k] for k in range(4)], axis=1)    # (N, 4H)
    dc_prev = dc * f if forget_path else dc
    return (dz @ w_ih, dz @ w_hh, dc_prev, dz.T @ x, dz.T @ h, dz.sum(axis=0))


def test_lstm_backward_checker_accepts_the_derivation():
    gated.check_lstm_step_backward(lstm_backward)


@pytest.mark.parametrize("slip", [
    dict(order=(0, 1, 3, 2)),          # i, f, o, g: another library's gate order
    dict(incoming_c=False),            # drops dL/dc' from the next step
    dict(tanh_path=False),             # forgets that h' depends on c'
    dict(forget_path=False),           # dc_{t-1} = dc_t, no forget gate
])
def test_lstm_backward_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        gated.check_lstm_step_backward(lambda *a: lstm_backward(*a, **slip))


def test_lstm_backward_checker_rejects_transposed_and_float64_results():
    def transposed(*a):
        dx, dh, dc, dwi, dwh, db = lstm_backward(*a)
        return dx, dh, dc, dwi, dwh.T, db
    def upcast(*a):
        return tuple(np.asarray(v, dtype=np.float64) for v in lstm_backward(*a))
    def wrong_weight_shape(*a):
        dx, dh, dc, dwi, dwh, db = lstm_backward(*a)
        return dx, dh, dc, dwi.T, dwh, db
    for wrong in (transposed, upcast, wrong_weight_shape):
        with pytest.raises(AssertionError):
            gated.check_lstm_step_backward(wrong)


# --- ONNX gate order -----------------------------------------------------------------------

def port(w):
    hid = len(w) // 4
    i, o, f, c = (w[k * hid:(k + 1) * hid] for k in range(4))
    return np.concatenate([i, f, c, o])


def test_onnx_checker():
    gated.check_onnx_to_torch(port)
    swapped = lambda w: np.concatenate([w[k * (len(w) // 4):(k + 1) * (len(w) // 4)]  # noqa: E731
                                        for k in (0, 2, 1, 3)])
    columns = lambda w: port(w.T).T if w.ndim == 2 else port(w)  # noqa: E731
    for wrong in (lambda w: w, swapped, columns):
        with pytest.raises(AssertionError):
            gated.check_onnx_to_torch(wrong)


# --- GRU: a reset wired by hand, and the step backward ----------------------------------------

def wire(cell, *, reset=True, update=True, size=100.0, keep_r_open=False):
    """Sets the input side so that (1, 0) clears the state and (0, 1) keeps it; the keywords
    switch on one slip each."""
    hid = cell.bias_ih.data.shape[0] // 3
    w, b = cell.weight_ih.data, cell.bias_ih.data
    w[:] = 0.0
    b[:] = 0.0
    if reset:
        w[:hid, 0] = -size                                          # r shut on a break
        w[:hid, 1] = size if keep_r_open else 0.0
    if update:
        w[hid:2 * hid, 0] = -size                                   # z: write on a break
        w[hid:2 * hid, 1] = size                                    # keep otherwise


def test_gru_reset_checker_accepts_both_gates_wired():
    gated.check_gru_reset(wire)
    gated.check_gru_reset(lambda cell: wire(cell, keep_r_open=True))


@pytest.mark.parametrize("slip", [
    dict(reset=False),                 # the update gate alone: the candidate still reads h
    dict(update=False),                # the reset gate alone: nothing is written or kept
    dict(size=3.0),                    # gates not saturated enough
])
def test_gru_reset_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        gated.check_gru_reset(lambda cell: wire(cell, **slip))


def test_gru_reset_checker_rejects_changed_recurrent_weights():
    def cheat(cell):                   # W_hn = 0, b_hn = 0 would make the update gate enough
        wire(cell, reset=False)
        cell.weight_hh.data[:] = 0.0
        cell.bias_hh.data[:] = 0.0
    with pytest.raises(AssertionError, match="weight_hh was changed"):
        gated.check_gru_reset(cheat)
    def wrong_shape(cell):
        wire(cell)
        cell.weight_ih.data = cell.weight_ih.data.T.copy()
    with pytest.raises(AssertionError, match="weight_ih has shape"):
        gated.check_gru_reset(wrong_shape)


def gru_backward(x, h, w_ih, w_hh, b_ih, b_hh, g, *, reset_on_bias=True, direct=True,
                 b_hn_in_dr=True):
    hid = h.shape[1]
    a = x @ w_ih.T + b_ih
    hh = h @ w_hh.T + b_hh                                          # (N, 3H), b_hn inside
    r = sig(a[:, :hid] + hh[:, :hid])
    z = sig(a[:, hid:2 * hid] + hh[:, hid:2 * hid])
    n = np.tanh(a[:, 2 * hid:] + r * hh[:, 2 * hid:])
    dn = g * (1 - z)
    dz = g * (h - n)
    dan = dn * (1 - n**2)                                           # d(pre-activation of n)
    dr = dan * (hh[:, 2 * hid:] if b_hn_in_dr else h @ w_hh[2 * hid:].T)
    dar, daz = dr * r * (1 - r), dz * z * (1 - z)
    d_in = np.concatenate([dar, daz, dan], axis=1)                  # W_ih side
    d_hid = np.concatenate([dar, daz, dan * r], axis=1)             # W_hh side
    db_hh = d_hid.sum(axis=0) if reset_on_bias else d_in.sum(axis=0)
    dh = d_hid @ w_hh + (g * z if direct else 0)
    return (d_in @ w_ih, dh, d_in.T @ x, d_hid.T @ h, d_in.sum(axis=0), db_hh)


def test_gru_backward_checker():
    gated.check_gru_step_backward(gru_backward)
    with pytest.raises(AssertionError):                             # b_hn's gradient as b_in's
        gated.check_gru_step_backward(lambda *a: gru_backward(*a, reset_on_bias=False))
    with pytest.raises(AssertionError):                             # forgets h' = ... + z h
        gated.check_gru_step_backward(lambda *a: gru_backward(*a, direct=False))
    with pytest.raises(AssertionError):                             # r gradient without b_hn
        gated.check_gru_step_backward(lambda *a: gru_backward(*a, b_hn_in_dr=False))
    with pytest.raises(AssertionError):
        gated.check_gru_step_backward(lambda *a: gru_backward(*a)[:5])
