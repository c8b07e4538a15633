"""The operations: each one a NumPy kernel, a shape rule, and a gradient rule that adds nodes.

``register(type, kernel, shape, grad)`` files an op type. The constructors below (``matmul``,
``relu``, ...) check their inputs' static shapes and add one node to the default graph, or, in
eager mode (``eager.py``), run the kernel at once. A gradient rule receives the op and the
gradient of its output (a Tensor) and returns one Tensor (or None: no gradient) per input,
built from these same ops, so a gradient is itself a graph that can be differentiated again.

PyTorch counterparts: ``torch.matmul``, ``torch.relu``, ... (which compute at once).
"""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.tensorflow.graph import FLOATS, Tensor, format_shape, get_default_graph

OPS: dict[str, dict] = {}
EAGER = [False]                       # eager.py switches it; graph mode is TF 1.x's default


def register(type, kernel, shape, grad=None):
    OPS[type] = dict(kernel=kernel, shape=shape, grad=grad)


class EagerTensor:
    """A value computed at once (eager mode): ``.numpy()``, ``shape``, ``dtype``, operators.
    PyTorch counterpart: ``torch.Tensor``."""

    def __init__(self, value):
        self.value = np.asarray(value)

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)

    def numpy(self) -> np.ndarray:
        return self.value

    def __repr__(self) -> str:
        return f"<EagerTensor shape={self.shape} dtype={self.dtype} numpy={self.value}>"


def _shape_error(type, inputs, message):
    shapes = ", ".join(format_shape(t.shape) for t in inputs)
    return ValueError(f"{message} for '{type}' with input shapes: {shapes}")


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor of rank {ndim}")
    return tuple(sorted(int(a) % ndim for a in axes))


def broadcast_shape(type, a, b):
    """The static shape of broadcasting ``a`` with ``b`` (NumPy's rule; None: unknown)."""
    sa, sb = a.shape, b.shape
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    out = []
    for da, db in zip(sa, sb):
        if da == 1 or da == db:
            out.append(db)
        elif db == 1:
            out.append(da)
        elif da is None or db is None:
            out.append(da if db is None else db)
        else:
            raise _shape_error(type, [a, b], f"Dimensions must be equal, but are {da} and {db}")
    return tuple(out)


def sum_to(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, back to ``shape``."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    stretched = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(axis=stretched, keepdims=True) if stretched else g


# ---------------------------------------------------------------- adding a node, or eager
def convert(x, dtype=None):
    """A Tensor stays; an EagerTensor or array (or a Python number) becomes a constant."""
    if isinstance(x, Tensor) or (EAGER[0] and isinstance(x, EagerTensor)):
        return x
    if hasattr(x, "_as_graph_tensor"):                 # an eager Variable used in a graph
        return x._as_graph_tensor()
    value = x.value if isinstance(x, EagerTensor) else x
    return constant(value, dtype=dtype)


def _static(x):
    """What shape rules see: a Tensor, or an eager value's concrete shape and dtype."""
    if isinstance(x, Tensor):
        return x
    class Static:                                      # noqa: E306 - a light stand-in
        pass
    s = Static()
    s.shape, s.dtype, s.name = tuple(x.shape), np.dtype(x.dtype), "eager value"
    return s


def apply(type, inputs, attrs=None, name=None):
    """Add one ``type`` node with these inputs (or, eagerly, compute it) and return its output."""
    attrs = attrs or {}
    spec = OPS[type]
    shape, dtype = spec["shape"]([_static(t) for t in inputs], attrs)
    if EAGER[0]:
        values = [t.value for t in inputs]
        return EagerTensor(spec["kernel"](values, attrs))
    return get_default_graph().add_op(type, inputs, attrs, shape, dtype, name).outputs[0]


def _pair(type, x, y):
    """Two operands of a binary op, converted, with one float dtype."""
    like = next((t.dtype for t in (x, y) if isinstance(t, Tensor | EagerTensor)), None)
    x, y = convert(x, like), convert(y, like)
    for arg, t in (("x", x), ("y", y)):
        if np.dtype(t.dtype) not in FLOATS:
            raise TypeError(f"Input '{arg}' of '{type}' has dtype {t.dtype}; expected float32 "
                            f"or float64")
    if np.dtype(x.dtype) != np.dtype(y.dtype):
        raise TypeError(f"Input 'y' of '{type}' has type {y.dtype} that does not match type "
                        f"{x.dtype} of argument 'x'")
    return x, y


def _same(inputs, attrs):
    return inputs[0].shape, inputs[0].dtype


def _broadcast_rule(type):
    return lambda inputs, attrs: (broadcast_shape(type, *inputs), inputs[0].dtype)


# ---------------------------------------------------------------- sources
def _const_shape(inputs, attrs):
    return attrs["value"].shape, attrs["value"].dtype


register("Const", lambda v, a: a["value"], _const_shape)
register("Placeholder", None, lambda inputs, attrs: (attrs["shape"], attrs["dtype"]))


def constant(value, dtype=None, name=None):
    """A node holding ``value`` (an array, float64 unless ``dtype``). ``tf.constant``."""
    array = np.array(value, dtype=dtype if dtype is not None else
                     (None if np.asarray(value).dtype in FLOATS else np.float64))
    if EAGER[0]:
        return EagerTensor(array)
    return get_default_graph().add_op("Const", [], {"value": array}, array.shape, array.dtype,
                                      name or "Const").outputs[0]


def placeholder(dtype, shape=None, name=None):
    """A node whose value is fed at run time; ``shape`` may hold None (any size). Running a
    node that needs it without feeding it raises ``InvalidArgumentError``. ``tf.placeholder``
    (TF 1.x); PyTorch has none: a torch function takes its inputs as arguments."""
    dtype = np.dtype(dtype)
    if dtype not in FLOATS:
        raise TypeError(f"placeholder dtype must be float32 or float64, got {dtype}")
    if EAGER[0]:
        raise RuntimeError("tf.placeholder() is not compatible with eager execution")
    shape = None if shape is None else tuple(shape)
    return get_default_graph().add_op("Placeholder", [], {"shape": shape, "dtype": dtype},
                                      shape, dtype, name or "Placeholder").outputs[0]


# ---------------------------------------------------------------- matrix product
def _matmul_kernel(v, a):
    x = v[0].T if a["transpose_a"] else v[0]
    y = v[1].T if a["transpose_b"] else v[1]
    return x @ y


def _matmul_shape(inputs, attrs):
    x, y = inputs
    if len(x.shape) != 2 or len(y.shape) != 2:
        raise _shape_error("MatMul", inputs, "Shape must be rank 2")
    (n, k1) = x.shape[::-1] if attrs["transpose_a"] else x.shape
    (k2, m) = y.shape[::-1] if attrs["transpose_b"] else y.shape
    if k1 is not None and k2 is not None and k1 != k2:
        raise _shape_error("MatMul", inputs, f"Dimensions must be equal, but are {k1} and {k2}")
    return (n, m), x.dtype


def _matmul_grad(op, g):
    x, y = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:                       # Z = X Y: dX = G Y^T, dY = X^T G
        return [matmul(g, y, transpose_b=True), matmul(x, g, transpose_a=True)]
    if ta and not tb:                           # Z = X^T Y: dX = Y G^T, dY = X G
        return [matmul(y, g, transpose_b=True), matmul(x, g)]
    if not ta and tb:                           # Z = X Y^T: dX = G Y, dY = G^T X
        return [matmul(g, y), matmul(g, x, transpose_a=True)]
    return [matmul(y, g, transpose_a=True, transpose_b=True),   # Z = X^T Y^T
            matmul(g, x, transpose_a=True, transpose_b=True)]


register("MatMul", _matmul_kernel, _matmul_shape, _matmul_grad)


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    """(n, k) @ (k, m) -> (n, m), either operand transposed first. ``tf.matmul``;
    ``torch.matmul``."""
    a, b = _pair("MatMul", a, b)
    return apply("MatMul", [a, b], {"transpose_a": transpose_a, "transpose_b": transpose_b},
                 name)


# ---------------------------------------------------------------- elementwise, broadcasting
register("Add", lambda v, a: v[0] + v[1], _broadcast_rule("Add"),
         lambda op, g: [sum_like(g, op.inputs[0]), sum_like(g, op.inputs[1])])
register("Sub", lambda v, a: v[0] - v[1], _broadcast_rule("Sub"),
         lambda op, g: [sum_like(g, op.inputs[0]), sum_like(negative(g), op.inputs[1])])
register("Mul", lambda v, a: v[0] * v[1], _broadcast_rule("Mul"),
         lambda op, g: [sum_like(g * op.inputs[1], op.inputs[0]),
                        sum_like(g * op.inputs[0], op.inputs[1])])
register("RealDiv", lambda v, a: v[0] / v[1], _broadcast_rule("RealDiv"),
         lambda op, g: [sum_like(g / op.inputs[1], op.inputs[0]),
                        sum_like(negative(g) * op.inputs[0] / square(op.inputs[1]),
                                 op.inputs[1])])
register("Neg", lambda v, a: -v[0], _same, lambda op, g: [negative(g)])


def add(x, y, name=None):
    """x + y with broadcasting. ``tf.add``; ``torch.add``."""
    return apply("Add", list(_pair("Add", x, y)), name=name)


def subtract(x, y, name=None):
    return apply("Sub", list(_pair("Sub", x, y)), name=name)


def multiply(x, y, name=None):
    return apply("Mul", list(_pair("Mul", x, y)), name=name)


def divide(x, y, name=None):
    return apply("RealDiv", list(_pair("RealDiv", x, y)), name=name)


def negative(x, name=None):
    return apply("Neg", [convert(x)], name=name)


# ---------------------------------------------------------------- elementwise, unary
# y = f(x); each gradient written with the output y where that is cheaper (as TF does)
register("Relu", lambda v, a: np.maximum(v[0], 0), _same,
         lambda op, g: [g * step(op.outputs[0])])                # dx = g [y > 0]
register("Step", lambda v, a: (v[0] > 0).astype(v[0].dtype), _same)   # no gradient: flat
register("Sigmoid", lambda v, a: _sigmoid(v[0]), _same,
         lambda op, g: [g * op.outputs[0] * (1.0 - op.outputs[0])])   # dx = g y (1 - y)
register("Tanh", lambda v, a: np.tanh(v[0]), _same,
         lambda op, g: [g * (1.0 - square(op.outputs[0]))])          # dx = g (1 - y^2)
register("Exp", lambda v, a: np.exp(v[0]), _same, lambda op, g: [g * op.outputs[0]])
register("Log", lambda v, a: np.log(v[0]), _same, lambda op, g: [g / op.inputs[0]])
register("Square", lambda v, a: v[0] * v[0], _same,
         lambda op, g: [g * (2.0 * op.inputs[0])])                   # dx = 2 x g


def _sigmoid(x):
    e = np.exp(-np.abs(x))                      # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def _unary(type):
    def build(x, name=None):
        x = convert(x)
        if np.dtype(x.dtype) not in FLOATS:
            raise TypeError(f"{type} expects float32 or float64, got {x.dtype}")
        return apply(type, [x], name=name)
    build.__name__ = type.lower()
    build.__doc__ = f"Elementwise {type.lower()}. ``tf.{type.lower()}`` / ``torch.{type.lower()}``."
    return build


relu, sigmoid, tanh = _unary("Relu"), _unary("Sigmoid"), _unary("Tanh")
exp, log, square, step = _unary("Exp"), _unary("Log"), _unary("Square"), _unary("Step")


# ---------------------------------------------------------------- reductions and shapes
def _reduce_shape(inputs, attrs):
    x = inputs[0]
    axes = _axes(attrs["axis"], len(x.shape))
    keep = attrs["keepdims"]
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape) if keep or i not in axes)
    return shape, x.dtype


def _count(x_shape, axis):
    return int(np.prod([x_shape[i] for i in _axes(axis, len(x_shape))]))


register("Sum", lambda v, a: v[0].sum(axis=_axes(a["axis"], v[0].ndim), keepdims=a["keepdims"]),
         _reduce_shape,
         lambda op, g: [broadcast_to_input(g, op.inputs[0], op.attrs["axis"],
                                           op.attrs["keepdims"], mean=False)])
register("Mean", lambda v, a: v[0].mean(axis=_axes(a["axis"], v[0].ndim),
                                        keepdims=a["keepdims"]),
         _reduce_shape,
         lambda op, g: [broadcast_to_input(g, op.inputs[0], op.attrs["axis"],
                                           op.attrs["keepdims"], mean=True)])


def _broadcast_to_kernel(v, a):
    g, x = v
    if not a["keepdims"]:
        g = np.expand_dims(g, _axes(a["axis"], x.ndim))
    g = np.broadcast_to(g, x.shape)
    return (g / _count(x.shape, a["axis"]) if a["mean"] else g).astype(x.dtype)


def _broadcast_to_grad(op, gg):                 # the adjoint of a broadcast is a sum (or mean)
    reduce = reduce_mean if op.attrs["mean"] else reduce_sum
    return [reduce(gg, op.attrs["axis"], op.attrs["keepdims"]), None]


# BroadcastTo(g, x): g, shaped like a reduction of x, spread back over x's shape (/ count)
register("BroadcastTo", _broadcast_to_kernel, lambda inputs, a: (inputs[1].shape,
                                                                 inputs[1].dtype),
         _broadcast_to_grad)
# SumLike(g, x): g summed over the axes broadcasting added to x; BroadcastLike is its adjoint
register("SumLike", lambda v, a: sum_to(v[0], v[1].shape).astype(v[0].dtype),
         lambda inputs, a: (inputs[1].shape, inputs[0].dtype),
         lambda op, gg: [broadcast_like(gg, op.inputs[0]), None])
register("BroadcastLike", lambda v, a: np.broadcast_to(v[0], v[1].shape).copy(),
         lambda inputs, a: (inputs[1].shape, inputs[0].dtype),
         lambda op, gg: [sum_like(gg, op.inputs[0]), None])


def reduce_sum(x, axis=None, keepdims=False, name=None):
    """Sum over ``axis`` (None: all). ``tf.reduce_sum``; ``torch.sum``."""
    x = convert(x)
    return apply("Sum", [x], {"axis": axis, "keepdims": keepdims}, name)


def reduce_mean(x, axis=None, keepdims=False, name=None):
    """Mean over ``axis`` (None: all). ``tf.reduce_mean``; ``torch.mean``."""
    x = convert(x)
    return apply("Mean", [x], {"axis": axis, "keepdims": keepdims}, name)


def broadcast_to_input(g, x, axis, keepdims, mean):
    return apply("BroadcastTo", [g, x], {"axis": axis, "keepdims": keepdims, "mean": mean})


def sum_like(g, x):
    """``g`` summed back to ``x``'s shape; no node when the static shapes already agree."""
    if g.shape == x.shape and None not in x.shape:
        return g
    return apply("SumLike", [g, x])


def broadcast_like(g, x):
    if g.shape == x.shape and None not in x.shape:
        return g
    return apply("BroadcastLike", [g, x])


register("Transpose", lambda v, a: v[0].T, lambda inputs, a: (inputs[0].shape[::-1],
                                                              inputs[0].dtype),
         lambda op, g: [transpose(g)])


def transpose(x, name=None):
    """Reverse the axes. ``tf.transpose``; ``torch.Tensor.T``."""
    return apply("Transpose", [convert(x)], name=name)


# ---------------------------------------------------------------- softmax and the fused loss
def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


register("Softmax", lambda v, a: np.exp(_log_softmax(v[0])), _same,   # dz = y (g - <g, y>)
         lambda op, g: [op.outputs[0] * (g - reduce_sum(g * op.outputs[0], -1, keepdims=True))])
register("LogSoftmax", lambda v, a: _log_softmax(v[0]), _same,       # dz = g - softmax sum(g)
         lambda op, g: [g - exp(op.outputs[0]) * reduce_sum(g, -1, keepdims=True)])


def softmax(logits, name=None):
    """Softmax over the last axis. ``tf.nn.softmax``; ``torch.softmax(z, -1)``."""
    return apply("Softmax", [convert(logits)], name=name)


def log_softmax(logits, name=None):
    return apply("LogSoftmax", [convert(logits)], name=name)


def _sce_kernel(v, a):
    labels, logits = v
    return -(labels * _log_softmax(logits)).sum(axis=-1)


def _sce_shape(inputs, attrs):
    labels, logits = inputs
    if len(logits.shape) != 2 or len(labels.shape) != 2:
        raise _shape_error("SoftmaxCrossEntropyWithLogits", inputs, "Shape must be rank 2")
    broadcast_shape("SoftmaxCrossEntropyWithLogits", labels, logits)
    return (logits.shape[0] if logits.shape[0] is not None else labels.shape[0],), logits.dtype


def _sce_grad(op, g):
    labels, logits = op.inputs
    column = expand_dims(g, -1)                                  # (N, 1)
    mass = reduce_sum(labels, -1, keepdims=True)                 # (N, 1): sum_j q_j, 1 for
    return [column * negative(log_softmax(logits)),              #   distributions
            column * (softmax(logits) * mass - labels)]          # d/d logits = g (p sum q - q)


register("SoftmaxCrossEntropyWithLogits", _sce_kernel, _sce_shape, _sce_grad)


def softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Per-example loss -sum_k labels_k log softmax(logits)_k, shape (N,), for labels and
    logits of shape (N, K). One fused node, computed through a stable log-softmax, whose
    gradient with respect to the logits is softmax(logits) sum_k labels_k - labels, which is
    softmax(logits) - labels when each row of labels is a distribution (TensorFlow's kernel
    computes only that, and requires distributions).
    ``tf.nn.softmax_cross_entropy_with_logits``; ``torch.nn.functional.cross_entropy(logits,
    labels, reduction="none")`` with probabilities as targets."""
    labels, logits = _pair("SoftmaxCrossEntropyWithLogits", labels, logits)
    return apply("SoftmaxCrossEntropyWithLogits", [labels, logits], name=name)


register("ExpandDims", lambda v, a: np.expand_dims(v[0], a["axis"]),
         lambda inputs, a: (_expand(inputs[0].shape, a["axis"]), inputs[0].dtype),
         lambda op, g: [squeeze(g, op.attrs["axis"])])
register("Squeeze", lambda v, a: np.squeeze(v[0], a["axis"]),
         lambda inputs, a: (_squeeze(inputs[0].shape, a["axis"]), inputs[0].dtype),
         lambda op, g: [expand_dims(g, op.attrs["axis"])])


def _expand(shape, axis):
    axis = axis % (len(shape) + 1)
    return shape[:axis] + (1,) + shape[axis:]


def _squeeze(shape, axis):
    axis = axis % len(shape)
    if shape[axis] not in (1, None):
        raise ValueError(f"cannot squeeze axis {axis} of size {shape[axis]}")
    return shape[:axis] + shape[axis + 1:]


def expand_dims(x, axis, name=None):
    return apply("ExpandDims", [convert(x)], {"axis": axis}, name)


def squeeze(x, axis, name=None):
    return apply("Squeeze", [convert(x)], {"axis": axis}, name)


register("OnesLike", lambda v, a: np.ones_like(v[0]), _same)
register("ZerosLike", lambda v, a: np.zeros_like(v[0]), _same)
register("Identity", lambda v, a: v[0], _same, lambda op, g: [g])


def ones_like(x, name=None):
    return apply("OnesLike", [convert(x)], name=name)


def zeros_like(x, name=None):
    return apply("ZerosLike", [convert(x)], name=name)


def identity(x, name=None):
    return apply("Identity", [convert(x)], name=name)


# ---------------------------------------------------------------- operators on tensors
def _operators(cls):
    cls.__add__ = lambda s, o: add(s, o)
    cls.__radd__ = lambda s, o: add(o, s)
    cls.__sub__ = lambda s, o: subtract(s, o)
    cls.__rsub__ = lambda s, o: subtract(o, s)
    cls.__mul__ = lambda s, o: multiply(s, o)
    cls.__rmul__ = lambda s, o: multiply(o, s)
    cls.__truediv__ = lambda s, o: divide(s, o)
    cls.__rtruediv__ = lambda s, o: divide(o, s)
    cls.__neg__ = lambda s: negative(s)
    cls.__matmul__ = lambda s, o: matmul(s, o)


_operators(Tensor)
_operators(EagerTensor)
