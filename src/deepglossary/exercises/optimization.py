"""Checkers for the exercises of the part "Optimization"."""

import numpy as np

from deepglossary.exercises import compare, passed
from deepglossary.nn.core import Parameter

# keyword arguments of the student's ``update`` that the checker changes, with the value it
# tries: the name of the optimizer's attribute, and the value
_VARIED = {"lr": ("lr", 0.5), "dampening": ("dampening", 0.5)}


def check_update_rule(update, make_optimizer, steps: int = 30, cases: int = 3):
    """``update(p, g, state, lr=...)`` returns the new parameter array after one step, keeping
    whatever it needs in the dict ``state`` (empty at the first step). It is run next to the
    package's optimizer ``make_optimizer(params)`` on the same gradients for ``steps`` steps:
    ``cases`` random cases, then edge cases that catch a naive answer: gradients so small that
    the place of epsilon matters (inside or outside a square root), gradients of +-1000 on a
    parameter of one entry, and a coordinate whose gradient is always zero (0/0 without
    epsilon). Then the same with other hyperparameters, passed to ``update`` as keywords and set
    on the optimizer: ``lr = 0.5`` (``update`` must take ``lr``), and ``dampening = 0.5`` where
    ``update`` takes ``dampening``; an answer that only works at the exercise's values (say,
    Adadelta at ``lr = 1``, where storing ``lr * delta`` in the update average goes unnoticed)
    fails there."""
    import inspect

    rng = np.random.default_rng(20)
    try:
        accepted = inspect.signature(update).parameters
    except (TypeError, ValueError):
        accepted = {}
    if "lr" not in accepted and not any(a.kind is a.VAR_KEYWORD for a in accepted.values()):
        raise AssertionError("update must take the learning rate as a keyword argument, "
                             "update(p, g, state, lr=...): the checker also runs it at lr = 0.5")

    def run(case, start, gradients, **changed):
        reference = Parameter(start.copy())
        optimizer = make_optimizer([reference])
        for name, value in changed.items():
            setattr(optimizer, _VARIED[name][0], value)
        label = ", ".join([f"{case}", type(optimizer).__name__]
                          + [f"{k} = {v}" for k, v in changed.items()])
        p, state = start.copy(), {}
        for t, g in enumerate(gradients):
            reference.grad = g.copy()
            optimizer.step()
            new = update(p.copy(), g.copy(), state, **changed)
            if new is None:
                raise AssertionError(f"update returned None after step {t + 1} ({label}): "
                                     "return the new parameter (changing p in place is not "
                                     "enough)")
            p = np.asarray(new)
            compare(f"parameter after step {t + 1}", p, reference.data, case=label, rtol=1e-9,
                    atol=1e-12)
        return type(optimizer).__name__

    variants = [{}] + [{name: value} for name, (_, value) in _VARIED.items() if name in accepted]
    checked = 0
    for changed in variants:
        for k in range(cases):
            run(f"case {k}", rng.standard_normal((3, 2)),
                [rng.standard_normal((3, 2)) * 10 ** rng.uniform(-1, 1) for _ in range(steps)],
                **changed)
        edges = {"tiny gradients (about 1e-7), shape (5,)":
                 [rng.standard_normal(5) * 1e-7 for _ in range(steps)],
                 "gradients of +-1000, shape (1,)":
                 [rng.choice([-1000.0, 1000.0], 1) for _ in range(steps)],
                 "column 0's gradient always zero, shape (2, 3)":
                 [rng.standard_normal((2, 3)) * np.array([0.0, 1.0, 1.0]) for _ in range(steps)]}
        for case, gradients in edges.items():
            name = run(case, rng.standard_normal(gradients[0].shape), gradients, **changed)
        checked += cases + len(edges)
    return passed(f"update rule ({name})", checked)


def check_clip_by_norm(clip, cases: int = 5):
    """``clip(grads, max_norm)`` takes a list of gradient arrays and returns ``(clipped list,
    total norm)`` as ``torch.nn.utils.clip_grad_norm_`` computes them (2-norm), each clipped
    gradient in its input's dtype. After ``cases`` random cases come edge cases that catch a
    naive answer: all-zero gradients, entries of +-1000, float32, a single parameter of one
    entry, odd shapes."""
    from deepglossary.optim import clip_grad_norm

    rng = np.random.default_rng(21)

    def run(case, grads, max_norm):
        params = [Parameter(np.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g.copy()
        total = clip_grad_norm(params, max_norm)
        got, got_total = clip([g.copy() for g in grads], max_norm)
        tolerance = dict(rtol=1e-5, atol=1e-6) if grads[0].dtype == np.float32 else {}
        case = f"{case}, max_norm {max_norm}"
        compare("total norm", got_total, total, case=case, **tolerance)
        if len(got) != len(grads):
            raise AssertionError(f"expected {len(grads)} clipped gradients, got {len(got)} "
                                 f"({case})")
        for i, (mine, p) in enumerate(zip(got, params)):
            compare(f"clipped gradient {i}", mine, p.grad, case=case, **tolerance)
            if np.asarray(mine).dtype != p.grad.dtype:
                raise AssertionError(f"clipped gradient {i}: expected dtype {p.grad.dtype}, got "
                                     f"{np.asarray(mine).dtype} ({case})")

    for k in range(cases):
        grads = [rng.standard_normal(s) * 10 ** rng.uniform(-1, 1) for s in ((3, 2), (4,))]
        run(f"case {k}", grads, [0.5, 1.0, 5.0, 100.0, 2.0][k % 5])
    edges = [("all-zero gradients", [np.zeros((3, 2)), np.zeros(4)], 1.0),
             ("entries of +-1000 beside small ones",
              [np.array([[1000.0, -0.01], [0.02, -1000.0]]), rng.standard_normal(3)], 1.0),
             ("float32", [rng.standard_normal((3, 2)).astype(np.float32) * 10,
                          rng.standard_normal(4).astype(np.float32)], 1.0),
             ("a single parameter of one entry", [np.array([-7.0])], 2.0),
             ("odd shapes (2, 3, 1), (7,), (1, 1)", [rng.standard_normal(s) * 3
                                                     for s in ((2, 3, 1), (7,), (1, 1))], 0.5)]
    for case, grads, max_norm in edges:
        run(case, grads, max_norm)
    return passed("clip by norm", cases + len(edges))
