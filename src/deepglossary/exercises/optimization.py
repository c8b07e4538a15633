"""Checkers for the exercises of the part "Optimization"."""

import numpy as np

from deepglossary.exercises import compare, passed
from deepglossary.nn.core import Parameter


def check_update_rule(update, make_optimizer, steps: int = 30, cases: int = 3):
    """``update(p, g, state)`` returns the new parameter array after one step, keeping whatever
    it needs in the dict ``state`` (empty at the first step). It is run next to the package's
    optimizer ``make_optimizer(params)`` on the same gradients for ``steps`` steps."""
    rng = np.random.default_rng(20)
    for k in range(cases):
        start = rng.standard_normal((3, 2))
        reference = Parameter(start.copy())
        optimizer = make_optimizer([reference])
        p, state = start.copy(), {}
        for t in range(steps):
            g = rng.standard_normal((3, 2)) * 10 ** rng.uniform(-1, 1)
            reference.grad = g.copy()
            optimizer.step()
            p = np.asarray(update(p.copy(), g.copy(), state))
            compare(f"parameter after step {t + 1}", p, reference.data,
                    case=f"case {k}, {type(optimizer).__name__}", rtol=1e-9, atol=1e-12)
    return passed(f"update rule ({type(optimizer).__name__})", cases)


def check_clip_by_norm(clip, cases: int = 5):
    """``clip(grads, max_norm)`` takes a list of gradient arrays and returns ``(clipped list,
    total norm)`` as ``torch.nn.utils.clip_grad_norm_`` computes them (2-norm)."""
    from deepglossary.optim import clip_grad_norm

    rng = np.random.default_rng(21)
    for k in range(cases):
        grads = [rng.standard_normal(s) * 10 ** rng.uniform(-1, 1) for s in ((3, 2), (4,))]
        max_norm = [0.5, 1.0, 5.0, 100.0, 2.0][k % 5]
        params = [Parameter(np.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g.copy()
        total = clip_grad_norm(params, max_norm)
        got, got_total = clip([g.copy() for g in grads], max_norm)
        compare("total norm", got_total, total, case=f"max_norm {max_norm}")
        for i, (mine, p) in enumerate(zip(got, params)):
            compare(f"clipped gradient {i}", mine, p.grad, case=f"max_norm {max_norm}")
    return passed("clip by norm", cases)
