"""Loss functions. A loss is a layer whose output is one number; ``backward()`` starts the
backward pass with dL/dL = 1 and returns the gradient with respect to the prediction.
"""

import numpy as np

from deepglossary.nn.activations import sigmoid
from deepglossary.nn.core import Layer, as_input
from deepglossary.nn.softmax import log_softmax


def loss_grad(grad_output, dtype, loss: str) -> np.ndarray:
    """The upstream gradient of a loss: one number (shape ()), as the loss is one number."""
    g = np.asarray(grad_output)
    if g.shape != ():
        raise ValueError(f"{loss}.backward expects grad_output of the loss's shape () (one "
                         f"number, by default 1.0), got shape {g.shape}")
    if not np.issubdtype(g.dtype, np.number) or np.issubdtype(g.dtype, np.complexfloating):
        raise TypeError(f"{loss}.backward expects a real number as grad_output, got dtype "
                        f"{g.dtype}")
    return g.astype(dtype)


def prediction_and_target(prediction, target, loss: str):
    """Check a loss's two inputs: floating arrays of the same shape; the target in the
    prediction's dtype."""
    p = as_input(prediction, loss)
    t = as_input(target, f"{loss} target")
    if t.shape != p.shape:
        raise ValueError(f"{loss} expects a target of the prediction's shape {p.shape}, "
                         f"got shape {t.shape}")
    return p, t.astype(p.dtype, copy=False)


class BCEWithLogits(Layer):
    """Binary cross-entropy on logits, averaged. PyTorch twin: ``torch.nn.BCEWithLogitsLoss``.

    Shapes: logits (*), targets (*) the same, entries of targets in [0, 1]; loss: a scalar.

    L = mean( log(1 + e^z) - t z ), computed as max(z, 0) - t z + log(1 + e^-|z|) so that
    no exponential overflows. Its gradient is dL/dz = (sigmoid(z) - t) / N.
    """

    def forward(self, logits, targets):
        z, t = prediction_and_target(logits, targets, "BCEWithLogits")
        if t.size and (t.min() < 0 or t.max() > 1):
            raise ValueError("BCEWithLogits expects targets in [0, 1], got values in "
                             f"[{t.min():g}, {t.max():g}]")
        self._cache = (z, t)
        loss = np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z)))
        return loss.mean()

    def backward(self, grad_output=1.0):
        z, t = self._saved()
        return loss_grad(grad_output, z.dtype, "BCEWithLogits") * (sigmoid(z) - t) / z.size


class MSE(Layer):
    """Mean squared error, L = mean((y_hat - y)^2). PyTorch twin: ``torch.nn.MSELoss``.

    Shapes: prediction (*), target (*) the same; loss: a scalar. dL/dy_hat = 2 (y_hat - y) / N.
    """

    def forward(self, prediction, target):
        p, t = prediction_and_target(prediction, target, "MSE")
        diff = p - t
        self._cache = diff
        return np.mean(diff**2)

    def backward(self, grad_output=1.0):
        diff = self._saved()
        return loss_grad(grad_output, diff.dtype, "MSE") * 2 * diff / diff.size


def class_indices(targets, n: int, classes: int, loss: str) -> np.ndarray:
    """Check class-index targets: integers, shape (N,), each in [0, C)."""
    t = np.asarray(targets)
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"{loss} expects class indices as integers, got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"{loss} expects targets of shape ({n},) for input of {n} rows, "
                         f"got shape {t.shape}")
    if n and (t.min() < 0 or t.max() >= classes):
        raise ValueError(f"{loss} expects class indices in [0, {classes}), got values in "
                         f"[{t.min()}, {t.max()}]")
    return t


def _rows_and_classes(x, loss: str, what: str) -> np.ndarray:
    x = as_input(x, loss)
    if x.ndim != 2:
        raise ValueError(f"{loss} expects {what} of shape (N, C), got shape {x.shape}")
    return x


def _log_softmax_and_weighted(z, q):
    """log softmax(z) along the last axis, and q * log softmax(z), for any finite z.

    The usual shift z - max z overflows when the logits span more than the dtype's range
    (z = [1e308, -1e308]): the entry becomes -inf, its probability 0 (right), but q * logp
    is then 0 * -inf = NaN where q is 0, and -inf where the true value, q (z - max z) with a
    small q, is finite. Those entries are recomputed from halves, 2 q (z/2 - max z / 2),
    which cannot overflow before the product with q; everywhere else nothing changes."""
    with np.errstate(over="ignore", invalid="ignore"):
        logp = log_softmax(z)
        q_logp = q * logp
    overflowed = np.isinf(logp)
    if overflowed.any():                      # rare: only for a spread past the float limit
        top = z.max(axis=-1, keepdims=True)
        with np.errstate(over="ignore"):
            lse = np.log(np.exp(z - top).sum(axis=-1, keepdims=True))   # in [0, log C]
        half = z / 2 - top / 2                # (z - max z) / 2, in [-max, 0]: finite
        with np.errstate(over="ignore", invalid="ignore"):
            exact = q * (half - lse / 2) * 2  # 0 where q is 0; -inf only past the limit
        q_logp = np.where(overflowed, exact, q_logp)
    return logp, q_logp


class CrossEntropy(Layer):
    """Cross-entropy between a target distribution and softmax(logits), averaged over the batch.

    PyTorch twin: ``torch.nn.CrossEntropyLoss(label_smoothing=...)``.

    Shapes: logits (N, C); targets either class indices (N,) of an integer dtype, or
    probabilities (N, C), rows non-negative and summing to 1. Loss: a scalar.

    With q the target distribution (one-hot for indices), smoothed to
    q (1 - eps) + eps / C, the loss is L = -(1/N) sum_n sum_c q_nc log softmax(z_n)_c and its
    gradient is the fused dL/dz = (softmax(z) - q) / N.

    ``ignore_index`` (class-index targets only, torch's semantics): rows whose target equals
    it add nothing and get a zero gradient, and N counts only the other rows (the padding of
    variable-length sequences). A batch whose every target is ignored is refused (torch
    returns NaN).
    """

    def __init__(self, label_smoothing: float = 0.0, ignore_index: int = -100):
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropy: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing}")
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int | np.integer):
            raise TypeError(f"CrossEntropy: ignore_index must be an integer, got "
                            f"{ignore_index!r}")
        self.label_smoothing = float(label_smoothing)
        self.ignore_index = int(ignore_index)

    def forward(self, logits, targets):
        z = _rows_and_classes(logits, "CrossEntropy", "logits")
        n, classes = z.shape
        t = np.asarray(targets)
        keep = None                                   # rows that count (ignore_index)
        if np.issubdtype(t.dtype, np.integer):
            q = np.zeros_like(z)
            if t.shape == (n,) and (t == self.ignore_index).any():
                keep = t != self.ignore_index                               # (N,)
                if not keep.any():
                    raise ValueError(f"CrossEntropy: every target equals ignore_index = "
                                     f"{self.ignore_index}; the mean over no rows is undefined")
                rows = np.flatnonzero(keep)
                q[rows, class_indices(t[rows], len(rows), classes, "CrossEntropy")] = 1
            else:
                q[np.arange(n), class_indices(t, n, classes, "CrossEntropy")] = 1
        else:
            q = _rows_and_classes(t, "CrossEntropy", "probability targets").astype(z.dtype)
            if q.shape != z.shape:
                raise ValueError(f"CrossEntropy expects probability targets of the logits' "
                                 f"shape {z.shape}, got shape {q.shape}")
            if q.min() < 0 or not np.allclose(q.sum(axis=1), 1, atol=1e-6):
                raise ValueError("CrossEntropy expects probability targets: non-negative rows "
                                 "that sum to 1 (pass class indices as integers instead)")
        if self.label_smoothing:
            q = q * (1 - self.label_smoothing) + self.label_smoothing / classes
        if keep is not None:
            q[~keep] = 0                                  # an ignored row: no target at all
        logp, q_logp = _log_softmax_and_weighted(z, q)
        p, count = np.exp(logp), n
        if keep is not None:
            p[~keep] = 0                                  # ... and no gradient
            count = int(keep.sum())
        self._cache = (p, q, count)
        return -q_logp.sum() / count

    def backward(self, grad_output=1.0):
        p, q, count = self._saved()
        return loss_grad(grad_output, p.dtype, "CrossEntropy") * (p - q) / count

    def extra_repr(self) -> str:
        parts = [f"label_smoothing={self.label_smoothing}"] if self.label_smoothing else []
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(parts)


class NLL(Layer):
    """Negative log likelihood of the target classes, averaged. PyTorch twin:
    ``torch.nn.NLLLoss``.

    Shapes: log_probs (N, C), log-probabilities (e.g. from ``LogSoftmax``); targets (N,)
    class indices. L = -(1/N) sum_n log_probs[n, targets_n]; dL/dlog_probs is -1/N at each
    target entry and 0 elsewhere.
    """

    def forward(self, log_probs, targets):
        lp = _rows_and_classes(log_probs, "NLL", "log-probabilities")
        n, classes = lp.shape
        t = class_indices(targets, n, classes, "NLL")
        self._cache = (lp.shape, lp.dtype, t)
        return -lp[np.arange(n), t].mean()

    def backward(self, grad_output=1.0):
        shape, dtype, t = self._saved()
        grad = np.zeros(shape, dtype=dtype)
        grad[np.arange(shape[0]), t] = -loss_grad(grad_output, dtype, "NLL") / shape[0]
        return grad


# Noise-contrastive estimation and negative sampling live in their own module (last, so that
# importing either module first works).
from deepglossary.nce.loss import NCE, NegativeSampling  # noqa: E402, F401
