"""Training GloVe with AdaGrad (``optim.Adagrad``) on shuffled minibatches of nonzero counts."""

from __future__ import annotations

import numpy as np

from deepglossary.glove.counts import Cooccurrence
from deepglossary.glove.objective import GloVe
from deepglossary.optim import Adagrad


def train_glove(model: GloVe, counts: Cooccurrence, *, epochs: int, lr: float = 0.05,
                batch_size: int = 4096, rng=None, progress: bool = False) -> list[float]:
    """Fit ``model`` to ``counts`` with AdaGrad (``optim.Adagrad``, learning rate ``lr``) on
    minibatches of ``batch_size`` nonzero entries, shuffled every epoch.

    Returns J/nnz for every epoch, summed over its minibatches as they were visited (the
    reference code's report). Counts are passed in the model's dtype.
    """
    if model.vocab_size != counts.vocab_size:
        raise ValueError(f"the model has {model.vocab_size} words, the counts "
                         f"{counts.vocab_size}")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    values = counts.values.astype(model.weight.dtype)
    optimizer = Adagrad(model.parameters(), lr=lr)
    losses = []
    epochs_range = range(epochs)
    if progress:
        from tqdm.auto import tqdm
        epochs_range = tqdm(epochs_range, desc="GloVe epochs")
    for _ in epochs_range:
        order = g.permutation(counts.nnz)
        total = 0.0
        for start in range(0, counts.nnz, batch_size):
            b = order[start:start + batch_size]
            model.zero_grad()
            total += float(model(counts.rows[b], counts.cols[b], values[b]))
            model.backward(np.ones((), values.dtype))
            optimizer.step()
        losses.append(total / counts.nnz)
    return losses
