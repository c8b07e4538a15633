"""Activation functions: Sigmoid, Tanh, ReLU, LeakyReLU, PReLU, Softplus.

Each elementwise activation gives its function ``f`` and its derivative ``df``; the shared
:class:`Elementwise` base does the bookkeeping, so the backward pass is the chain rule
``dL/dx = dL/dy * f'(x)`` and nothing else.
"""

import numpy as np

from deepglossary.nn.core import Layer, Parameter, as_input


def sigmoid(x):
    """1 / (1 + e^-x), computed as 1/(1 + e^-|x|) or e^-|x|/(1 + e^-|x|): no overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def finite_number(value, layer: str, argument: str) -> float:
    """A hyperparameter as a float: TypeError unless it is a real number, ValueError unless it
    is finite (a NaN or infinite slope or scale turns finite inputs into NaN outputs)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{layer}: {argument} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{layer}: {argument} must be a finite number, got {value}")
    return float(value)


def upstream_grad(layer: Layer, grad_output, shape: tuple, dtype, name: str) -> np.ndarray:
    """The upstream gradient, checked (shape: ``Layer._check_grad``) and cast to the layer's
    computing dtype, as torch casts a float64 gradient flowing into a float32 graph: the input
    gradient then keeps the input's dtype. TypeError for what is not real numbers (bool,
    complex, object); ValueError when the cast overflows (a float64 1e39 into float32)."""
    g = layer._check_grad(grad_output, shape, name)
    if g.dtype.kind not in "fiu":
        raise TypeError(f"{name}.backward expects grad_output of real numbers, got dtype "
                        f"{g.dtype}")
    if g.dtype == dtype:
        return g
    with np.errstate(over="ignore"):
        cast = g.astype(dtype)
    if g.dtype.kind == "f" and np.isinf(cast).any() and not np.isinf(g).any():
        raise ValueError(f"{name}.backward: grad_output ({g.dtype}) overflows the layer's "
                         f"dtype {np.dtype(dtype)} when cast to it")
    return cast


class Elementwise(Layer):
    """A layer ``y = f(x)`` applied entry by entry; backward multiplies by ``f'(x)``.

    Subclasses define ``f(x)`` and ``df(x, y)``, the derivative written in terms of the input
    ``x`` and/or the output ``y``, whichever is cheaper. Shapes: x (*), y (*) the same.
    """

    def f(self, x):
        raise NotImplementedError

    def df(self, x, y):
        raise NotImplementedError

    def forward(self, x):
        x = as_input(x, type(self).__name__)
        y = self.f(x)
        self._cache = (x, y)
        return y

    def backward(self, grad_output):
        x, y = self._saved()
        g = upstream_grad(self, grad_output, x.shape, x.dtype, type(self).__name__)
        return g * self.df(x, y)


class Sigmoid(Elementwise):
    """sigma(x) = 1 / (1 + e^-x), sigma' = sigma (1 - sigma). PyTorch twin: ``torch.nn.Sigmoid``.

    Computed as 1/(1 + e^-|x|) or e^-|x|/(1 + e^-|x|) so that e^-x never overflows.
    """

    def f(self, x):
        return sigmoid(x)

    def df(self, x, y):
        return y * (1 - y)


class Tanh(Elementwise):
    """tanh(x), tanh' = 1 - tanh^2. PyTorch twin: ``torch.nn.Tanh``."""

    def f(self, x):
        return np.tanh(x)

    def df(self, x, y):
        return 1 - y * y


class ReLU(Elementwise):
    """max(0, x); derivative 1 where x > 0, else 0 (0 at the kink, as PyTorch).

    PyTorch twin: ``torch.nn.ReLU``.
    """

    def f(self, x):
        return np.maximum(x, 0)

    def df(self, x, y):
        return (x > 0).astype(x.dtype)


class LeakyReLU(Elementwise):
    """x for x > 0, ``negative_slope * x`` otherwise. PyTorch twin: ``torch.nn.LeakyReLU``."""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = finite_number(negative_slope, "LeakyReLU", "negative_slope")

    def f(self, x):
        return np.where(x > 0, x, self.negative_slope * x)

    def df(self, x, y):
        return np.where(x > 0, 1, self.negative_slope).astype(x.dtype)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softplus(Elementwise):
    """log(1 + e^(beta x)) / beta, a smooth ReLU; derivative sigma(beta x).

    Like PyTorch, returns x itself where ``beta * x > threshold`` (the two agree there to
    within float rounding). PyTorch twin: ``torch.nn.Softplus``.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        beta = finite_number(beta, "Softplus", "beta")
        if beta <= 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta}")
        self.beta = beta
        self.threshold = finite_number(threshold, "Softplus", "threshold")

    def f(self, x):
        bx = self.beta * x
        t = np.minimum(bx, self.threshold)
        # PyTorch's log1p(e^t); past t = 30 (only with a threshold above 30) e^t could
        # overflow, and t + log1p(e^-t), the same number, is used instead
        with np.errstate(over="ignore"):
            value = np.where(t > 30, t + np.log1p(np.exp(-np.abs(t))), np.log1p(np.exp(t)))
        return np.where(bx > self.threshold, x, value / self.beta)

    def df(self, x, y):
        bx = self.beta * x
        t = np.minimum(bx, self.threshold)
        with np.errstate(over="ignore", invalid="ignore"):
            z = np.exp(t)
            slope = np.where(t > 30, sigmoid(t), z / (z + 1))      # e^t / (e^t + 1) = sigma(t)
        return np.where(bx > self.threshold, 1, slope).astype(x.dtype)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class PReLU(Layer):
    """Leaky ReLU whose negative slope ``weight`` is learned. PyTorch twin: ``torch.nn.PReLU``.

    Shapes:
        x:      (N, C, *) or any shape when ``num_parameters == 1``
        weight: (num_parameters,)   one slope shared by all, or one per channel (dim 1)
        y:      same as x

    Backward: dL/dx = g where x > 0, a g elsewhere;  dL/da = sum of g x over x <= 0.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=np.float64):
        if not isinstance(num_parameters, int | np.integer) or num_parameters <= 0:
            raise ValueError(f"PReLU: num_parameters must be a positive integer, "
                             f"got {num_parameters!r}")
        self.num_parameters = int(num_parameters)
        init = finite_number(init, "PReLU", "init")
        self.weight = Parameter(np.full(num_parameters, init, dtype=dtype))

    def _slope(self, x):
        """The weight broadcast against x: one slope, or one per channel along dim 1."""
        a = self.weight.data.astype(x.dtype, copy=False)
        if self.num_parameters == 1:
            return a[0]
        if x.ndim < 2 or x.shape[1] != self.num_parameters:
            raise ValueError(f"PReLU(num_parameters={self.num_parameters}) expects an input of "
                             f"shape (N, {self.num_parameters}, *), got shape {x.shape}")
        return a.reshape((1, -1) + (1,) * (x.ndim - 2))

    def forward(self, x):
        x = as_input(x, "PReLU")
        y = np.where(x > 0, x, self._slope(x) * x)
        self._cache = x
        return y

    def backward(self, grad_output):
        x = self._saved()
        g = upstream_grad(self, grad_output, x.shape, x.dtype, "PReLU")
        negative = x <= 0
        gx = np.where(negative, g * x, 0)                  # dL/da contribution of each entry
        if self.num_parameters == 1:
            self.weight.accumulate(np.array([gx.sum()]))
        else:
            self.weight.accumulate(gx.sum(axis=tuple(i for i in range(x.ndim) if i != 1)))
        return np.where(negative, self._slope(x) * g, g)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
