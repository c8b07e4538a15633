"""The Neural Turing Machine of Graves, Wayne and Danihelka (2014), on the autograd engine.

A controller (an LSTM cell, or a one-layer feed-forward network) reads an input vector and
the previous read vector and emits, through two linear maps, the parameters of one write head
and of the read heads. Each head finds its weighting over the ``S`` memory slots in four steps
(the paper's equations 5 to 9): content addressing (cosine similarity, key strength beta,
softmax), interpolation with the head's previous weighting (gate g), a circular convolution
with a shift distribution s over the offsets -1, 0, +1, and sharpening (gamma >= 1). The write
head erases (e) and adds (a) (equations 3 and 4); each read head returns the weighted sum of
the slots (equation 2). The output is a linear map of the controller state and the reads.

Every operation is a primitive of :mod:`deepglossary.autograd` (hand-derived backwards, each
gradient-checked), so the backward pass through the whole sequence is the engine's.
The torch twin, written from the same equations, is :func:`deepglossary.twins.ntm.ntm_twin`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepglossary.autograd import (
    Tensor,
    bmm,
    circular_convolution,
    concat,
    cosine_similarity,
    sharpen,
    sigmoid,
    softmax,
    softplus,
)
from deepglossary.nn.core import Layer, Parameter, as_input, check_float_dtype, is_grad_enabled

MEMORY_INIT = 1e-6      # every memory entry at the start (Collier and Beel, 2018: a constant)


class Params(Layer):
    """A holder of parameters named like a torch module's (``weight``, ``bias``, or an LSTM
    cell's ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``), drawn uniformly from
    +-1/sqrt(fan_in) as torch initialises ``nn.Linear`` and ``nn.LSTMCell``."""

    def __init__(self, shapes: dict, fan_in: int, rng, dtype):
        bound = 1.0 / np.sqrt(fan_in)
        for name, shape in shapes.items():
            setattr(self, name, Parameter(rng.uniform(-bound, bound, shape).astype(dtype)))

    def forward(self, *inputs):
        raise TypeError("Params only holds parameters; the NTM uses them")


@dataclass
class State:
    """What the machine carries from one step to the next (Tensors; N the batch)."""

    h: Tensor          # (N, H) controller output
    c: Tensor | None   # (N, H) LSTM cell state (None for a feed-forward controller)
    memory: Tensor     # (N, S, W)
    reads: Tensor      # (N, R*W) the read vectors, side by side
    w_read: list       # R tensors (N, S): each read head's weighting
    w_write: Tensor    # (N, S) the write head's weighting


class NTM(Layer):
    """A Neural Turing Machine. PyTorch has none; twin: :func:`deepglossary.twins.ntm.ntm_twin`.

    Args:
        input_size, output_size: features of each input and output vector.
        hidden_size: the controller's width H.
        memory_slots, memory_width: the memory's shape S x W.
        num_reads: read heads R (one write head).
        controller: ``"lstm"`` (an LSTM cell, torch's gate order) or ``"feedforward"``
            (h = tanh(W [x; r] + b)).
        dtype: float64 or float32, of every parameter.
        rng: a NumPy Generator or seed for the initial weights.

    ``forward(x)``: x (N, T, input_size) -> logits (N, T, output_size). The weightings of every
    step are kept in ``self.history`` (arrays ``"read"`` (R, N, T, S), ``"write"`` (N, T, S),
    the write head's ``"erase"`` and ``"add"`` (N, T, W), and the read heads' interpolation
    gates ``"read_gate"`` and key strengths ``"read_strength"`` (R, N, T)).
    ``backward(grad_output)``: (N, T, output_size) -> dL/dx (N, T, input_size); fills every
    parameter's ``.grad``.
    """

    def __init__(self, input_size: int, output_size: int, *, hidden_size: int = 100,
                 memory_slots: int = 128, memory_width: int = 20, num_reads: int = 1,
                 controller: str = "lstm", dtype=np.float64, rng=None):
        for name, value in [("input_size", input_size), ("output_size", output_size),
                            ("hidden_size", hidden_size), ("memory_slots", memory_slots),
                            ("memory_width", memory_width), ("num_reads", num_reads)]:
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ValueError(f"NTM: {name} must be a positive integer, got {value!r}")
        if controller not in ("lstm", "feedforward"):
            raise ValueError(f"NTM: controller must be 'lstm' or 'feedforward', got "
                             f"{controller!r}")
        check_float_dtype(np.dtype(dtype), "NTM", "dtype")
        rng = np.random.default_rng(rng)
        H, S, W, R = hidden_size, memory_slots, memory_width, num_reads
        self.input_size, self.output_size, self.hidden_size = input_size, output_size, H
        self.memory_slots, self.memory_width, self.num_reads = S, W, R
        self.controller_kind = controller
        fan = input_size + R * W                      # the controller sees [x_t; r_{t-1}]
        if controller == "lstm":
            self.controller = Params({"weight_ih": (4 * H, fan), "weight_hh": (4 * H, H),
                                      "bias_ih": (4 * H,), "bias_hh": (4 * H,)}, H, rng, dtype)
        else:
            self.controller = Params({"weight": (H, fan), "bias": (H,)}, fan, rng, dtype)
        # per read head: key (W), beta, g, s (3), gamma; the write head adds erase, add (W each)
        self.read_heads = Params({"weight": (R * (W + 6), H), "bias": (R * (W + 6),)}, H, rng,
                                 dtype)
        self.write_head = Params({"weight": (3 * W + 6, H), "bias": (3 * W + 6,)}, H, rng, dtype)
        self.output = Params({"weight": (output_size, H + R * W), "bias": (output_size,)},
                             H + R * W, rng, dtype)
        self.history: dict = {}

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype (inputs must have it)."""
        return self.output.weight.dtype

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.output_size}, controller={self.controller_kind!r}, "
                f"hidden_size={self.hidden_size}, memory={self.memory_slots}x"
                f"{self.memory_width}, num_reads={self.num_reads}")

    # -- the pieces, on Tensors --------------------------------------------------------
    def initial_state(self, n: int) -> State:
        """Memory filled with a small constant, every head's weighting on slot 0, zero reads
        and controller state (fixed, not learned)."""
        S, W, R, H, dt = (self.memory_slots, self.memory_width, self.num_reads,
                          self.hidden_size, self.dtype)
        focus = np.zeros((n, S), dt)
        focus[:, 0] = 1
        return State(h=Tensor(np.zeros((n, H), dt)),
                     c=Tensor(np.zeros((n, H), dt)) if self.controller_kind == "lstm" else None,
                     memory=Tensor(np.full((n, S, W), MEMORY_INIT, dt)),
                     reads=Tensor(np.zeros((n, R * W), dt)),
                     w_read=[Tensor(focus) for _ in range(R)], w_write=Tensor(focus))

    @staticmethod
    def address(head: Tensor, memory: Tensor, w_prev: Tensor, width: int):
        """One head's weighting from its W + 6 raw parameters ``head`` (N, W+6), the memory
        (N, S, W) and its previous weighting (N, S). Graves et al. (2014), equations 5 to 9."""
        key = head[:, :width]                                   # (N, W)  k
        beta = softplus(head[:, width:width + 1])               # (N, 1)  beta >= 0
        gate = sigmoid(head[:, width + 1:width + 2])            # (N, 1)  g in (0, 1)
        shift = softmax(head[:, width + 2:width + 5])           # (N, 3)  s over -1, 0, +1
        gamma = softplus(head[:, width + 5:width + 6]) + 1.0    # (N, 1)  gamma >= 1
        w_content = softmax(beta * cosine_similarity(key, memory))   # (5), (6)   (N, S)
        w_gated = gate * w_content + (1.0 - gate) * w_prev            # (7)
        w_shifted = circular_convolution(w_gated, shift)              # (8)
        return sharpen(w_shifted, gamma)                              # (9)

    def controller_step(self, x: Tensor, state: State, p: dict):
        """The controller's new (h, c) from x_t (N, I) and the previous reads."""
        inp = concat([x, state.reads], axis=1)                  # (N, I + R W)
        if self.controller_kind == "feedforward":
            return (inp @ p["controller.weight"].T + p["controller.bias"]).tanh(), None
        gates = (inp @ p["controller.weight_ih"].T + p["controller.bias_ih"]
                 + state.h @ p["controller.weight_hh"].T + p["controller.bias_hh"])  # (N, 4H)
        H = self.hidden_size
        i, f = sigmoid(gates[:, :H]), sigmoid(gates[:, H:2 * H])
        g, o = gates[:, 2 * H:3 * H].tanh(), sigmoid(gates[:, 3 * H:])
        c = f * state.c + i * g
        return o * c.tanh(), c

    def step(self, x: Tensor, state: State, p: dict):
        """One time step: x_t (N, I) and the state -> (logits (N, O), new state, the write
        head's erase and add vectors). ``p``: the parameters as Tensors, by name."""
        W, S, R = self.memory_width, self.memory_slots, self.num_reads
        n = x.shape[0]
        h, c = self.controller_step(x, state, p)
        # write: address on the old memory, then erase (3) and add (4)
        wh = h @ p["write_head.weight"].T + p["write_head.bias"]            # (N, 3W + 6)
        w_write = self.address(wh[:, :W + 6], state.memory, state.w_write, W)
        erase, add = sigmoid(wh[:, W + 6:2 * W + 6]), wh[:, 2 * W + 6:].tanh()   # (N, W)
        ww = w_write.reshape(n, S, 1)
        memory = (state.memory * (1.0 - ww * erase.reshape(n, 1, W))
                  + ww * add.reshape(n, 1, W))                              # (N, S, W)
        # read (2), each head addressing the new memory
        rh = h @ p["read_heads.weight"].T + p["read_heads.bias"]            # (N, R (W + 6))
        w_read, reads = [], []
        for j in range(R):
            w = self.address(rh[:, j * (W + 6):(j + 1) * (W + 6)], memory, state.w_read[j], W)
            w_read.append(w)
            reads.append(bmm(w.reshape(n, 1, S), memory).reshape(n, W))    # (N, W)
        reads = concat(reads, axis=1) if R > 1 else reads[0]                # (N, R W)
        logits = concat([h, reads], axis=1) @ p["output.weight"].T + p["output.bias"]
        return logits, State(h, c, memory, reads, w_read, w_write), (erase, add)

    # -- the Layer interface -----------------------------------------------------------
    def forward(self, x):
        x = as_input(x, "NTM")
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"NTM expects x of shape (N, T, {self.input_size}), got "
                             f"{x.shape}")
        if x.dtype != self.dtype:
            raise TypeError(f"NTM holds {self.dtype} parameters and got x of dtype {x.dtype}; "
                            f"convert it, e.g. x.astype(np.{self.dtype})")
        n, steps, _ = x.shape
        p = {name: Tensor(param.data) for name, param in self.named_parameters()}
        xt = Tensor(x)
        state = self.initial_state(n)
        outputs, hist = [], {"read": [], "write": [], "erase": [], "add": [], "read_gate": [],
                             "read_strength": []}
        W, R = self.memory_width, self.num_reads
        w_heads, b_heads = self.read_heads.weight.data, self.read_heads.bias.data
        for t in range(steps):
            logits, state, (erase, add) = self.step(xt[:, t], state, p)
            outputs.append(logits)
            hist["read"].append(np.stack([w.data for w in state.w_read]))
            hist["write"].append(state.w_write.data)
            hist["erase"].append(erase.data)
            hist["add"].append(add.data)
            raw = (state.h.data @ w_heads.T + b_heads).reshape(n, R, W + 6)     # (N, R, W + 6)
            hist["read_gate"].append(1 / (1 + np.exp(-raw[:, :, W + 1].T)))      # (R, N)
            hist["read_strength"].append(np.logaddexp(0, raw[:, :, W].T))        # (R, N)
        out = concat([o.reshape(n, 1, self.output_size) for o in outputs], axis=1)
        self.history = {k: np.stack(v, axis=-1 if k.startswith("read_") else -2)
                        for k, v in hist.items()}
        if is_grad_enabled():
            self._cache = (out, p, xt)
        return out.data

    def backward(self, grad_output):
        out, p, xt = self._saved()
        grad_output = self._check_grad(grad_output, out.shape, "NTM")
        for t in [xt, *p.values()]:
            t.grad = None
        out.backward(grad_output)
        for name, param in self.named_parameters():
            if p[name].grad is not None:
                param.accumulate(p[name].grad)
        self._cache = None
        return xt.grad if xt.grad is not None else np.zeros_like(xt.data)
