"""Optimizers with ``torch.optim``'s update formulas, defaults and state, and gradient
clipping as ``torch.nn.utils`` does it.

Every optimizer takes an iterable of :class:`~deepglossary.nn.Parameter`, offers ``step()`` and
``zero_grad()``, skips parameters whose ``grad`` is ``None``, and keeps its per-parameter state
in ``self.state[i]`` (a dict, like torch's). The update of each is written out in ``_update``
exactly as its chapter derives it.
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary.nn.core import Layer, Parameter


def parameter_list(params, who: str, *, allow_empty: bool = False,
                   example: str = "lr=0.1") -> list[Parameter]:
    """Check what an optimizer (or a clipping function) was given: an iterable of distinct
    :class:`Parameter` objects, as ``model.parameters()`` returns.

    TypeError for a model, a single array, parameter-group dicts or anything else that is not
    Parameters (a model passed by mistake would otherwise leave every weight unchanged);
    ValueError for an empty list and for a Parameter given twice (it would be updated twice).
    """
    hint = f"pass model.parameters(), e.g. {who}(model.parameters(), {example})"
    if isinstance(params, Layer):
        raise TypeError(f"{who} got the layer {type(params).__name__} itself; it takes the "
                        f"parameters to update: {hint}")
    if isinstance(params, Parameter | np.ndarray) or not hasattr(params, "__iter__"):
        raise TypeError(f"{who} takes an iterable of Parameters, got "
                        f"{type(params).__name__}; {hint} (or [p] for one Parameter p)")
    params = list(params)
    for i, p in enumerate(params):
        if isinstance(p, dict):
            raise TypeError(f"{who}: parameter groups (dicts) are not supported, got a dict at "
                            f"position {i}; {hint}")
        if not isinstance(p, Parameter):
            raise TypeError(f"{who} takes an iterable of Parameters, got "
                            f"{type(p).__name__} at position {i}; {hint}")
    if not params and not allow_empty:
        raise ValueError(f"{who} got an empty parameter list; {hint}")
    first: dict[int, int] = {}
    for i, p in enumerate(params):
        if id(p) in first:
            raise ValueError(f"{who} got the same Parameter twice, at positions {first[id(p)]} "
                             f"and {i} ({p!r}): it would be updated twice per step. "
                             "model.parameters() lists a shared (tied) parameter once")
        first[id(p)] = i
    return params


def _check(name: str, value: float, low: float = 0.0, *, strict: bool = False,
           high: float | None = None, high_inclusive: bool = False,
           message: str | None = None) -> float:
    """Refuse a hyperparameter outside its range with torch's wording: ValueError for NaN,
    inf or a value outside [low, high) (``strict``: low excluded; ``high_inclusive``: high
    included), TypeError for something that is not a real number."""
    if isinstance(value, str | bytes) or np.ndim(value) != 0:
        raise TypeError(f"Invalid {name}: expected a real number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"Invalid {name}: expected a real number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(message or f"Invalid {name}: {value} (it must be a finite number)")
    too_low = value <= low if strict else value < low
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        raise ValueError(message or f"Invalid {name}: {value}")
    return value


def _finite(name: str, value: float) -> float:
    """A hyperparameter torch accepts with any value (``dampening``): only refuse NaN, inf and
    what is not a real number."""
    return _check(name, value, -math.inf)


class Optimizer:
    """Holds a list of parameters; ``zero_grad()`` clears their gradients, ``step()`` updates.

    PyTorch twin: ``torch.optim.Optimizer``.
    """

    def __init__(self, params):
        self.params = parameter_list(params, type(self).__name__)
        self.state: list[dict] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter whose ``grad`` is set. A gradient must have its parameter's
        shape (broadcasting a (1, n) gradient would move every row of an (m, n) weight) and
        be a real number array; it is used in the parameter's dtype."""
        grads = []
        for i, p in enumerate(self.params):          # check all before changing any
            if p.grad is None:
                grads.append(None)
                continue
            g = np.asarray(p.grad)
            if g.dtype.kind not in "fiub":
                raise TypeError(f"{type(self).__name__}.step: the gradient of parameter {i} "
                                f"({p!r}) has dtype {g.dtype}; it must hold real numbers")
            if g.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}.step: the gradient of parameter {i} "
                                 f"has shape {g.shape}, but the parameter has shape "
                                 f"{p.data.shape}; a gradient must have its parameter's shape")
            grads.append(g)
        for p, g, state in zip(self.params, grads, self.state):
            if g is not None:
                p.data[...] = self._update(p.data, g.astype(p.data.dtype), state)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    PyTorch twin: ``torch.optim.SGD``. With g the gradient (plus ``weight_decay * p``):
    without momentum p <- p - lr g; with it, b <- momentum b + (1 - dampening) g (b = g at the
    first step) and p <- p - lr b, or p <- p - lr (g + momentum b) for Nesterov.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        self.lr = _check("learning rate", lr)
        self.momentum = _check("momentum value", momentum)
        self.dampening = _finite("dampening value", dampening)
        self.weight_decay = _check("weight_decay value", weight_decay)
        self.nesterov = bool(nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params)

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                state["momentum_buffer"] = (self.momentum * state["momentum_buffer"]
                                            + (1 - self.dampening) * g)
            buf = state["momentum_buffer"]
            g = g + self.momentum * buf if self.nesterov else buf
        return p - self.lr * g


class Adagrad(Optimizer):
    """Per-parameter step sizes from the sum of all past squared gradients.

    PyTorch twin: ``torch.optim.Adagrad``. s <- s + g^2; p <- p - lr_t g / (sqrt(s) + eps),
    with lr_t = lr / (1 + (t - 1) lr_decay).
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        self.lr = _check("learning rate", lr)
        self.lr_decay = _check("lr_decay value", lr_decay)
        self.weight_decay = _check("weight_decay value", weight_decay)
        self.initial_accumulator_value = _check("initial_accumulator_value",
                                                initial_accumulator_value)
        self.eps = _check("epsilon value", eps, strict=True)
        super().__init__(params)

    def _update(self, p, g, state):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, self.initial_accumulator_value)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        lr_t = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] = state["sum"] + g * g
        return p - lr_t * g / (np.sqrt(state["sum"]) + self.eps)


class Adadelta(Optimizer):
    """Adagrad's decaying step repaired: leaky averages of squared gradients *and* of squared
    updates, whose ratio gives the step the units of the parameter.

    PyTorch twin: ``torch.optim.Adadelta``. E[g^2] <- rho E[g^2] + (1 - rho) g^2;
    d = sqrt(E[d^2] + eps) / sqrt(E[g^2] + eps) g; E[d^2] <- rho E[d^2] + (1 - rho) d^2;
    p <- p - lr d.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        self.lr = _check("learning rate", lr)
        self.rho = _check("rho value", rho, high=1.0, high_inclusive=True,
                          message=f"Invalid rho value: {rho} (it must lie in [0, 1])")
        self.eps = _check("epsilon value", eps, strict=True)
        self.weight_decay = _check("weight_decay value", weight_decay)
        super().__init__(params)

    def _update(self, p, g, state):
        if not state:
            state["square_avg"] = np.zeros_like(p)
            state["acc_delta"] = np.zeros_like(p)
        if self.weight_decay:
            g = g + self.weight_decay * p
        rho = self.rho
        state["square_avg"] = rho * state["square_avg"] + (1 - rho) * g * g
        delta = np.sqrt(state["acc_delta"] + self.eps) / np.sqrt(state["square_avg"] + self.eps) * g
        state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
        return p - self.lr * delta


class RMSprop(Optimizer):
    """Divide each step by the root of a leaky average of squared gradients.

    PyTorch twin: ``torch.optim.RMSprop``. v <- alpha v + (1 - alpha) g^2; with ``centered``
    the variance v - m^2 (m the leaky mean of g) replaces v; step = g / (sqrt(.) + eps), fed
    through a momentum buffer when ``momentum`` > 0.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        self.lr = _check("learning rate", lr)
        self.alpha = _check("alpha value", alpha, high=1.0, high_inclusive=True,
                            message=f"Invalid alpha value: {alpha} (it must lie in [0, 1]: "
                            "v <- alpha v + (1 - alpha) g^2 is a weighted average only then; "
                            "with alpha > 1 the weight 1 - alpha of g^2 is negative, v turns "
                            "negative and sqrt(v) NaN)")
        self.eps = _check("epsilon value", eps, strict=True)
        self.weight_decay = _check("weight_decay value", weight_decay)
        self.momentum = _check("momentum value", momentum)
        self.centered = bool(centered)
        super().__init__(params)

    def _update(self, p, g, state):
        if not state:
            state["square_avg"] = np.zeros_like(p)
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(p)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p)
        if self.weight_decay:
            g = g + self.weight_decay * p
        a = self.alpha
        state["square_avg"] = a * state["square_avg"] + (1 - a) * g * g
        if self.centered:
            state["grad_avg"] = a * state["grad_avg"] + (1 - a) * g
            # v - m^2 >= 0 in exact arithmetic (alpha in [0, 1]); rounding can make it -1e-17
            variance = np.maximum(state["square_avg"] - state["grad_avg"] ** 2, 0)
            avg = np.sqrt(variance) + self.eps
        else:
            avg = np.sqrt(state["square_avg"]) + self.eps
        if self.momentum:
            state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + g / avg
            return p - self.lr * state["momentum_buffer"]
        return p - self.lr * g / avg


class Adam(Optimizer):
    """Momentum's running mean of the gradient over RMSprop's running root mean square, both
    corrected for starting at zero.

    PyTorch twin: ``torch.optim.Adam``. m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps); with ``amsgrad`` the
    running maximum of v replaces v. ``weight_decay`` adds ``weight_decay * p`` to g (L2
    regularisation, coupled to the adaptive scaling); :class:`AdamW` decouples it.
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        self.lr = _check("learning rate", lr)
        self.eps = _check("epsilon value", eps, strict=True)
        for i, beta in enumerate(betas):
            _check("beta", beta, high=1.0,
                   message=f"Invalid beta parameter at index {i}: {beta} (it must lie in [0, 1))")
        self.betas = (float(betas[0]), float(betas[1]))
        self.weight_decay = _check("weight_decay value", weight_decay)
        self.amsgrad = bool(amsgrad)
        super().__init__(params)

    def _update(self, p, g, state):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t, (b1, b2) = state["step"], self.betas
        if self.weight_decay:
            if self.decoupled:
                p = p * (1 - self.lr * self.weight_decay)
            else:
                g = g + self.weight_decay * p
        state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
        state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
        v = state["exp_avg_sq"]
        if self.amsgrad:
            state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
            v = state["max_exp_avg_sq"]
        step_size = self.lr / (1 - b1**t)
        denom = np.sqrt(v) / math.sqrt(1 - b2**t) + self.eps
        return p - step_size * state["exp_avg"] / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p <- p (1 - lr weight_decay) before the Adam step.

    PyTorch twin: ``torch.optim.AdamW`` (whose default ``weight_decay`` is 0.01).
    """

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


def _bound(who: str, name: str, value, effect: str) -> float:
    """A clipping bound: a non-negative number, +inf meaning no clipping. torch does not check
    it; a negative bound would silently {effect}, so it is refused here."""
    if isinstance(value, bool | str | bytes) or np.ndim(value) != 0:
        raise TypeError(f"{who}: {name} must be a non-negative number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a non-negative number, got {value!r}") from None
    if not value >= 0:                                   # NaN fails too
        raise ValueError(f"{who}: {name} must be a non-negative number (or inf: no clipping), "
                         f"got {value}; a negative bound would {effect}")
    return value


def _norm(g: np.ndarray, norm_type: float) -> float:
    """The norm_type-norm of g flattened; where the naive sum of powers overflows although
    every entry is finite (entries ~1e160), computed from g / 2^k, an exact scaling."""
    with np.errstate(over="ignore"):
        total = float(np.linalg.norm(g.ravel(), norm_type))
    if math.isinf(total) and np.isfinite(g).all():
        k = int(np.frexp(np.abs(g).max())[1])
        total = math.ldexp(float(np.linalg.norm(np.ldexp(g.ravel(), -k), norm_type)), k)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0) -> float:
    """Rescale all gradients together so that their joint norm is at most ``max_norm``.

    PyTorch twin: ``torch.nn.utils.clip_grad_norm_``: the total norm is the ``norm_type``-norm
    of the per-parameter norms; every gradient is multiplied by
    min(1, max_norm / (total_norm + 1e-6)). Returns the total norm before clipping.
    A negative or NaN ``max_norm`` is refused (torch accepts it and flips every gradient).
    """
    max_norm = _bound("clip_grad_norm", "max_norm", max_norm, "flip every gradient")
    if isinstance(parameters, Parameter):
        parameters = [parameters]
    grads = [p.grad for p in parameter_list(parameters, "clip_grad_norm", allow_empty=True,
                                                  example="max_norm=1.0")
             if p.grad is not None]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.abs(g).max(initial=0.0)) for g in grads)
    else:
        total = _norm(np.array([_norm(g, norm_type) for g in grads]), norm_type)
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= coefficient
    return total


def clip_grad_value(parameters, clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value].

    PyTorch twin: ``torch.nn.utils.clip_grad_value_``. A negative or NaN ``clip_value`` is
    refused (torch accepts it and sets every entry to -clip_value).
    """
    clip_value = _bound("clip_grad_value", "clip_value", clip_value,
                        "set every entry to -clip_value")
    if isinstance(parameters, Parameter):
        parameters = [parameters]
    for p in parameter_list(parameters, "clip_grad_value", allow_empty=True,
                                 example="clip_value=1.0"):
        if p.grad is not None:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)
