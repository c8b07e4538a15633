"""How good are word vectors? Human similarity ratings and analogy questions.

The three test sets ship inside the PyPI package ``gensim`` 4.4.0 (its test data); they are
read from the installed package and checked against recorded sha256 sums, never copied into
this project. Provenance and licences: ``deepglossary/data/README.md``.

    pairs = wordsim353()                       # 353 (word, word, mean human rating) triples
    similarity_spearman(W, corpus.index, pairs)      # Spearman rho on the pairs we cover
    analogy(W, corpus.index, analogy_questions())    # 3CosAdd accuracy, per section
    nearest(W, corpus.vocab, corpus.index, "king")   # the closest words by cosine

``W`` is a (V, d) float array whose row ``index[word]`` is the vector of ``word``.
Counterparts: ``gensim.models.KeyedVectors.evaluate_word_pairs`` / ``evaluate_word_analogies``
/ ``most_similar``, ``scipy.stats.spearmanr``.
"""

from __future__ import annotations

import importlib.resources
import pathlib
from dataclasses import dataclass

import numpy as np

from deepglossary.data.files import checked_file

PACKAGE, FOLDER = "gensim", "test/test_data"
FILES = {
    "wordsim353": ("wordsim353.tsv",
                   "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d"),
    "simlex999": ("simlex999.txt",
                  "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d"),
    "analogies": ("questions-words.txt",
                  "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36"),
}


def data_path(name: str) -> pathlib.Path:
    """The checked path of one of :data:`FILES` inside the installed gensim 4.4.0."""
    if name not in FILES:
        raise ValueError(f"name must be one of {sorted(FILES)}, got {name!r}")
    filename, digest = FILES[name]
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError as err:
        raise FileNotFoundError("the similarity and analogy sets are read from the PyPI package"
                                " gensim==4.4.0: pip install gensim==4.4.0") from err
    path = pathlib.Path(str(root.joinpath(FOLDER, filename)))
    return checked_file(path, path, digest)


def read_pairs(path, expected_sha256: str) -> list[tuple[str, str, float]]:
    """``(word1, word2, rating)`` triples of a tab-separated file (``#`` lines skipped), words
    lower-cased, after checking the file's sha256."""
    path = checked_file(path, path, expected_sha256)
    pairs = []
    for number, line in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{pathlib.Path(path).name}, line {number}: expected "
                             f"'word<TAB>word<TAB>rating', got {line!r}")
        pairs.append((parts[0].lower(), parts[1].lower(), float(parts[2])))
    return pairs


def wordsim353() -> list[tuple[str, str, float]]:
    """WordSim-353 (Finkelstein et al. 2002): 353 word pairs with the mean of 13-16 people's
    relatedness ratings on a 0-10 scale (``tiger``/``cat`` 7.35)."""
    return read_pairs(data_path("wordsim353"), FILES["wordsim353"][1])


def simlex999() -> list[tuple[str, str, float]]:
    """SimLex-999 (Hill et al. 2015): 999 pairs rated for similarity, not relatedness, 0-10
    (``coast``/``shore`` high, ``cup``/``coffee`` low)."""
    return read_pairs(data_path("simlex999"), FILES["simlex999"][1])


def analogy_questions(path=None, expected_sha256: str | None = None
                      ) -> dict[str, list[tuple[str, str, str, str]]]:
    """The Google analogy questions (Mikolov et al. 2013): section name -> list of
    ``(a, b, c, d)`` lower-cased, read "a is to b as c is to d" (``athens greece baghdad
    iraq``); 19,544 questions in 14 sections, 5 semantic then 9 syntactic (``gram...``)."""
    if path is None:
        path, expected_sha256 = data_path("analogies"), FILES["analogies"][1]
    path = checked_file(path, path, expected_sha256)
    sections: dict = {}
    current = None
    for number, line in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(":"):
            current = line[1:].strip()
            sections[current] = []
        elif line.strip():
            words = line.lower().split()
            if current is None or len(words) != 4:
                raise ValueError(f"{pathlib.Path(path).name}, line {number}: expected four "
                                 f"words under a ': section' line, got {line!r}")
            sections[current].append(tuple(words))
    return sections


def rankdata(x) -> np.ndarray:
    """Ranks 1..n of the entries of a 1-D array, ties given the mean of the ranks they span
    (``scipy.stats.rankdata(method="average")``). Shape: (n,) -> (n,) float64."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"rankdata expects a 1-D array (n,), got shape {x.shape}")
    order = np.argsort(x, kind="stable")                      # (n,)
    sorted_x = x[order]
    # a new run of equal values starts where the sorted value changes
    starts = np.concatenate([[True], sorted_x[1:] != sorted_x[:-1]])      # (n,)
    run = np.cumsum(starts) - 1                               # run number of each sorted entry
    first = np.flatnonzero(starts)                            # (runs,) first position of each run
    last = np.concatenate([first[1:], [len(x)]]) - 1          # (runs,) last position
    mean_rank = (first + last) / 2.0 + 1.0                    # (runs,) average of 1-based ranks
    ranks = np.empty(len(x))
    ranks[order] = mean_rank[run]
    return ranks


def spearman(x, y) -> float:
    """Spearman's rank correlation: Pearson's correlation of the two rank vectors (ties
    averaged), as ``scipy.stats.spearmanr(x, y).statistic``. Shapes (n,), (n,), n >= 2."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"spearman expects two 1-D arrays of one length n >= 2, got shapes "
                         f"{x.shape} and {y.shape}")
    rx, ry = rankdata(x) - (len(x) + 1) / 2, rankdata(y) - (len(x) + 1) / 2
    denominator = np.sqrt((rx @ rx) * (ry @ ry))
    if denominator == 0:
        raise ValueError("spearman is undefined when one input is constant")
    return float(rx @ ry / denominator)


def spearman_resampled(x, y, rows) -> np.ndarray:
    """Spearman's rank correlation of ``(x[r], y[r])`` for every row ``r`` of ``rows``, at once:
    the same numbers as ``[spearman(x[r], y[r]) for r in rows]`` (ties averaged), for a
    bootstrap's resamples. ``x``, ``y``: (n,); ``rows``: (m, k) ints in 0 .. n-1, k >= 2.
    Returns (m,) float64."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rows = np.asarray(rows)
    if x.ndim != 1 or x.shape != y.shape or rows.ndim != 2 or rows.shape[1] < 2:
        raise ValueError(f"spearman_resampled expects x, y (n,) and rows (m, k >= 2), got "
                         f"shapes {x.shape}, {y.shape} and {rows.shape}")
    if not np.issubdtype(rows.dtype, np.integer) or rows.min() < 0 or rows.max() >= len(x):
        raise ValueError(f"rows must be ints in 0 .. {len(x) - 1}")
    m, k = rows.shape
    centred = []
    for values in (x, y):
        _, level = np.unique(values, return_inverse=True)            # (n,) 0-based value level
        keys = level[rows] + len(values) * np.arange(m)[:, None]     # (m, k), rows kept apart
        flat = np.sort(keys, axis=None)                              # (m k,)
        before = np.arange(m)[:, None] * k                           # entries of earlier rows
        less = np.searchsorted(flat, keys, side="left") - before     # (m, k) smaller in row
        upto = np.searchsorted(flat, keys, side="right") - before    # (m, k) <= in row
        centred.append((less + upto + 1) / 2 - (k + 1) / 2)          # average rank, centred
    rx, ry = centred
    denominator = np.sqrt(np.sum(rx * rx, axis=1) * np.sum(ry * ry, axis=1))   # (m,)
    if np.any(denominator == 0):
        raise ValueError("spearman is undefined when a resample of x or y is constant")
    return np.sum(rx * ry, axis=1) / denominator


def _check_vectors(vectors, vocab_index):
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.floating):
        raise ValueError(f"vectors must be a (V, d) float array, got shape {vectors.shape} "
                         f"and dtype {vectors.dtype}")
    if not isinstance(vocab_index, dict):
        raise TypeError(f"vocab_index must be a dict word -> row, got {type(vocab_index)}")
    if vocab_index and max(vocab_index.values()) >= len(vectors):
        raise ValueError(f"vocab_index has rows up to {max(vocab_index.values())}, but vectors "
                         f"has only {len(vectors)} rows")
    return vectors.astype(np.float64)


def unit_rows(vectors) -> np.ndarray:
    """Each row divided by its Euclidean norm (a zero row stays zero). (V, d) -> (V, d)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)   # (V, 1)
    return vectors / np.where(norms > 0, norms, 1.0)


@dataclass
class SimilarityResult:
    """``rho``: Spearman's correlation between the cosines and the human ratings on the
    ``covered`` pairs (both words in the vocabulary), out of ``total``."""

    rho: float
    covered: int
    total: int

    @property
    def coverage(self) -> float:
        return self.covered / self.total


def similarity_spearman(vectors, vocab_index: dict, pairs) -> SimilarityResult:
    """Spearman's rho between the cosine similarity of each covered pair's two vectors and its
    human rating, and the coverage. ``vectors``: (V, d); ``vocab_index``: word -> row;
    ``pairs``: ``(word1, word2, rating)`` triples. Pairs with a word outside the vocabulary are
    skipped (gensim's ``evaluate_word_pairs`` with ``dummy4unknown=False`` does the same)."""
    vectors = unit_rows(_check_vectors(vectors, vocab_index))
    pairs = list(pairs)
    covered = [(vocab_index[a], vocab_index[b], r) for a, b, r in pairs
               if a in vocab_index and b in vocab_index]
    if len(covered) < 2:
        raise ValueError(f"only {len(covered)} of {len(pairs)} pairs have both words in the "
                         "vocabulary: Spearman needs at least 2")
    i, j, ratings = (np.array(c) for c in zip(*covered))
    cosines = np.einsum("nd,nd->n", vectors[i.astype(int)], vectors[j.astype(int)])   # (n,)
    return SimilarityResult(spearman(cosines, ratings), len(covered), len(pairs))


@dataclass
class AnalogyResult:
    """Per section: ``correct`` and ``covered`` questions (all four words in the vocabulary)
    out of ``total``; ``accuracy`` is correct / covered (nan when nothing is covered)."""

    correct: dict
    covered: dict
    total: dict

    def accuracy(self, section: str | None = None) -> float:
        """Accuracy of one section, or over all covered questions when ``section`` is None."""
        names = list(self.covered) if section is None else [section]
        covered = sum(self.covered[s] for s in names)
        return sum(self.correct[s] for s in names) / covered if covered else float("nan")


def solve_analogies(vectors, a, b, c, *, batch: int = 512) -> np.ndarray:
    """3CosAdd (Mikolov et al. 2013): for each question, the row d* maximising
    cos(d, b - a + c) over all rows but a, b and c. ``vectors``: (V, d); ``a, b, c``: (n,)
    int rows. Returns (n,) int64."""
    unit = unit_rows(vectors)                                              # (V, d)
    a, b, c = (np.asarray(t, dtype=np.int64) for t in (a, b, c))
    answers = np.empty(len(a), dtype=np.int64)
    for start in range(0, len(a), batch):
        s = slice(start, start + batch)
        target = unit[b[s]] - unit[a[s]] + unit[c[s]]                      # (m, d)
        scores = target @ unit.T                                           # (m, V), cos * |t|
        rows = np.arange(len(target))
        for q in (a[s], b[s], c[s]):
            scores[rows, q] = -np.inf                                      # never a question word
        answers[s] = scores.argmax(axis=1)
    return answers


def analogy(vectors, vocab_index: dict, questions: dict, *, restrict: int | None = None
            ) -> AnalogyResult:
    """3CosAdd accuracy on the covered questions of each section. ``questions``: section ->
    ``(a, b, c, d)`` words (:func:`analogy_questions`); ``restrict``: only the rows below it
    count as vocabulary (gensim's ``restrict_vocab``; rows are most frequent first), for
    questions and answers alike. A question counts as correct when the best row is d's."""
    vectors = _check_vectors(vectors, vocab_index)
    if restrict is not None:
        vectors = vectors[:restrict]
        vocab_index = {w: i for w, i in vocab_index.items() if i < restrict}
    correct, covered, total = {}, {}, {}
    for section, items in questions.items():
        rows = [[vocab_index[w] for w in q] for q in items if all(w in vocab_index for w in q)]
        total[section], covered[section] = len(items), len(rows)
        if rows:
            rows = np.array(rows)                                          # (n, 4)
            got = solve_analogies(vectors, rows[:, 0], rows[:, 1], rows[:, 2])
            correct[section] = int((got == rows[:, 3]).sum())
        else:
            correct[section] = 0
    return AnalogyResult(correct, covered, total)


def nearest(vectors, vocab: list, vocab_index: dict, word: str, k: int = 5
            ) -> list[tuple[str, float]]:
    """The ``k`` words whose vectors have the highest cosine with ``word``'s (the word itself
    excluded), as ``(word, cosine)`` best first (gensim's ``most_similar(word, topn=k)``)."""
    vectors = _check_vectors(vectors, vocab_index)
    if word not in vocab_index:
        raise KeyError(f"{word!r} is not in the vocabulary")
    if not isinstance(k, int | np.integer) or not 1 <= k < len(vectors):
        raise ValueError(f"k must be an int in [1, {len(vectors) - 1}], got {k!r}")
    unit = unit_rows(vectors)
    cosines = unit @ unit[vocab_index[word]]                              # (V,)
    cosines[vocab_index[word]] = -np.inf
    best = np.argsort(-cosines, kind="stable")[:k]
    return [(vocab[i], float(cosines[i])) for i in best]
