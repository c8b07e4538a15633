"""Training the recursive network on trees, and the two models of the chapter that read the
same symbols without the tree: a bag of leaves and a sequence model over the prefix notation.
"""

from __future__ import annotations

import time

import numpy as np

from deepglossary import nn, optim
from deepglossary.losses import CrossEntropy
from deepglossary.random import default_rng
from deepglossary.recursive.batch import TreeBatch
from deepglossary.recursive.layers import RecursiveNet
from deepglossary.recursive.trees import TOKEN_ID, prefix


def fit_trees(model: RecursiveNet, data: TreeBatch, *, epochs: int, batch_size: int = 64,
        lr: float = 1e-2, clip: float = 5.0, every_node: bool = True, rng=None) -> dict:
    """Train ``model`` on ``data`` with Adam and gradient-norm clipping: each epoch shuffles
    the trees and cuts them into minibatches (:meth:`TreeBatch.select`). ``every_node``: the
    loss is the mean cross-entropy over every labelled node (each sub-expression, as the
    Sentiment Treebank labels every phrase); otherwise over the roots only. Returns
    ``{"loss": mean loss per epoch, "seconds": training time}``."""
    rng = default_rng(rng)
    opt, loss_fn = optim.Adam(model.parameters(), lr=lr), CrossEntropy()
    history, start = [], time.perf_counter()
    for _ in range(epochs):
        total, count = 0.0, 0
        order = rng.permutation(len(data))
        for i in range(0, len(order), batch_size):
            batch = data.select(order[i:i + batch_size])
            nodes, labels = ((batch.labelled, batch.labels) if every_node
                             else (batch.roots, batch.root_labels))
            model.zero_grad()
            loss = loss_fn(model(batch, nodes), labels)
            model.backward(loss_fn.backward())
            if clip:
                optim.clip_grad_norm(model.parameters(), clip)
            opt.step()
            total, count = total + float(loss) * len(batch), count + len(batch)
        history.append(total / count)
    return {"loss": history, "seconds": time.perf_counter() - start}


def accuracy_by_depth(predictions, labels, depth) -> dict:
    """``{depth: fraction of trees of that depth predicted right}``, depths ascending."""
    predictions, labels, depth = map(np.asarray, (predictions, labels, depth))
    return {int(d): float((predictions[depth == d] == labels[depth == d]).mean())
            for d in np.unique(depth)}


def leaf_counts(trees, vocab=None, dtype=np.float32) -> np.ndarray:
    """How often each token occurs among each tree's leaves, (N, |vocab|): the "bag of leaves"
    that a model ignoring the structure reads."""
    vocab = TOKEN_ID if vocab is None else vocab
    counts = np.zeros((len(trees), len(vocab)), dtype=dtype)
    for i, tree in enumerate(trees):
        for token in tree.leaves():
            counts[i, vocab[token]] += 1
    return counts


def prefix_one_hot(trees, vocab=None, dtype=np.float32) -> np.ndarray:
    """The trees' prefix notations (:func:`prefix`) as one-hot vectors, (N, T, |vocab|),
    T the longest; shorter ones are padded with zero vectors at the *front*, so that every
    sequence ends at the last step, where a sequence classifier reads its state."""
    vocab = TOKEN_ID if vocab is None else vocab
    ids = [[vocab[token] for token in prefix(tree)] for tree in trees]
    steps = max(map(len, ids))
    x = np.zeros((len(ids), steps, len(vocab)), dtype=dtype)
    for i, seq in enumerate(ids):
        x[i, np.arange(steps - len(seq), steps), seq] = 1
    return x


def fit_sequences(model, trees, labels, *, epochs: int, batch_size: int = 64,
                  lr: float = 3e-3, clip: float = 5.0, rng=None) -> dict:
    """Train a sequence classifier (``model(x)`` -> logits, x (N, T, |vocab|), e.g.
    ``memory_tasks.SequenceClassifier``) on the trees' prefix notations with Adam and
    gradient-norm clipping. Minibatches hold trees of similar length (sorted once, cut into
    batches, the batches' order shuffled every epoch), each padded only to its own longest.
    Returns ``{"loss": mean loss per epoch, "seconds": training time}``."""
    rng = default_rng(rng)
    labels = np.asarray(labels)
    lengths = np.array([len(prefix(tree)) for tree in trees])
    order = np.argsort(lengths, kind="stable")
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    data = [(prefix_one_hot([trees[i] for i in c]), labels[c]) for c in chunks]
    opt, loss_fn = optim.Adam(model.parameters(), lr=lr), CrossEntropy()
    history, start = [], time.perf_counter()
    for _ in range(epochs):
        total = 0.0
        for j in rng.permutation(len(data)):
            x, y = data[j]
            model.zero_grad()
            loss = loss_fn(model(x), y)
            model.backward(loss_fn.backward())
            if clip:
                optim.clip_grad_norm(model.parameters(), clip)
            opt.step()
            total += float(loss) * len(y)
        history.append(total / len(labels))
    return {"loss": history, "seconds": time.perf_counter() - start}


def predict_sequences(model, trees) -> np.ndarray:
    """A sequence classifier's predicted class for each tree's prefix notation, run in groups
    of equal length (no padding: a state that read many padding steps first would be unlike
    any the model was trained on)."""
    lengths = np.array([len(prefix(tree)) for tree in trees])
    out = np.empty(len(trees), dtype=np.int64)
    with nn.no_grad():
        for length in np.unique(lengths):
            group = np.flatnonzero(lengths == length)
            out[group] = model(prefix_one_hot([trees[i] for i in group])).argmax(axis=1)
    return out
