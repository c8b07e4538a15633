"""The restricted Boltzmann machine (RBM): binary visible units v, binary hidden units h.

Energy ``E(v, h) = -b.v - c.h - h W v``, probability ``p(v, h) = exp(-E(v, h)) / Z``. Summing
the hidden units out gives the free energy ``F(v) = -b.v - sum_j softplus(c_j + W_j v)``, with
``p(v) = exp(-F(v)) / Z``. The gradient of the negative log-likelihood is

    dNLL/dtheta = E_data[dF/dtheta] - E_model[dF/dtheta],

two averages of the same derivative of F: one over the data, one over the model's own
samples. :class:`RBM` is a :class:`~deepglossary.nn.Layer` whose forward is F and whose
backward is dF/dtheta, derived by hand; contrastive divergence (CD-k, persistent CD) and the
exact gradient of a tiny RBM (every state enumerated) both call that one backward, with the
weights +1/N on the data and -1/M (or -p(v)) on the negative samples.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
from tqdm.auto import tqdm

from deepglossary.nn.activations import sigmoid
from deepglossary.nn.core import Layer, Parameter, as_input, no_grad
from deepglossary.optim import SGD
from deepglossary.random import default_rng

__all__ = ["RBM", "TrainingRun", "all_states", "bars_and_stripes", "exact_gradient",
           "full_batch_curve", "log_likelihood", "log_partition", "pretrained", "train_rbm"]

WEIGHTS = pathlib.Path(__file__).parent / "data" / "rbm.npz"
WEIGHTS_SHA256 = "27bc381ea43c59e812ef3bf442d057da4b410562962ed4a99d7493d58d547aef"

MAX_ENUMERATED = 24          # 2**24 states is the most log_partition will sum over


def _softplus(x):
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _logsumexp(a):
    top = a.max()
    return top + np.log(np.exp(a - top).sum())


_rng = default_rng       # a Generator, an int seed, or None: the package's seeded generator


def _positive_int(value, who: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


class RBM(Layer):
    """A restricted Boltzmann machine with binary visible and hidden units.

    As a layer, ``rbm(v)`` is the free energy F(v) of each row, and ``backward(g)``
    accumulates ``sum_n g_n dF(v_n)/dtheta`` into the parameters' ``.grad``. PyTorch has no
    RBM; its twin is a ``torch.nn.Module`` with the same three parameters whose forward
    computes ``-v @ visible_bias - softplus(v @ weight.T + hidden_bias).sum(-1)`` (the
    chapter writes it out), differentiated by autograd.

    Shape:
        v:            (N, V)   visible units, 0/1 (or probabilities in [0, 1])
        h:            (N, H)   hidden units, 0/1
        weight:       (H, V)   as ``torch.nn.Linear(V, H).weight``
        visible_bias: (V,)     b
        hidden_bias:  (H,)     c
        output:       (N,)     F(v)

    Initialisation, as Hinton's practical guide advises: weights from N(0, 0.01^2), biases
    zero (:meth:`init_visible_bias` sets b to the log-odds of the data's pixel means).
    """

    def __init__(self, n_visible: int, n_hidden: int, dtype=np.float64, rng=None,
                 std: float = 0.01):
        self.n_visible = _positive_int(n_visible, "RBM", "n_visible")
        self.n_hidden = _positive_int(n_hidden, "RBM", "n_hidden")
        rng = _rng(rng)
        self.weight = Parameter((std * rng.standard_normal((n_hidden, n_visible))).astype(dtype))
        self.visible_bias = Parameter(np.zeros(n_visible, dtype=dtype))
        self.hidden_bias = Parameter(np.zeros(n_hidden, dtype=dtype))

    # -- the parts -------------------------------------------------------------------------
    def _visible(self, v, who):
        return as_input(v, f"RBM.{who}", last_dim=self.n_visible, min_ndim=2)

    def _hidden(self, h, who):
        return as_input(h, f"RBM.{who}", last_dim=self.n_hidden, min_ndim=2)

    def _params(self, dtype):
        return (self.weight.data.astype(dtype, copy=False),
                self.visible_bias.data.astype(dtype, copy=False),
                self.hidden_bias.data.astype(dtype, copy=False))

    def energy(self, v, h) -> np.ndarray:
        """E(v, h) = -b.v - c.h - h W v for each row: v (N, V), h (N, H) -> (N,)."""
        v, h = self._visible(v, "energy"), self._hidden(h, "energy")
        if len(v) != len(h):
            raise ValueError(f"RBM.energy: v and h need the same number of rows, got {len(v)} "
                             f"and {len(h)}")
        W, b, c = self._params(v.dtype)
        return -(v @ b) - (h @ c) - np.einsum("nh,nh->n", h, v @ W.T)

    def hidden_probs(self, v) -> np.ndarray:
        """p(h_j = 1 | x) = sigmoid(z_j), z = W x + b: x (N, D) -> (N, H)."""
        v = self._visible(v, "hidden_probs")
        W, _, c = self._params(v.dtype)
        return sigmoid(v @ W.T + c)

    def visible_probs(self, h) -> np.ndarray:
        """p(x_i = 1 | h) = sigmoid(b_vis,i + (W^T h)_i): h (N, H) -> (N, D)."""
        h = self._hidden(h, "visible_probs")
        W, b, _ = self._params(h.dtype)
        return sigmoid(h @ W + b)

    def sample_hidden(self, v, rng) -> tuple[np.ndarray, np.ndarray]:
        """(p(h | x), a 0/1 sample of h), both (N, H); x is (N, D)."""
        p = self.hidden_probs(v)
        return p, (_rng(rng).random(p.shape) < p).astype(p.dtype)

    def sample_visible(self, h, rng) -> tuple[np.ndarray, np.ndarray]:
        """(p(x | h), a 0/1 sample of x), both (N, D); h is (N, H)."""
        p = self.visible_probs(h)
        return p, (_rng(rng).random(p.shape) < p).astype(p.dtype)

    def gibbs(self, v, steps: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """``steps`` rounds of block Gibbs sampling x -> h -> x', from each row of ``v`` (= x).

        Returns the last 0/1 sample of x (N, D) and the probabilities p(x | h) it was drawn
        from (N, D), the usual picture of a chain's state.
        """
        steps = _positive_int(steps, "RBM.gibbs", "steps")
        rng = _rng(rng)
        v = self._visible(v, "gibbs")
        p = v
        for _ in range(steps):
            _, h = self.sample_hidden(v, rng)                   # (N, H)  h ~ p(h | x)
            p, v = self.sample_visible(h, rng)                  # (N, D)  x ~ p(x | h)
        return v, p

    def init_visible_bias(self, x) -> RBM:
        """b_k = log(m_k / (1 - m_k)), m_k the mean of pixel k over the data (clipped to
        [0.01, 0.99]): Hinton's guide's start, where the visible units alone fit the means."""
        x = self._visible(x, "init_visible_bias")
        m = np.clip(x.mean(axis=0), 0.01, 0.99)
        self.visible_bias.data[:] = np.log(m / (1 - m))
        return self

    # -- the layer: free energy and its gradient ---------------------------------------------
    def forward(self, v):
        """F(x) = -b_vis.x - sum_j softplus(z_j), z = W x + b: x (N, D) -> (N,).

        (In the code, v is x, b is b_vis and c is the hidden bias b.)"""
        v = self._visible(v, "forward")
        W, b, c = self._params(v.dtype)
        a = v @ W.T + c                                         # (N, H) z = W x + b
        self._cache = (v, a)
        return -(v @ b) - _softplus(a).sum(axis=1)              # (N,)

    def backward(self, grad_output):
        """g (N,) -> dL/dx (N, D), with dL/dF_n = g_n. Derivatives of F(x), z = W x + b:
        dF/db_vis = -x, dF/db = -sigmoid(z), dF/dW = -sigmoid(z) x^T,
        dF/dx = -b_vis - W^T sigmoid(z). (In the code v = x, a = z, b = b_vis, c = b.)
        """
        v, a = self._saved()
        g = self._check_grad(grad_output, (len(v),), "RBM").astype(v.dtype, copy=False)  # (N,)
        W, b, _ = self._params(v.dtype)
        s = g[:, None] * sigmoid(a)                             # (N, H)  g_n sigmoid(z_nj)
        self.weight.accumulate(-(s.T @ v))                      # (H, D)  -sum_n g_n s_n x_n^T
        self.visible_bias.accumulate(-(g @ v))                  # (D,)    -sum_n g_n x_n
        self.hidden_bias.accumulate(-s.sum(axis=0))             # (H,)    -sum_n g_n s_n
        return -(g[:, None] * b) - s @ W                        # (N, D)  -g_n (b_vis + W^T s_n)

    def free_energy(self, v) -> np.ndarray:
        """F(v) for each row, (N, V) -> (N,), storing nothing for backward."""
        with no_grad():
            return self(v)

    def hidden_free_energy(self, h) -> np.ndarray:
        """The free energy of the hidden units, v summed out:
        F_h(h) = -c.h - sum_k softplus(b_k + (h W)_k), (N, H) -> (N,); p(h) = exp(-F_h) / Z."""
        h = self._hidden(h, "hidden_free_energy")
        W, b, c = self._params(h.dtype)
        return -(h @ c) - _softplus(h @ W + b).sum(axis=1)

    # -- contrastive divergence -------------------------------------------------------------
    def two_phase_gradient(self, positive, negative, negative_weights) -> dict:
        """The two-phase gradient estimate: one backward pass of the free energy with weight
        +1/N on each positive (data) row and -w_m on each negative (model sample) row.

        Shape: positive (N, V), negative (M, V), negative_weights (M,) summing to 1.
        Sets every parameter's ``.grad`` to mean_n dF(x_n)/dtheta - sum_m w_m dF(x~_m)/dtheta
        and returns a dict name -> a copy of it.
        """
        positive = self._visible(positive, "two_phase_gradient")
        negative = self._visible(negative, "two_phase_gradient")
        if np.shape(negative_weights) != (len(negative),):
            raise ValueError(f"RBM.two_phase_gradient: negative_weights must have shape "
                             f"({len(negative)},), one per negative row, got "
                             f"{np.shape(negative_weights)}")
        self.zero_grad()
        both = np.concatenate([positive, negative.astype(positive.dtype, copy=False)])
        g = np.concatenate([np.full(len(positive), 1 / len(positive)),
                            -np.asarray(negative_weights)]).astype(positive.dtype)   # (N + M,)
        self(both)
        self.backward(g)
        return {name: p.grad.copy() for name, p in self.named_parameters()}

    def contrastive_divergence(self, v, k: int = 1, rng=None, chains=None):
        """The CD-k estimate of the gradient of the mean negative log-likelihood of ``v``.

        The negative samples are the 0/1 visible states after ``k`` Gibbs steps started at the
        data (CD-k, ``chains=None``) or at ``chains`` (persistent CD: pass the previous call's
        returned samples). Sets every parameter's ``.grad`` to
        mean_n dF(v_n)/dtheta - mean_m dF(v~_m)/dtheta and returns ``(grads, negatives)``:
        a dict name -> gradient and the negative samples (M, V), M = N for CD-k.
        """
        v = self._visible(v, "contrastive_divergence")
        start = v if chains is None else self._visible(chains, "contrastive_divergence")
        negatives, _ = self.gibbs(start, k, rng)
        grads = self.two_phase_gradient(v, negatives, np.full(len(negatives),
                                                               1 / len(negatives)))
        return grads, negatives

    def reconstruction_error(self, v) -> float:
        """Mean squared error per pixel between v and p(v | h), h the mean-field p(h | v):
        the number people watch, though it is not what CD minimises."""
        v = self._visible(v, "reconstruction_error")
        return float(np.mean((v - self.visible_probs(self.hidden_probs(v))) ** 2))

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}"


# -- exact computations for tiny RBMs ----------------------------------------------------------
def all_states(n: int, dtype=np.float64) -> np.ndarray:
    """Every 0/1 vector of length n, (2^n, n), in binary counting order."""
    n = _positive_int(n, "all_states", "n")
    if n > MAX_ENUMERATED:
        raise ValueError(f"all_states: 2^{n} states are too many (at most 2^{MAX_ENUMERATED})")
    return ((np.arange(2 ** n)[:, None] >> np.arange(n)[::-1]) & 1).astype(dtype)


def log_partition(rbm: RBM) -> float:
    """log Z, summed exactly over every state of the smaller layer (at most 2^24 states):
    log Z = logsumexp_v(-F(v)) or logsumexp_h(-F_h(h))."""
    small = min(rbm.n_visible, rbm.n_hidden)
    if small > MAX_ENUMERATED:
        raise ValueError(f"log_partition: both layers have more than {MAX_ENUMERATED} units "
                         f"(V={rbm.n_visible}, H={rbm.n_hidden}); Z cannot be enumerated")
    dtype = rbm.weight.dtype
    out = []
    for chunk in np.array_split(all_states(small, dtype), max(1, 2 ** small // 65536)):
        f = (rbm.free_energy(chunk) if small == rbm.n_visible
             else rbm.hidden_free_energy(chunk))
        out.append(_logsumexp(-f.astype(np.float64)))
    return float(_logsumexp(np.array(out)))


def log_likelihood(rbm: RBM, v) -> float:
    """The mean log p(v) of the rows of v, exact: mean(-F(v)) - log Z."""
    return float(np.mean(-rbm.free_energy(v)) - log_partition(rbm))


def exact_gradient(rbm: RBM, v) -> dict:
    """The exact gradient of the mean negative log-likelihood of the rows of ``v``, for an
    RBM with at most 20 visible units: the model's average is a sum over all 2^V visible
    states weighted by p(v). Sets ``.grad`` like :meth:`RBM.contrastive_divergence` and
    returns the dict name -> gradient."""
    if rbm.n_visible > 20:
        raise ValueError(f"exact_gradient enumerates 2^V visible states; V={rbm.n_visible} "
                         "is more than 20")
    v = rbm._visible(v, "exact_gradient")
    states = all_states(rbm.n_visible, v.dtype)                    # (2^V, V)
    minus_f = -rbm.free_energy(states).astype(np.float64)
    p = np.exp(minus_f - _logsumexp(minus_f))                      # (2^V,) p(v)
    return rbm.two_phase_gradient(v, states, p)


# -- training ----------------------------------------------------------------------------------
class TrainingRun:
    """What :func:`train_rbm` recorded: ``reconstruction`` (one mean squared error per
    epoch, on the training data), ``chains`` (the persistent chains, or None)."""

    def __init__(self):
        self.reconstruction: list[float] = []
        self.chains = None


def train_rbm(rbm: RBM, x, *, epochs: int, batch_size: int = 20, lr: float = 0.1, k: int = 1,
              persistent: bool = False, momentum: float = 0.0, weight_decay: float = 0.0,
              rng=None, progress: bool = False, run: TrainingRun | None = None) -> TrainingRun:
    """Train with CD-k (or persistent CD with ``persistent=True``) and minibatch SGD.

    The update of Hinton's practical guide: increment = momentum x previous increment -
    lr (CD gradient + weight_decay W), weight decay on the weights only, never the biases;
    it is ``optim.SGD``'s momentum (its buffer is the increment over lr). The minibatches
    are a fresh permutation each epoch. Persistent CD keeps ``batch_size`` chains, started
    at random training rows, and continues them from one update to the next.

    Args:
        x: (N, V) training data, 0/1. ``rng``: seed or Generator (shuffling and sampling).
        run: a previous call's :class:`TrainingRun`, to continue its chains and history.
    Returns the :class:`TrainingRun`.
    """
    x = rbm._visible(x, "train_rbm")
    epochs = _positive_int(epochs, "train_rbm", "epochs")
    batch_size = _positive_int(batch_size, "train_rbm", "batch_size")
    k = _positive_int(k, "train_rbm", "k")
    rng = _rng(rng)
    run = run or TrainingRun()
    weights = SGD([rbm.weight], lr=lr, momentum=momentum, weight_decay=weight_decay)
    biases = SGD([rbm.visible_bias, rbm.hidden_bias], lr=lr, momentum=momentum)
    if persistent and run.chains is None:
        run.chains = x[rng.choice(len(x), size=batch_size, replace=len(x) < batch_size)].copy()
    for _ in tqdm(range(epochs), disable=not progress, desc="CD training", leave=False):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = x[order[start:start + batch_size]]           # (B, V)
            _, negatives = rbm.contrastive_divergence(
                batch, k, rng, chains=run.chains if persistent else None)
            if persistent:
                run.chains = negatives
            weights.step()
            biases.step()
        run.reconstruction.append(rbm.reconstruction_error(x))
    return run


def bars_and_stripes(n: int, dtype=np.float64) -> np.ndarray:
    """The n x n bars-and-stripes images, flattened: every pattern whose rows are all equal
    (stripes) or whose columns are all equal (bars), each once, (2^(n+1) - 2, n^2), sorted.
    A classic tiny benchmark for RBMs whose likelihood can be computed exactly."""
    n = _positive_int(n, "bars_and_stripes", "n")
    rows = all_states(n, dtype)                                    # (2^n, n)
    stripes = np.repeat(rows[:, :, None], n, axis=2).reshape(len(rows), -1)
    bars = np.repeat(rows[:, None, :], n, axis=1).reshape(len(rows), -1)
    return np.unique(np.concatenate([stripes, bars]), axis=0)


def full_batch_curve(rbm: RBM, x, *, steps: int, lr: float, k: int | None = 1,
                     persistent: bool = False, every: int = 50, rng=None) -> np.ndarray:
    """Train a tiny RBM on all of ``x`` at every step with plain SGD, following the CD-k
    gradient (``k=None``: the exact gradient) and record the exact mean log-likelihood of
    ``x`` before the first step and after every ``every`` steps: (steps // every + 1,)."""
    steps = _positive_int(steps, "full_batch_curve", "steps")
    every = _positive_int(every, "full_batch_curve", "every")
    x = rbm._visible(x, "full_batch_curve")
    rng = _rng(rng)
    optimizer = SGD(rbm.parameters(), lr=lr)
    curve, chains = [log_likelihood(rbm, x)], None
    for step in range(1, steps + 1):
        if k is None:
            exact_gradient(rbm, x)
        else:
            _, negatives = rbm.contrastive_divergence(x, k, rng,
                                                      chains=chains if persistent else None)
            chains = negatives
        optimizer.step()
        if step % every == 0:
            curve.append(log_likelihood(rbm, x))
    return np.array(curve)


def pretrained() -> tuple[dict, dict]:
    """What ``scripts/train_rbm.py`` trained and recorded, after checking the file's sha256:
    ``models`` (name -> :class:`RBM`: ``"cd1"`` and ``"pcd"``, 784 x 256 MNIST RBMs in
    float32, and ``"bas-<config>"``, the bars-and-stripes RBMs) and ``record`` (the recipes,
    the seconds, and the bars-and-stripes log-likelihood curves as lists)."""
    from deepglossary.data.files import checked_file

    checked_file(WEIGHTS, WEIGHTS, WEIGHTS_SHA256, made_by="scripts/train_rbm.py")
    models = {}
    with np.load(WEIGHTS) as archive:
        record = json.loads(str(archive["record"]))
        for name in record["models"]:
            weight = archive[f"{name}.weight"]
            model = RBM(weight.shape[1], weight.shape[0], dtype=weight.dtype, rng=0)
            for pname, p in model.named_parameters():
                p.data = archive[f"{name}.{pname}"].copy()
            models[name] = model
    return models, record
