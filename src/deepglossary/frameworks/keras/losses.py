"""Keras's loss names and objects, mapped onto the package's losses.

``"sparse_categorical_crossentropy"`` means, as in Keras, *probabilities* in (from a softmax
output layer): ``from_logits=False``. A model that ends in a plain ``Dense(10)`` needs
``SparseCategoricalCrossentropy(from_logits=True)``, which is the package's
:class:`~deepglossary.losses.CrossEntropy` (torch's ``CrossEntropyLoss``). Where Keras clips
and renormalises outputs that are not probabilities (and trains silently wrong on logits),
this module refuses them with a ``ValueError``.

On probabilities, this module clips ``p[n, y_n]`` to ``[1e-7, 1 - 1e-7]``, as Keras 3's JAX
backend does (``keras/src/backend/jax/nn.py``): where the clip binds, no gradient flows. Keras
on TensorFlow differs: its softmax keeps its input logits on the output tensor, and its
cross-entropy swaps them back in and computes the loss from the logits, with no clip
(``_get_logits`` in ``keras/src/backend/tensorflow/nn.py``). The zero gradient of a
confidently wrong example is therefore this module's behaviour and JAX Keras's, not
TensorFlow Keras's.
"""

from __future__ import annotations

import numpy as np

from deepglossary.losses import MSE, CrossEntropy, class_indices, loss_grad
from deepglossary.nn.core import Layer, as_input

EPSILON = 1e-7          # Keras's backend.epsilon(): outputs are clipped to [eps, 1 - eps]


def _probabilities(p, loss: str) -> np.ndarray:
    p = as_input(p, loss)
    if p.ndim != 2:
        raise ValueError(f"{loss} expects predictions of shape (N, C), got shape {p.shape}")
    if p.min() < 0 or not np.allclose(p.sum(axis=1), 1, atol=1e-3):
        raise ValueError(
            f"{loss} with from_logits=False expects probabilities (rows >= 0 that sum to 1), "
            f"got values in [{p.min():.3g}, {p.max():.3g}]: end the model with "
            f"activation='softmax', or pass a loss object with from_logits=True")
    return p


def sparse_targets(y, n: int, classes: int, loss: str) -> np.ndarray:
    """Class indices (N,) or (N, 1), as Keras accepts them; one-hot rows are refused."""
    t = np.asarray(y)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"{loss} expects integer class indices of shape ({n},) or ({n}, 1), "
                         f"got shape {np.shape(y)}; for one-hot targets use "
                         f"'categorical_crossentropy'")
    return class_indices(t, n, classes, loss)


class SparseCrossEntropyFromProbabilities(Layer):
    """Keras's sparse categorical cross-entropy on probabilities: L = -(1/N) sum_n
    log clip(p[n, y_n], eps, 1 - eps), as on Keras 3's JAX backend (on TensorFlow, Keras
    recovers a softmax layer's logits instead; see the module docstring). Backward:
    dL/dp[n, y_n] = -1 / (N p[n, y_n]) where the clip does not bind, 0 elsewhere (the clip's
    derivative)."""

    def forward(self, p, y):
        p = _probabilities(p, "sparse_categorical_crossentropy")
        t = sparse_targets(y, len(p), p.shape[1], "sparse_categorical_crossentropy")
        picked = p[np.arange(len(p)), t]                              # (N,)
        clipped = np.clip(picked, EPSILON, 1 - EPSILON)
        self._cache = (p.shape, p.dtype, t, clipped, clipped == picked)
        return -np.log(clipped).mean()

    def backward(self, grad_output=1.0):
        shape, dtype, t, clipped, inside = self._saved()
        g = loss_grad(grad_output, dtype, "sparse_categorical_crossentropy")
        grad = np.zeros(shape, dtype=dtype)                           # (N, C)
        grad[np.arange(shape[0]), t] = -g * inside / (shape[0] * clipped)   # -1/(N p)
        return grad


class SparseCategoricalCrossentropy:
    """Keras twin: ``keras.losses.SparseCategoricalCrossentropy(from_logits=False)``.
    ``layer()`` returns the package loss layer that computes it."""

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits: bool = False):
        self.from_logits = bool(from_logits)

    def layer(self) -> Layer:
        return _SparseLogits() if self.from_logits else SparseCrossEntropyFromProbabilities()

    def __repr__(self):
        return f"SparseCategoricalCrossentropy(from_logits={self.from_logits})"


class _SparseLogits(CrossEntropy):
    """CrossEntropy on logits that also takes (N, 1) targets and says what a one-hot is."""

    def forward(self, logits, targets):
        z = np.asarray(logits)
        if z.ndim == 2:
            targets = sparse_targets(targets, len(z), z.shape[1],
                                     "sparse_categorical_crossentropy")
        return super().forward(logits, targets)


class CategoricalCrossentropy:
    """One-hot (or probability) targets (N, C). Keras twin:
    ``keras.losses.CategoricalCrossentropy``; only ``from_logits=True`` is offered here."""

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = True):
        if not from_logits:
            raise ValueError("CategoricalCrossentropy is offered with from_logits=True only; "
                             "use SparseCategoricalCrossentropy for probabilities")
        self.from_logits = True

    def layer(self) -> Layer:
        return CrossEntropy()


class MeanSquaredError:
    """Keras twin: ``keras.losses.MeanSquaredError``; the package's MSE."""

    name = "mean_squared_error"

    def layer(self) -> Layer:
        return MSE()


NAMES = {
    "sparse_categorical_crossentropy": lambda: SparseCategoricalCrossentropy(from_logits=False),
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
}


def get(loss):
    """A loss object from a Keras name or an object with ``layer()``; ValueError otherwise."""
    if isinstance(loss, str):
        if loss not in NAMES:
            raise ValueError(f"unknown loss {loss!r}; known names: {sorted(NAMES)}, or pass "
                             f"SparseCategoricalCrossentropy(from_logits=True)")
        return NAMES[loss]()
    if not hasattr(loss, "layer"):
        raise TypeError(f"loss must be a name such as 'sparse_categorical_crossentropy' or a "
                        f"loss object of this module, got {loss!r}")
    return loss
