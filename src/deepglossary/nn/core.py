"""Parameter, Layer and Sequential: the skeleton every layer of the book hangs on.

A layer computes ``forward(*inputs)``, keeps what its backward pass needs, and
``backward(grad_output)`` returns the gradient with respect to each input while *adding* the
gradient of every parameter into ``Parameter.grad`` (as ``torch.Tensor.backward`` does).

A layer object stores the inputs of its latest call, one call's worth: it is used once per
forward pass. Calling it twice inside one forward pass (``Sequential(l, Tanh(), l)``) raises at
once, and so does a backward whose gradient a later layer or loss computed from an *earlier*
call's output (a loss computed, the model called again, then ``backward``): either would
otherwise give silently wrong weight gradients. Forward passes made only to look at outputs
belong in ``with no_grad():``, where a layer stores nothing and its stored inputs stay as they
were.
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from collections.abc import Iterator

import numpy as np

_CHECK_FINITE = True
_GRAD_ENABLED = True
_clock = itertools.count(1)    # stamps of layer calls, increasing
_pass_started = None           # stamp when the outermost layer call now running began
_last_output = None            # (weakref to output, weakref to layer, call stamp) of the
                               # latest outermost call, to see who produced a layer's input


@contextlib.contextmanager
def no_grad():
    """Run forward passes that will not be backpropagated: inside this block a layer stores
    nothing for backward (what it stored before stays) and its calls are not counted.

    PyTorch twin: ``torch.no_grad()``. Use it for evaluation, for plotting a layer's output,
    or for any forward between computing a loss and calling ``backward``.
    """
    global _GRAD_ENABLED
    before, _GRAD_ENABLED = _GRAD_ENABLED, False
    try:
        yield
    finally:
        _GRAD_ENABLED = before


def is_grad_enabled() -> bool:
    """False inside ``with no_grad():``. PyTorch twin: ``torch.is_grad_enabled``."""
    return _GRAD_ENABLED


@contextlib.contextmanager
def nonfinite_allowed():
    """Let NaN and inf pass through layers inside this block (they are refused by default).

    The chapters on exploding gradients use it to watch an overflow happen on purpose.
    """
    global _CHECK_FINITE
    before, _CHECK_FINITE = _CHECK_FINITE, False
    try:
        yield
    finally:
        _CHECK_FINITE = before


def as_input(x, layer: str, *, last_dim: int | None = None, min_ndim: int = 0) -> np.ndarray:
    """Check one floating-point input of ``layer`` and return it as an ndarray.

    Refuses, with a message that says what was expected: (TypeError) anything that is not a
    float32 or float64 array (integers and booleans would silently compute in float64,
    float16 loses most digits); (ValueError) an empty array, NaN or inf entries, too few
    dimensions, and a wrong size of the last dimension.
    """
    x = np.asarray(x)
    check_float_dtype(x.dtype, layer, "an input")
    if x.size == 0:
        raise ValueError(f"{layer} expects a non-empty input, got shape {x.shape} (0 entries)")
    if x.ndim < min_ndim:
        raise ValueError(
            f"{layer} expects an input with at least {min_ndim} dimension(s), got shape {x.shape}"
        )
    if last_dim is not None and (x.ndim == 0 or x.shape[-1] != last_dim):
        expected = "(*, " + str(last_dim) + ")"
        raise ValueError(f"{layer} expects an input of shape {expected}, got shape {x.shape}")
    if _CHECK_FINITE and not np.isfinite(x).all():
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ValueError(
            f"{layer} got an input with {bad} NaN or inf entr{'y' if bad == 1 else 'ies'}; "
            "wrap the call in deepglossary.nn.nonfinite_allowed() if that is intended"
        )
    return x


def check_float_dtype(dtype, layer: str, what: str) -> None:
    """Refuse, with TypeError, a dtype other than float32 and float64, saying how to convert."""
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64):
        return
    target = "np.float32" if dtype == np.float16 else "np.float64"
    raise TypeError(f"{layer} expects {what} of a floating-point dtype, float32 or float64, "
                    f"got dtype {dtype}; convert it first, e.g. x.astype({target})")


class Parameter:
    """A learnable array: ``.data`` and ``.grad`` (same shape, or ``None`` before backward).

    ``data``: a float32 or float64 array (or a Python float / list of floats, made float64);
    integer, boolean and float16 data are refused. PyTorch twin: ``torch.nn.Parameter``.
    """

    def __init__(self, data):
        if isinstance(data, Parameter):
            data = data.data
        try:
            array = np.array(data)
        except (TypeError, ValueError) as err:
            raise TypeError(f"Parameter expects an array of floats, got {type(data).__name__} "
                            f"({err})") from None
        check_float_dtype(array.dtype, "Parameter", "data")
        self.data = array
        self.grad: np.ndarray | None = None

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)

    def accumulate(self, grad: np.ndarray) -> None:
        """Add ``grad`` into ``.grad`` (gradients of a parameter used twice add up)."""
        if grad.shape != self.data.shape:
            raise ValueError(f"gradient of shape {grad.shape} for a parameter of shape "
                             f"{self.shape}")
        if self.grad is None:
            self.grad = grad.astype(self.data.dtype, copy=True)
        else:
            self.grad += grad

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Layer:
    """Base class of every layer. PyTorch twin: ``torch.nn.Module``.

    Subclasses set parameters and child layers as attributes, implement ``forward`` and
    ``backward``, and may override ``extra_repr``.
    """

    training: bool = True
    _call_stamp = 0            # when the latest call that stored inputs ended (0: never)
    _input_from = None         # (weakref to the layer whose output was input 0, its stamp)
    _grad_for = None           # the stamp of this layer's call a gradient on its way is for

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def __call__(self, *inputs):
        """Run ``forward``; outside ``no_grad`` also record the call (see the module's
        docstring): refuse a second call of this layer inside one forward pass, and note which
        layer's output the first input is, so that a stale backward can be refused."""
        global _pass_started, _last_output
        if not _GRAD_ENABLED:                   # store nothing: keep what forward overwrites
            kept = self.__dict__.get("_cache")
            try:
                return self.forward(*inputs)
            finally:
                if kept is None:
                    self.__dict__.pop("_cache", None)
                else:
                    self.__dict__["_cache"] = kept
        outermost, source = _pass_started is None, None
        if outermost:
            _pass_started = next(_clock)
            last = _last_output
            if last is not None and inputs and last[0]() is inputs[0]:
                source = last[1:]
        else:
            if self._call_stamp > _pass_started:
                raise RuntimeError(
                    f"{type(self).__name__} was called twice in one forward pass (e.g. "
                    "Sequential(l, Tanh(), l)): a layer object stores the inputs of one call "
                    "only, so its backward would use the second call's inputs for both and give "
                    "wrong weight gradients. Use two layers and tie their weights "
                    "(l2.weight = l1.weight), or, for a forward that is never backpropagated, "
                    "wrap it in `with deepglossary.no_grad():`")
        try:
            out = self.forward(*inputs)
        finally:
            if outermost:
                _pass_started = None
        self._call_stamp, self._input_from = next(_clock), source
        self._grad_for = None                   # a gradient for an older call cannot come now
        if outermost and isinstance(out, np.ndarray):
            _last_output = (weakref.ref(out), weakref.ref(self), self._call_stamp)
        return out

    # -- the tree of layers and parameters ---------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Layer]]:
        for name, value in vars(self).items():
            if isinstance(value, Layer):
                yield name, value

    def named_parameters(self, prefix: str = "", remove_duplicate: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs in definition order, named as PyTorch names them.

        A parameter shared by two layers (tied weights, ``l2.weight = l1.weight``) is listed
        once, under its first name, as in PyTorch, so that an optimizer updates it once.
        """
        seen = set()
        for name, p in self._all_named_parameters(prefix):
            if not remove_duplicate or id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _all_named_parameters(self, prefix: str):
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Layer):
                yield from value._all_named_parameters(prefix + name + ".")

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Non-learnable state PyTorch keeps as buffers (e.g. ``running_mean``)."""
        for name in getattr(self, "_buffers", ()):
            yield prefix + name, getattr(self, name)
        for name, child in self.named_children():
            yield from child.named_buffers(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget accumulated gradients (set to ``None``, as PyTorch does by default)."""
        for p in self.parameters():
            p.grad = None
        self._grad_for = None
        for _, child in self.named_children():
            child.zero_grad()

    def train(self, mode: bool = True) -> Layer:
        self.training = mode
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> Layer:
        return self.train(False)

    # -- helpers for subclasses -----------------------------------------------------------
    def _saved(self, name: str = "_cache"):
        """What forward stored for backward; a clear error when backward comes first."""
        saved = getattr(self, name, None)
        if saved is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward (or "
                               "only forwards under no_grad, which store nothing)")
        self._backward_begins()
        return saved

    def _backward_begins(self) -> None:
        """Refuse a gradient meant for an older call of this layer than the one it stored,
        then tell the layer whose output this layer's input was which call the gradient
        this backward returns belongs to."""
        if self._grad_for is not None and self._grad_for != self._call_stamp:
            raise RuntimeError(
                f"{type(self).__name__}.backward: the gradient comes from a loss or layer "
                "computed on the output of an earlier call of this layer, but the layer has "
                "been called again since, and it keeps only its latest call's inputs: the "
                "weight gradients would be silently wrong. Call backward before calling the "
                "layer again, or make the extra call inside `with deepglossary.no_grad():`, "
                "which stores nothing")
        if self._input_from is not None:
            producer = self._input_from[0]()
            if producer is not None:
                producer._grad_for = self._input_from[1]

    @staticmethod
    def _check_grad(grad_output, shape: tuple, layer: str) -> np.ndarray:
        grad_output = np.asarray(grad_output)
        if grad_output.shape != shape:
            raise ValueError(
                f"{layer}.backward expects grad_output of the output's shape {shape}, "
                f"got shape {grad_output.shape}"
            )
        return grad_output

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


class Sequential(Layer):
    """Layers applied one after the other; children are named "0", "1", ...

    PyTorch twin: ``torch.nn.Sequential``. ``backward`` runs the children's backward passes
    in reverse order: that chain of calls *is* backpropagation.
    """

    def __init__(self, *layers: Layer):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layer objects, got {type(layer).__name__} "
                                f"at position {i}")
            setattr(self, str(i), layer)

    def _layers(self) -> list[Layer]:
        return [layer for _, layer in self.named_children()]

    def __len__(self) -> int:
        return len(self._layers())

    def __getitem__(self, index: int) -> Layer:
        return self._layers()[index]

    def __iter__(self):
        return iter(self._layers())

    def forward(self, x):
        for layer in self._layers():
            x = layer(x)
        return x

    def backward(self, grad_output):
        self._backward_begins()
        for layer in reversed(self._layers()):
            grad_output = layer.backward(grad_output)
        return grad_output
