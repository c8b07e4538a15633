"""The English-Spanish verse corpus: the shipped file, the split rule, the tokeniser, the
vocabulary and the padded batches."""

import gzip
import re

import numpy as np
import pytest

from deepglossary.data import parallel
from deepglossary.data.files import sha256
from deepglossary.data.parallel import (
    BOS,
    EOS,
    PAD,
    SPECIALS,
    UNK,
    Vocab,
    decode_batch,
    detokenize,
    encode_batch,
    parallel_corpus,
    read_pairs,
    split_of,
    tokenize,
)


@pytest.fixture(scope="module")
def corpus():
    return parallel_corpus()


def test_shipped_file_is_small_and_checked():
    assert parallel.SHIPPED.stat().st_size < 2_000_000
    assert sha256(parallel.SHIPPED) == parallel.SHIPPED_SHA256


def test_corpus_sizes_and_direction(corpus):
    assert corpus.source == "es" and corpus.target == "en"
    sizes = corpus.sizes
    assert 5_000 < sizes["train"] < 50_000
    assert 0.05 < sizes["test"] / sum(sizes.values()) < 0.15
    assert 0.05 < sizes["validation"] / sum(sizes.values()) < 0.15
    assert "es -> en" in repr(corpus)
    reverse = parallel_corpus("en", "es")
    assert reverse.train[0] == corpus.train[0][::-1]
    assert len(corpus.refs["test"]) == len(corpus.test)


def test_every_pair_is_short_and_clean(corpus):
    for pair in corpus.pairs:
        for side in (pair.spanish, pair.english):
            assert 3 <= len(tokenize(side)) <= 20
            assert "<" not in side and ">" not in side and "  " not in side
            assert side == side.strip() and "\t" not in side
    # The footnotes are gone (WEB's start with the reference, "3:16 ...").
    assert not any(re.search(r"\d+:\d+", p.english) for p in corpus.pairs)


def test_split_is_by_whole_chapters(corpus):
    """A chapter's verses are all in one split, and the split follows the rule."""
    by_chapter = {}
    for p in corpus.pairs:
        by_chapter.setdefault((p.book, p.chapter), set()).add(p.split)
    assert all(len(s) == 1 for s in by_chapter.values())
    assert [split_of(i) for i in range(12)] == (
        ["validation", "train", "train", "train", "train", "test", "train", "train", "train",
         "train", "validation", "train"])
    # Genesis 6 is chapter number 5 (counting from 0): a test chapter.
    assert {p.split for p in corpus.pairs if (p.book, p.chapter) == ("Genesis", 6)} <= {"test"}
    with pytest.raises(ValueError, match="chapter_number"):
        split_of(-1)


def test_known_verse(corpus):
    pairs = {(p.book, p.chapter, p.verse): p for p in corpus.pairs}
    gen = pairs[("Genesis", 1, 1)]
    assert gen.spanish == "EN el principio crió Dios los cielos y la tierra."
    assert gen.english == "In the beginning, God created the heavens and the earth."
    assert gen.reference == "Genesis 1:1"


def test_file_check_refuses_an_altered_file(tmp_path):
    altered = tmp_path / "pairs.tsv.gz"
    with gzip.open(altered, "wt", encoding="utf-8") as f:
        f.write("Genesis\t1\t1\ttrain\tEn el principio.\tIn the beginning.\n")
    with pytest.raises(ValueError, match="damaged or altered"):
        read_pairs(altered)
    pairs = read_pairs(altered, sha256(altered))
    assert pairs[0].english == "In the beginning."
    bad = tmp_path / "bad.tsv.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as f:
        f.write("Genesis\t1\t1\tsomewhere\tx\ty\n")
    with pytest.raises(ValueError, match="line 1"):
        read_pairs(bad, sha256(bad))
    with pytest.raises(ValueError, match="'es' and 'en'"):
        parallel_corpus("es", "es")


def test_tokenizer():
    assert tokenize("Y dijo Dios: ¡Sea la luz!") == \
        ["y", "dijo", "dios", ":", "¡", "sea", "la", "luz", "!"]
    assert tokenize("God’s Spirit, “Let there be light,”") == \
        ["god", "'s", "spirit", ",", "“", "let", "there", "be", "light", ",", "”"]
    assert tokenize("¿QUIÉN crió?") == ["¿", "quién", "crió", "?"]
    assert tokenize("twenty-eight") == ["twenty", "-", "eight"]
    # NFC: a decomposed accent gives the same token as a composed one
    assert tokenize("crio\u0301") == tokenize("crió")
    assert tokenize("   ") == []
    with pytest.raises(TypeError, match="str"):
        tokenize(["a"])


def test_detokenize_reads_naturally():
    assert detokenize(tokenize("God’s Spirit, “Let there be light.”")) == \
        "god's spirit, “let there be light.”"
    assert detokenize(["¿", "qué", "?"]) == "¿qué?"


def test_vocab_specials_counts_and_order():
    sentences = [["b", "a", "c"], ["a", "b"], ["a", "d"]]
    vocab = Vocab.build(sentences, min_count=2)
    assert vocab.itos[:4] == list(SPECIALS)
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    assert vocab.itos[4:] == ["a", "b"]          # a: 3, b: 2; c and d once -> UNK
    assert vocab.encode(["a", "c", "b"]) == [4, UNK, 5]
    assert vocab.decode([BOS, 4, 5, EOS, 4]) == ["a", "b"]
    assert vocab.decode([4, PAD, 5]) == ["a", "b"]
    assert "a" in vocab and "c" not in vocab and len(vocab) == 6
    tie = Vocab.build([["z", "y"]])
    assert tie.itos[4:] == ["y", "z"]            # ties alphabetical: deterministic
    assert Vocab.from_dict(vocab.to_dict()).itos == vocab.itos
    assert Vocab.build(sentences, max_size=1).itos[4:] == ["a"]


def test_vocab_errors():
    with pytest.raises(ValueError, match="min_count"):
        Vocab.build([["a"]], min_count=0)
    with pytest.raises(TypeError, match="token lists"):
        Vocab.build(["a sentence"])
    with pytest.raises(ValueError, match="first four"):
        Vocab(["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="twice"):
        Vocab(list(SPECIALS) + ["a", "a"])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        Vocab.build([["a"]]).decode([99])
    with pytest.raises(TypeError, match="token list"):
        Vocab.build([["a"]]).encode("a")


def test_vocab_from_training_side_only(corpus):
    vocab = Vocab.build([tokenize(t) for _, t in corpus.train], min_count=2)
    train_tokens = {t for _, s in corpus.train for t in tokenize(s)}
    assert set(vocab.itos[4:]) <= train_tokens
    counts = [vocab.counts[t] for t in vocab.itos[4:]]
    assert min(counts) >= 2 and counts == sorted(counts, reverse=True)


def test_encode_batch_pads_at_the_end():
    vocab = Vocab.build([["a", "b", "c"]])
    ids, lengths = encode_batch([["a", "b", "c"], ["b"], ["zzz", "a"]], vocab)
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    a, b, c = (vocab.stoi[t] for t in "abc")
    np.testing.assert_array_equal(ids, [[a, b, c, EOS], [b, EOS, PAD, PAD],
                                        [UNK, a, EOS, PAD]])
    np.testing.assert_array_equal(lengths, [4, 2, 3])
    ids, lengths = encode_batch([["a"], []], vocab, bos=True)
    np.testing.assert_array_equal(ids, [[BOS, a, EOS], [BOS, EOS, PAD]])
    np.testing.assert_array_equal(lengths, [3, 2])
    ids, lengths = encode_batch([["a", "b", "c"]], vocab, eos=False, max_len=2)
    np.testing.assert_array_equal(ids, [[a, b]])
    assert decode_batch(encode_batch([["a", "c"], ["b"]], vocab)[0], vocab) == [["a", "c"],
                                                                               ["b"]]


def test_encode_batch_errors():
    vocab = Vocab.build([["a"]])
    with pytest.raises(TypeError, match="list of token lists"):
        encode_batch(["a b"], vocab)
    with pytest.raises(ValueError, match="at least one"):
        encode_batch([], vocab)
    with pytest.raises(ValueError, match="max_len"):
        encode_batch([["a"]], vocab, max_len=0)
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        decode_batch(np.array([1, 2]), vocab)


def test_round_trip_on_the_corpus(corpus):
    vocab = Vocab.build([tokenize(s) for s, _ in corpus.train], min_count=1)
    sentences = [tokenize(s) for s, _ in corpus.train[:64]]
    ids, lengths = encode_batch(sentences, vocab)
    assert decode_batch(ids, vocab) == sentences
    np.testing.assert_array_equal(lengths, [len(s) + 1 for s in sentences])
    assert (ids[np.arange(len(ids)), lengths - 1] == EOS).all()
