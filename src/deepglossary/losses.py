"""Loss functions. A loss is a layer whose output is one number; ``backward()`` starts the
backward pass with dL/dL = 1 and returns the gradient with respect to the prediction.
"""

import numpy as np

from deepglossary.nn.activations import sigmoid
from deepglossary.nn.core import Layer, as_input


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
        return np.asarray(grad_output, dtype=z.dtype) * (sigmoid(z) - t) / z.size


class MSE(Layer):
    """Mean squared error, L = mean((y_hat - y)^2). PyTorch twin: ``torch.nn.MSELoss``.

    Shapes: prediction (*), target (*) the same; loss: a scalar. dL/dy_hat = 2 (y_hat - y) / N.
    """

    def forward(self, prediction, target):
        p, t = prediction_and_target(prediction, target, "MSE")
        self._cache = p - t
        return np.mean(self._cache**2)

    def backward(self, grad_output=1.0):
        diff = self._saved()
        return np.asarray(grad_output, dtype=diff.dtype) * 2 * diff / diff.size
