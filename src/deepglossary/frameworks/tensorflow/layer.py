"""A graph as a package Layer (for ``verify.against_torch``), and the same graph run by torch.

``GraphLayer(build, parameters)``: ``build(*inputs, **variables) -> output`` writes a model
with this package's ops; ``parameters`` maps names to arrays. For each dtype the layer builds
one graph (placeholders for the inputs, a Variable per parameter), plus the gradient nodes of
the output with respect to every input and variable, for an upstream gradient fed through a
placeholder. ``forward`` and ``backward`` are two ``Session.run`` calls.

``run_in_torch(fetches, feeds)`` evaluates the *same graph nodes* with torch operations; with
``requires_grad`` leaves torch's autograd then differentiates them, independently of our
gradient rules. ``torch_twin(layer)`` wraps that as a ``torch.nn.Module`` with the layer's
parameter names. torch is imported inside the functions only.
"""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.tensorflow import ops
from deepglossary.frameworks.tensorflow.gradients import gradients
from deepglossary.frameworks.tensorflow.graph import Graph, ancestors
from deepglossary.frameworks.tensorflow.session import (
    Session,
    Variable,
    global_variables_initializer,
)
from deepglossary.nn.core import Layer, Parameter


class GraphLayer(Layer):
    """A model written as a graph, seen as a Layer: inputs (N, ...) -> build's output.
    Parameters are named as in ``parameters``; each is fed into its Variable on every run.
    PyTorch counterpart: the ``torch.nn.Module`` that :func:`torch_twin` returns."""

    def __init__(self, build, parameters: dict, n_inputs: int = 1):
        self.build, self.n_inputs = build, n_inputs
        for name, value in parameters.items():
            setattr(self, name, Parameter(value))
        self._names = list(parameters)
        self._graphs = {}

    def named_parameters(self, prefix=""):
        return [(prefix + n, getattr(self, n)) for n in self._names]

    def graph_for(self, dtype, shapes):
        """(graph, input placeholders, variables by name, output, grad placeholder, grads)."""
        key = (np.dtype(dtype).str, tuple(len(s) for s in shapes))
        if key not in self._graphs:
            graph = Graph()
            with graph.as_default():
                xs = [ops.placeholder(dtype, (None,) * len(s), name=f"x{k}")
                      for k, s in enumerate(shapes)]
                variables = {n: Variable(getattr(self, n).data.astype(dtype), name=n)
                             for n in self._names}
                out = self.build(*xs, **variables)
                g = ops.placeholder(dtype, out.shape, name="grad_output")
                grads = gradients(out, xs + list(variables.values()), grad_ys=g)
                grads = [ops.zeros_like(t) if d is None else d
                         for t, d in zip(xs + list(variables.values()), grads)]
                session = Session(graph)
                session.run(global_variables_initializer())
            self._graphs[key] = (graph, xs, variables, out, g, grads, session)
        return self._graphs[key]

    def _feed(self, xs, variables, inputs, dtype):
        feed = dict(zip(xs, inputs))
        feed.update({v: getattr(self, n).data.astype(dtype) for n, v in variables.items()})
        return feed

    def forward(self, *inputs):
        if len(inputs) != self.n_inputs:
            raise TypeError(f"expected {self.n_inputs} inputs, got {len(inputs)}")
        inputs = [np.asarray(x) for x in inputs]
        dtype = inputs[0].dtype
        _, xs, variables, out, _, _, session = self.graph_for(dtype, [x.shape for x in inputs])
        self._cache = inputs
        return session.run(out, self._feed(xs, variables, inputs, dtype))

    def backward(self, grad_output):
        inputs = self._cache
        dtype = inputs[0].dtype
        _, xs, variables, _, g, grads, session = self.graph_for(dtype, [x.shape for x in inputs])
        feed = self._feed(xs, variables, inputs, dtype)
        feed[g] = np.asarray(grad_output, dtype=dtype)
        found = session.run(grads, feed)
        for name, grad in zip(self._names, found[len(xs):]):
            getattr(self, name).accumulate(grad)                    # dL/dtheta, theta's shape
        input_grads = found[:len(xs)]
        return input_grads[0] if len(xs) == 1 else tuple(input_grads)


# ------------------------------------------------------------------ the graph run by torch
def _torch_kernels(torch):
    def axes(a, x):
        return tuple(range(x.dim())) if a["axis"] is None else ops._axes(a["axis"], x.dim())

    def sum_to(g, x):
        lead = g.dim() - x.dim()
        if lead:
            g = g.sum(dim=tuple(range(lead)))
        stretched = tuple(i for i, d in enumerate(x.shape) if d == 1 and g.shape[i] != 1)
        return g.sum(dim=stretched, keepdim=True) if stretched else g

    def broadcast_to(v, a):
        g, x = v
        if not a["keepdims"]:
            for i in axes(a, x):
                g = g.unsqueeze(i)
        g = g.expand(x.shape)
        n = int(np.prod([x.shape[i] for i in axes(a, x)]))
        return g / n if a["mean"] else g

    def matmul(v, a):
        x = v[0].T if a["transpose_a"] else v[0]
        return x @ (v[1].T if a["transpose_b"] else v[1])

    return {
        "MatMul": matmul,
        "Add": lambda v, a: v[0] + v[1], "Sub": lambda v, a: v[0] - v[1],
        "Mul": lambda v, a: v[0] * v[1], "RealDiv": lambda v, a: v[0] / v[1],
        "Neg": lambda v, a: -v[0], "Relu": lambda v, a: torch.relu(v[0]),
        "Step": lambda v, a: (v[0] > 0).to(v[0].dtype),
        "Sigmoid": lambda v, a: torch.sigmoid(v[0]), "Tanh": lambda v, a: torch.tanh(v[0]),
        "Exp": lambda v, a: torch.exp(v[0]), "Log": lambda v, a: torch.log(v[0]),
        "Square": lambda v, a: torch.square(v[0]),
        "Sum": lambda v, a: v[0].sum(dim=axes(a, v[0]), keepdim=a["keepdims"]),
        "Mean": lambda v, a: v[0].mean(dim=axes(a, v[0]), keepdim=a["keepdims"]),
        "BroadcastTo": broadcast_to,
        "SumLike": lambda v, a: sum_to(v[0], v[1]),
        "BroadcastLike": lambda v, a: v[0].expand(v[1].shape),
        "Transpose": lambda v, a: v[0].T,
        "Softmax": lambda v, a: torch.softmax(v[0], -1),
        "LogSoftmax": lambda v, a: torch.log_softmax(v[0], -1),
        "SoftmaxCrossEntropyWithLogits": lambda v, a: torch.nn.functional.cross_entropy(
            v[1], v[0], reduction="none"),
        "ExpandDims": lambda v, a: v[0].unsqueeze(a["axis"]),
        "Squeeze": lambda v, a: v[0].squeeze(a["axis"]),
        "OnesLike": lambda v, a: torch.ones_like(v[0]),
        "ZerosLike": lambda v, a: torch.zeros_like(v[0]),
        "Identity": lambda v, a: v[0],
    }


def run_in_torch(fetches, feeds: dict):
    """Evaluate the tensors ``fetches`` (a list) with torch ops; ``feeds`` maps every
    placeholder and variable they need to a torch tensor. Constants become tensors of their
    own dtype. Returns a list of torch tensors, differentiable by torch's autograd."""
    import torch

    kernels = _torch_kernels(torch)
    values = {id(t): v for t, v in feeds.items()}
    device = next(iter(feeds.values())).device if feeds else "cpu"
    for op in ancestors(fetches, stop=list(feeds)):
        out = op.outputs[0]
        if id(out) in values:
            continue
        if op.type == "Const":
            values[id(out)] = torch.as_tensor(op.attrs["value"], device=device)
        elif op.type in ("Placeholder", "VariableV2"):
            raise ValueError(f"run_in_torch needs a value for {op.name}")
        else:
            values[id(out)] = kernels[op.type]([values[id(i)] for i in op.inputs], op.attrs)
    return [values[id(f)] for f in fetches]


def torch_twin(layer: GraphLayer):
    """A ``torch.nn.Module`` with the layer's parameter names whose forward runs the layer's
    graph (for the input's dtype) with torch ops, for ``against_torch``."""
    import torch

    class Twin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name, p in layer.named_parameters():
                self.register_parameter(name, torch.nn.Parameter(torch.as_tensor(p.data)))

        def forward(self, *inputs):
            dtype = {torch.float64: np.float64, torch.float32: np.float32}[inputs[0].dtype]
            _, xs, variables, out, *_ = layer.graph_for(dtype, [x.shape for x in inputs])
            feeds = dict(zip(xs, inputs))
            feeds.update({v: getattr(self, n) for n, v in variables.items()})
            return run_in_torch([out], feeds)[0]

    return Twin()
