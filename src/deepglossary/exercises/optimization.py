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
