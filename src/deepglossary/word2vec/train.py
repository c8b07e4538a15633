"""Training word2vec by minibatch SGD with sparse updates.

Each step takes B examples, computes the hand-derived gradients of
:func:`~deepglossary.word2vec.loss.negative_sampling` row by row and adds ``-lr`` times each
into the rows it belongs to with ``np.add.at`` (rows used twice in a batch get both updates).
The learning rate falls linearly from ``lr`` to ``lr * 1e-4`` over the run, as in word2vec.c.
The updates are summed, not averaged, over the batch: each example moves its rows as it would
in word2vec's one-example-at-a-time SGD, only all at once. Counterpart: ``gensim.models.
Word2Vec(sg=1 or 0, negative=K, hs=0, sample=t, window=W, alpha=lr, cbow_mean=1)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from deepglossary.random import default_rng
from deepglossary.word2vec.loss import cbow_input, negative_sampling
from deepglossary.word2vec.sampling import (
    cbow_windows,
    draw_negatives,
    keep_probability,
    noise_distribution,
    skipgram_pairs,
    subsample,
)


@dataclass
class Word2Vec:
    """Trained word vectors. ``W_in`` (V, d): the input vectors, the ones usually kept as "the
    word vectors"; ``W_out`` (V, d): the output (context) vectors; ``losses``: the mean loss
    per example of each logged stretch of steps; ``examples``: examples seen at each log;
    ``settings``: the arguments of :func:`train`; ``seconds``: the training time."""

    W_in: np.ndarray
    W_out: np.ndarray
    losses: np.ndarray = field(repr=False)
    examples: np.ndarray = field(repr=False)
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0


def sgd_step(W_in, W_out, batch, negatives, lr: float) -> np.ndarray:
    """One step of sparse SGD, in place: ``W -= lr * dL/dW`` for L the sum of the batch's
    losses, each row's gradients added with ``np.add.at`` (no dense (V, d) gradient is built).

    ``batch``: ``(centres, contexts)`` (B,) each for skip-gram, or ``(contexts (B, C), mask
    (B, C), targets (B,))`` for CBOW; ``negatives``: (B, K). Returns the (B,) losses before the
    step. The same update as ``W -= lr * layer.grad`` after ``SkipGram``/``CBOW``'s backward
    with ``grad_output`` ones (a test checks it).
    """
    dim, dtype = W_in.shape[1], W_in.dtype
    if len(batch) == 2:                                                     # skip-gram
        c, o = batch
        loss, g_v, g_pos, g_neg = negative_sampling(W_in[c], W_out[o], W_out[negatives])
        np.add.at(W_in, c, (-lr * g_v).astype(dtype))                       # (B, d) rows
    else:                                                                   # CBOW
        ctx, mask, o = batch
        h, weights = cbow_input(W_in, ctx, mask)                            # (B, d), (B, C)
        loss, g_h, g_pos, g_neg = negative_sampling(h, W_out[o], W_out[negatives])
        g_ctx = weights[:, :, None] * g_h[:, None, :]                       # (B, C, d)
        np.add.at(W_in, ctx.reshape(-1), (-lr * g_ctx.reshape(-1, dim)).astype(dtype))
    np.add.at(W_out, o, (-lr * g_pos).astype(dtype))                        # (B, d)
    np.add.at(W_out, negatives.reshape(-1), (-lr * g_neg.reshape(-1, dim)).astype(dtype))
    return loss


def _check(name, value, low, kind=int):
    if isinstance(value, bool) or not isinstance(value, kind | np.integer) or value < low:
        raise ValueError(f"{name} must be {'an int' if kind is int else 'a number'} >= {low}, "
                         f"got {value!r}")


def train(ids, counts, *, model: str = "skipgram", dim: int = 100, window: int = 5,
          negatives: int = 5, sample: float = 1e-3, epochs: int = 1, lr: float | None = None,
          batch_size: int = 1024, seed: int = 0, max_examples: int | None = None,
          log_every: int = 50, dtype=np.float32, progress: bool = False) -> Word2Vec:
    """Train skip-gram or CBOW with negative sampling on a token stream.

    Args:
        ids: (n,) word ids in [0, V) (e.g. ``word_corpus().ids``); counts: (V,) their counts.
        model: ``"skipgram"`` or ``"cbow"``; dim: d; window: the largest reach of the dynamic
            window; negatives: K noise words per example, drawn from unigram^0.75; sample: the
            subsampling threshold t (0: none); epochs: passes over the stream, each with fresh
            subsampling, windows, shuffling and noise.
        lr: the starting learning rate (default 0.025 for skip-gram, 0.05 for CBOW, as
            word2vec.c); batch_size: examples per step.
        max_examples: stop after this many examples (a short live run); log_every: steps per
            entry of ``losses``; progress: a tqdm bar.
    Returns a :class:`Word2Vec`. Deterministic for a given ``seed``.
    """
    if model not in ("skipgram", "cbow"):
        raise ValueError(f"model must be 'skipgram' or 'cbow', got {model!r}")
    ids = np.asarray(ids, dtype=np.int64)
    counts = np.asarray(counts)
    V = len(counts)
    if ids.ndim != 1 or not len(ids) or ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"ids must be a non-empty (n,) array of ids in [0, {V}) (V = "
                         f"len(counts)), got shape {ids.shape}")
    for name, value, low in (("dim", dim, 1), ("window", window, 1), ("negatives", negatives, 1),
                             ("epochs", epochs, 1), ("batch_size", batch_size, 1),
                             ("log_every", log_every, 1)):
        _check(name, value, low)
    lr = (0.025 if model == "skipgram" else 0.05) if lr is None else float(lr)
    settings = dict(model=model, dim=dim, window=window, negatives=negatives, sample=sample,
                    epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    rng = default_rng(seed)
    noise = noise_distribution(counts)
    W_in = ((rng.random((V, dim)) - 0.5) / dim).astype(dtype)     # word2vec.c's initialisation
    W_out = np.zeros((V, dim), dtype=dtype)
    # the number of examples of the whole run, for the linear decay of the learning rate
    kept = float(np.sum(counts * keep_probability(counts, sample)))
    per_epoch = kept * ((window + 1) if model == "skipgram" else 1)   # expected examples
    total = epochs * per_epoch if max_examples is None else min(max_examples, epochs * per_epoch)
    losses, seen_log, running, in_running, steps, seen = [], [], 0.0, 0, 0, 0
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=int(total), unit="ex", desc=model)
    for _ in range(epochs):
        stream = subsample(ids, counts, sample, rng)
        if model == "skipgram":
            centres, contexts = skipgram_pairs(stream, window, rng)
            order = rng.permutation(len(centres))
            data = (centres[order], contexts[order])
        else:
            ctx, mask, targets = cbow_windows(stream, window, rng)
            order = rng.permutation(len(targets))
            data = (ctx[order], mask[order], targets[order])
        for at in range(0, len(data[-1]), batch_size):
            if max_examples is not None and seen >= max_examples:
                break
            part = [x[at:at + batch_size] for x in data]
            B = len(part[-1])
            alpha = lr * max(1e-4, 1.0 - seen / total)
            neg = draw_negatives(noise, (B, negatives), rng)                 # (B, K)
            loss = sgd_step(W_in, W_out, part, neg, alpha)
            running, in_running = running + float(loss.sum()), in_running + B
            steps, seen = steps + 1, seen + B
            if steps % log_every == 0:
                losses.append(running / in_running)                          # mean per example
                seen_log.append(seen)
                running, in_running = 0.0, 0
            if bar is not None:
                bar.update(B)
        if max_examples is not None and seen >= max_examples:
            break
    if bar is not None:
        bar.close()
    if not np.isfinite(W_in).all() or not np.isfinite(W_out).all():
        raise FloatingPointError(f"training diverged (non-finite vectors) with lr={lr}; lower "
                                 "lr or batch_size")
    return Word2Vec(W_in, W_out, np.array(losses), np.array(seen_log), settings,
                    time.perf_counter() - start)

