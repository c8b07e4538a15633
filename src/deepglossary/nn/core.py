"""Parameter, Layer and Sequential: the skeleton every layer of the book hangs on.

A layer computes ``forward(*inputs)``, keeps what its backward pass needs, and
``backward(grad_output)`` returns the gradient with respect to each input while *adding* the
gradient of every parameter into ``Parameter.grad`` (as ``torch.Tensor.backward`` does).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

_CHECK_FINITE = True


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

    Refuses, with a message that says what was expected: non-arrays that cannot become
    floating arrays, integer or boolean arrays (they would silently compute in float64),
    NaN or inf entries, too few dimensions, and a wrong size of the last dimension.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{layer} expects a floating-point array (float32 or float64), got dtype {x.dtype}; "
            f"convert it first, e.g. x.astype(np.float64)"
        )
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


class Parameter:
    """A learnable array: ``.data`` and ``.grad`` (same shape, or ``None`` before backward).

    PyTorch twin: ``torch.nn.Parameter``.
    """

    def __init__(self, data):
        self.data = np.array(data, dtype=np.result_type(data, np.float32))
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

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def __call__(self, *inputs):
        return self.forward(*inputs)

    # -- the tree of layers and parameters ---------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Layer]]:
        for name, value in vars(self).items():
            if isinstance(value, Layer):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs in definition order, named as PyTorch names them."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Layer):
                yield from value.named_parameters(prefix + name + ".")

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
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return saved

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
        for layer in reversed(self._layers()):
            grad_output = layer.backward(grad_output)
        return grad_output
