"""Checkers for the exercises of the Theano chapter.

``check_softplus_grad`` takes a student's symbolic gradient of softplus, ``softplus_grad(x, g)``
(symbolic variables in, a symbolic variable out), puts it in a softplus operation, compiles
the gradient graph and compares it with sigmoid(x) * g on random inputs and on |x| up to 1000,
where the textbook form g * exp(x) / (1 + exp(x)) gives inf / inf = NaN; also in float32,
where the gradient graph must stay float32 (checked before ``grad`` casts it).

``check_log_exp_rewrite`` takes a local rewrite ``rule(var)`` that should turn log(exp(a)) into
a, and runs it inside ``rewrite`` on graphs chosen to catch the usual slips: a rule that fires
on any log, one that tests only that the input is an exp and not that the node is a log, one
that also turns exp(log(a)) into a (wrong where a < 0, where log gives NaN; at 0 it happens to
hold), one that loses the dtype, and one that misses the pattern deep inside a graph.
"""

import numpy as np

from deepglossary.exercises import compare, passed
from deepglossary.frameworks import theano as th
from deepglossary.frameworks.theano import ops


def _reference_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def check_softplus_grad(softplus_grad):
    """``softplus_grad(x, g)``: x a symbolic input, g the symbolic gradient of the cost with
    respect to softplus(x) (x's shape); returns the symbolic gradient with respect to x."""

    class StudentSoftplus(ops.Softplus):
        def grad(self, inputs, out, g):
            result = softplus_grad(inputs[0], g)
            if not isinstance(result, th.Variable):
                raise AssertionError(f"softplus_grad must return a symbolic Variable (built "
                                     f"from th operations), got {type(result).__name__}")
            if result.dtype != inputs[0].dtype:                 # before Lop casts it back
                raise AssertionError(f"softplus_grad gave a {result.dtype} graph for a "
                                     f"{inputs[0].dtype} input: build it from x and g only "
                                     "(a float64 constant promotes a float32 graph)")
            return [result]

    rng = np.random.default_rng(5)
    cases = [("random", rng.standard_normal(7) * 3),
             ("large |x|", np.array([-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0]))]
    count = 0
    for dtype in (np.float64, np.float32):
        for label, values in cases:
            name = np.dtype(dtype).name
            x, g = th.vector("x", dtype=name), th.vector("g", dtype=name)
            gx = th.Lop(StudentSoftplus()(x), x, g)
            upstream = rng.standard_normal(values.shape).astype(dtype)
            with np.errstate(all="ignore"):
                got = th.function([x, g], gx, rewrites=())(values.astype(dtype), upstream)
            expected = _reference_sigmoid(values.astype(dtype)) * upstream
            tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else {}
            bad = ~np.isfinite(got)
            if bad.any():
                raise AssertionError(f"d softplus / dx ({label}, {np.dtype(dtype)}): got "
                                     f"{got[bad]} at x = {values[bad]}, where g * sigmoid(x) "
                                     f"is {expected[bad]}")
            compare("d softplus / dx", got, expected, case=f"{label}, x = {values}, "
                    f"{np.dtype(dtype)}", **tol)
            count += 1
    passed("softplus_grad", count)


def check_log_exp_rewrite(rule):
    """``rule(var)``: given a variable whose ``owner`` is a node, return a variable to use
    instead, or None to leave it. It should turn log(exp(a)) into a, and nothing else."""
    x, y = th.vector("x"), th.vector("y")
    data = {x: np.array([-2.0, -0.5, 0.0, 1.5]), y: np.array([0.3, -1.0, 2.0, -0.2])}

    def run(out, extra, label):
        inputs = [x, y]
        try:                                      # a rule that builds a wrong graph fails here
            result = th.rewrite(out, include=(), extra=extra)
            with np.errstate(all="ignore"):
                value = th.function(inputs, result.outputs[0], rewrites=())(
                    *(data[v] for v in inputs))
        except (TypeError, ValueError, AttributeError, IndexError) as err:
            raise AssertionError(f"{label}: with the rule, rewriting or running the graph "
                                 f"failed with {type(err).__name__}: {err}") from err
        return result, value

    cases = [
        ("log(exp(x))", th.log(th.exp(x)), 2),
        ("log(exp(x * y)) inside a sum with tanh(x)",
         th.sum(th.log(th.exp(x * y))) + th.tanh(x), 2),
        ("log(x * y), no exp: leave it", th.log(x * y), None),
        ("exp(log(x)), the other order: wrong where x < 0, leave it", th.exp(th.log(x)), None),
        ("log(sigmoid(x)), not an exp: leave it", th.log(th.sigmoid(x)), None),
        ("tanh(exp(x)), an exp not under a log: leave it", th.tanh(th.exp(x)), None),
        ("sum(exp(x)), an exp under a sum: leave it", th.sum(th.exp(x)), None),
    ]
    for label, out, removed in cases:
        before, expected = run(out, (), label)
        after, got = run(out, [rule], label)
        if not np.array_equal(got, expected, equal_nan=True) and not np.allclose(
                got, expected, rtol=1e-12, atol=1e-12, equal_nan=True):
            raise AssertionError(f"{label}: the rewritten graph computes {got}, the original "
                                 f"{expected}\nrewritten: {th.pp(after.outputs[0])}")
        want = before.after - (removed or 0)
        if after.after != want:
            raise AssertionError(f"{label}: expected {want} nodes after the rewrite, got "
                                 f"{after.after}: {th.pp(after.outputs[0])}")
    x32 = th.vector("x32", dtype="float32")
    try:
        out32 = th.rewrite(th.log(th.exp(x32)), include=(), extra=[rule]).outputs[0]
    except (TypeError, ValueError, AttributeError, IndexError) as err:
        raise AssertionError(f"log(exp(x)), float32: the rule made the rewrite fail with "
                             f"{type(err).__name__}: {err}") from err
    if out32 is not x32:
        raise AssertionError(f"log(exp(x)) with float32 x should become x itself, got "
                             f"{th.pp(out32)} of type {out32.type}")
    passed("log(exp(a)) -> a", len(cases) + 1)
