"""One step of a recurrent layer: RNNCell, LSTMCell, GRUCell (torch's twins).

A cell is the layer's kernel run over a sequence of length one, so the two can never disagree.
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary import init
from deepglossary.nn.core import Layer, Parameter, as_input
from deepglossary.nn.rnn import bptt, kernels
from deepglossary.nn.rnn.layers import positive_int, state
from deepglossary.random import default_rng


class RNNCellBase(Layer):
    """Parameters and checks the three cells share.

    Shape (N sequences, G gates: 1 RNN, 4 LSTM, 3 GRU):
        x: (N, input_size);  h, c: (N, hidden_size)
        weight_ih: (G hidden_size, input_size);  weight_hh: (G hidden_size, hidden_size)
        bias_ih, bias_hh: (G hidden_size,)
    Initialisation is torch's: every parameter U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype=np.float64, rng=None):
        name = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", name)
        self.hidden_size = positive_int(hidden_size, "hidden_size", name)
        self.bias = bool(bias)
        rng = default_rng(rng)
        gh, bound = kernels.GATES[self.mode] * hidden_size, 1 / math.sqrt(hidden_size)
        shapes = {"weight_ih": (gh, input_size), "weight_hh": (gh, hidden_size)}
        if self.bias:
            shapes.update(bias_ih=(gh,), bias_hh=(gh,))
        for pname, shape in shapes.items():
            setattr(self, pname, init.uniform_(Parameter(np.empty(shape, dtype=dtype)),
                                               -bound, bound, rng))

    def _step(self, x, h, c=None):
        name = type(self).__name__
        x = as_input(x, name)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{name} expects an input of shape (N, {self.input_size}), got "
                             f"shape {x.shape}" + ("; for one example use x[None]"
                                                   if x.ndim == 1 else ""))
        shape = (x.shape[0], self.hidden_size)
        zero = np.zeros(shape, dtype=x.dtype)
        h = zero if h is None else state(h, shape, x.dtype, name, "h")
        c = None if self.mode != "LSTM" else (zero if c is None else
                                              state(c, shape, x.dtype, name, "c"))
        params = [getattr(self, p).data.astype(x.dtype, copy=False) if self.bias or
                  p.startswith("weight") else None
                  for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        _, h_new, c_new, cache = kernels.forward(self.mode, x[None], h, c, *params)
        self._cache = cache
        return h_new, c_new

    def _step_backward(self, grad_h, grad_c=None):
        cache = self._saved()
        name, dtype = type(self).__name__, cache["pre"].dtype
        shape = cache["hs"].shape[1:]
        g_h = self._check_grad(grad_h, shape, name).astype(dtype, copy=False)
        g_c = (np.zeros(shape, dtype) if grad_c is None else
               self._check_grad(grad_c, shape, f"{name} (gradient of c)").astype(dtype))
        dx, dh, dc, grads = bptt.backward(cache, g_h[None], np.zeros(shape, dtype), g_c)
        for pname, grad in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), grads):
            if grad is not None:
                getattr(self, pname).accumulate(grad)
        return dx[0], dh, dc

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text + (", nonlinearity='relu'" if self.mode == "RNN_RELU" else "")


class RNNCell(RNNCellBase):
    """One Elman step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). PyTorch twin:
    ``torch.nn.RNNCell``. ``forward(x, h=None) -> h'``; ``backward(grad_h) -> (dx, dh)``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", *, dtype=np.float64, rng=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', "
                             f"got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, dtype=dtype, rng=rng)

    def forward(self, x, hx=None):
        return self._step(x, hx)[0]

    def backward(self, grad_output):
        dx, dh, _ = self._step_backward(grad_output)
        return dx, dh


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n; the reset gate multiplies W_hn h + b_hn). PyTorch twin:
    ``torch.nn.GRUCell``. ``forward(x, h=None) -> h'``; ``backward(grad_h) -> (dx, dh)``."""

    mode = "GRU"

    def forward(self, x, hx=None):
        return self._step(x, hx)[0]

    def backward(self, grad_output):
        dx, dh, _ = self._step_backward(grad_output)
        return dx, dh


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o). PyTorch twin: ``torch.nn.LSTMCell``.
    ``forward(x, hx=None) -> (h', c')`` with ``hx = (h, c)``;
    ``backward(grad_h, grad_c=None) -> (dx, dh, dc)``."""

    mode = "LSTM"

    def forward(self, x, hx=None):
        h = c = None
        if hx is not None:
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise ValueError("LSTMCell expects the state as a pair hx = (h, c), got "
                                 f"{type(hx).__name__}")
            h, c = hx
        return self._step(x, h, c)

    def backward(self, grad_h, grad_c=None):
        return self._step_backward(grad_h, grad_c)
