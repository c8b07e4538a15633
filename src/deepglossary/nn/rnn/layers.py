"""Multi-layer, optionally bidirectional recurrent layers: RNN, LSTM, GRU (torch's twins)."""

from __future__ import annotations

import math

import numpy as np

from deepglossary import init
from deepglossary.nn.core import Layer, Parameter, as_input
from deepglossary.nn.rnn import bptt, kernels
from deepglossary.random import default_rng


def positive_int(value, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def state(value, shape: tuple, dtype, layer: str, what: str) -> np.ndarray:
    """An initial state checked (float dtype, finite, ``shape``) and cast to ``dtype``."""
    value = as_input(value, layer)
    if value.shape != shape:
        raise ValueError(f"{layer} expects {what} of shape {shape}, got shape {value.shape}")
    return value.astype(dtype, copy=False)


class RNNBase(Layer):
    """What RNN, LSTM and GRU share: parameters, shapes, layers and directions.

    Shape (T steps, N sequences, L = num_layers, K = 2 if bidirectional else 1):
        x:    (T, N, input_size), or (N, T, input_size) with ``batch_first=True``
        h0:   (L K, N, hidden_size), row ``l K + k`` for layer l, direction k (0 forward)
        output: (T, N, K hidden_size) (or (N, T, ...)): the last layer's h_t, both directions
            concatenated, forward first
        h_n:  (L K, N, hidden_size), the final state of every layer and direction
        weight_ih_l{l}[_reverse]: (G hidden_size, input_size for l = 0 else K hidden_size)
        weight_hh_l{l}[_reverse]: (G hidden_size, hidden_size)
        bias_ih_l{l}[_reverse], bias_hh_l{l}[_reverse]: (G hidden_size,)
    with G gates (1 RNN, 4 LSTM, 3 GRU). Initialisation is torch's: every parameter
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), drawn from ``rng`` (a Generator or a seed;
    default the package's generator); ``dtype`` is the parameters' dtype, and the layer
    computes in its input's. A 2-D (unbatched) input, which torch accepts, is refused with a
    hint; torch's ``dropout`` and ``proj_size`` are not implemented.
    """

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, *,
                 bias: bool = True, batch_first: bool = False, bidirectional: bool = False,
                 dtype=np.float64, rng=None):
        name = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", name)
        self.hidden_size = positive_int(hidden_size, "hidden_size", name)
        self.num_layers = positive_int(num_layers, "num_layers", name)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.bidirectional = bool(bidirectional)
        rng = default_rng(rng)                       # one generator for every parameter
        gh, bound = kernels.GATES[self.mode] * hidden_size, 1 / math.sqrt(hidden_size)
        self._names = []                             # (w_ih, w_hh, b_ih, b_hh) names, l K + k
        for layer in range(self.num_layers):
            width = input_size if layer == 0 else hidden_size * self._directions
            for suffix in ("", "_reverse")[:self._directions]:
                names = [f"{p}_l{layer}{suffix}" for p in ("weight_ih", "weight_hh")]
                shapes = [(gh, width), (gh, hidden_size)]
                if self.bias:
                    names += [f"{p}_l{layer}{suffix}" for p in ("bias_ih", "bias_hh")]
                    shapes += [(gh,), (gh,)]
                for pname, shape in zip(names, shapes):
                    setattr(self, pname, init.uniform_(
                        Parameter(np.empty(shape, dtype=dtype)), -bound, bound, rng))
                self._names.append(names + [None] * (4 - len(names)))

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _params(self, k: int, dtype):
        """Layer-direction k's (w_ih, w_hh, b_ih, b_hh) in ``dtype`` (biases None w/o bias)."""
        return [None if n is None else getattr(self, n).data.astype(dtype, copy=False)
                for n in self._names[k]]

    def _layout(self, size) -> str:
        return f"(N, T, {size})" if self.batch_first else f"(T, N, {size})"

    def _time_major(self, x) -> np.ndarray:
        name = type(self).__name__
        x = as_input(x, name)
        if x.ndim == 2:
            hint = "x[None]" if self.batch_first else "x[:, None]"
            raise ValueError(f"{name} expects a 3-D input {self._layout(self.input_size)} "
                             f"(batch_first={self.batch_first}), got a 2-D input of shape "
                             f"{x.shape}; for one sequence add a batch axis: {hint}")
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"{name} expects an input of shape {self._layout(self.input_size)} "
                             f"(batch_first={self.batch_first}), got shape {x.shape}")
        return np.ascontiguousarray(x.transpose(1, 0, 2) if self.batch_first else x)

    def _state_shape(self, n: int) -> tuple:
        return (self.num_layers * self._directions, n, self.hidden_size)

    def _run(self, x, h0, c0=None):
        """Forward through every layer and direction; x (T, N, D) time-major."""
        t_len, n, _ = x.shape
        shape = self._state_shape(n)
        zero = np.zeros(shape[1:], dtype=x.dtype)
        h_n = np.empty(shape, dtype=x.dtype)
        c_n = np.empty(shape, dtype=x.dtype) if self.mode == "LSTM" else None
        caches, layer_in = [], x
        for layer in range(self.num_layers):
            outs = []
            for d in range(self._directions):
                k = layer * self._directions + d
                out, h_n[k], ck, cache = kernels.forward(
                    self.mode, layer_in, zero if h0 is None else h0[k],
                    None if c_n is None else (zero if c0 is None else c0[k]),
                    *self._params(k, x.dtype), reverse=d == 1)
                if c_n is not None:
                    c_n[k] = ck
                outs.append(out)
                caches.append(cache)
            layer_in = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=2)  # (T, N, K H)
        output = layer_in.transpose(1, 0, 2) if self.batch_first else layer_in
        self._cache = (caches, x.shape)
        return output.copy(), h_n, c_n            # copy: the caches keep the states

    def _run_backward(self, grad_output, grad_h_n, grad_c_n=None):
        caches, (t_len, n, d_in) = self._saved()
        name, dtype = type(self).__name__, caches[0]["pre"].dtype
        hid, kdir = self.hidden_size, self._directions
        out_shape = (n, t_len, kdir * hid) if self.batch_first else (t_len, n, kdir * hid)
        g = self._check_grad(grad_output, out_shape, name).astype(dtype, copy=False)
        g = g.transpose(1, 0, 2) if self.batch_first else g                    # (T, N, K H)
        shape = self._state_shape(n)
        g_hn, g_cn = (np.zeros(shape, dtype) if a is None else
                      self._check_grad(a, shape, f"{name} (gradient of {what})").astype(dtype)
                      for a, what in ((grad_h_n, "h_n"), (grad_c_n, "c_n")))
        dh0 = np.empty(shape, dtype=dtype)
        dc0 = np.empty(shape, dtype=dtype) if self.mode == "LSTM" else None
        for layer in reversed(range(self.num_layers)):
            dx = None
            for d in range(kdir):
                k = layer * kdir + d
                dxk, dh0[k], dck, grads = bptt.backward(
                    caches[k], g[..., d * hid:(d + 1) * hid], g_hn[k], g_cn[k])
                if dc0 is not None:
                    dc0[k] = dck
                for pname, grad in zip(self._names[k], grads):
                    if pname is not None:
                        getattr(self, pname).accumulate(grad)
                if dx is None:
                    dx = dxk
                else:
                    dx += dxk                           # both directions read the same input
            g = dx                                      # the gradient of layer - 1's output
        dx = g.transpose(1, 0, 2) if self.batch_first else g
        return np.ascontiguousarray(dx), dh0, dc0

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        for flag, default in (("bias", True), ("batch_first", False), ("bidirectional", False)):
            if getattr(self, flag) != default:
                text += f", {flag}={getattr(self, flag)}"
        return text


class _HiddenStateOnly(RNNBase):
    """forward(x, h0=None) -> (output, h_n); backward(grad_output, grad_h_n=None) -> (dx, dh0)."""

    def forward(self, x, hx=None):
        x = self._time_major(x)
        h0 = None if hx is None else state(hx, self._state_shape(x.shape[1]), x.dtype,
                                           type(self).__name__, "h0")
        output, h_n, _ = self._run(x, h0)
        return output, h_n

    def backward(self, grad_output, grad_h_n=None):
        """Backpropagation through time. ``grad_h_n=None`` means h_n was not used (zeros).
        Returns ``(dx, dh0)``: dh0 (the initial state's gradient) also when no h0 was given,
        the gradient with respect to the zero state then used."""
        dx, dh0, _ = self._run_backward(grad_output, grad_h_n)
        return dx, dh0


class RNN(_HiddenStateOnly):
    """The Elman recurrent layer, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or
    relu). PyTorch twin: ``torch.nn.RNN`` (no inter-layer dropout).

    ``forward(x, h0=None) -> (output, h_n)``; ``backward(grad_output, grad_h_n=None) ->
    (dx, dh0)``. Shapes: see :class:`RNNBase` (G = 1).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, *,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 bidirectional: bool = False, dtype=np.float64, rng=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias=bias,
                         batch_first=batch_first, bidirectional=bidirectional, dtype=dtype,
                         rng=rng)


class GRU(_HiddenStateOnly):
    """The gated recurrent unit (Cho et al., 2014), torch's variant. PyTorch twin:
    ``torch.nn.GRU`` (no inter-layer dropout). Gates r, z, n in that order:

        r = sigma(W_ir x + b_ir + W_hr h + b_hr),  z = sigma(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h

    the reset gate multiplying ``W_hn h + b_hn`` (the paper applies it to h before W_hn).
    ``forward(x, h0=None) -> (output, h_n)``; ``backward(grad_output, grad_h_n=None) ->
    (dx, dh0)``. Shapes: see :class:`RNNBase` (G = 3).
    """

    mode = "GRU"


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997, with the forget gate of Gers et
    al., 2000). PyTorch twin: ``torch.nn.LSTM`` (no dropout, no proj_size). Gates i, f, g, o:

        i, f, o = sigma(W_i* x + b_i* + W_h* h + b_h*),  g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        c' = f * c + i * g,  h' = o * tanh(c')

    ``forward(x, hx=None) -> (output, (h_n, c_n))`` with ``hx = (h0, c0)`` as in torch;
    ``backward(grad_output, grad_h_n=None, grad_c_n=None) -> (dx, dh0, dc0)``. Shapes: see
    :class:`RNNBase` (G = 4); c0 and c_n are shaped like h0.
    """

    mode = "LSTM"

    def forward(self, x, hx=None):
        x = self._time_major(x)
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                got = (f"a {type(hx).__name__} of length {len(hx)}"
                       if isinstance(hx, tuple | list) else type(hx).__name__)
                raise ValueError(f"LSTM expects the initial state as a pair hx = (h0, c0), "
                                 f"got {got}")
            shape = self._state_shape(x.shape[1])
            h0 = state(hx[0], shape, x.dtype, "LSTM", "h0")
            c0 = state(hx[1], shape, x.dtype, "LSTM", "c0")
        output, h_n, c_n = self._run(x, h0, c0)
        return output, (h_n, c_n)

    def backward(self, grad_output, grad_h_n=None, grad_c_n=None):
        """Backpropagation through time; a ``None`` gradient means that output was not used.
        Returns ``(dx, dh0, dc0)`` (also when no hx was given: the zero state's gradients)."""
        return self._run_backward(grad_output, grad_h_n, grad_c_n)
