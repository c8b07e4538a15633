"""A small reverse-mode automatic differentiation engine over NumPy arrays.

Each operation makes a new :class:`Tensor` that remembers its inputs and a closure that
pushes its gradient back to them (the operation's backward, derived in the Backpropagation
chapter). ``Tensor.backward()`` orders the graph topologically and runs the closures from the
output back to the leaves, so every node's gradient is complete before it is passed on.

Broadcasting follows NumPy. An input that was broadcast receives the gradient summed over the
broadcast dimensions (:func:`unbroadcast`). Dtypes follow PyTorch: a Python number (or any
0-d value) combined with a tensor takes the tensor's dtype, so float32 stays float32, and every
gradient has its tensor's dtype. A leaf's ``.grad`` accumulates over ``backward`` calls.

Nothing silently wrong: data that is not real numbers (objects, where None would become NaN,
strings, complex numbers) is refused with TypeError; NaN is refused with ValueError wherever it
appears, a leaf's data, an operation's result (log of a negative number, (-2) ** 0.5,
0 * inf) or a gradient in the backward pass, naming the operation; so is the mean of no
entries. Infinities (log 0 = -inf, an overflowing exp) are values and pass.
"""

from __future__ import annotations

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: over leading dimensions NumPy added, and over
    dimensions where ``shape`` has size 1. (An input used n times gets n gradients, added.)"""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _numeric(data, who: str) -> np.ndarray:
    """``data`` as an array of real numbers: floats are kept, integers and booleans become
    float64; objects (None would become NaN), strings and complex numbers are refused."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as err:   # ragged lists
        raise TypeError(f"{who} expects an array of real numbers, got {type(data).__name__} "
                        f"({err})") from None
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{who} expects real numbers (float, int or bool), got dtype "
                        f"{array.dtype}" + (": convert it first, e.g. x.astype(np.float64)"
                                            if array.dtype.kind == "O" else ""))
    return array


def _nan_message(op: str, parents: tuple, data: np.ndarray) -> str:
    """Why an operation's result holds NaN, naming the operation and, where it can, the cause."""
    count = int(np.isnan(data).sum())
    entries = f"{count} NaN entr{'y' if count == 1 else 'ies'}"
    if not op:
        return (f"Tensor got data holding {entries}: the engine refuses NaN (it would spread "
                "to every gradient); find where it came from")
    inputs = [p.data for p in parents]
    if op == "log" and (inputs[0] < 0).any():
        why = f"log of a negative number ({int((inputs[0] < 0).sum())} entries below 0)"
    elif op.startswith("**") and (inputs[0] < 0).any():
        why = (f"a negative base to the non-integer power {op[2:]} (e.g. (-2) ** 0.5) is not "
               "a real number")
    elif op == "*" and any(np.isinf(x).any() for x in inputs):
        why = "0 * inf (an infinite factor met a zero)"
    elif op == "+" and any(np.isinf(x).any() for x in inputs):
        why = "inf - inf (infinite terms of opposite signs)"
    else:
        why = "an undefined value"
    return f"{op} gave {entries}: {why}. The engine refuses NaN rather than spread it"


class Tensor:
    """An array with a gradient. PyTorch twin: ``torch.Tensor`` with ``requires_grad=True``."""

    def __init__(self, data, _parents: tuple = (), _op: str = ""):
        data = _numeric(data, "Tensor")
        self.data = data if np.issubdtype(data.dtype, np.floating) else data.astype(np.float64)
        if np.isnan(self.data).any():
            raise ValueError(_nan_message(_op, _parents, self.data))
        self.grad: np.ndarray | None = None
        self._parents = _parents
        self._op = _op
        self._backward = lambda: None

    shape = property(lambda self: self.data.shape)

    def __repr__(self) -> str:
        return f"Tensor(shape={self.shape}, op={self._op or 'leaf'!r})"

    def _accumulate(self, grad: np.ndarray) -> None:
        grad = unbroadcast(np.asarray(grad), self.shape).astype(self.data.dtype, copy=False)
        self.grad = grad.copy() if self.grad is None else self.grad + grad

    @staticmethod
    def lift(x, like: Tensor | None = None) -> Tensor:
        """``x`` as a Tensor; a number (0-d) beside the tensor ``like`` takes like's dtype."""
        if isinstance(x, Tensor):
            return x
        if like is not None and np.ndim(x) == 0:
            return Tensor(_numeric(x, "Tensor").astype(like.data.dtype))
        return Tensor(x)

    # -- the primitives: forward, and right beside it the backward ----------------------
    def __add__(self, other) -> Tensor:
        other = Tensor.lift(other, self)
        out = Tensor(self.data + other.data, (self, other), "+")

        def backward():                      # d(a + b)/da = 1, d(a + b)/db = 1
            self._accumulate(out.grad)
            other._accumulate(out.grad)
        out._backward = backward
        return out

    def __mul__(self, other) -> Tensor:
        other = Tensor.lift(other, self)
        out = Tensor(self.data * other.data, (self, other), "*")

        def backward():                      # d(a b)/da = b, d(a b)/db = a
            self._accumulate(out.grad * other.data)
            other._accumulate(out.grad * self.data)
        out._backward = backward
        return out

    def __matmul__(self, other) -> Tensor:
        other = Tensor.lift(other, self)
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise ValueError(f"matmul takes two matrices, got shapes {self.shape} and "
                             f"{other.shape}")
        out = Tensor(self.data @ other.data, (self, other), "@")

        def backward():                      # C = A B: dA = G B^T, dB = A^T G
            self._accumulate(out.grad @ other.data.T)
            other._accumulate(self.data.T @ out.grad)
        out._backward = backward
        return out

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def backward():                      # every summed entry gets the output's gradient
            grad = out.grad
            if axis is not None and not keepdims:
                grad = np.expand_dims(grad, axis)
            self._accumulate(np.broadcast_to(grad, self.shape))
        out._backward = backward
        return out

    def exp(self) -> Tensor:
        out = Tensor(np.exp(self.data), (self,), "exp")

        def backward():                      # (e^x)' = e^x, the output itself
            self._accumulate(out.grad * out.data)
        out._backward = backward
        return out

    def log(self) -> Tensor:
        out = Tensor(np.log(self.data), (self,), "log")

        def backward():                      # (log x)' = 1 / x
            self._accumulate(out.grad / self.data)
        out._backward = backward
        return out

    def tanh(self) -> Tensor:
        out = Tensor(np.tanh(self.data), (self,), "tanh")

        def backward():                      # tanh' = 1 - tanh^2
            self._accumulate(out.grad * (1 - out.data**2))
        out._backward = backward
        return out

    def relu(self) -> Tensor:
        out = Tensor(np.maximum(self.data, 0), (self,), "relu")

        def backward():                      # 1 where x > 0, else 0
            self._accumulate(out.grad * (self.data > 0))
        out._backward = backward
        return out

    def __pow__(self, exponent: float) -> Tensor:
        if not isinstance(exponent, int | float):
            raise TypeError("only constant exponents are supported")
        out = Tensor(self.data**exponent, (self,), f"**{exponent}")

        def backward():                      # (x^k)' = k x^(k-1); 0 for k = 0, also at x = 0
            if exponent == 0:
                self._accumulate(np.zeros_like(self.data))
            else:
                self._accumulate(out.grad * exponent * self.data ** (exponent - 1))
        out._backward = backward
        return out

    # -- composites: built from the primitives, so they need no backward of their own -----
    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other) -> Tensor:
        return self + (-Tensor.lift(other, self))

    def __truediv__(self, other) -> Tensor:
        return self * Tensor.lift(other, self) ** -1.0

    def __radd__(self, other) -> Tensor:
        return self + other

    def __rmul__(self, other) -> Tensor:
        return self * other

    def __rsub__(self, other) -> Tensor:
        return Tensor.lift(other, self) - self

    def __rtruediv__(self, other) -> Tensor:
        return Tensor.lift(other, self) / self

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        """The sum divided by the number of entries summed; ``axis`` an int or a tuple."""
        axes = range(self.data.ndim) if axis is None else np.atleast_1d(axis)
        n = int(np.prod([self.shape[int(a)] for a in axes]))
        if n == 0:
            raise ValueError(f"mean() over an empty set of entries (tensor of shape "
                             f"{self.shape}, axis={axis}): the mean of no numbers is undefined")
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / n)

    # -- reverse mode ---------------------------------------------------------------------
    def backward(self, grad=None) -> None:
        """Fill ``.grad`` of every tensor this one depends on.

        ``grad`` is dL/dself; it may be left out when self is a single number (then 1).
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward() of a tensor of shape {self.shape} needs its "
                                 "upstream gradient; only a scalar can start with 1")
            grad = np.ones_like(self.data)
        grad = _numeric(grad, "backward(grad)").astype(self.data.dtype)
        if np.isnan(grad).any():
            raise ValueError("backward(grad): the upstream gradient holds NaN")
        if grad.shape != self.shape:
            raise ValueError(f"gradient of shape {grad.shape} for a tensor of shape {self.shape}")
        order, seen = [], {id(self)}
        stack = [(self, iter(self._parents))]  # depth-first with an explicit stack (no
        while stack:                           # recursion limit): parents before children
            node, parents = stack[-1]
            for parent in parents:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append((parent, iter(parent._parents)))
                    break
            else:
                stack.pop()
                order.append(node)
        for node in order:
            if node._parents:
                node.grad = None             # intermediate gradients start from zero
        self._accumulate(grad)               # a leaf accumulates, as every leaf does
        for node in reversed(order):
            if node._parents and node.grad is not None:
                node._backward()
                for parent in node._parents:
                    if parent.grad is not None and np.isnan(parent.grad).any():
                        raise ValueError(
                            f"the backward of {node._op} gave a NaN gradient (0 * inf or "
                            "inf - inf: an infinite value or derivative met a zero, e.g. the "
                            "derivative of x ** 0.5 or log x at x = 0)")
