"""Training loops: plain full-batch gradient descent for the first chapters, and ``fit``,
minibatch training with any optimizer of ``deepglossary.optim``, a progress bar and a history.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from deepglossary.nn.core import no_grad, nonfinite_allowed
from deepglossary.random import default_rng


def check_data(x, y, *, name: str = "x", label_name: str = "y") -> None:
    """Refuse training data that would train silently wrong, before the first step.

    The loops let NaN and inf through the forward pass (to *detect* a diverging run), which
    would also let them in from the data: so the data are checked here, once. Raises
    ``ValueError`` for no examples, for ``x`` and ``y`` of different lengths, and for a NaN
    or inf entry, naming the array and the index of the first bad entry.
    """
    for array, what in ((x, name), (y, label_name)):
        if np.ndim(array) == 0:
            raise ValueError(f"{what} must be an array with one row per example, got "
                             f"{type(array).__name__} of shape {np.shape(array)}")
    if len(x) != len(y):
        raise ValueError(f"{name} has {len(x)} rows but {label_name} has {len(y)}")
    if len(x) == 0:
        raise ValueError(f"no training examples: {name} has shape {np.shape(x)}")
    for array, what in ((x, name), (y, label_name)):
        array = np.asarray(array)
        if np.issubdtype(array.dtype, np.inexact) and not np.isfinite(array).all():
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
            raise ValueError(f"{what} has a non-finite entry ({array[first]}) at index {first}; "
                             f"the data must be finite")


def _check_parameters(model, when: str) -> None:
    for name, p in model.named_parameters():
        if not np.isfinite(p.data).all():
            raise ValueError(f"parameter {name!r} of the model has NaN or inf entries {when}")


def _parameters_finite(model_or_parameters) -> bool:
    """Whether every parameter is finite; takes a model or a list of its parameters (a loop
    passes the list it made once, since walking the tree of layers every step costs time)."""
    parameters = (model_or_parameters.parameters() if hasattr(model_or_parameters, "parameters")
                  else model_or_parameters)
    return all(np.isfinite(p.data).all() for p in parameters)


def gradient_descent(model, loss_fn, x, y, *, lr: float, steps: int,
                     progress: bool = False) -> np.ndarray:
    """Train ``model`` on all of ``(x, y)`` at once: ``steps`` updates ``p -= lr * dL/dp``.

    Returns the loss before each step, shape (steps,). Stops early, filling the rest of the
    history with NaN, if the loss or a parameter stops being finite (the learning rate was too
    large). Data with NaN or inf, no examples, a non-finite or negative learning rate and
    a model whose parameters are not finite to begin with are refused with ``ValueError``.
    A parameter the loss does not depend on (its ``grad`` stays ``None``) is left unchanged,
    as torch's optimizers do.
    """
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be positive and finite, got {lr}")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    x, y = np.asarray(x), np.asarray(y)
    check_data(x, y)
    _check_parameters(model, "before training")
    history = np.full(int(steps), np.nan)
    for step in tqdm(range(steps), disable=not progress, desc="gradient descent"):
        model.zero_grad()
        with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
            loss = loss_fn(model(x), y)   # a diverging run may overflow: detected just below
        if not np.isfinite(loss):
            break
        history[step] = loss
        model.backward(loss_fn.backward())
        with np.errstate(over="ignore", invalid="ignore"):   # an overflow: detected below
            for p in model.parameters():
                if p.grad is not None:      # a parameter the loss does not use: unchanged
                    p.data -= lr * p.grad
        if not _parameters_finite(model):
            break
    return history


def batches(n: int, batch_size: int, rng=None, shuffle: bool = True):
    """Index arrays that cover range(n) in minibatches of ``batch_size`` (the last may be
    smaller), in a random order drawn from ``rng`` when ``shuffle``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    order = default_rng(rng).permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """Fraction of rows of x whose largest output is at the label y.

    Raises ``ValueError`` for no rows, for x and y of different lengths, and for labels that
    are not integer class indices of shape (N,).
    """
    if len(x) != len(y):
        raise ValueError(f"accuracy: x has {len(x)} rows but y has {len(y)}")
    if len(x) == 0:
        raise ValueError("accuracy of no examples is undefined: x is empty")
    labels = np.asarray(y)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"accuracy expects integer class labels of shape (N,), got dtype "
                         f"{labels.dtype} and shape {labels.shape}")
    x = np.asarray(x)
    was_training = model.training
    model.eval()
    correct = 0
    try:
        with no_grad(), nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
            for i in range(0, len(x), batch_size):             # diverged nets too
                scores = np.asarray(model(x[i:i + batch_size]))
                if scores.ndim != 2 or len(scores) != len(x[i:i + batch_size]):
                    raise ValueError(f"accuracy expects the model to output scores of shape "
                                     f"(N, C), got shape {scores.shape}")
                correct += int((scores.argmax(axis=1) == labels[i:i + batch_size]).sum())
    finally:
        model.train(was_training)
    return correct / len(x)


@dataclass
class History:
    """What ``fit`` recorded: the loss of every step, and accuracies after every epoch."""

    loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    seconds: float = 0.0
    diverged: bool = False      # the loss or a weight stopped being finite; training stopped


def fit(model, loss_fn, optimizer, x, y, *, epochs: int = 1, batch_size: int = 64, rng=None,
        x_test=None, y_test=None, progress: bool = True, evaluate: bool = True) -> History:
    """Minibatch training: for each epoch, shuffle, and for each batch forward, loss,
    backward, ``optimizer.step()``. A tqdm bar shows the running loss.

    Returns a :class:`History`; with ``evaluate`` it also measures training (and, when
    given, test) accuracy after each epoch. If the loss overflows or a step leaves a weight
    NaN or inf (learning rate too large), training stops, ``history.diverged`` is set, and the
    remaining epochs repeat the final accuracies.

    Refused with ``ValueError`` before any step: no examples, x and y of different lengths,
    NaN or inf in the data (x, y, x_test, y_test; the message names the array and the first
    bad index), only one of x_test and y_test, parameters that are not finite to begin with,
    and (with ``evaluate``) labels that are not integer class indices of shape (N,).
    """
    for value, what in ((epochs, "epochs"), (batch_size, "batch_size")):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{what} must be an integer >= 1, got {value!r}")
    x, y = np.asarray(x), np.asarray(y)
    check_data(x, y)
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    if x_test is not None:
        check_data(x_test, y_test, name="x_test", label_name="y_test")
    if evaluate:
        for labels, what in ((y, "y"), (y_test, "y_test")):
            labels = None if labels is None else np.asarray(labels)
            if labels is not None and (labels.ndim != 1
                                       or not np.issubdtype(labels.dtype, np.integer)):
                raise ValueError(f"fit(evaluate=True) measures accuracy, which needs integer "
                                 f"class labels of shape (N,); {what} has dtype {labels.dtype} "
                                 f"and shape {labels.shape} (pass evaluate=False)")
    _check_parameters(model, "before training")
    rng = default_rng(rng)
    history = History()
    parameters = model.parameters()                # the tree of layers does not change
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
                with np.errstate(over="ignore", invalid="ignore"):   # detected just below
                    optimizer.step()
                history.loss.append(float(loss))
                bar.update()
                bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
                if not _parameters_finite(parameters):     # the step itself overflowed
                    history.diverged = True
                    bar.set_postfix(loss="diverged", refresh=True)
                    break
            if evaluate:
                history.train_accuracy.append(accuracy(model, x, y))
                if x_test is not None:
                    history.test_accuracy.append(accuracy(model, x_test, y_test))
    history.seconds = time.perf_counter() - start
    return history


def fit_epochs(model, optimizer, x, y, x_test, y_test, *, epochs: int = 4, batch_size: int = 32,
               decay: float = 1.0, seed: int = 0, loss_fn=None,
               progress: bool = False) -> History:
    """The convolutional chapters' recipe: ``fit`` one epoch at a time (one shuffling
    generator seeded with ``seed`` throughout), the test accuracy after each epoch, and the
    learning rate multiplied by ``decay`` after every epoch (a step schedule).

    ``loss_fn`` defaults to cross-entropy on logits. Returns a :class:`History` whose ``loss``
    holds every step's loss and ``test_accuracy`` one entry per epoch; ``diverged`` is set (and
    training stops) as in ``fit``. The part-1 LeNet (``models.lenet()``) trained with
    ``Adam(lr=2e-3)``, ``epochs=4``, ``batch_size=32``, ``decay=0.6`` on the 4,000 shipped
    training digits is the Convolutional Neural Network chapter's reference.
    """
    from deepglossary.losses import CrossEntropy

    if not (isinstance(decay, int | float | np.integer | np.floating) and 0 < decay <= 1):
        raise ValueError(f"decay must be a number in (0, 1], got {decay!r}")
    loss_fn = CrossEntropy() if loss_fn is None else loss_fn
    rng, history = np.random.default_rng(seed), History()
    start = time.perf_counter()
    for _ in range(int(epochs)):
        step = fit(model, loss_fn, optimizer, x, y, epochs=1, batch_size=batch_size, rng=rng,
                   progress=progress, evaluate=False)
        history.loss.extend(step.loss)
        if step.diverged:
            history.diverged = True
            break
        history.test_accuracy.append(accuracy(model, x_test, y_test))
        optimizer.lr *= decay
    history.seconds = time.perf_counter() - start
    return history


@dataclass
class TruncatedRun:
    """What ``truncated_bptt`` did: one entry per chunk of at most k steps."""

    loss: np.ndarray          # each chunk's mean loss per step (per token)
    steps: np.ndarray         # how many time steps each chunk had (the last may be shorter)
    state: object = None      # the recurrent state after the last chunk, to carry on from
    seconds: float = 0.0
    diverged: bool = False    # a loss or a weight stopped being finite; the run stopped there

    @property
    def mean_loss(self) -> float:
        """The loss per step over the whole sequence (chunks weighted by their length);
        ``exp`` of it is the perplexity when the loss is a cross-entropy."""
        done = self.steps[:len(self.loss)]
        return float(np.sum(self.loss * done) / done.sum())


def truncated_bptt(model, loss_fn, x, y, *, k: int, optimizer=None, state=None,
                   clip_norm: float | None = None, batch_first: bool = True) -> TruncatedRun:
    """Truncated backpropagation through time (Williams and Peng, 1990; Elman, 1990): run a
    recurrent ``model`` over a long sequence in chunks of ``k`` steps, carrying the state
    forward from chunk to chunk but not the gradient.

    The model follows the recurrent layers' convention: ``logits, state = model(x_chunk,
    state)`` with logits (N, steps, V) (``(steps, N, V)`` when ``batch_first=False``), and
    ``model.backward(grad_logits)`` (its return is not used). ``x``: (N, T, ...) inputs,
    ``y``: (N, T) integer targets (time on axis 0 when ``batch_first=False``). ``loss_fn``
    (e.g. ``losses.CrossEntropy()``) takes the logits flattened to (N steps, V) and the
    targets flattened alike, and averages.

    Each chunk: forward from the carried state, loss, backward through the chunk only. The
    state the next chunk starts from is the value this chunk ended with; its gradient, the
    ``dh0`` the next chunk's backward returns, is dropped. That is what torch code writes as
    ``state = state.detach()``: with hand-written backward passes, detaching is not sending
    that gradient on (the earlier chunk's stored inputs are gone by then anyway).

    With an ``optimizer``: one update per chunk (``zero_grad``, backward, optional
    ``optim.clip_grad_norm`` to ``clip_norm``, ``step``): training a language model. Without:
    no update, and the chunks' gradients accumulate into ``.grad``, each chunk's weighted by
    its share of the T steps, so that ``.grad`` ends as the truncated estimate of the gradient
    of the loss per step over the whole sequence; with ``k >= T`` it is the exact (full
    backpropagation through time) gradient. ``.grad`` is not zeroed first in that mode.

    Returns a :class:`TruncatedRun`. A loss or (after a step) a weight that is not finite
    stops the run and sets ``diverged``.
    """
    from deepglossary.optim import clip_grad_norm

    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"truncated_bptt: k (steps per chunk) must be an integer >= 1, "
                         f"got {k!r}")
    x, y = np.asarray(x), np.asarray(y)
    axis = 1 if batch_first else 0
    layout = "(N, T)" if batch_first else "(T, N)"
    if y.ndim != 2 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"truncated_bptt expects integer targets of shape {layout}, got dtype "
                         f"{y.dtype} and shape {y.shape}")
    if x.ndim < 2 or x.shape[:2] != y.shape:
        raise ValueError(f"truncated_bptt expects inputs whose first two axes {layout} match the "
                         f"targets' {y.shape}, got shape {x.shape}")
    check_data(x, y)
    total = y.shape[axis]
    starts = range(0, total, int(k))
    steps = np.array([min(k, total - s) for s in starts])
    parameters = model.parameters()
    losses, diverged, begin = [], False, time.perf_counter()
    for s, n_steps in zip(starts, steps):
        chunk = (slice(None), slice(s, s + n_steps)) if batch_first else (slice(s, s + n_steps),)
        if optimizer is not None:
            optimizer.zero_grad()
        with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
            logits, state = model(x[chunk], state)     # from the carried state, no gradient
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y[chunk].reshape(-1))
        if not np.isfinite(loss):
            diverged = True
            break
        grad = loss_fn.backward().reshape(logits.shape)                  # (N, steps, V)
        if optimizer is None:
            grad = grad * (n_steps / total)        # the chunk's share of the per-step mean
        model.backward(grad)                       # dh0 is dropped: the truncation
        losses.append(float(loss))
        if optimizer is not None:
            if clip_norm is not None:
                clip_grad_norm(parameters, clip_norm)
            with np.errstate(over="ignore", invalid="ignore"):
                optimizer.step()
            if not _parameters_finite(parameters):
                diverged = True
                break
    return TruncatedRun(np.array(losses), steps, state, time.perf_counter() - begin, diverged)
