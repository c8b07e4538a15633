"""Training loops. This first one is plain full-batch gradient descent; ``fit`` with
minibatches and the optimizers of ``deepglossary.optim`` come with the later chapters.
"""

import numpy as np
from tqdm.auto import tqdm

from deepglossary.nn.core import nonfinite_allowed


def gradient_descent(model, loss_fn, x, y, *, lr: float, steps: int,
                     progress: bool = False) -> np.ndarray:
    """Train ``model`` on all of ``(x, y)`` at once: ``steps`` updates ``p -= lr * dL/dp``.

    Returns the loss before each step, shape (steps,). Stops early, filling the rest of the
    history with NaN, if the loss stops being finite (the learning rate was too large).
    """
    if lr <= 0:
        raise ValueError(f"learning rate must be positive, got {lr}")
    history = np.full(steps, np.nan)
    for step in tqdm(range(steps), disable=not progress, desc="gradient descent"):
        model.zero_grad()
        with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
            loss = loss_fn(model(x), y)   # a diverging run may overflow: detected just below
        if not np.isfinite(loss):
            break
        history[step] = loss
        model.backward(loss_fn.backward())
        for p in model.parameters():
            p.data -= lr * p.grad
        if not all(np.isfinite(p.data).all() for p in model.parameters()):
            break
    return history
