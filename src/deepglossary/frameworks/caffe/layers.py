"""Caffe's layers for LeNet, each built from one ``layer { ... }`` block of a prototxt.

A Caffe layer reads its *bottom* blobs and writes its *top* blobs, both named in the prototxt;
``backward`` reads the tops' ``diff`` (the gradient) and adds into the bottoms' ``diff``. The
arithmetic is the package's: ``nn.Conv2d``, ``nn.MaxPool2d``/``nn.AvgPool2d`` (in ceil mode,
Caffe's rounding), ``nn.Affine`` and ``losses.CrossEntropy``, whose backward passes are derived
in their chapters; what is Caffe's here is the wiring, the field names, the fillers and the
in-place ReLU. Caffe type, PyTorch twin, parameters:

    Convolution      nn.Conv2d                           weight (O, C, k, k), bias (O,)
    Pooling          nn.MaxPool2d / nn.AvgPool2d, ceil   none
    InnerProduct     nn.Flatten + nn.Linear              weight (O, K), bias (O,)
    ReLU             nn.ReLU(inplace=True) if in place   none
    SoftmaxWithLoss  nn.CrossEntropyLoss                 none
    Accuracy         (argmax == label).mean()            none
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary import nn
from deepglossary.frameworks.caffe.prototxt import Enum, Message, PrototxtError
from deepglossary.losses import CrossEntropy
from deepglossary.nn.core import Parameter


def fail(where: Message, message: str, key: str | None = None) -> PrototxtError:
    """A :class:`PrototxtError` that names the prototxt line of ``where`` (or of its ``key``)."""
    line = where.line_of(key) if key else where.line
    return PrototxtError(f"prototxt line {line}: {message}")


def count(spec: Message, key: str, default=None, *, minimum: int = 1) -> int:
    """An integer field (``num_output``, ``kernel_size``, ...), checked, or ``default``."""
    value = spec.get(key, default)
    if value is None:
        raise fail(spec, f"{spec.name} needs the field {key!r}")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(spec, f"{key} must be an integer >= {minimum}, got {value!r}", key)
    return value


def fill(param: Parameter, filler: Message | None, rng) -> None:
    """Caffe's fillers (``caffe/filler.hpp``), with fan_in = count / shape[0] (in k k for a
    convolution, K for an InnerProduct): ``constant`` (value, default 0), ``xavier`` (uniform
    on [-a, a], a = sqrt(3 / fan_in): variance 1 / fan_in, not Glorot's 2 / (fan_in +
    fan_out)), ``gaussian`` (mean, std), ``uniform`` (min, max), ``msra`` (normal, variance
    2 / fan_in). No filler block means ``constant`` 0, as in Caffe."""
    kind = "constant" if filler is None else filler.get("type", "constant")
    arr = param.data
    fan_in = arr.size // arr.shape[0]
    if kind == "constant":
        arr[...] = filler.get("value", 0.0) if filler is not None else 0.0
    elif kind == "xavier":
        a = math.sqrt(3.0 / fan_in)
        arr[...] = rng.uniform(-a, a, size=arr.shape)
    elif kind == "gaussian":
        arr[...] = rng.normal(filler.get("mean", 0.0), filler.get("std", 1.0), size=arr.shape)
    elif kind == "uniform":
        arr[...] = rng.uniform(filler.get("min", 0.0), filler.get("max", 1.0), size=arr.shape)
    elif kind == "msra":
        arr[...] = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=arr.shape)
    else:
        raise fail(filler, f"unknown filler type {kind!r} (known: constant, xavier, gaussian, "
                           "uniform, msra)", "type")


class CaffeLayer:
    """One layer of a :class:`~deepglossary.frameworks.caffe.Net`: ``bottoms`` and ``tops``
    (blob names), ``params`` (``[weight, bias]`` or ``[]``), ``line`` (its prototxt line)."""

    type = ""
    loss_weight = 0.0        # 1 for a loss layer: its top's diff starts at this value

    def __init__(self, spec: Message, shapes: list[tuple], dtype, rng):
        self.spec, self.name, self.line = spec, spec.get("name", ""), spec.line
        self.bottoms, self.tops = list(spec.all("bottom")), list(spec.all("top"))
        self.params: list[Parameter] = []
        self.param_specs = spec.all("param")          # lr_mult, decay_mult per parameter
        self.loss_weight = float(spec.get("loss_weight", type(self).loss_weight))

    def top_shapes(self, shapes: list[tuple]) -> list[tuple]:
        raise NotImplementedError

    def forward(self, bottoms: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def backward(self, top_diffs: list[np.ndarray]) -> list[np.ndarray | None]:
        """The bottoms' gradients (``None`` for a bottom that gets none, such as labels)."""
        return [None] * len(self.bottoms)

    def mults(self, i: int) -> tuple[float, float]:
        """(lr_mult, decay_mult) of parameter ``i`` (Caffe's ``param { ... }``; default 1, 1)."""
        if i < len(self.param_specs):
            p = self.param_specs[i]
            return float(p.get("lr_mult", 1.0)), float(p.get("decay_mult", 1.0))
        return 1.0, 1.0


class Convolution(CaffeLayer):
    """``convolution_param { num_output kernel_size stride pad bias_term weight_filler
    bias_filler }`` on an (N, C, H, W) bottom; PyTorch twin ``nn.Conv2d(C, num_output, k,
    stride, pad)``. Top (N, num_output, (H + 2 pad - k) / stride + 1, ...), rounded down."""

    type = "Convolution"

    def __init__(self, spec, shapes, dtype, rng):
        super().__init__(spec, shapes, dtype, rng)
        p = spec.get("convolution_param")
        if p is None:
            raise fail(spec, "Convolution needs a convolution_param")
        if len(shapes[0]) != 4:
            raise fail(spec, f"Convolution expects a bottom of shape (N, C, H, W), got "
                             f"{shapes[0]}")
        k, stride, pad = count(p, "kernel_size"), count(p, "stride", 1), count(p, "pad", 0,
                                                                                minimum=0)
        self.layer = nn.Conv2d(shapes[0][1], count(p, "num_output"), k, stride=stride,
                               padding=pad, bias=bool(p.get("bias_term", True)), dtype=dtype)
        for size in shapes[0][2:]:                       # Caffe: (I + 2 pad - k) / stride + 1
            if size + 2 * pad < k:
                raise fail(p, f"a kernel of {k} (pad {pad}) is larger than the bottom's size "
                              f"{size}: the convolution would have no output", "kernel_size")
        fill(self.layer.weight, p.get("weight_filler"), rng)
        self.params = [self.layer.weight]
        if self.layer.bias is not None:
            fill(self.layer.bias, p.get("bias_filler"), rng)
            self.params.append(self.layer.bias)

    def top_shapes(self, shapes):
        n, _, h, w = shapes[0]
        return [(n, self.layer.out_channels, *self.layer.window.output_size(h, w))]

    def forward(self, bottoms):
        return [self.layer(bottoms[0])]

    def backward(self, top_diffs):
        return [self.layer.backward(top_diffs[0])]


def caffe_pooled_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Caffe's pooled size (``pooling_layer.cpp``): ceil((size + 2 pad - kernel) / stride) + 1,
    one fewer when padding makes the last window start in the padding."""
    out = -(-(size + 2 * pad - kernel) // stride) + 1          # ceil, in integers
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class Pooling(CaffeLayer):
    """``pooling_param { pool: MAX|AVE kernel_size stride pad }``: Caffe rounds the output size
    *up* (a last, partial window), as PyTorch's ``ceil_mode=True``; AVE divides by the window's
    part inside the padded input (torch's ``count_include_pad=True``)."""

    type = "Pooling"

    def __init__(self, spec, shapes, dtype, rng):
        super().__init__(spec, shapes, dtype, rng)
        p = spec.get("pooling_param")
        if p is None:
            raise fail(spec, "Pooling needs a pooling_param")
        pool = p.get("pool", Enum("MAX"))
        pool = {0: "MAX", 1: "AVE"}.get(pool, pool)
        if pool not in ("MAX", "AVE"):
            raise fail(p, f"pool must be MAX or AVE, got {pool!r}", "pool")
        self.pool = str(pool)
        self.kernel, self.stride = count(p, "kernel_size"), count(p, "stride", 1)
        self.pad = count(p, "pad", 0, minimum=0)
        cls = nn.MaxPool2d if pool == "MAX" else nn.AvgPool2d
        try:
            self.layer = cls(self.kernel, self.stride, self.pad, ceil_mode=True)
        except ValueError as err:
            raise fail(p, str(err)) from None
        n, c, h, w = shapes[0]
        for size in (h, w):
            caffe = caffe_pooled_size(size, self.kernel, self.stride, self.pad)
            torch_like = nn.pooling.pooled_size(size, self.kernel, self.stride, self.pad, 1, True)
            if caffe != torch_like or caffe < 1:
                raise fail(p, f"a window of {self.kernel} with stride {self.stride} and pad "
                              f"{self.pad} on size {size}: Caffe gives {caffe} outputs, the "
                              f"ceil-mode rule implemented here {torch_like} (a window wholly "
                              "outside the input); refused rather than computed differently")

    def top_shapes(self, shapes):
        n, c, h, w = shapes[0]
        return [(n, c, *self.layer.output_size(h, w))]

    def forward(self, bottoms):
        return [self.layer(bottoms[0])]

    def backward(self, top_diffs):
        return [self.layer.backward(top_diffs[0])]


class InnerProduct(CaffeLayer):
    """``inner_product_param { num_output bias_term weight_filler bias_filler }``: flattens the
    bottom from axis 1, (N, K), then y = x W^T + b; twin ``nn.Flatten`` + ``nn.Linear``."""

    type = "InnerProduct"

    def __init__(self, spec, shapes, dtype, rng):
        super().__init__(spec, shapes, dtype, rng)
        p = spec.get("inner_product_param")
        if p is None:
            raise fail(spec, "InnerProduct needs an inner_product_param")
        self.in_shape = shapes[0]
        k = int(np.prod(shapes[0][1:]))
        self.layer = nn.Affine(k, count(p, "num_output"), bias=bool(p.get("bias_term", True)),
                               dtype=dtype)
        fill(self.layer.weight, p.get("weight_filler"), rng)
        self.params = [self.layer.weight]
        if self.layer.bias is not None:
            fill(self.layer.bias, p.get("bias_filler"), rng)
            self.params.append(self.layer.bias)

    def top_shapes(self, shapes):
        return [(shapes[0][0], self.layer.out_features)]

    def forward(self, bottoms):
        self.in_shape = bottoms[0].shape
        return [self.layer(bottoms[0].reshape(len(bottoms[0]), -1))]       # (N, K) -> (N, O)

    def backward(self, top_diffs):
        return [self.layer.backward(top_diffs[0]).reshape(self.in_shape)]  # (N, C, H, W)


class ReLU(CaffeLayer):
    """max(x, 0) (``relu_param { negative_slope }`` for a leaky one). With top == bottom it runs
    *in place*, as in Caffe: the bottom's array is overwritten, and the backward pass reads the
    mask from the output (for a slope >= 0, x > 0 exactly where y > 0) and overwrites the diff
    in place too. Out of place the mask is the input's, x > 0. A negative slope in place is
    refused: y > 0 would then hold where x < 0, and the mask could not be recovered."""

    type = "ReLU"

    def __init__(self, spec, shapes, dtype, rng):
        super().__init__(spec, shapes, dtype, rng)
        param = spec.get("relu_param")
        self.slope = float(param.get("negative_slope", 0.0)) if param is not None else 0.0
        self.inplace = self.tops == self.bottoms
        if self.inplace and self.slope < 0:
            raise fail(param, f"a ReLU in place needs negative_slope >= 0 (its backward reads "
                              f"the sign from the output), got {self.slope}", "negative_slope")

    def top_shapes(self, shapes):
        return [shapes[0]]

    def forward(self, bottoms):
        x = bottoms[0]
        y = x if self.inplace else np.empty_like(x)
        positive = x > 0                                                    # (N, ...) mask
        np.multiply(x, np.where(positive, 1, self.slope).astype(x.dtype), out=y)  # x or slope x
        self._positive = y > 0 if self.inplace else positive                # = x > 0
        return [y]

    def backward(self, top_diffs):
        g = top_diffs[0]
        dx = g if self.inplace else np.empty_like(g)
        np.multiply(g, np.where(self._positive, 1, self.slope).astype(g.dtype), out=dx)
        return [dx]                                                         # dL/dx = g [x > 0]


class SoftmaxWithLoss(CaffeLayer):
    """Bottoms (logits (N, C), label (N,)); top: the mean cross-entropy, a scalar blob.
    Backward: d loss / d logits = loss_weight (softmax - onehot) / N; twin
    ``nn.CrossEntropyLoss``."""

    type, loss_weight = "SoftmaxWithLoss", 1.0

    def __init__(self, spec, shapes, dtype, rng):
        super().__init__(spec, shapes, dtype, rng)
        if len(self.bottoms) != 2:
            raise fail(spec, f"SoftmaxWithLoss takes two bottoms (scores, label), got "
                             f"{self.bottoms}")
        self.loss = CrossEntropy()

    def top_shapes(self, shapes):
        return [()]

    def forward(self, bottoms):
        scores, label = bottoms
        z = self.loss(scores.reshape(len(scores), -1), label.astype(np.int64).reshape(-1))
        return [np.asarray(z, dtype=scores.dtype)]

    def backward(self, top_diffs):
        return [self.loss.backward(float(top_diffs[0])), None]


class Accuracy(CaffeLayer):
    """Bottoms (scores (N, C), label (N,)); top: the fraction whose arg-max is the label
    (``accuracy_param { top_k }``). No gradient."""

    type = "Accuracy"

    def __init__(self, spec, shapes, dtype, rng):
        super().__init__(spec, shapes, dtype, rng)
        param = spec.get("accuracy_param")
        self.top_k = count(param, "top_k", 1) if param is not None else 1

    def top_shapes(self, shapes):
        return [()]

    def forward(self, bottoms):
        scores, label = bottoms
        best = np.argsort(-scores.reshape(len(scores), -1), axis=1)[:, :self.top_k]  # (N, k)
        hit = (best == label.astype(np.int64).reshape(-1, 1)).any(axis=1)          # (N,)
        return [np.asarray(hit.mean(), dtype=scores.dtype)]


LAYERS = {cls.type: cls for cls in (Convolution, Pooling, InnerProduct, ReLU, SoftmaxWithLoss,
                                    Accuracy)}
