"""The autoencoder itself: an encoder and a decoder chained, and builders for the usual shapes."""

from __future__ import annotations

import numpy as np

from deepglossary import nn
from deepglossary.nn.activations import sigmoid
from deepglossary.nn.core import Layer, as_input, no_grad
from deepglossary.random import default_rng


class Autoencoder(Layer):
    """``x -> h = encoder(x) -> decoder(h)``. PyTorch twin: a ``torch.nn.Module`` with two
    ``torch.nn.Sequential`` children named ``encoder`` and ``decoder``.

    Shape:
        x:      (N, D)
        code:   (N, D_c)   the encoder's output, kept in ``self.code`` after each forward
        output: (N, D)   logits of the pixels for a BCE reconstruction, values for MSE

    Backward: ``encoder.backward(decoder.backward(g))``; a penalty on the code adds its own
    gradient in between (:class:`AutoencoderLoss`).
    """

    def __init__(self, encoder: Layer, decoder: Layer):
        for name, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, Layer):
                raise TypeError(f"Autoencoder: {name} must be a Layer (e.g. nn.Sequential), "
                                f"got {type(part).__name__}")
        self.encoder, self.decoder = encoder, decoder
        self.code = None

    def forward(self, x):
        x = as_input(x, "Autoencoder", min_ndim=2)
        self.code = self.encoder(x)                       # (N, D_c)
        return self.decoder(self.code)                    # (N, D)

    def backward(self, grad_output):
        self._backward_begins()
        return self.encoder.backward(self.decoder.backward(grad_output))   # (N, D)

    def encode(self, x) -> np.ndarray:
        """The code of ``x``, (N, D_c), without storing anything for backward."""
        with no_grad():
            return self.encoder(as_input(x, "Autoencoder.encode", min_ndim=2))


def _mlp(sizes, activation, final, dtype, rng, bias=True) -> nn.Sequential:
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Affine(a, b, bias=bias, dtype=dtype, rng=rng))
        act = activation if i < len(sizes) - 2 else final
        if act is not None:
            layers.append(act())
    return nn.Sequential(*layers)


def undercomplete(d_in: int = 784, code: int = 2, hidden=(128,), *, activation=nn.ReLU,
                  code_activation=None, dtype=np.float64, rng=None) -> Autoencoder:
    """A fully connected autoencoder ``d_in -> hidden... -> code -> ...hidden -> d_in``.

    ``activation`` (a layer class) follows every hidden affine layer; ``code_activation``
    (None: a linear code; ``nn.Sigmoid`` for a sparse code) follows the code layer; the
    decoder ends with an affine layer (logits). ``rng``: seed or Generator for the weights.
    """
    if not isinstance(code, int | np.integer) or code <= 0:
        raise ValueError(f"undercomplete: code must be a positive integer, got {code!r}")
    rng = default_rng(rng)
    hidden = tuple(hidden)
    encoder = _mlp((d_in, *hidden, code), activation, code_activation, dtype, rng)
    decoder = _mlp((code, *hidden[::-1], d_in), activation, None, dtype, rng)
    return Autoencoder(encoder, decoder)


def linear(d_in: int, code: int, *, bias: bool = False, dtype=np.float64,
           rng=None) -> Autoencoder:
    """The linear autoencoder ``x -> W2 (W1 x)``: one affine layer each way, no activation.

    With squared error on centred data its global minima span the top-``code`` principal
    subspace (Bourlard and Kamp, 1988; Baldi and Hornik, 1989)."""
    rng = default_rng(rng)
    return Autoencoder(_mlp((d_in, code), None, None, dtype, rng, bias),
                       _mlp((code, d_in), None, None, dtype, rng, bias))


def reconstruct(model: Autoencoder, x, kind: str = "bce") -> np.ndarray:
    """The model's reconstruction of ``x`` (N, D): sigmoid of the logits for ``"bce"``, the
    output itself for ``"mse"``; nothing stored for backward."""
    with no_grad():
        out = model(x)
    return sigmoid(out).astype(out.dtype) if kind == "bce" else out
