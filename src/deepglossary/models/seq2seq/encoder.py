"""The encoder's masked run: each sequence's final state is its state at its own last token.

The package's recurrent layers have no packed sequences. With the padding at the end, a
unidirectional layer's *outputs* at real positions never see the pads, but its final state
h_n (and, for the LSTM, c_n, which no output exposes) is taken after the pads. So the encoder
runs the layer's own kernels (``nn.rnn.kernels.forward`` and ``nn.rnn.bptt.backward``, the
code every ``nn.GRU``/``nn.LSTM`` runs) one step at a time, and a pad leaves the state as it
was:

    s_t = m_t * step(x_t, s_{t-1}) + (1 - m_t) * s_{t-1},   m_t = [t < length]

for every layer and for both h and c. After the last step, s_{S-1} is each sequence's state
at its own last token, for every layer: what torch's ``pack_padded_sequence`` gives. The
backward pass is the adjoint of that line:

    d step-output = m_t * ds_t,   ds_{t-1} = (1 - m_t) * ds_t + (the step's own d s_{t-1})

so a pad passes the gradient through untouched and adds nothing to any parameter.

The output at a pad position is the state carried over (torch's ``pad_packed_sequence``
writes zeros there); attention masks those positions, so they never reach the loss.
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.rnn import bptt, kernels


def run(rnn, x, lengths, hx=None):
    """Run a unidirectional package layer ``rnn`` (``nn.GRU``/``nn.LSTM``/``nn.RNN``, its
    parameters; its ``batch_first`` is ignored) over a padded batch, masked.

    Shape (N sequences, S steps, D inputs, H hidden units, L layers):
        x: (N, S, D) batch first;  lengths: (N,) ints in [1, S]
        hx: None, h0 (L, N, H), or (h0, c0) for the LSTM
        returns output (N, S, H) (the top layer), h_n (L, N, H), c_n (L, N, H) or None, and
        the cache for :func:`run_backward`
    """
    mode = rnn.mode
    n, s, _ = x.shape
    layers, hid, dtype = rnn.num_layers, rnn.hidden_size, x.dtype
    h0, c0 = (hx if isinstance(hx, tuple) else (hx, None)) if hx is not None else (None, None)
    zeros = np.zeros((layers, n, hid), dtype=dtype)
    h0 = zeros if h0 is None else h0
    c0 = (zeros if c0 is None else c0) if mode == "LSTM" else None
    mask = (np.arange(s)[:, None] < np.asarray(lengths)[None, :])[..., None]   # (S, N, 1)
    h_n = np.empty((layers, n, hid), dtype=dtype)
    c_n = np.empty((layers, n, hid), dtype=dtype) if mode == "LSTM" else None
    layer_in = np.ascontiguousarray(x.transpose(1, 0, 2))                    # (S, N, D)
    caches = []
    for layer in range(layers):
        params = rnn._params(layer, dtype)              # (w_ih, w_hh, b_ih, b_hh) in dtype
        h = h0[layer]                                                         # (N, H)
        c = None if c0 is None else c0[layer]
        outs = np.empty((s, n, hid), dtype=dtype)                             # (S, N, H)
        steps = []
        for t in range(s):
            _, h_new, c_new, cache = kernels.forward(mode, layer_in[t:t + 1], h, c, *params)
            h = np.where(mask[t], h_new, h)             # a pad keeps the state (N, H)
            if c is not None:
                c = np.where(mask[t], c_new, c)
            outs[t] = h
            steps.append(cache)
        caches.append(steps)
        h_n[layer] = h
        if c_n is not None:
            c_n[layer] = c
        layer_in = outs                                 # the next layer reads these
    output = np.ascontiguousarray(layer_in.transpose(1, 0, 2))                # (N, S, H)
    return output, h_n, c_n, (caches, mask, x.shape, mode)


def run_backward(rnn, cache, grad_output, grad_h_n, grad_c_n=None):
    """The adjoint of :func:`run`: accumulates every parameter's gradient into ``rnn``.

    Shape: grad_output (N, S, H) or None (output unused); grad_h_n, grad_c_n (L, N, H) or
    None. Returns dx (N, S, D), dh0 (L, N, H) and dc0 (L, N, H) or None.
    """
    caches, mask, (n, s, d_in), mode = cache
    layers, hid = rnn.num_layers, rnn.hidden_size
    dtype = caches[0][0]["pre"].dtype
    zero = np.zeros((n, hid), dtype=dtype)
    g = (np.zeros((s, n, hid), dtype) if grad_output is None
         else grad_output.astype(dtype, copy=False).transpose(1, 0, 2))      # (S, N, H)
    dh0 = np.empty((layers, n, hid), dtype=dtype)
    dc0 = np.empty((layers, n, hid), dtype=dtype) if mode == "LSTM" else None
    lstm = mode == "LSTM"
    for layer in reversed(range(layers)):
        dh = zero.copy() if grad_h_n is None else grad_h_n[layer].astype(dtype)   # (N, H)
        dc = None
        if lstm:
            dc = zero.copy() if grad_c_n is None else grad_c_n[layer].astype(dtype)
        width = d_in if layer == 0 else hid
        dx = np.empty((s, n, width), dtype=dtype)       # the gradient of this layer's input
        total = [None] * 4                              # dW_ih, dW_hh, db_ih, db_hh
        for t in reversed(range(s)):
            dh = dh + g[t]                              # dL/ds_t: its output and the future
            m = mask[t]                                 # (N, 1)
            dc_step = dc * m if lstm else zero          # the step's share: m ds_t
            dxt, dprev, dcprev, grads = bptt.backward(caches[layer][t], (dh * m)[None], zero,
                                                      dc_step)
            dh = dprev + dh * ~m                        # a pad passes ds_t through
            if lstm:
                dc = dcprev + dc * ~m
            dx[t] = dxt[0]
            total = [a if b is None else (b if a is None else a + b)
                     for a, b in zip(total, grads)]
        for pname, grad in zip(rnn._names[layer], total):
            if pname is not None:
                getattr(rnn, pname).accumulate(grad)
        dh0[layer] = dh
        if lstm:
            dc0[layer] = dc
        g = dx                                          # into the layer below's outputs
    return np.ascontiguousarray(g.transpose(1, 0, 2)), dh0, dc0

