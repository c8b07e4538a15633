"""Caffe's ``Net``: named blobs, layers run in file order, ``forward()`` then ``backward()``.

    net = Net(LENET_PROTOTXT, phase="TRAIN", shapes={"data": (1, 28, 28)})
    net.blobs["conv1"].data.shape           # (64, 20, 24, 24)
    net.params["conv1"]                     # [weight (20, 1, 5, 5), bias (20,)]
    net.forward(data=images, label=labels)  # {"loss": ...}
    net.backward()                          # fills every blob's diff and parameter's grad

A *blob* holds ``data`` and ``diff`` (its gradient), NCHW. Each layer reads its bottom blobs and
writes its top blobs; a layer whose top is its bottom (LeNet's ReLU) works in place. Layers with
``include { phase: TEST }`` (or ``exclude``) exist only in that phase. ``Data`` layers stand for
Caffe's database readers: their tops are the arrays given to ``forward`` (times
``transform_param { scale }``); ``Input`` layers declare their shape in ``input_param``.

``backward`` runs the layers in reverse order, starting from each loss top's diff =
``loss_weight`` (1 for SoftmaxWithLoss), and *adds* the gradients of a blob read by several
layers (Caffe inserts ``Split`` layers for that). Parameter gradients land in
``Parameter.grad`` (pycaffe's ``.diff``), overwritten on every backward, as Caffe clears them
each iteration. Counterpart: ``caffe.Net`` (pycaffe); in PyTorch, an ``nn.Module`` whose
``forward`` is the file (see :func:`deepglossary.twins.caffe.torch_twin`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepglossary.frameworks.caffe.layers import LAYERS, CaffeLayer, fail
from deepglossary.frameworks.caffe.prototxt import Message, PrototxtError, parse
from deepglossary.nn.core import Layer, as_input


@dataclass
class Blob:
    """A named array and its gradient, as Caffe's ``Blob`` (``data``, ``diff``)."""

    name: str
    shape: tuple
    data: np.ndarray | None = None
    diff: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Blob({self.name!r}, shape={self.shape})"


class DataLayer(CaffeLayer):
    """``Data`` (tops fed to :meth:`Net.forward`, scaled by ``transform_param { scale }``,
    batch from ``data_param { batch_size }``) and ``Input`` (``input_param { shape { dim } }``)."""

    def __init__(self, spec, shapes, dtype, rng, given: dict):
        super().__init__(spec, shapes, dtype, rng)
        self.type, self.labels = spec.get("type"), []
        transform = spec.get("transform_param")
        self.scale = float(transform.get("scale", 1.0)) if transform is not None else 1.0
        self.dtype = np.dtype(dtype)
        if self.type == "Input":
            param = spec.get("input_param")
            dims = [tuple(s.all("dim")) for s in param.all("shape")] if param is not None else []
            if len(dims) != len(self.tops):
                raise fail(spec, f"Input needs one input_param shape per top ({self.tops}), "
                                 f"got {len(dims)}")
            self.shapes = dims
        else:
            param = spec.get("data_param")
            batch = param.get("batch_size", 1) if param is not None else 1
            if self.tops[0] not in given:
                raise fail(spec, f"a Data layer reads a database; give the shape of an image "
                                 f"{self.tops[0]!r}, e.g. Net(shapes={{'{self.tops[0]}': "
                                 f"(1, 28, 28)}})")
            self.shapes = [(batch, *given[self.tops[0]])] + [(batch,)] * len(self.tops[1:])
            self.labels = self.tops[1:]                   # Caffe's second top: the label

    def top_shapes(self, shapes):
        return self.shapes


def _in_phase(spec: Message, phase: str) -> bool:
    """Caffe's ``NetState`` rule, for the phase only: a layer with ``include`` blocks is kept
    when one of them names the phase; one with ``exclude`` blocks is dropped when one does."""
    include = [r.get("phase") for r in spec.all("include")]
    exclude = [r.get("phase") for r in spec.all("exclude")]
    if include:
        return phase in include
    return phase not in exclude


class Net:
    """A network built from a prototxt (``NetParameter``): see the module's docstring.

    Args:
        prototxt: the text of the file (or a parsed :class:`Message`).
        phase: ``"TRAIN"`` or ``"TEST"``: which ``include``/``exclude`` layers exist.
        shapes: the shape of each ``Data`` top, e.g. ``{"data": (1, 28, 28)}``; labels
            default to (batch,).
        dtype: float32 (Caffe's) or float64; seed: the fillers' generator.

    Attributes: ``layers`` (list), ``blobs`` and ``params`` (dicts by name, in file order),
    ``name``. Raises :class:`PrototxtError` naming the prototxt line for an unknown layer type,
    a bottom blob no earlier layer produced, a missing field or a bad value.
    """

    def __init__(self, prototxt, phase: str = "TRAIN", shapes: dict | None = None,
                 dtype=np.float32, seed: int = 0):
        if phase not in ("TRAIN", "TEST"):
            raise ValueError(f"phase must be 'TRAIN' or 'TEST', got {phase!r}")
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError(f"Net: dtype must be float32 or float64, got {np.dtype(dtype)}")
        spec = parse(prototxt) if isinstance(prototxt, str) else prototxt
        if not isinstance(spec, Message):
            raise TypeError(f"Net takes prototxt text or a parsed Message, got "
                            f"{type(prototxt).__name__}")
        if spec.all("layers"):
            raise fail(spec, "the old V1 'layers' blocks are not supported; use 'layer'",
                       "layers")
        self.name, self.phase, self.dtype = spec.get("name", ""), phase, np.dtype(dtype)
        rng = np.random.default_rng(seed)
        given = {k: tuple(v) for k, v in (shapes or {}).items()}
        self.layers: list[CaffeLayer] = []
        self.blobs: dict[str, Blob] = {}
        self.inputs: list[str] = []
        for layer_spec in spec.all("layer"):
            if not _in_phase(layer_spec, phase):
                continue
            kind = layer_spec.get("type")
            for bottom in layer_spec.all("bottom"):
                if bottom not in self.blobs:
                    raise fail(layer_spec, f"layer {layer_spec.get('name')!r} ({kind}) reads the "
                                           f"bottom blob {bottom!r}, which no earlier layer "
                                           f"produces (known blobs: {list(self.blobs)})",
                               "bottom")
            bottom_shapes = [self.blobs[b].shape for b in layer_spec.all("bottom")]
            if kind in ("Data", "Input"):
                layer = DataLayer(layer_spec, bottom_shapes, self.dtype, rng, given)
                self.inputs += layer.tops
            elif kind in LAYERS:
                layer = LAYERS[kind](layer_spec, bottom_shapes, self.dtype, rng)
            else:
                raise fail(layer_spec, f"unknown layer type {kind!r} in layer "
                                       f"{layer_spec.get('name')!r}; this Caffe knows "
                                       f"{['Data', 'Input', *LAYERS]}", "type")
            for top, shape in zip(layer.tops, layer.top_shapes(bottom_shapes)):
                self.blobs[top] = Blob(top, tuple(int(d) for d in shape))
            self.layers.append(layer)
        if not self.layers:
            raise PrototxtError(f"prototxt: no layer in phase {phase}")
        self.params = {layer.name: layer.params for layer in self.layers if layer.params}

    # -- running ---------------------------------------------------------------------------
    def forward(self, end: str | None = None, **inputs) -> dict:
        """Fill the input blobs from ``inputs`` (by top name; Data tops are scaled), run the
        layers in order (up to and including the layer named ``end``), and return the outputs:
        the blobs no layer reads (``loss``, ``accuracy``; an in-place layer does not count as
        reading its own top), or the last top when ``end`` is set."""
        missing = [name for name in self.inputs if name not in inputs]
        unknown = [name for name in inputs if name not in self.inputs]
        if missing or unknown:
            raise ValueError(f"Net.forward expects the inputs {self.inputs}; missing "
                             f"{missing}, unknown {unknown}")
        for layer in self.layers:
            if isinstance(layer, DataLayer):
                for top in layer.tops:
                    value = np.asarray(inputs[top])
                    if top in layer.labels:                      # class indices, as given
                        self.blobs[top].data = value
                    else:                                        # pixels: times the scale
                        if np.issubdtype(value.dtype, np.integer):
                            value = value.astype(self.dtype)     # raw bytes, as Caffe reads
                        value = as_input(value, f"Net input {top!r}")
                        self.blobs[top].data = value * value.dtype.type(layer.scale)
                    self.blobs[top].shape = value.shape
            else:
                outs = layer.forward([self.blobs[b].data for b in layer.bottoms])
                for top, out in zip(layer.tops, outs):
                    self.blobs[top].data, self.blobs[top].shape = out, out.shape
            if end is not None and layer.name == end:
                return {top: self.blobs[top].data for top in layer.tops}
        read = {b for layer in self.layers for b in layer.bottoms if b not in layer.tops}
        return {name: blob.data for name, blob in self.blobs.items() if name not in read}

    def backward(self, **top_diffs) -> dict:
        """Backpropagate from every loss top (diff = loss_weight), or from ``top_diffs`` given
        by blob name; return the diffs of the input blobs that get one. Parameter gradients are
        set afresh (Caffe clears them each iteration)."""
        for blob in self.blobs.values():
            blob.diff = None
        for layer in self.layers:
            for p in layer.params:
                p.grad = None
            if layer.loss_weight and not top_diffs:
                self.blobs[layer.tops[0]].diff = np.asarray(layer.loss_weight, self.dtype)
        for name, diff in top_diffs.items():
            self.blobs[name].diff = np.asarray(diff)
        for layer in reversed(self.layers):
            diffs = [self.blobs[t].diff for t in layer.tops]
            if isinstance(layer, DataLayer) or all(d is None for d in diffs):
                continue                                  # nothing flows back through it
            for bottom, diff in zip(layer.bottoms, layer.backward(diffs)):
                blob = self.blobs[bottom]
                if diff is None:
                    continue
                if blob.diff is None or bottom in layer.tops:   # in place: the diff is new
                    blob.diff = diff
                else:
                    blob.diff = blob.diff + diff                 # a blob read twice: add
        return {name: self.blobs[name].diff for name in self.inputs
                if self.blobs[name].diff is not None}

    # -- inspection ------------------------------------------------------------------------
    def table(self) -> list[dict]:
        """One row per layer: name, type, bottoms, tops, top shapes, parameter count."""
        return [{"layer": layer.name, "type": layer.spec.get("type"),
                 "bottom": ", ".join(layer.bottoms), "top": ", ".join(layer.tops),
                 "top shape": " ".join(str(self.blobs[t].shape) for t in layer.tops),
                 "params": sum(p.size for p in layer.params), "line": layer.line}
                for layer in self.layers]

    def parameter_count(self) -> int:
        return sum(p.size for ps in self.params.values() for p in ps)

    def section(self, start: str = "data", end: str | None = None) -> NetSection:
        """This net from the blob ``start`` to the top of layer ``end`` as a
        :class:`~deepglossary.nn.Layer` (for ``verify.against_torch`` and ``optim``)."""
        return NetSection(self, start, end)

    def __repr__(self) -> str:
        return (f"Net({self.name!r}, phase {self.phase}, {len(self.layers)} layers, "
                f"{self.parameter_count():,} parameters)")


class NetSection(Layer):
    """A :class:`Net` seen as one layer, x -> the top of layer ``end``; its parameters are
    named ``"<layer>.weight"``, ``"<layer>.bias"``, as in the torch twin. Other inputs (a
    label) are passed as keyword arguments of the constructor's ``extra``."""

    def __init__(self, net: Net, start: str, end: str | None, extra: dict | None = None):
        if start not in net.inputs:
            raise ValueError(f"{start!r} is not an input blob of the net; inputs: {net.inputs}")
        self.net, self.start, self.end, self.extra = net, start, end, dict(extra or {})

    def forward(self, x):
        others = {k: self.extra.get(k, np.zeros(len(x), np.int64))
                  for k in self.net.inputs if k != self.start}
        out = self.net.forward(end=self.end, **{self.start: x}, **others)
        self._cache = True
        return next(iter(out.values())) if self.end else out

    def backward(self, grad_output):
        self._saved()
        top = next(layer.tops[0] for layer in self.net.layers if layer.name == self.end)
        diff = self.net.backward(**{top: grad_output})[self.start]    # d loss / d (scale x)
        scale = next(layer.scale for layer in self.net.layers
                     if isinstance(layer, DataLayer) and self.start in layer.tops)
        return diff * diff.dtype.type(scale)                         # d loss / d x

    def named_parameters(self, prefix: str = "", remove_duplicate: bool = True):
        for layer in self.net.layers:
            for name, p in zip(("weight", "bias"), layer.params):
                yield f"{prefix}{layer.name}.{name}", p
