"""GloVe's weighting function and its weighted least-squares objective, forward and the
hand-derived backward (the torch twin is ``deepglossary.twins.glove``)."""

from __future__ import annotations

import numpy as np

from deepglossary.nn.core import Layer, Parameter, check_float_dtype


def weighting(x, x_max: float = 100.0, alpha: float = 0.75) -> np.ndarray:
    """f(x) = min(1, (x / x_max)^alpha), GloVe's weight of a pair with count x > 0; keeps the
    input's dtype (float32 or float64). No PyTorch counterpart (a one-liner in torch)."""
    x = np.asarray(x)
    if x_max <= 0 or alpha < 0:
        raise ValueError(f"x_max must be > 0 and alpha >= 0, got x_max={x_max}, alpha={alpha}")
    return np.minimum(1, (x / x.dtype.type(x_max)) ** x.dtype.type(alpha)).astype(x.dtype)


class GloVe(Layer):
    """GloVe's weighted least-squares objective over a batch of nonzero co-occurrences.

    Parameters (V words, d dimensions): ``weight`` (V, d) the word vectors w_i, ``bias`` (V,)
    b_i, ``context_weight`` (V, d) the context vectors w~_j, ``context_bias`` (V,) b~_j;
    initialised uniform in [-0.5/d, 0.5/d] (the reference C code uses +-0.5/(d + 1), counting
    the bias in d).

    ``forward(rows, cols, counts)``: int arrays (B,) of i and j, float (B,) of X_ij > 0;
    returns the scalar J = sum_b f(X_b) (w_i . w~_j + b_i + b~_j - log X_b)^2 in the counts'
    dtype. ``backward(grad_output)`` accumulates the four gradients and returns
    ``(None, None, None)`` (no gradient for ids or counts).

    PyTorch counterpart: none; ``twins.glove.torch_twin`` writes the same objective in torch.
    """

    def __init__(self, vocab_size: int, dim: int, *, x_max: float = 100.0, alpha: float = 0.75,
                 dtype=np.float64, rng=None):
        for name, value in (("vocab_size", vocab_size), ("dim", dim)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"GloVe: {name} must be a positive integer, got {value!r}")
        weighting(np.ones(1), x_max, alpha)             # checks x_max and alpha
        check_float_dtype(dtype, "GloVe", "parameters")
        self.vocab_size, self.dim, self.x_max, self.alpha = int(vocab_size), int(dim), x_max, alpha
        g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

        def init(*shape):
            return ((g.random(shape) - 0.5) / dim).astype(dtype)

        self.weight = Parameter(init(vocab_size, dim))
        self.bias = Parameter(init(vocab_size))
        self.context_weight = Parameter(init(vocab_size, dim))
        self.context_bias = Parameter(init(vocab_size))

    def _check(self, rows, cols, counts):
        rows, cols, counts = np.asarray(rows), np.asarray(cols), np.asarray(counts)
        for name, ids in (("rows", rows), ("cols", cols)):
            if not np.issubdtype(ids.dtype, np.integer):
                raise TypeError(f"GloVe expects integer word ids as {name}, got dtype {ids.dtype}")
            if ids.ndim != 1 or ids.shape != counts.shape:
                raise ValueError(f"GloVe expects rows, cols and counts of one shape (B,), got "
                                 f"{rows.shape}, {cols.shape}, {counts.shape}")
            if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
                raise ValueError(f"GloVe: {name} must lie in [0, {self.vocab_size}), got "
                                 f"{ids.min()}..{ids.max()}")
        check_float_dtype(counts.dtype, "GloVe", "counts")
        if counts.size == 0 or not np.all(counts > 0) or not np.isfinite(counts).all():
            raise ValueError("GloVe expects a non-empty batch of finite counts X_ij > 0 (log 0 "
                             "is not defined: the objective runs over the nonzero entries only)")
        return rows, cols, counts

    def forward(self, rows, cols, counts):
        rows, cols, counts = self._check(rows, cols, counts)
        dt = counts.dtype
        w = self.weight.data[rows].astype(dt, copy=False)               # (B, d) w_i
        wc = self.context_weight.data[cols].astype(dt, copy=False)      # (B, d) w~_j
        diff = (np.einsum("bd,bd->b", w, wc) + self.bias.data[rows].astype(dt)
                + self.context_bias.data[cols].astype(dt) - np.log(counts))   # (B,) residual
        fx = weighting(counts, self.x_max, self.alpha)                  # (B,) f(X_ij)
        self._cache = (rows, cols, w, wc, fx * diff)
        return np.sum(fx * diff * diff, dtype=dt)                       # () J

    def backward(self, grad_output):
        rows, cols, w, wc, f_diff = self._saved()
        g = self._check_grad(grad_output, (), "GloVe").astype(f_diff.dtype)
        e = 2 * g * f_diff                                   # (B,) dJ/d(residual_b)
        V, d = self.vocab_size, self.dim
        grad_w = np.zeros((V, d), f_diff.dtype)
        grad_wc = np.zeros((V, d), f_diff.dtype)
        np.add.at(grad_w, rows, e[:, None] * wc)             # (V, d) dJ/dw_i = sum e w~_j
        np.add.at(grad_wc, cols, e[:, None] * w)             # (V, d) dJ/dw~_j = sum e w_i
        self.weight.accumulate(grad_w)
        self.context_weight.accumulate(grad_wc)
        self.bias.accumulate(np.bincount(rows, e, V).astype(f_diff.dtype))          # (V,)
        self.context_bias.accumulate(np.bincount(cols, e, V).astype(f_diff.dtype))  # (V,)
        return None, None, None

    def vectors(self) -> np.ndarray:
        """The word vectors GloVe reports, W + W~, shape (V, d)."""
        return self.weight.data + self.context_weight.data

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, dim={self.dim}, x_max={self.x_max}, "
                f"alpha={self.alpha}")
