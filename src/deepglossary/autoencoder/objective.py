"""The training objective (reconstruction plus penalty, one backward pass) and the corruption."""

from __future__ import annotations

import numpy as np

from deepglossary.autoencoder.model import Autoencoder
from deepglossary.losses import MSE, BCEWithLogits
from deepglossary.nn.activations import finite_number
from deepglossary.nn.core import Layer, as_input
from deepglossary.random import default_rng


class AutoencoderLoss(Layer):
    """The whole objective: ``L = reconstruction(model(x_in), target) + penalty(model.code)``.

    Args:
        model: an :class:`Autoencoder`.
        reconstruction: ``"bce"`` (``losses.BCEWithLogits`` on the decoder's logits; targets
            in [0, 1]) or ``"mse"`` (``losses.MSE``).
        penalty: None, or a layer of the code returning a scalar (:class:`KLSparsity`,
            :class:`L1Sparsity`).

    Shape: x_in (N, D) (a corrupted input for a denoising autoencoder), target (N, D) -> a
    scalar. ``backward(1.0)`` fills every parameter's gradient and returns dL/dx_in (N, D):

        g_out  = dL_rec/d output                 (N, D)
        g_code = decoder.backward(g_out) + d(lambda R)/dh   (N, D_c)
        dL/dx  = encoder.backward(g_code)        (N, D)

    PyTorch twin: a module holding the autoencoder as ``model`` whose forward returns
    ``BCEWithLogitsLoss()(model(x_in), target) + penalty``. ``self.parts`` holds the last
    reconstruction and penalty values.
    """

    def __init__(self, model: Autoencoder, reconstruction: str = "bce",
                 penalty: Layer | None = None):
        if not isinstance(model, Autoencoder):
            raise TypeError(f"AutoencoderLoss expects an Autoencoder, got {type(model).__name__}")
        if reconstruction not in ("bce", "mse"):
            raise ValueError(f"AutoencoderLoss: reconstruction must be 'bce' or 'mse', got "
                             f"{reconstruction!r}")
        self.model, self.kind = model, reconstruction
        self.reconstruction = BCEWithLogits() if reconstruction == "bce" else MSE()
        self.penalty = penalty
        self.parts = (np.nan, 0.0)

    def forward(self, x_in, target):
        x_in = as_input(x_in, "AutoencoderLoss", min_ndim=2)
        target = as_input(target, "AutoencoderLoss (target)", min_ndim=2)
        if target.shape != x_in.shape:
            raise ValueError(f"AutoencoderLoss: target of shape {target.shape} for an input of "
                             f"shape {x_in.shape}; they must match")
        rec = self.reconstruction(self.model(x_in), target)
        pen = self.penalty(self.model.code) if self.penalty is not None else 0.0
        self.parts = (float(rec), float(pen))
        self._cache = True
        return np.asarray(rec + pen, dtype=x_in.dtype)

    def backward(self, grad_output=1.0):
        self._saved()
        g_out = self.reconstruction.backward(grad_output)          # (N, D)
        g_code = self.model.decoder.backward(g_out)                 # (N, D_c)
        if self.penalty is not None:
            g_code = g_code + self.penalty.backward(grad_output)    # + d(lambda R)/dh  (N, D_c)
        return self.model.encoder.backward(g_code)                  # (N, D)

    def extra_repr(self) -> str:
        return f"reconstruction={self.kind!r}, penalty={self.penalty!r}"


def corrupt(x, kind: str = "mask", level: float = 0.5, rng=None) -> np.ndarray:
    """The denoising autoencoder's corruption of ``x`` (N, D), a new array of x's dtype.

    ``"mask"``: each entry is set to 0 with probability ``level`` (masking noise, Vincent et
    al., 2008); ``"gaussian"``: N(0, level^2) noise is added. ``level = 0`` returns a copy.
    Shape: x (N, D) or any shape -> the same. ``rng``: a seed or Generator. PyTorch:
    ``x * (torch.rand_like(x) >= level)`` and ``x + level * torch.randn_like(x)``.
    """
    x = as_input(x, "corrupt")
    level = finite_number(level, "corrupt", "level")
    rng = default_rng(rng)
    if kind == "mask":
        if not 0 <= level <= 1:
            raise ValueError(f"corrupt: a masking level is a probability in [0, 1], got {level}")
        return np.where(rng.random(x.shape) < level, 0, x).astype(x.dtype)
    if kind == "gaussian":
        if level < 0:
            raise ValueError(f"corrupt: a Gaussian level is a standard deviation >= 0, got {level}")
        return (x + level * rng.standard_normal(x.shape)).astype(x.dtype)
    raise ValueError(f"corrupt: kind must be 'mask' or 'gaussian', got {kind!r}")
