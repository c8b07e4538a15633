"""The highway layer: a learned gate between a transform of the input and the input itself."""

import numpy as np

from deepglossary.nn.activations import ReLU, Sigmoid
from deepglossary.nn.affine import Affine
from deepglossary.nn.core import Layer, as_input


class Highway(Layer):
    """y = T(x) * H(x) + (1 - T(x)) * x, with H(x) = activation(x W_H^T + b_H) and the
    transform gate T(x) = sigmoid(x W_T^T + b_T) (Srivastava, Greff and Schmidhuber, 2015).

    No single PyTorch twin; verified against the same computation written with torch modules.
    Children: ``transform`` (Affine, H's weights), ``gate`` (Affine, T's weights). The gate's
    bias starts at ``gate_bias`` (negative, so the layer starts close to the identity and
    signals and gradients pass through deep stacks). Shapes: x (*, size), y (*, size).

    Backward, with h = H(x), t = T(x), g = dL/dy:
    dL/dh = g t;  dL/dt = g (h - x);  dL/dx = g (1 - t) + (the paths through H and T).
    """

    def __init__(self, size: int, activation=ReLU, gate_bias: float = -2.0, dtype=np.float64,
                 rng=None):
        if not isinstance(size, int | np.integer) or size <= 0:
            raise ValueError(f"Highway: size must be a positive integer, got {size!r}")
        self.size = int(size)
        self.transform = Affine(size, size, dtype=dtype, rng=rng)
        self.activation = activation()
        self.gate = Affine(size, size, dtype=dtype, rng=rng)
        self.gate.bias.data[:] = gate_bias
        self.sigmoid = Sigmoid()

    def forward(self, x):
        x = as_input(x, "Highway", last_dim=self.size, min_ndim=1)
        h = self.activation(self.transform(x))
        t = self.sigmoid(self.gate(x))
        self._cache = (x, h, t)
        return t * h + (1 - t) * x

    def backward(self, grad_output):
        x, h, t = self._saved()
        g = self._check_grad(grad_output, x.shape, "Highway")
        grad_h = self.transform.backward(self.activation.backward(g * t))      # through H
        grad_t = self.gate.backward(self.sigmoid.backward(g * (h - x)))        # through T
        return g * (1 - t) + grad_h + grad_t                                   # + the carry

    def extra_repr(self) -> str:
        return f"size={self.size}"
