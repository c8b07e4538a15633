"""A network layer by layer: output shapes, parameters and multiply-accumulates.

``summary(model, input_shape)`` runs one forward pass (under ``no_grad``, in evaluation mode,
on a seeded random input) and records every layer call, containers included. What is counted:

- parameters: each layer's own ``Parameter`` objects (a tied parameter once, where it first
  appears), summed over a container's subtree;
- multiply-accumulates (MACs) per example: a convolution does ``C_in / groups * k_h * k_w`` of
  them for each of its output values, an affine layer ``in_features`` for each; normalisation,
  pooling, activations and additions are not counted, as in the published tables of these
  networks (they are a few percent of the total).

PyTorch has no twin in its core; ``torchinfo.summary`` is the closest.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from deepglossary.nn.affine import Affine
from deepglossary.nn.conv import Conv2d
from deepglossary.nn.core import Layer, Parameter, no_grad


@dataclass
class Row:
    """One layer call: ``name`` (dotted, as in ``named_parameters``; "" for the model),
    ``kind`` (class name), ``output_shape`` (without the batch dimension), ``params`` and
    ``macs`` (per example) of the layer and everything inside it, ``depth`` (dots + 1)."""

    name: str
    kind: str
    output_shape: tuple
    params: int
    macs: int
    depth: int
    leaf: bool


def named_layers(model: Layer, prefix: str = ""):
    """``(dotted name, layer)`` for the model and every layer inside it, parents first."""
    yield prefix, model
    for name, child in model.named_children():
        yield from named_layers(child, f"{prefix}.{name}" if prefix else name)


def _macs(layer: Layer, shape: tuple) -> int:
    """Multiply-accumulates of one example through ``layer``, whose output has ``shape``
    (batch first); 0 for anything but a convolution or an affine layer."""
    if isinstance(layer, Conv2d):
        kh, kw = layer.kernel_size
        per_output = layer.in_channels // layer.groups * kh * kw
        return int(np.prod(shape[1:])) * per_output
    if isinstance(layer, Affine):
        rows = int(np.prod(shape[1:-1])) if len(shape) > 1 else 1
        return rows * layer.in_features * layer.out_features
    return 0


@contextlib.contextmanager
def _recording(calls: dict):
    """Patch ``Layer.__call__`` so that every call's output shape is recorded by layer id;
    the first call of a layer counts."""
    original = Layer.__call__

    def record(self, *inputs):
        out = original(self, *inputs)
        if id(self) not in calls:
            calls[id(self)] = tuple(np.shape(out))
        return out

    Layer.__call__ = record
    try:
        yield
    finally:
        Layer.__call__ = original


class Summary:
    """The table ``summary`` returns: ``rows`` (:class:`Row`, model first, then every layer in
    definition order), ``total_params``, ``total_macs``, ``input_shape``."""

    def __init__(self, rows: list[Row], input_shape: tuple):
        self.rows, self.input_shape = rows, tuple(input_shape)
        self.total_params = rows[0].params
        self.total_macs = rows[0].macs

    def leaves(self) -> list[Row]:
        """The layers without children: convolutions, activations, poolings, ..."""
        return [r for r in self.rows if r.leaf]

    def grouped(self, depth: int = 1) -> list[Row]:
        """The layers ``depth`` levels below the model (``depth=1``: its direct children, e.g.
        ``features``, ``avgpool``, ``classifier``; ``depth=2``: ``features.0``, ...), each with
        the totals of its subtree, plus shallower leaves."""
        return [r for r in self.rows[1:] if r.depth == depth or (r.leaf and r.depth < depth)]

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no layer named {name!r}; names look like {self.rows[1].name!r}")

    def table(self, rows=None) -> list[tuple]:
        """``(name, type, output shape, parameters, MACs)`` tuples, for printing or pandas."""
        rows = self.leaves() if rows is None else rows
        return [(r.name, r.kind, r.output_shape, r.params, r.macs) for r in rows]

    def _lines(self, rows) -> list[str]:
        head = ("layer", "type", "output shape", "parameters", "MACs")
        body = [(r.name, r.kind, "x".join(map(str, r.output_shape)), f"{r.params:,}",
                 f"{r.macs:,}") for r in rows]
        body.append(("total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}"))
        widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
        fmt = lambda cells: "  ".join(  # noqa: E731
            str(c).ljust(w) if i < 3 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths)))
        return [fmt(head), *map(fmt, body)]

    def to_string(self, depth: int | None = None) -> str:
        """The table as text: every leaf layer, or the layers at ``depth`` (see ``grouped``)."""
        rows = self.leaves() if depth is None else self.grouped(depth)
        return "\n".join(self._lines(rows))

    def __str__(self) -> str:
        return self.to_string()

    def _repr_html_(self, depth: int | None = None) -> str:
        rows = self.leaves() if depth is None else self.grouped(depth)
        cells = "".join(
            f"<tr><td><code>{r.name}</code></td><td>{r.kind}</td>"
            f"<td>{' × '.join(map(str, r.output_shape))}</td>"
            f"<td style='text-align:right'>{r.params:,}</td>"
            f"<td style='text-align:right'>{r.macs:,}</td></tr>" for r in rows)
        return ("<table><thead><tr><th>layer</th><th>type</th><th>output shape</th>"
                "<th>parameters</th><th>MACs</th></tr></thead><tbody>" + cells +
                f"<tr><td><b>total</b></td><td></td><td></td>"
                f"<td style='text-align:right'><b>{self.total_params:,}</b></td>"
                f"<td style='text-align:right'><b>{self.total_macs:,}</b></td></tr>"
                "</tbody></table>")

    def html(self, depth: int | None = None):
        """An object that displays as the HTML table at ``depth`` in a notebook."""
        summary = self

        class _Html:
            def _repr_html_(self):
                return summary._repr_html_(depth)

        return _Html()


def summary(model: Layer, input_shape, dtype=np.float32, seed: int = 0) -> Summary:
    """Run ``model`` once on a standard normal input of ``input_shape`` (batch dimension
    included, e.g. ``(1, 3, 224, 224)``) and return its :class:`Summary`.

    The forward runs under ``no_grad`` and in evaluation mode (the model's mode is restored),
    so nothing stored for backward changes. Raises ``ValueError`` for a shape the model cannot
    take (the layer's own message).
    """
    if not isinstance(model, Layer):
        raise TypeError(f"summary expects a deepglossary Layer, got {type(model).__name__}")
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) < 2 or min(input_shape) < 1:
        raise ValueError(f"summary expects an input shape with a batch dimension, e.g. "
                         f"(1, 3, 224, 224), got {input_shape}")
    x = np.random.default_rng(seed).standard_normal(input_shape).astype(dtype)
    modes = {id(layer): layer.training for _, layer in named_layers(model)}
    calls: dict = {}
    model.eval()
    try:
        with no_grad(), _recording(calls):
            model(x)
    finally:
        for _, layer in named_layers(model):
            layer.training = modes[id(layer)]
    layers = list(named_layers(model))
    seen: set = set()
    own, macs = {}, {}
    for name, layer in layers:
        own[name] = _own_params_direct(layer, seen)
        shape = calls.get(id(layer))
        macs[name] = _macs(layer, shape) if shape is not None and _is_leaf(layer) else 0
    rows = []
    for name, layer in layers:
        inside = [n for n, _ in layers if n == name or name == "" or n.startswith(name + ".")]
        shape = calls.get(id(layer), (None,))[1:]
        rows.append(Row(name, type(layer).__name__, shape, sum(own[n] for n in inside),
                        sum(macs[n] for n in inside), 0 if name == "" else name.count(".") + 1,
                        _is_leaf(layer)))
    return Summary(rows, input_shape)


def _is_leaf(layer: Layer) -> bool:
    return next(iter(layer.named_children()), None) is None


def _own_params_direct(layer: Layer, seen: set) -> int:
    """Parameters held directly by ``layer`` (not by its children), each counted once."""
    total = 0
    for value in vars(layer).values():
        if isinstance(value, Parameter) and id(value) not in seen:
            seen.add(id(value))
            total += value.data.size
    return total
