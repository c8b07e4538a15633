"""Caffe's ``SGDSolver``: the learning-rate policies and Caffe's momentum update.

Per iteration t (from 0) and parameter W with gradient dW (``caffe/solvers/sgd_solver.cpp``):

    rate_t = base_lr (1 + gamma t)^(-power)              lr_policy "inv" (LeNet's solver)
           = base_lr                                      "fixed"
           = base_lr gamma^floor(t / stepsize)            "step"
           = base_lr gamma^t                              "exp"
    g      = dW + weight_decay decay_mult W               Regularize (L2)
    V      = momentum V + rate_t lr_mult g                ComputeUpdateValue: V holds the *step*
    W      = W - V                                        Update

torch.optim.SGD keeps the raw gradients in its buffer instead, B = momentum B + g, and steps
W -= lr_t B. With a fixed rate the two are identical (V = lr B); when the rate changes, Caffe's
V still carries the old rates, torch's step applies the new rate to the whole history.
Counterpart: ``caffe.SGDSolver`` (pycaffe); in PyTorch ``torch.optim.SGD`` with
``LambdaLR``, per-parameter ``lr_mult`` as parameter groups (see the chapter).
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary.frameworks.caffe.net import Net
from deepglossary.frameworks.caffe.prototxt import Message, PrototxtError, parse

POLICIES = ("fixed", "step", "exp", "inv")


def learning_rate(t: int, base_lr: float, lr_policy: str = "fixed", gamma: float = 0.0,
                  power: float = 0.0, stepsize: int = 1) -> float:
    """Caffe's ``SGDSolver::GetLearningRate`` at iteration ``t`` (see the module's docstring)."""
    if lr_policy == "fixed":
        return base_lr
    if lr_policy == "step":
        return base_lr * gamma ** (t // stepsize)
    if lr_policy == "exp":
        return base_lr * gamma ** t
    if lr_policy == "inv":
        return base_lr * (1.0 + gamma * t) ** (-power)
    raise ValueError(f"lr_policy must be one of {POLICIES}, got {lr_policy!r}")


class SGDSolver:
    """Caffe's SGD over a :class:`Net`'s parameters, honouring each layer's ``param { lr_mult
    decay_mult }``.

    Args: ``base_lr``, ``momentum``, ``weight_decay``, ``lr_policy`` (fixed, step, exp, inv),
    ``gamma``, ``power``, ``stepsize``: the fields of a solver prototxt (see
    :meth:`from_prototxt`). ``iter`` counts the steps taken; ``history`` holds V per parameter.
    """

    def __init__(self, net: Net, base_lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, lr_policy: str = "fixed", gamma: float = 0.0,
                 power: float = 0.0, stepsize: int = 1):
        if not isinstance(net, Net):
            raise TypeError(f"SGDSolver takes a Net, got {type(net).__name__}")
        for name, value in (("base_lr", base_lr), ("momentum", momentum),
                            ("weight_decay", weight_decay)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"SGDSolver: {name} must be a finite number >= 0, got {value!r}")
        learning_rate(0, base_lr, lr_policy, gamma, power, stepsize)     # checks the policy
        self.net, self.base_lr, self.momentum = net, float(base_lr), float(momentum)
        self.weight_decay, self.lr_policy = float(weight_decay), lr_policy
        self.gamma, self.power, self.stepsize = float(gamma), float(power), int(stepsize)
        self.iter = 0
        self.slots = [(p, *layer.mults(i)) for layer in net.layers
                      for i, p in enumerate(layer.params)]          # (param, lr_mult, decay)
        self.history = [np.zeros_like(p.data) for p, _, _ in self.slots]

    @classmethod
    def from_prototxt(cls, net: Net, text) -> SGDSolver:
        """A solver from a solver prototxt (``base_lr: 0.01 momentum: 0.9 lr_policy: "inv"
        ...``); fields the solver does not use here (``net``, ``display``, ``snapshot``,
        ``max_iter``, ``test_iter``, ...) are read by the caller or ignored."""
        spec = parse(text) if isinstance(text, str) else text
        if not isinstance(spec, Message):
            raise TypeError("from_prototxt takes the text of a solver prototxt")
        kind = spec.get("type", "SGD")
        if kind != "SGD":
            raise PrototxtError(f"prototxt line {spec.line_of('type')}: only the SGD solver is "
                                f"built here, got type {kind!r}")
        kwargs = {key: spec.get(key) for key in ("base_lr", "momentum", "weight_decay",
                                                 "lr_policy", "gamma", "power", "stepsize")
                  if key in spec}
        if "base_lr" not in kwargs:
            raise PrototxtError("prototxt line 1: a solver needs base_lr")
        return cls(net, **kwargs)

    def rate(self, t: int | None = None) -> float:
        """The learning rate at iteration ``t`` (default: the next step's)."""
        return learning_rate(self.iter if t is None else t, self.base_lr, self.lr_policy,
                             self.gamma, self.power, self.stepsize)

    def apply_update(self) -> None:
        """One update from the gradients in the parameters' ``.grad`` (Caffe's
        ``ApplyUpdate``: Regularize, ComputeUpdateValue, Update), then ``iter += 1``."""
        rate = self.rate()
        for (p, lr_mult, decay_mult), v in zip(self.slots, self.history):
            if p.grad is None:
                raise RuntimeError("SGDSolver.apply_update: a parameter has no gradient; run "
                                   "net.forward(...) and net.backward() first")
            g = p.grad + (self.weight_decay * decay_mult) * p.data     # Regularize (L2)
            v *= self.momentum                                          # V = m V + rate g
            v += (rate * lr_mult) * g
            p.data -= v                                                 # W = W - V
        self.iter += 1

    def step(self, inputs: dict) -> float:
        """One iteration on one batch: forward (``inputs`` by blob name), backward, update.
        Returns the loss (the sum of the loss tops times their loss weights)."""
        self.net.forward(**inputs)
        loss = sum(float(self.net.blobs[layer.tops[0]].data) * layer.loss_weight
                   for layer in self.net.layers if layer.loss_weight)
        self.net.backward()
        self.apply_update()
        return loss
