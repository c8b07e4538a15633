"""Train the GloVe vectors that ship with the package, ``data/glove_web.npz``.

    .venv/bin/python scripts/train_glove.py          # trains, writes, prints the sha256

NumPy and the package only, every random draw seeded, one BLAS thread. The printed sha256 goes
into ``WEIGHTS_SHA256`` in ``src/deepglossary/glove/pretrained.py``.

The recipe: the whole World English Bible (``data.words.word_corpus()``, words seen at least 5
times, read as one stream), co-occurrences in a symmetric window of 10 words weighted 1/d;
50-dimensional vectors, AdaGrad with learning rate 0.05 on minibatches of 4,096 nonzero
entries, 25 epochs, x_max = 100; once for each exponent alpha in ALPHAS (0.75 is the paper's
and the chapter's main vectors); and once more with 100 dimensions and alpha 0.75, the size of
the word2vec chapter's vectors, for a comparison at equal size. Stored: the main run's W, W~
(float16) and biases (float32); W + W~ (float16) of the other runs (``vectors-<alpha>``,
``vectors-d100``); the vocabulary; a histogram of the nonzero counts; and a record of the
settings, the losses per epoch, the seconds and the scores of each run on WordSim-353,
SimLex-999 and the Google analogies, computed from the stored float16 vectors.
"""

from __future__ import annotations

import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from deepglossary import glove as G
from deepglossary import wordsim as ws
from deepglossary.data.files import sha256
from deepglossary.data.words import word_corpus

SEED, MIN_COUNT, WINDOW, DIM, EPOCHS, LR, BATCH, X_MAX = 0, 5, 10, 50, 25, 0.05, 4096, 100.0
ALPHAS = (0.0, 0.5, 0.75, 1.0)
MAIN = 0.75
DIM_COMPARE = 100                             # the word2vec chapter's size
BINS = np.logspace(-1, 5, 61)                 # the histogram of the counts X_ij: 0.1 to 1e5


def scores(vectors, corpus) -> dict:
    return dict(wordsim353=ws.similarity_spearman(vectors, corpus.index, ws.wordsim353()).rho,
                simlex999=ws.similarity_spearman(vectors, corpus.index, ws.simlex999()).rho,
                analogies=ws.analogy(vectors, corpus.index, ws.analogy_questions()).accuracy())


def main() -> None:
    corpus = word_corpus(MIN_COUNT)
    start = time.perf_counter()
    counts = G.cooccurrence(corpus.ids, len(corpus.vocab), WINDOW)
    record = dict(seed=SEED, min_count=MIN_COUNT, window=WINDOW, dim=DIM, epochs=EPOCHS, lr=LR,
                  batch_size=BATCH, x_max=X_MAX, alphas=list(ALPHAS), main=MAIN,
                  nonzero=counts.nnz, tokens=len(corpus.ids),
                  count_seconds=round(time.perf_counter() - start, 1),
                  seconds={}, losses={}, scores={})
    print(counts, record["count_seconds"], "s")
    arrays = dict(words=np.array(corpus.vocab), bins=BINS,
                  histogram=np.histogram(counts.values, BINS)[0])
    with threadpool_limits(1):
        for alpha in ALPHAS:
            start = time.perf_counter()
            model = G.GloVe(len(corpus.vocab), DIM, x_max=X_MAX, alpha=alpha, dtype=np.float32,
                            rng=SEED)
            losses = G.train_glove(model, counts, epochs=EPOCHS, lr=LR, batch_size=BATCH,
                                   rng=SEED, progress=True)
            key = str(alpha)
            record["seconds"][key] = round(time.perf_counter() - start, 1)
            record["losses"][key] = losses
            if alpha == MAIN:
                arrays.update(weight=model.weight.data.astype(np.float16),
                              context_weight=model.context_weight.data.astype(np.float16),
                              bias=model.bias.data, context_bias=model.context_bias.data)
                stored = (arrays["weight"].astype(np.float32)
                          + arrays["context_weight"].astype(np.float32))
            else:
                arrays[f"vectors-{key}"] = model.vectors().astype(np.float16)
                stored = arrays[f"vectors-{key}"].astype(np.float32)
            record["scores"][key] = scores(stored, corpus)
            print(f"alpha {alpha}: {record['seconds'][key]} s, loss {losses[0]:.4f} -> "
                  f"{losses[-1]:.4f}, {record['scores'][key]}", flush=True)
        start = time.perf_counter()
        model = G.GloVe(len(corpus.vocab), DIM_COMPARE, x_max=X_MAX, alpha=MAIN,
                        dtype=np.float32, rng=SEED)
        losses = G.train_glove(model, counts, epochs=EPOCHS, lr=LR, batch_size=BATCH, rng=SEED,
                               progress=True)
        key = f"d{DIM_COMPARE}"
        record["seconds"][key] = round(time.perf_counter() - start, 1)
        record["losses"][key] = losses
        arrays[f"vectors-{key}"] = model.vectors().astype(np.float16)
        record["scores"][key] = scores(arrays[f"vectors-{key}"].astype(np.float32), corpus)
        record["dim_compare"] = DIM_COMPARE
        print(f"{key}: {record['seconds'][key]} s, {record['scores'][key]}", flush=True)
    with open(G.WEIGHTS, "wb") as f:
        np.savez_compressed(f, record=np.array(json.dumps(record, sort_keys=True)), **arrays)
    size = G.WEIGHTS.stat().st_size / 1e6
    print(f"wrote {G.WEIGHTS} ({size:.2f} MB), sha256 {sha256(G.WEIGHTS)}")


if __name__ == "__main__":
    main()
