"""Graph rewrites, Theano's optimiser: the graph the user wrote becomes a cheaper, safer one.

``rewrite(outputs, include=...)`` rebuilds the graph node by node, inputs first. Each new node
is offered to the *local rewrites* that are switched on; one that recognises a pattern returns
a replacement. Then the merge step looks the node up in a table keyed by (operation, inputs):
an identical node seen before is used instead (common-subexpression elimination). The passes
repeat until one changes nothing. The groups, by the names the inspector uses:

* ``constant_folding``: an operation whose inputs are all constants is computed now, once;
* ``merge``: identical constants and identical nodes become one;
* ``algebra``: x + 0, x - 0, x * 1, x / 1, x ** 1 -> x; x * 0 -> zeros_like(x) (only when the
  result has x's type, so no shape is lost; it does change a NaN or inf in x into 0);
  -(-x) -> x;
* ``stabilize``: log(softmax(x)) -> log_softmax(x), log(sigmoid(x)) -> -softplus(-x), which
  stay finite where the originals give -inf, and 1 - sigmoid(x) -> sigmoid(-x); in gradient
  graphs, the gradient of log(softmax(x)) without its division by the softmax.

PyTorch counterpart: the graph passes of ``torch.compile`` (TorchInductor) and ``torch.fx``
transformations; eager PyTorch rewrites nothing, so the stable forms are separate functions
(``torch.log_softmax``, ``torch.nn.functional.logsigmoid``) that the user must call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from deepglossary.frameworks.theano import ops
from deepglossary.frameworks.theano.graph import Apply, Constant, Variable, ancestors

GROUPS = ("constant_folding", "merge", "algebra", "stabilize")


@dataclass
class Rewritten:
    """What :func:`rewrite` did: the new ``outputs``, the node counts ``before`` and
    ``after``, and how often each rewrite fired (``applied``)."""

    outputs: list
    before: int
    after: int
    applied: Counter = field(default_factory=Counter)


def _constant(v: Variable, value: float) -> bool:
    """``v`` is a one-entry constant equal to ``value``."""
    return isinstance(v, Constant) and v.value.size == 1 and float(v.value.ravel()[0]) == value


def _identity_operand(var, neutral, ops_, both_sides):
    node = var.owner
    if not isinstance(node.op, ops_):
        return None
    x, y = node.inputs
    for keep, other in ((x, y), (y, x)) if both_sides else ((x, y),):
        if _constant(other, neutral) and keep.type == var.type:
            return keep
    return None


def algebra(var: Variable):
    """x + 0, x - 0, x * 1, x / 1, x ** 1 -> x; x * 0 -> zeros_like(x); -(-x) -> x."""
    node = var.owner
    found = (_identity_operand(var, 0, ops.Add, True) or _identity_operand(var, 0, ops.Sub, False)
             or _identity_operand(var, 1, ops.Mul, True)
             or _identity_operand(var, 1, ops.TrueDiv, False)
             or _identity_operand(var, 1, ops.Pow, False))
    if found is not None:
        return found
    if isinstance(node.op, ops.Mul):
        x, y = node.inputs
        for keep, other in ((x, y), (y, x)):
            if _constant(other, 0) and keep.type == var.type:
                return ops.zeros_like(keep)
    if isinstance(node.op, ops.Neg) and node.inputs[0].owner is not None \
            and isinstance(node.inputs[0].owner.op, ops.Neg):
        return node.inputs[0].owner.inputs[0]
    return None


def stabilize(var: Variable):
    """log(softmax(x)) -> log_softmax(x); log(sigmoid(x)) -> -softplus(-x); 1 - sigmoid(x) ->
    sigmoid(-x) (no cancellation, and log(1 - sigmoid(x)) becomes -softplus(x)); and in gradient
    graphs, softmax_grad(g / softmax(x), softmax(x)) -> g - softmax(x) sum(g), the gradient of
    log(softmax(x)) without the division by a softmax that may be 0 (Theano's
    ``local_logsoftmax_grad``), and the same cancellation for the sigmoid's gradient."""
    node = var.owner
    if isinstance(node.op, ops.Sub) and _constant(node.inputs[0], 1) \
            and node.inputs[1].owner is not None \
            and isinstance(node.inputs[1].owner.op, ops.Sigmoid) \
            and node.inputs[1].type == var.type:                 # 1 - sigmoid(a) = sigmoid(-a)
        return ops.sigmoid(ops.neg(node.inputs[1].owner.inputs[0]))
    if isinstance(node.op, ops.SigmoidGrad):
        return _stable_sigmoid_grad(var)
    if isinstance(node.op, ops.SoftmaxGrad):
        upstream, s = node.inputs
        inner = upstream.owner
        if inner is not None and isinstance(inner.op, ops.TrueDiv) and inner.inputs[1] is s \
                and s.owner is not None and type(s.owner.op) is ops.Softmax:
            g = inner.inputs[0]
            return ops.sub(g, ops.mul(s, ops.expand_dims(ops.sum(g, -1), -1)))
        return None
    if not isinstance(node.op, ops.Log) or node.inputs[0].owner is None:
        return None
    inner = node.inputs[0].owner
    if type(inner.op) is ops.Softmax:
        return ops.log_softmax(inner.inputs[0])
    if isinstance(inner.op, ops.Sigmoid):
        return ops.neg(ops.softplus(ops.neg(inner.inputs[0])))
    return None


def _sigmoid_of(v):
    """The argument a when ``v`` is sigmoid(a), else None."""
    return v.owner.inputs[0] if v.owner is not None and isinstance(v.owner.op, ops.Sigmoid) \
        else None


def _negation_of(v):
    return v.owner.inputs[0] if v.owner is not None and isinstance(v.owner.op, ops.Neg) else None


def _divided_gradient(u, s):
    """``u * s * (1 - s)`` without dividing, when ``u`` is g / s or -(g / sigmoid(-a)) with
    s = sigmoid(a) (what ``grad`` of log(sigmoid(a)) and of log(1 - sigmoid(a)) leaves);
    else None."""
    a = _sigmoid_of(s)
    inner = u.owner
    if a is None or inner is None:
        return None
    if isinstance(inner.op, ops.TrueDiv) and inner.inputs[1] is s:           # g / s
        return ops.mul(inner.inputs[0], ops.sigmoid(ops.neg(a)))             # g (1 - s)
    flipped = _negation_of(u)
    if flipped is not None and flipped.owner is not None \
            and isinstance(flipped.owner.op, ops.TrueDiv):
        g, d = flipped.owner.inputs                                          # -(g / d)
        if _negation_of(_sigmoid_of(d) or s) is a:                           # d = sigmoid(-a)
            return ops.neg(ops.mul(g, s))                                    # -g s
    return None


def _stable_sigmoid_grad(var):
    """sigmoid_grad(u, s) where u divides by s or by 1 - s: the division cancelled; a sum
    u + u' is split first (the gradient is linear in u) when one of its terms cancels."""
    u, s = var.owner.inputs
    if u.type != var.type:
        return None
    direct = _divided_gradient(u, s)
    if direct is not None:
        return direct
    if u.owner is not None and isinstance(u.owner.op, ops.Add):
        left, right = u.owner.inputs
        if left.type == right.type == var.type and (
                _divided_gradient(left, s) is not None or _divided_gradient(right, s) is not None):
            return ops.add(ops.SigmoidGrad()(left, s), ops.SigmoidGrad()(right, s))
    return None


def constant_folding(var: Variable):
    """An operation on constants only becomes the constant it computes."""
    node = var.owner
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    value = node.op.run(node, [i.value for i in node.inputs])
    folded = Constant(np.asarray(value, dtype=var.dtype))
    return folded if folded.ndim == var.ndim else None


LOCAL = {"constant_folding": constant_folding, "algebra": algebra, "stabilize": stabilize}


def rewrite(outputs, include=GROUPS, extra=(), max_passes: int = 20) -> Rewritten:
    """The graph of ``outputs`` rewritten by the groups named in ``include`` (see the module's
    docstring) and the local rewrites in ``extra`` (functions ``rule(var)`` returning a
    replacement variable or None, counted under their ``__name__``). ``outputs``: a variable
    or a list; the result's ``outputs`` is a list."""
    outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
    unknown = set(include) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown rewrites {sorted(unknown)}; choose from {GROUPS}")
    before = len(ancestors(outputs))
    applied = Counter()
    for _ in range(max_passes):
        outputs, fired = _one_pass(outputs, include, extra)
        applied.update(fired)
        if not fired:
            break
    return Rewritten(outputs, before, len(ancestors(outputs)), applied)


def _one_pass(outputs, include, extra):
    rules = [(name, LOCAL[name]) for name in GROUPS if name in include and name in LOCAL]
    rules += [(getattr(rule, "__name__", "extra"), rule) for rule in extra]
    merge = "merge" in include
    fired = Counter()
    memo: dict[int, Variable] = {}
    nodes_seen: dict[tuple, Variable] = {}
    constants_seen: dict[tuple, Variable] = {}

    def new(v):
        if id(v) in memo:
            return memo[id(v)]
        if merge and isinstance(v, Constant) and v.owner is None:
            first = constants_seen.setdefault(v.signature(), v)
            if first is not v:
                fired["merge"] += 1
            return first
        return v

    for node in ancestors(outputs):
        inputs = [new(i) for i in node.inputs]
        if all(a is b for a, b in zip(inputs, node.inputs)):
            var = node.output
        else:
            var = Apply(node.op, inputs, node.op.out_type(*inputs)).output
        changed = True
        while changed and var.owner is not None:
            changed = False
            for name, rule in rules:
                replacement = rule(var)
                if replacement is not None:
                    if not isinstance(replacement, Variable) or replacement.ndim != var.ndim:
                        raise TypeError(f"rewrite {name} replaced {var!r} by {replacement!r}: "
                                        "it must return a Variable of the same ndim, or None")
                    fired[name] += 1
                    var, changed = replacement, True
                    break
        if merge and var.owner is not None:
            key = (var.owner.op.key(), tuple(id(i) for i in var.owner.inputs))
            first = nodes_seen.setdefault(key, var)
            if first is not var:
                fired["merge"] += 1
                var = first
        elif merge and isinstance(var, Constant):
            var = new(var)
        memo[id(node.output)] = var
    return [new(o) for o in outputs], fired
