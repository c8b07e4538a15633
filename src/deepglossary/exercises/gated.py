"""Checkers for the exercises of the gated recurrent chapters (LSTM, GRU).

Each checker builds the package's cell (``nn.LSTMCell``, ``nn.GRUCell``, PyTorch's twins,
verified in the chapters) with random weights, runs it as the reference, and compares the
student's function on cases chosen to catch the usual slips: a gate order other than
torch's, a forgotten incoming gradient or path, a transposed weight (input and hidden sizes
differ), one example or one unit, saturated gates, and float32 (the result keeps the input's
dtype). ``check_gru_reset`` checks weights set by hand instead: what a cell does to every
state.
"""

import numpy as np

from deepglossary import nn
from deepglossary.exercises import compare, dtype_ok, passed

# (N examples, D inputs, H hidden units, scale of the weights, dtype)
_SIZES = [(3, 4, 5, 1.0, np.float64), (1, 2, 3, 1.0, np.float64), (4, 3, 1, 1.0, np.float64),
          (2, 6, 4, 4.0, np.float64), (5, 3, 2, 1.0, np.float32)]


def _cell(cls, d, hid, scale, dtype, rng):
    """A cell with random weights (times ``scale``: 4 saturates some gates), and its arrays."""
    cell = cls(d, hid, dtype=np.float64, rng=rng)
    for p in cell.parameters():
        p.data *= scale
    weights = [getattr(cell, name).data.astype(dtype)
               for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    for p, w in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), weights):
        p.data = w.copy()
    return cell, weights


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)


def check_lstm_step_backward(lstm_step_backward):
    """``lstm_step_backward(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, grad_h, grad_c)``
    returns ``(dx, dh, dc, dweight_ih, dweight_hh, dbias)``: the gradients of one LSTM step
    ``h', c' = LSTMCell(x, (h, c))`` (torch's gates i, f, g, o) given the upstream gradients
    ``grad_h`` = dL/dh' and ``grad_c`` = dL/dc' (dbias: of either bias, they are equal).

    Shape: x (N, D); h, c, grad_h, grad_c (N, H); weight_ih (4H, D); weight_hh (4H, H);
    bias_ih, bias_hh (4H,). Compared with ``nn.LSTMCell.backward`` on: D != H (a transposed
    weight fails), one example, one unit, saturated gates, grad_c = 0 and grad_h = 0 (each
    path alone), and float32."""
    rng = np.random.default_rng(21)
    cases = 0
    for n, d, hid, scale, dtype in _SIZES:
        for which in ("both", "grad_h only", "grad_c only"):
            cell, (w_ih, w_hh, b_ih, b_hh) = _cell(nn.LSTMCell, d, hid, scale, dtype, rng)
            x = rng.standard_normal((n, d)).astype(dtype)
            h, c = (rng.standard_normal((n, hid)).astype(dtype) for _ in range(2))
            g_h, g_c = (rng.standard_normal((n, hid)).astype(dtype) for _ in range(2))
            if which == "grad_h only":
                g_c = np.zeros_like(g_c)
            elif which == "grad_c only":
                g_h = np.zeros_like(g_h)
            cell(x, (h, c))
            dx, dh, dc = cell.backward(g_h, g_c)
            expected = (dx, dh, dc, cell.weight_ih.grad, cell.weight_hh.grad, cell.bias_ih.grad)
            got = lstm_step_backward(x.copy(), h.copy(), c.copy(), w_ih.copy(), w_hh.copy(),
                                     b_ih.copy(), b_hh.copy(), g_h.copy(), g_c.copy())
            if not isinstance(got, tuple | list) or len(got) != 6:
                raise AssertionError("return a tuple (dx, dh, dc, dweight_ih, dweight_hh, dbias)")
            case = (f"N={n}, D={d}, H={hid}, weights x{scale}, {np.dtype(dtype).name}, "
                    f"upstream: {which}")
            for name, a, b in zip(("dx", "dh", "dc", "dweight_ih", "dweight_hh", "dbias"),
                                  got, expected):
                compare(name, a, b, case=case, **_tol(dtype))
                dtype_ok(name, a, dtype, case)
            cases += 1
    return passed("LSTM step backward", cases)


def check_onnx_to_torch(onnx_to_torch):
    """``onnx_to_torch(w)`` takes an LSTM weight or bias whose 4 gate blocks of H rows come in
    ONNX's order i, o, f, c (c: the candidate, torch's g) and returns it in torch's order
    i, f, g, o. ``w``: (4H, K) or (4H,). Checked on random arrays, H = 1, a non-square
    weight, a bias vector, and by running an LSTM: weights ported this way must reproduce
    an LSTM step written in ONNX's order."""
    rng = np.random.default_rng(5)
    cases = 0
    for shape in [(8, 3), (4, 1), (4,), (12, 7), (20,), (12, 3)]:
        hid = shape[0] // 4
        blocks = rng.standard_normal(shape)
        onnx = blocks.copy()                                   # i, o, f, c
        want = np.concatenate([onnx[k * hid:(k + 1) * hid] for k in (0, 2, 3, 1)])
        got = np.asarray(onnx_to_torch(onnx.copy()))
        compare("ported weight", got, want, case=f"shape {shape}, H = {hid}", rtol=0, atol=0)
        cases += 1
    # the behaviour: an ONNX-ordered step against the cell with ported weights
    n, d, hid = 2, 3, 4
    w, r, b = (rng.standard_normal(s) for s in ((4 * hid, d), (4 * hid, hid), (8 * hid,)))
    x, h, c = rng.standard_normal((n, d)), rng.standard_normal((n, hid)), rng.standard_normal(
        (n, hid))
    z = x @ w.T + h @ r.T + b[:4 * hid] + b[4 * hid:]          # ONNX: Wb and Rb, each i o f c
    gi, go, gf, gc = (z[:, k * hid:(k + 1) * hid] for k in range(4))
    sig = lambda a: 1 / (1 + np.exp(-a))                       # noqa: E731
    c_new = sig(gf) * c + sig(gi) * np.tanh(gc)
    h_new = sig(go) * np.tanh(c_new)
    cell = nn.LSTMCell(d, hid)
    cell.weight_ih.data = np.asarray(onnx_to_torch(w.copy()), dtype=float)
    cell.weight_hh.data = np.asarray(onnx_to_torch(r.copy()), dtype=float)
    cell.bias_ih.data = np.asarray(onnx_to_torch(b[:4 * hid].copy()), dtype=float)
    cell.bias_hh.data = np.asarray(onnx_to_torch(b[4 * hid:].copy()), dtype=float)
    got_h, got_c = cell(x, (h, c))
    compare("h' of the ported cell", got_h, h_new, case="an LSTM step, ONNX order vs torch's")
    compare("c' of the ported cell", got_c, c_new, case="an LSTM step, ONNX order vs torch's")
    return passed("ONNX to torch gate order", cases + 1)


def check_gru_reset(wire_reset):
    """``wire_reset(cell)`` sets, in place, the input-side parameters ``weight_ih`` (3H, 2) and
    ``bias_ih`` (3H,) of an ``nn.GRUCell(2, H)`` whose recurrent parameters ``weight_hh`` and
    ``bias_hh`` are given and must stay as they are, so that a one-hot input of two symbols
    does this to any state h in [-1, 1]^H:

    - x = (1, 0), a break: the new state is 0, every entry within 0.01, whatever h was;
    - x = (0, 1), any other step: the state is kept, h' = h within 0.01.

    Checked for H = 1, 4 and 16 with recurrent weights at torch's scale and twice it, on 256
    random states and the two corners +-1 each. Answers that use only the update gate fail
    (the candidate still reads h through W_hn), and so do gates that are not saturated
    enough for the largest recurrent terms."""
    rng = np.random.default_rng(35)
    cases = 0
    for hid in (1, 4, 16):
        for scale in (1.0, 2.0):
            cell = nn.GRUCell(2, hid, rng=rng)
            for p in (cell.weight_hh, cell.bias_hh):
                p.data *= scale
            given = (cell.weight_hh.data.copy(), cell.bias_hh.data.copy())
            wire_reset(cell)
            case = f"H = {hid}, recurrent weights x{scale}"
            for name, p, before in zip(("weight_hh", "bias_hh"), (cell.weight_hh, cell.bias_hh),
                                       given):
                if p.data.shape != before.shape or not np.array_equal(p.data, before):
                    raise AssertionError(f"{name} was changed ({case}): the recurrent "
                                         "parameters are given; set weight_ih and bias_ih only")
            for name, p, shape in (("weight_ih", cell.weight_ih, (3 * hid, 2)),
                                   ("bias_ih", cell.bias_ih, (3 * hid,))):
                if np.shape(p.data) != shape:
                    raise AssertionError(f"{name} has shape {np.shape(p.data)}, expected "
                                         f"{shape} ({case})")
            h = np.concatenate([rng.uniform(-1, 1, (256, hid)), np.ones((1, hid)),
                                -np.ones((1, hid))])                    # (258, H)
            with nn.no_grad():
                cleared = cell(np.tile([1.0, 0.0], (len(h), 1)), h)
                kept = cell(np.tile([0.0, 1.0], (len(h), 1)), h)
            worst = np.abs(cleared).max()
            if not worst < 0.01:
                raise AssertionError(f"after a break the state should be 0, but an entry is "
                                     f"{worst:.3g} away from it ({case}, input (1, 0))")
            worst = np.abs(kept - h).max()
            if not worst < 0.01:
                raise AssertionError(f"without a break the state should be kept, but an entry "
                                     f"moved by {worst:.3g} ({case}, input (0, 1))")
            cases += 1
    return passed("GRU reset wired by hand", cases)


def check_gru_step_backward(gru_step_backward):
    """``gru_step_backward(x, h, weight_ih, weight_hh, bias_ih, bias_hh, grad_h)`` returns
    ``(dx, dh, dweight_ih, dweight_hh, dbias_ih, dbias_hh)`` for one step of torch's GRU
    ``h' = GRUCell(x, h)`` given grad_h = dL/dh'. The two biases' gradients differ in the n
    block: b_hn sits inside the reset gate's product. Shapes as ``nn.GRUCell``'s: x (N, D),
    h (N, H), weight_ih (3H, D), weight_hh (3H, H), biases (3H,). Compared with
    ``nn.GRUCell.backward`` on: D != H, one example, one unit, saturated gates, float32, and a
    large b_hn (an answer that leaves b_hn out of the reset gate's gradient is far off there)."""
    rng = np.random.default_rng(34)
    cases = 0
    for n, d, hid, scale, dtype in _SIZES + [(3, 2, 4, 1.0, np.float64)]:
        cell, (w_ih, w_hh, b_ih, b_hh) = _cell(nn.GRUCell, d, hid, scale, dtype, rng)
        if cases == len(_SIZES):                               # the last: a large b_hn
            b_hh[2 * hid:] = 3.0
            cell.bias_hh.data = b_hh.copy()
        x = rng.standard_normal((n, d)).astype(dtype)
        h = rng.standard_normal((n, hid)).astype(dtype)
        g = rng.standard_normal((n, hid)).astype(dtype)
        cell(x, h)
        dx, dh = cell.backward(g)
        expected = (dx, dh, cell.weight_ih.grad, cell.weight_hh.grad, cell.bias_ih.grad,
                    cell.bias_hh.grad)
        got = gru_step_backward(x.copy(), h.copy(), w_ih.copy(), w_hh.copy(), b_ih.copy(),
                                b_hh.copy(), g.copy())
        if not isinstance(got, tuple | list) or len(got) != 6:
            raise AssertionError("return a tuple (dx, dh, dweight_ih, dweight_hh, dbias_ih, "
                                 "dbias_hh)")
        case = (f"N={n}, D={d}, H={hid}, weights x{scale}, {np.dtype(dtype).name}"
                + (", b_hn = 3" if cases == len(_SIZES) else ""))
        for name, a, b in zip(("dx", "dh", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"),
                              got, expected):
            compare(name, a, b, case=case, **_tol(dtype))
            dtype_ok(name, a, dtype, case)
        cases += 1
    return passed("GRU step backward", cases)
