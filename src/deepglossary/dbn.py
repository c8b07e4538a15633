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

from deepglossary import nn
from deepglossary.nn.core import as_input
from deepglossary.random import default_rng
from deepglossary.rbm import RBM, TrainingRun, train_rbm

__all__ = ["DBN", "pretrained"]

WEIGHTS = pathlib.Path(__file__).parent / "data" / "dbn.npz"
WEIGHTS_SHA256 = "fcc44fa3e5082415029355841ea84821b50557660a552e59937596ce6d088157"


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


def pretrained() -> tuple[DBN, dict]:
    """The DBN that ``scripts/train_dbn.py`` pretrained on the 4,000 shipped MNIST training
    digits (float32), after checking the file's sha256, and the record of its training."""
    from deepglossary.data.mnist import sha256

    if not WEIGHTS.exists():
        raise FileNotFoundError(f"{WEIGHTS} is missing: reinstall the package or run "
                                "scripts/train_dbn.py")
    if sha256(WEIGHTS) != WEIGHTS_SHA256:
        raise ValueError(f"{WEIGHTS} does not match its recorded sha256: reinstall the "
                         "package or rerun scripts/train_dbn.py")
    with np.load(WEIGHTS) as archive:
        record = json.loads(str(archive["record"]))
        dbn = DBN(record["sizes"], dtype=np.float32, rng=0)
        for index, rbm in enumerate(dbn.rbms):
            for name, p in rbm.named_parameters():
                p.data = archive[f"{index}.{name}"].copy()
    return dbn, record
