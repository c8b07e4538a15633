"""The deep belief network (DBN): restricted Boltzmann machines stacked and trained greedily.

Hinton, Osindero and Teh (2006): train an RBM on the data; read its hidden units' probabilities
p(h | x) as a new data set and train a second RBM on them; and so on. The stack is then either

* a generative model: Gibbs sampling in the top RBM, then one top-down pass through the lower
  RBMs' p(x | h) (:meth:`DBN.sample`), or
* the initialisation of a multilayer perceptron with sigmoid units: each RBM's ``weight``
  (H, V) and ``hidden_bias`` (H,) are exactly an ``nn.Affine(V, H)``'s ``weight`` and ``bias``
  (:meth:`DBN.to_mlp`), after which the network is fine-tuned with labels by backpropagation.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

from deepglossary import init, nn
from deepglossary.nn.core import as_input
from deepglossary.random import default_rng
from deepglossary.rbm import RBM, TrainingRun, train_rbm

__all__ = ["DBN", "METHODS", "comparison_run", "fine_tune", "from_scratch", "labelled_subset",
           "pretrained", "two_layer_log_likelihood", "variational_bound"]

WEIGHTS = pathlib.Path(__file__).parent / "data" / "dbn.npz"
WEIGHTS_SHA256 = "d90c06fbc5fcf4262d19766ef651b1d5105c1919c73260d6287c717593c1c629"


class DBN:
    """A stack of RBMs, ``sizes = (D, H_1, H_2, ...)``: RBM l has H_(l-1) visible and H_l
    hidden units. There is no PyTorch counterpart; the fine-tuned network's twin is a
    ``torch.nn.Sequential`` of ``Linear`` and ``Sigmoid`` (``verify.torch_twin`` of
    :meth:`to_mlp`'s result).

    Shape:
        x:           (N, D)      0/1 data, or probabilities
        up(x, l):    (N, H_l)    the mean-field representation p(h_l | h_(l-1)), layer by layer
        sample(n):   (n, D)      probabilities of the visible units after the top-down pass
    """

    def __init__(self, sizes, dtype=np.float64, rng=None):
        sizes = tuple(sizes)
        if len(sizes) < 2 or not all(isinstance(s, int | np.integer) and s > 0 for s in sizes):
            raise ValueError(f"DBN: sizes must be at least two positive integers (D, H_1, ...), "
                             f"got {sizes!r}")
        rng = default_rng(rng)
        self.sizes = tuple(int(s) for s in sizes)
        self.rbms = [RBM(a, b, dtype=dtype, rng=rng) for a, b in zip(sizes[:-1], sizes[1:])]
        self.runs: list[TrainingRun] = []

    def up(self, x, layers: int | None = None) -> np.ndarray:
        """p(h | x) through the first ``layers`` RBMs (all by default): (N, D) -> (N, H_l)."""
        x = as_input(x, "DBN.up", last_dim=self.sizes[0], min_ndim=2)
        layers = len(self.rbms) if layers is None else layers
        if not 0 <= layers <= len(self.rbms):
            raise ValueError(f"DBN.up: layers must be in 0..{len(self.rbms)}, got {layers}")
        for rbm in self.rbms[:layers]:
            x = rbm.hidden_probs(x)
        return x

    def pretrain(self, x, *, epochs, lr=0.05, k: int = 1, persistent: bool = False,
                 batch_size: int = 20, momentum: float = 0.9, weight_decay: float = 2e-4,
                 rng=None, progress: bool = False) -> DBN:
        """Greedy layer-wise pretraining: RBM 1 on x, then RBM l on the probabilities
        p(h_(l-1) | ...) that the trained RBMs below give for x. ``epochs`` and ``lr`` may be
        one number or one per RBM. Other arguments as :func:`rbm.train_rbm`; one generator
        (``rng``) drives every RBM's training in turn."""
        x = as_input(x, "DBN.pretrain", last_dim=self.sizes[0], min_ndim=2)
        rng = default_rng(rng)
        per_layer = [epochs] * len(self.rbms) if np.ndim(epochs) == 0 else list(epochs)
        rates = [lr] * len(self.rbms) if np.ndim(lr) == 0 else list(lr)
        if len(per_layer) != len(self.rbms) or len(rates) != len(self.rbms):
            raise ValueError(f"DBN.pretrain: give one epochs and lr value, or one per RBM "
                             f"({len(self.rbms)})")
        self.runs = []
        data = x
        for rbm, n_epochs, rate in zip(self.rbms, per_layer, rates):
            if rbm is self.rbms[0]:
                rbm.init_visible_bias(data)
            self.runs.append(train_rbm(rbm, data, epochs=n_epochs, batch_size=batch_size,
                                       lr=rate, k=k, persistent=persistent, momentum=momentum,
                                       weight_decay=weight_decay, rng=rng, progress=progress))
            data = rbm.hidden_probs(data)                    # (N, H_l): the next RBM's data
        return self

    def sample(self, n: int, *, steps: int = 1000, rng=None) -> np.ndarray:
        """n samples: a Gibbs chain of ``steps`` steps in the top RBM (started from random
        0/1 hidden states of the top RBM's visible layer), then one top-down pass through
        p(h_(l-1) | h_l) of each lower RBM, drawing 0/1 states and returning the
        probabilities of the visible units at the bottom: (n, D)."""
        rng = default_rng(rng)
        top = self.rbms[-1]
        dtype = top.weight.dtype
        start = (rng.random((int(n), top.n_visible)) < 0.5).astype(dtype)
        state, p = top.gibbs(start, steps, rng)               # (n, H_(L-1))
        for rbm in reversed(self.rbms[:-1]):
            p, state = rbm.sample_visible(state, rng)          # down one layer
        return p

    def to_mlp(self, num_classes: int, rng=None) -> nn.Sequential:
        """A sigmoid MLP ``Affine, Sigmoid, ..., Affine(H_L, num_classes)`` whose hidden
        layers are copies of the RBMs' weights and hidden biases, and whose output layer is
        freshly initialised (PyTorch's default). The output gives logits."""
        rng = default_rng(rng)
        layers = []
        for rbm in self.rbms:
            affine = nn.Affine(rbm.n_visible, rbm.n_hidden, dtype=rbm.weight.dtype, rng=rng)
            affine.weight.data = rbm.weight.data.copy()      # (H, V): Linear's layout
            affine.bias.data = rbm.hidden_bias.data.copy()   # (H,)
            layers += [affine, nn.Sigmoid()]
        layers.append(nn.Affine(self.sizes[-1], num_classes, dtype=self.rbms[-1].weight.dtype,
                                rng=rng))
        return nn.Sequential(*layers)

    def __repr__(self) -> str:
        return f"DBN(sizes={self.sizes})"


# -- exact quantities of a tiny two-layer DBN ------------------------------------------------
def _log_sigmoid(a):
    return -(np.maximum(-a, 0) + np.log1p(np.exp(-np.abs(a))))          # log sigma(a)


def _two_layer_terms(x, rbm1: RBM, rbm2: RBM):
    """For every row of x and every h1 in {0,1}^H1: log p(x | h1) (the lower RBM's
    conditional, read top-down), log p2(h1) (the top RBM's marginal of its visible layer) and
    log q(h1 | x) (the lower RBM's posterior). Shapes (N, 2^H1), (2^H1,), (N, 2^H1)."""
    from deepglossary.rbm import all_states, log_partition

    if rbm2.n_visible != rbm1.n_hidden:
        raise ValueError(f"the top RBM must have {rbm1.n_hidden} visible units (the lower RBM's "
                         f"hidden units), got {rbm2.n_visible}")
    x = rbm1._visible(x, "DBN bound")
    h1 = all_states(rbm1.n_hidden, x.dtype)                                 # (S, H1)
    a_down = h1 @ rbm1.weight.data + rbm1.visible_bias.data                 # (S, D)
    log_px_h = x @ _log_sigmoid(a_down).T + (1 - x) @ _log_sigmoid(-a_down).T   # (N, S)
    log_p2 = -rbm2.free_energy(h1) - log_partition(rbm2)                    # (S,)
    a_up = x @ rbm1.weight.data.T + rbm1.hidden_bias.data                   # (N, H1)
    log_q = _log_sigmoid(a_up) @ h1.T + _log_sigmoid(-a_up) @ (1 - h1).T    # (N, S)
    return log_px_h, log_p2, log_q


def two_layer_log_likelihood(x, rbm1: RBM, rbm2: RBM) -> np.ndarray:
    """log p(x) of the DBN x <- h1 <-> h2 (top RBM ``rbm2`` over h1, then p(x | h1) of
    ``rbm1``), exact, by summing over every h1 (H1 <= 20): (N,)."""
    log_px_h, log_p2, _ = _two_layer_terms(x, rbm1, rbm2)
    joint = log_px_h + log_p2                                               # (N, S)
    top = joint.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(joint - top).sum(axis=1, keepdims=True)))[:, 0]


def variational_bound(x, rbm1: RBM, rbm2: RBM) -> np.ndarray:
    """The lower bound on log p(x) of Hinton et al. (2006) with q(h1 | x), the lower RBM's
    posterior: sum_h1 q(h1|x) [log p(x|h1) + log p2(h1) - log q(h1|x)], exact: (N,)."""
    log_px_h, log_p2, log_q = _two_layer_terms(x, rbm1, rbm2)
    q = np.exp(log_q)
    return (q * (log_px_h + log_p2 - log_q)).sum(axis=1)


# -- the comparison: pretrained then fine-tuned, against training from scratch ---------------
METHODS = ("dbn", "sigmoid", "modern")


def labelled_subset(y, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` labelled examples, ``n // 10`` of each of the 10 classes, drawn
    with ``np.random.default_rng(seed)``: (n,)."""
    y = np.asarray(y)
    if n % 10 or n <= 0:
        raise ValueError(f"labelled_subset: n must be a positive multiple of 10, got {n}")
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(np.flatnonzero(y == c))[:n // 10]
                           for c in range(10)])


def from_scratch(sizes, method: str, seed: int, dtype=np.float32) -> nn.Sequential:
    """The networks of the comparison, drawn from ``np.random.default_rng(seed)``:

    * ``"sigmoid"``: the DBN's architecture (sigmoid hidden layers), PyTorch's default
      initialisation: the same network without the pretraining;
    * ``"modern"``: the same sizes with ReLU, He (Kaiming normal) initialisation of the
      hidden layers, zero biases, and dropout 0.2 after each hidden layer.
    """
    if method not in ("sigmoid", "modern"):
        raise ValueError(f"from_scratch: method must be 'sigmoid' or 'modern', got {method!r}")
    rng = np.random.default_rng(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        affine = nn.Affine(a, b, dtype=dtype, rng=rng)
        if method == "sigmoid":
            layers += [affine, nn.Sigmoid()]
        else:
            init.kaiming_normal_(affine.weight, nonlinearity="relu", rng=rng)
            init.zeros_(affine.bias)
            layers += [affine, nn.ReLU(), nn.Dropout(0.2, rng=rng)]
    layers.append(nn.Affine(sizes[-1], 10, dtype=dtype, rng=rng))
    return nn.Sequential(*layers)


def fine_tune(model: nn.Layer, x, y, *, steps: int = 300, lr: float = 1e-3,
              batch_size: int = 100, seed: int = 0) -> nn.Layer:
    """Supervised training of ``model`` (logits) on (x, y) with cross-entropy and Adam for
    about ``steps`` minibatch steps (whole epochs of min(batch_size, N) examples), shuffled
    by ``np.random.default_rng(seed)``. Returns the model in evaluation mode."""
    from deepglossary.losses import CrossEntropy
    from deepglossary.optim import Adam
    from deepglossary.train import fit

    batch = min(batch_size, len(x))
    epochs = max(1, steps * batch // len(x))
    fit(model, CrossEntropy(), Adam(model.parameters(), lr=lr), x, y, epochs=epochs,
        batch_size=batch, rng=np.random.default_rng(seed), progress=False, evaluate=False)
    return model.eval()


def comparison_run(dbn: DBN, x, y, x_test, y_test, *, labels: int, method: str, seed: int,
                   steps: int = 300) -> float:
    """One cell of the comparison table: ``labels`` labelled training examples
    (:func:`labelled_subset` with ``seed``), a network made by ``method`` (``"dbn"``: the
    pretrained stack as a sigmoid MLP with a fresh output layer; ``"sigmoid"``, ``"modern"``:
    :func:`from_scratch`), :func:`fine_tune` with ``seed``; returns the test accuracy."""
    from deepglossary.train import accuracy

    if method not in METHODS:
        raise ValueError(f"comparison_run: method must be one of {METHODS}, got {method!r}")
    index = labelled_subset(y, labels, seed)
    if method == "dbn":
        model = dbn.to_mlp(10, rng=np.random.default_rng(seed))
    else:
        model = from_scratch(dbn.sizes, method, seed, dtype=dbn.rbms[0].weight.dtype)
    fine_tune(model, x[index], y[index], steps=steps, seed=seed)
    return accuracy(model, x_test, y_test)


def pretrained() -> tuple[DBN, dict]:
    """The DBN that ``scripts/train_dbn.py`` pretrained on the 4,000 shipped MNIST training
    digits (float32), after checking the file's sha256, and the record of its training."""
    from deepglossary.data.files import checked_file

    checked_file(WEIGHTS, WEIGHTS, WEIGHTS_SHA256, made_by="scripts/train_dbn.py")
    with np.load(WEIGHTS) as archive:
        record = json.loads(str(archive["record"]))
        dbn = DBN(record["sizes"], dtype=np.float32, rng=0)
        for index, rbm in enumerate(dbn.rbms):
            for name, p in rbm.named_parameters():
                p.data = archive[f"{index}.{name}"].copy()
    return dbn, record
