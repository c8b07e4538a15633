"""Training loops: plain full-batch gradient descent for the first chapters, and ``fit``,
minibatch training with any optimizer of ``deepglossary.optim``, a progress bar and a history.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from deepglossary.nn.core import nonfinite_allowed
from deepglossary.random import default_rng


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


def batches(n: int, batch_size: int, rng=None, shuffle: bool = True):
    """Index arrays that cover range(n) in minibatches of ``batch_size`` (the last may be
    smaller), in a random order drawn from ``rng`` when ``shuffle``."""
    order = default_rng(rng).permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """Fraction of rows of x whose largest output is at the label y."""
    was_training = model.training
    model.eval()
    with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):   # diverged nets too
        correct = sum(int((model(x[i:i + batch_size]).argmax(axis=1) == y[i:i + batch_size]).sum())
                      for i in range(0, len(x), batch_size))
    model.train(was_training)
    return correct / len(x)


@dataclass
class History:
    """What ``fit`` recorded: the loss of every step, and accuracies after every epoch."""

    loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    seconds: float = 0.0
    diverged: bool = False      # the loss stopped being finite; training was stopped there


def fit(model, loss_fn, optimizer, x, y, *, epochs: int = 1, batch_size: int = 64, rng=None,
        x_test=None, y_test=None, progress: bool = True, evaluate: bool = True) -> History:
    """Minibatch training: for each epoch, shuffle, and for each batch forward, loss,
    backward, ``optimizer.step()``. A tqdm bar shows the running loss.

    Returns a :class:`History`; with ``evaluate`` it also measures training (and, when
    given, test) accuracy after each epoch. If the loss overflows (learning rate too large),
    training stops, ``history.diverged`` is set, and the remaining epochs repeat the final
    accuracies.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    rng = default_rng(rng)
    history = History()
    start = time.perf_counter()
    total = epochs * -(-len(x) // batch_size)
    with tqdm(total=total, disable=not progress, desc="training", leave=False) as bar:
        for _ in range(epochs):
            for index in batches(len(x), batch_size, rng):
                if history.diverged:
                    break
                optimizer.zero_grad()
                with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
                    loss = loss_fn(model(x[index]), y[index])
                if not np.isfinite(loss):
                    history.diverged = True
                    bar.set_postfix(loss="diverged", refresh=True)
                    break
                model.backward(loss_fn.backward())
                optimizer.step()
                history.loss.append(float(loss))
                bar.update()
                bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
            if evaluate:
                history.train_accuracy.append(accuracy(model, x, y))
                if x_test is not None:
                    history.test_accuracy.append(accuracy(model, x_test, y_test))
    history.seconds = time.perf_counter() - start
    return history
