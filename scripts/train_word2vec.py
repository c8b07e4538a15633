"""Train the word vectors that ship with the package, ``data/word2vec_web.npz``.

    .venv/bin/python scripts/train_word2vec.py          # trains, writes, prints the sha256

On the whole World English Bible (``deepglossary.data.words.word_corpus()``, words seen at
least 5 times), NumPy and the package only for our models, every random draw seeded:

* the chapter's model: skip-gram with negative sampling (``deepglossary.word2vec.train``),
  100 numbers per word, window 5, 5 negatives, subsampling threshold 1e-3, 5 epochs,
  minibatches of 2,048 pairs, learning rate 0.025 falling linearly;
* the reference: gensim 4.4.0's ``Word2Vec`` with the same settings (sg=1, hs=0, one worker)
  on the same token stream (cut into pieces of 10,000 tokens, gensim's longest sentence);
* the widget's sweep: our skip-gram with windows 2, 5 and 10 (50 numbers, 2 epochs each, the
  same seed for every window), and window 2 once more with another seed (the seed-noise floor:
  the chapter compares the change of neighbours across windows with the change across seeds);
  for each run, the scores, the neighbours of a few probe words and a 2-D projection of a word
  list are kept (not the vectors).

    .venv/bin/python scripts/train_word2vec.py --sweep-only   # retrains only the sweep and
                                                              # keeps the rest of the file

The vectors are stored as float16, and every score stored is measured on the float16-rounded
vectors, so that loading them gives the same numbers back (tests/test_word2vec.py checks it).
The file records the training times, so a rerun writes a file with another sha256; gensim's
own initialisation also depends on Python's string hashing (PYTHONHASHSEED). The printed
sha256 goes into ``WEIGHTS_SHA256`` in ``src/deepglossary/word2vec/pretrained.py``.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from deepglossary import wordsim  # noqa: E402
from deepglossary.data.fashion import write_npz  # noqa: E402
from deepglossary.data.words import word_corpus  # noqa: E402
from deepglossary.word2vec import train  # noqa: E402
from deepglossary.word2vec.pretrained import WEIGHTS  # noqa: E402

SEED = 0
MAIN = dict(model="skipgram", dim=100, window=5, negatives=5, sample=1e-3, epochs=5,
            batch_size=2048, lr=0.025)
SWEEP_WINDOWS = (2, 5, 10)
SWEEP = dict(model="skipgram", dim=50, negatives=5, sample=1e-3, epochs=2, batch_size=2048,
             lr=0.025)
SWEEP_SEED = SEED                 # one seed for every window, so the window is the only change
SEED_CHECK = dict(window=2, seed=SEED + 1)   # window 2 again with another seed: the floor
#                                              that seed noise alone sets
PROBES = ["god", "king", "water", "sword", "bread", "father", "gold", "sheep"]
PROJECTED = ["father", "mother", "son", "daughter", "brother", "sister", "husband", "wife",
             "king", "queen", "man", "woman", "egypt", "babylon", "jerusalem", "assyria",
             "one", "two", "three", "seven", "ten", "sheep", "goats", "oxen", "camels",
             "donkeys", "gold", "silver", "brass", "iron", "bread", "wine", "water", "oil"]


def scores(W, corpus, questions) -> dict:
    """The numbers the chapter reports, measured on ``W``."""
    ws = wordsim.similarity_spearman(W, corpus.index, wordsim.wordsim353())
    sl = wordsim.similarity_spearman(W, corpus.index, wordsim.simlex999())
    an = wordsim.analogy(W, corpus.index, questions)
    return dict(wordsim353=ws.rho, wordsim353_covered=ws.covered, simlex999=sl.rho,
                simlex999_covered=sl.covered, family=an.accuracy("family"),
                family_covered=an.covered["family"], analogy_all=an.accuracy(),
                analogy_covered=sum(an.covered.values()),
                capitals_covered=an.covered["capital-common-countries"]
                + an.covered["capital-world"])


def projection(W, corpus) -> list:
    """2-D coordinates of :data:`PROJECTED`: their unit vectors, centred, on the first two
    principal axes (each axis's sign fixed so that its largest loading is positive)."""
    X = wordsim.unit_rows(W[corpus.encode(PROJECTED)])
    X = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    axes = vt[:2] * np.sign(vt[:2][np.arange(2), np.abs(vt[:2]).argmax(axis=1)])[:, None]
    return (X @ axes.T).round(4).tolist()


def sweep_run(corpus, questions, window: int, seed: int) -> dict:
    """One run of the widget's sweep: our skip-gram with :data:`SWEEP` and this window and
    seed; keeps its scores, the 6 nearest neighbours of each probe word and the projection."""
    run = train(corpus.ids, corpus.counts, window=window, seed=seed, **SWEEP)
    W = run.W_in.astype(np.float16).astype(np.float32)
    result = dict(
        scores=scores(W, corpus, questions), seconds=run.seconds, seed=seed,
        neighbours={w: [n for n, _ in wordsim.nearest(W, corpus.vocab, corpus.index, w, 6)]
                    for w in PROBES},
        projection=projection(W, corpus))
    print(f"window {window}, seed {seed}: {run.seconds:.1f} s", result["scores"], flush=True)
    return result


def sweep_metadata(runs: dict, seed_check: dict) -> dict:
    """The ``sweep`` entry of the file's metadata: ``runs`` (window -> :func:`sweep_run`) and
    ``seed_check`` (a second run of ``SEED_CHECK["window"]`` with another seed)."""
    return dict(settings={**SWEEP, "windows": list(SWEEP_WINDOWS), "seed": SWEEP_SEED},
                probes=PROBES, projected=PROJECTED, runs=runs,
                seed_check=dict(SEED_CHECK, run=seed_check))


def write_sweep_only(sweep: dict) -> None:
    """Replace the sweep in the shipped file and keep everything else (the main model, gensim,
    their metadata) as it is: ``--sweep-only`` does not retrain the ~7-minute main model."""
    with np.load(WEIGHTS) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(str(arrays["metadata"]))
    metadata["sweep"] = sweep
    arrays["metadata"] = np.array(json.dumps(metadata))
    digest = write_npz(WEIGHTS, **arrays)
    print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size:,} bytes), sha256 {digest}")


def train_gensim(corpus, settings, seed):
    from gensim.models import Word2Vec as GensimWord2Vec

    stream = [corpus.vocab[i] for i in corpus.ids]
    sentences = [stream[i:i + 10_000] for i in range(0, len(stream), 10_000)]
    start = time.perf_counter()
    model = GensimWord2Vec(sentences, vector_size=settings["dim"], window=settings["window"],
                           negative=settings["negatives"], sample=settings["sample"],
                           epochs=settings["epochs"], alpha=settings["lr"], min_count=1, sg=1,
                           hs=0, workers=1, seed=seed)
    seconds = time.perf_counter() - start
    return np.stack([model.wv[w] for w in corpus.vocab]), seconds


def main() -> None:
    corpus, questions = word_corpus(), wordsim.analogy_questions()
    half = lambda W: W.astype(np.float16)                              # noqa: E731
    if "--sweep-only" in sys.argv:
        with threadpool_limits(1):
            runs = {str(w): sweep_run(corpus, questions, w, SWEEP_SEED) for w in SWEEP_WINDOWS}
            check = sweep_run(corpus, questions, **SEED_CHECK)
        write_sweep_only(sweep_metadata(runs, check))
        return
    with threadpool_limits(1):
        model = train(corpus.ids, corpus.counts, seed=SEED, progress=True, **MAIN)
        print(f"ours: {model.seconds:.1f} s, last loss {model.losses[-1]:.3f}", flush=True)
        W_in, W_out = half(model.W_in), half(model.W_out)
        ours = scores(W_in.astype(np.float32), corpus, questions)
        print("ours:", ours, flush=True)
        G, gensim_seconds = train_gensim(corpus, MAIN, SEED)
        G = half(G)
        reference = scores(G.astype(np.float32), corpus, questions)
        print(f"gensim: {gensim_seconds:.1f} s", reference, flush=True)
        sweep = {str(w): sweep_run(corpus, questions, w, SWEEP_SEED) for w in SWEEP_WINDOWS}
        check = sweep_run(corpus, questions, **SEED_CHECK)
    metadata = dict(recipe={**MAIN, "seed": SEED}, train_seconds=model.seconds,
                    losses=np.round(model.losses, 5).tolist(),
                    examples=model.examples.tolist(), scores=ours,
                    gensim=dict(seconds=gensim_seconds, scores=reference,
                                version="4.4.0", settings="sg=1, hs=0, workers=1, min_count=1 "
                                "on the same stream, cut into 10,000-token sentences"),
                    sweep=sweep_metadata(sweep, check),
                    corpus=repr(corpus), vocab=corpus.vocab,
                    machine="a shared 2-core machine, one BLAS thread")
    digest = write_npz(WEIGHTS, W_in=W_in, W_out=W_out, gensim=G,
                       metadata=np.array(json.dumps(metadata)))
    print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size:,} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
