"""Noise-contrastive estimation (NCE) and negative sampling, as losses on sampled scores.

A language model's output layer gives every word y of a K-word vocabulary a score z_y (its
logit; the softmax would turn them into probabilities at a cost of K exponentials per
example). NCE computes the score of the true word and of k noise words drawn from a known
noise distribution P_n, and trains a binary classifier "data or noise" whose logit is

    Delta_NCE(y) = z_y - c_Z - log(k P_n(y)),

with c_Z the log-normaliser: fixed at 0 (Mnih & Teh 2012, Z = 1) or learned as a parameter
(Gutmann & Hyvarinen 2010, their c = -c_Z). Negative sampling (Mikolov et al. 2013) drops the
term log(k P_n(y)), Delta_NS(y) = z_y - c_Z, and with it the guarantee that exp(z_y - c_Z)
becomes the normalised model.

The loss of a batch of N examples, column 0 the true word and columns 1..k the noise words,

    L = (1/N) sum_n [ softplus(-Delta_n0) + sum_j softplus(Delta_nj) ],

is the mean binary cross-entropy of the classifier, -log sigma(Delta) for data and
-log(1 - sigma(Delta)) = -log sigma(-Delta) for noise, summed over the k + 1 columns. Its
gradient, derived in the chapter: dL/dz_nj = (sigma(Delta_nj) - [j = 0]) / N (the label: 1 for
the true word's column, 0 for the noise words'), and dL/dc_Z = -sum_nj dL/dz_nj.

PyTorch has no NCE loss; the twin is ``deepglossary.twins.nce`` (the same objective written
with ``torch.nn.functional.logsigmoid``, differentiated by autograd).
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.activations import sigmoid
from deepglossary.nn.core import Layer, Parameter, as_input


def check_noise(noise, what: str = "NCE") -> np.ndarray:
    """The noise distribution P_n as a (K,) float64 array: finite, non-negative, sums to 1."""
    q = np.asarray(noise)
    if q.ndim != 1 or q.size == 0 or not np.issubdtype(q.dtype, np.floating):
        raise ValueError(f"{what} expects the noise distribution as a non-empty (K,) float "
                         f"array of probabilities, got dtype {q.dtype} and shape {q.shape}")
    q = q.astype(np.float64)
    if not np.isfinite(q).all() or q.min() < 0 or abs(q.sum() - 1) > 1e-6:
        raise ValueError(f"{what} expects noise probabilities: finite, non-negative, summing "
                         f"to 1 (normalise counts first), got a sum of {q.sum():.6g}")
    return q


class NCE(Layer):
    """Noise-contrastive estimation loss on the scores of a true word and k noise words.

    No PyTorch counterpart (``torch.nn`` has none); twin: ``deepglossary.twins.nce``.

    Args:
        noise: (K,) the noise distribution P_n the noise words were drawn from (needed for
            the term log(k P_n(y)); may be None with ``negative_sampling=True``).
        k: the number of noise words per true word, an int >= 1.
        learn_normalizer: False (Mnih & Teh: c_Z = 0, Z = 1 fixed) or True (Gutmann &
            Hyvarinen: a parameter ``log_z`` of shape (), c_Z, initialised to ``log_z``, of
            ``dtype``).
        negative_sampling: True drops log(k P_n(y)) from the classifier's logit (Mikolov et
            al. 2013): ``NegativeSampling``.

    Shapes:
        scores (N, k + 1), float32 or float64: z of the true word (column 0) and of the k
        noise words (columns 1..k), for N examples;
        words (N, k + 1), ints in [0, K): the words whose scores these are (only used for
        P_n; ignored by negative sampling);
        output: the loss, a scalar; backward returns dL/dscores (N, k + 1) and accumulates
        dL/dc_Z into ``log_z.grad``.
    """

    def __init__(self, noise=None, k: int = 5, *, learn_normalizer: bool = False,
                 log_z: float = 0.0, negative_sampling: bool = False, dtype=np.float64):
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"{type(self).__name__}: k, the number of noise words per true "
                             f"word, must be an int >= 1, got {k!r}")
        self.k = int(k)
        self.negative_sampling = bool(negative_sampling)
        if noise is None and not self.negative_sampling:
            raise ValueError("NCE needs the noise distribution P_n, a (K,) array of "
                             "probabilities (only negative sampling does without)")
        self.log_noise = None
        if noise is not None:
            q = check_noise(noise, type(self).__name__)
            with np.errstate(divide="ignore"):
                self.log_noise = np.log(q)                                      # (K,)
            self._buffers = ("log_noise",)
        self.learn_normalizer = bool(learn_normalizer)
        if self.learn_normalizer:
            self.log_z = Parameter(np.array(float(log_z), dtype=dtype))         # c_Z, shape ()

    def logits(self, scores, words=None) -> np.ndarray:
        """The classifier's logit Delta (N, k + 1): data against noise, before the sigmoid."""
        name = type(self).__name__
        z = as_input(scores, name)
        if z.ndim != 2 or z.shape[1] != self.k + 1:
            raise ValueError(f"{name} expects scores of shape (N, k + 1) = (N, {self.k + 1}): "
                             f"the true word's score, then {self.k} noise words', got shape "
                             f"{z.shape}")
        delta = z.copy()                        # a copy: forward caches it, the caller may not
        if self.learn_normalizer:
            delta = delta - self.log_z.data.astype(z.dtype)                     # z - c_Z
        if not self.negative_sampling:
            w = np.asarray(words)
            if not np.issubdtype(w.dtype, np.integer) or w.shape != z.shape:
                raise ValueError(f"NCE expects words, the ids of the scored words, as ints of "
                                 f"the scores' shape {z.shape}, got dtype {w.dtype} and shape "
                                 f"{w.shape}")
            vocab = len(self.log_noise)
            if w.min() < 0 or w.max() >= vocab:
                raise ValueError(f"NCE expects word ids in [0, {vocab}), got values in "
                                 f"[{w.min()}, {w.max()}]")
            log_kq = np.log(self.k) + self.log_noise[w]                         # (N, k + 1)
            if np.isinf(log_kq).any():
                raise ValueError("NCE got a word whose noise probability P_n(y) is 0: the "
                                 "logit z - log(k P_n(y)) is infinite. Use a noise "
                                 "distribution that gives every word a positive probability")
            delta = delta - log_kq.astype(z.dtype)                              # Delta_NCE
        return delta

    def forward(self, scores, words=None):
        delta = self.logits(scores, words)                                      # (N, k + 1)
        target = np.zeros_like(delta)
        target[:, 0] = 1                                                        # t: data, noise
        # -log sigma(Delta) for data, -log sigma(-Delta) for noise: softplus(-+Delta), stable
        per_entry = np.logaddexp(0, np.where(target == 1, -delta, delta))      # (N, k + 1)
        self._cache = (delta, target)
        return per_entry.sum(axis=1).mean()

    def backward(self, grad_output=1.0):
        from deepglossary.losses import loss_grad

        delta, target = self._saved()
        g = loss_grad(grad_output, delta.dtype, type(self).__name__)
        grad = g * (sigmoid(delta) - target) / len(delta)                       # dL/dz, (N, k+1)
        if self.learn_normalizer:
            self.log_z.accumulate(np.asarray(-grad.sum(), dtype=self.log_z.dtype))  # dL/dc_Z
        return grad

    def extra_repr(self) -> str:
        parts = [f"k={self.k}"]
        if self.learn_normalizer:
            parts.append("learn_normalizer=True")
        return ", ".join(parts)


class NegativeSampling(NCE):
    """Negative sampling (Mikolov et al. 2013): NCE without the term log(k P_n(y)), so the
    classifier's logit is the score itself, Delta_NS = z_y (- c_Z with ``learn_normalizer``).

    No PyTorch counterpart; twin: ``deepglossary.twins.nce``. Shapes as :class:`NCE`;
    ``words`` is not needed (pass None) and ``noise`` is optional.
    """

    def __init__(self, k: int = 5, *, noise=None, learn_normalizer: bool = False,
                 log_z: float = 0.0, dtype=np.float64):
        super().__init__(noise, k, learn_normalizer=learn_normalizer, log_z=log_z,
                         negative_sampling=True, dtype=dtype)
