"""Graph gradients against torch's autograd, and random graphs to try them on.

``gradients_against_torch(y, xs, feed)`` fetches y and our gradient nodes dL/dx (L = <G, y>,
G a random upstream gradient), and the second-order nodes d<R, dL/dx>/dx' (R random), then
evaluates the *same forward nodes* with torch ops (``layer.run_in_torch``) and differentiates
them with ``torch.autograd.grad(..., create_graph=True)``: our gradient rules are compared
with torch's autograd, never with themselves. Returns a ``deepglossary.verify.Report``, which
raises on a mismatch; its ``zero_reference`` lists the rows where torch's value is identically
zero (a vacuous agreement, counted apart). ``random_graph(rng, steps, end, n, k, m, dtype)``
builds a random network of the package's ops for the hypothesis tests and the chapter.
torch is imported inside functions.
"""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.tensorflow import ops
from deepglossary.frameworks.tensorflow.gradients import gradients
from deepglossary.frameworks.tensorflow.graph import Graph, ancestors
from deepglossary.frameworks.tensorflow.layer import run_in_torch
from deepglossary.frameworks.tensorflow.session import Session, Variable

# each step maps the current (n, m) tensor h to a new (n, m) tensor; v: variables by name
STEPS = {
    "relu": lambda h, v: ops.relu(h),
    "sigmoid": lambda h, v: ops.sigmoid(h),
    "tanh": lambda h, v: ops.tanh(h),
    "square": lambda h, v: 0.5 * ops.square(h),
    "exp": lambda h, v: ops.exp(ops.tanh(h)),
    "log": lambda h, v: ops.log(1.0 + ops.square(h)),
    "neg": lambda h, v: -h,
    "reuse": lambda h, v: h * ops.tanh(h) + h,                  # h used three times
    "times bias": lambda h, v: h * v["b"],                      # (n, m) * (m,): broadcast
    "minus bias": lambda h, v: h - ops.square(v["b"]),          # not -b: x W + b - b = x W
    "divide": lambda h, v: h / (1.0 + ops.square(v["b"])),
    "matmul": lambda h, v: ops.matmul(h, v["V"]),
    "matmul T": lambda h, v: ops.matmul(h, v["V"], transpose_b=True),
    # (V^T h^T)^T = h V: the product with both operands transposed
    "matmul TT": lambda h, v: ops.transpose(ops.matmul(v["V"], h, transpose_a=True,
                                                       transpose_b=True)),
    "softmax": lambda h, v: ops.softmax(h),
    "log_softmax": lambda h, v: ops.log_softmax(h),
    "centre rows": lambda h, v: h - ops.reduce_mean(h, axis=1, keepdims=True),
    "column sums": lambda h, v: h * ops.reduce_sum(ops.sigmoid(h), axis=0),
    "transpose twice": lambda h, v: ops.transpose(ops.transpose(h)),
    "identity": lambda h, v: ops.identity(h) * 1.5,
}
ENDS = ("sum", "mean", "row sums", "cross-entropy")


def random_graph(rng, steps, end, n, k, m, dtype=np.float64):
    """A graph: x (None, k) -> x W + b (n, m) -> ``steps`` (names in STEPS) -> ``end``.

    The ends "sum", "mean" and "row sums" reduce h * C for a random constant C (n, m), so that
    no step can make the output identically zero (centred rows summed are 0), and m >= 2
    (a softmax over one class is constant). Returns (graph, output tensor, [x, W, b] (+ [V]
    when a step uses it, + [q], the soft targets (None, m), for the cross-entropy end), feed)
    where ``feed`` holds a random value for x (and q: rows of a softmax, scaled by 1 or 1.5)
    and for every variable (fed, so no initializer is needed)."""
    if m < 2:
        raise ValueError(f"m must be at least 2 (a softmax over one class is constant), got {m}")
    if end not in ENDS:
        raise ValueError(f"end must be one of {ENDS}, got {end!r}")
    graph = Graph()
    with graph.as_default():
        x = ops.placeholder(dtype, (None, k), name="x")
        v = {"W": Variable(rng.standard_normal((k, m)).astype(dtype), name="W"),
             "b": Variable(rng.standard_normal(m).astype(dtype), name="b"),
             "V": Variable((rng.standard_normal((m, m)) / np.sqrt(m)).astype(dtype), name="V")}
        h = ops.matmul(x, v["W"]) + v["b"]
        for name in steps:
            h = STEPS[name](h, v)
        weights = ops.constant(rng.standard_normal((n, m)).astype(dtype))   # C (n, m)
        if end == "sum":
            out = ops.reduce_sum(h * weights)                        # ()
        elif end == "mean":
            out = ops.reduce_mean(h * weights)                       # ()
        elif end == "row sums":
            out = ops.reduce_sum(h * weights, axis=1)                # (n,)
        else:
            q = ops.placeholder(dtype, (None, m), name="q")
            out = ops.reduce_mean(ops.softmax_cross_entropy_with_logits(labels=q, logits=h))
    feed = {x: rng.standard_normal((n, k)).astype(dtype)}
    feed.update({var: var.initial_value for var in v.values()})
    inputs = [x, v["W"], v["b"]]
    if v["V"].op in ancestors([out]):                 # d/dV only when some step uses V
        inputs.append(v["V"])
    if end == "cross-entropy":
        z = 2 * rng.standard_normal((n, m))
        feed[q] = (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).astype(dtype)
        feed[q] = feed[q] * rng.choice([1.0, 1.5]).astype(dtype)  # some rows not summing to 1
        inputs.append(q)
    return graph, out, inputs, feed


def gradients_against_torch(y, xs, feed, *, seed=0, second_order=True, title=None):
    """Compare y, dL/dx for each x in ``xs`` (placeholders or variables, all in ``feed``) and,
    with ``second_order``, d<R, dL/dx_0>/dx for each x, with torch's autograd."""
    import torch

    from deepglossary.verify import Report

    graph = y.graph
    dtype = np.dtype(y.dtype)
    rng = np.random.default_rng([seed, 7])
    session = Session(graph)
    g_value = rng.standard_normal(np.shape(session.run(y, feed))).astype(dtype)
    with graph.as_default():
        g = ops.constant(g_value)
        first = gradients(y, xs, grad_ys=g)
        first = [ops.zeros_like(x) if d is None else d for x, d in zip(xs, first)]
        r_value = rng.standard_normal(feed[xs[0]].shape).astype(dtype)
        inner = ops.reduce_sum(first[0] * ops.constant(r_value))
        second = gradients(inner, xs) if second_order else []
        second = [ops.zeros_like(x) if d is None else d for x, d in zip(xs, second)]
    found = session.run([y, first, second], feed)

    leaves = {t: torch.tensor(value, requires_grad=t in xs) for t, value in feed.items()}
    (ty,) = run_in_torch([y], leaves)
    txs = [leaves[x] for x in xs]
    tg = torch.autograd.grad(ty, txs, torch.as_tensor(g_value), create_graph=True,
                             allow_unused=True)
    tg = [torch.zeros_like(x) if d is None else d for x, d in zip(txs, tg)]
    theirs_second = []
    if second_order:
        tinner = (tg[0] * torch.as_tensor(r_value)).sum()
        theirs_second = torch.autograd.grad(tinner, txs, allow_unused=True) \
            if tinner.requires_grad else [None] * len(txs)
        theirs_second = [torch.zeros_like(x) if d is None else d
                         for x, d in zip(txs, theirs_second)]
    report = Report(title or "graph gradients vs torch autograd")
    report.zero_reference = []                 # quantities that torch finds identically zero

    def add(quantity, ours, theirs):
        theirs = theirs.detach().numpy()
        report.add("cpu", dtype, quantity, np.asarray(ours), theirs, expected_dtype=dtype)
        if not np.any(theirs):
            report.zero_reference.append(quantity)   # a match here proves little

    add("output", found[0], ty)
    for x, ours, theirs in zip(xs, found[1], tg):
        add(f"d/d{x.op.name}", ours, theirs)
    for x, ours, theirs in zip(xs, found[2], theirs_second):
        add(f"d2/d{xs[0].op.name} d{x.op.name}", ours, theirs)
    return report.raise_if_mismatch()
