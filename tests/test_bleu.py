"""Our BLEU against sacrebleu's, the reference implementation, on real sentences: the shipped
English verses against perturbed copies and against another translation."""

import math
import random

import pytest

from deepglossary.bleu import (
    BLEUResult,
    bleu_from_statistics,
    corpus_bleu,
    ngrams,
    sentence_bleu,
    statistics,
    tokenize_13a,
)
from deepglossary.data.parallel import parallel_corpus
from deepglossary.data.text import read_verses

sacrebleu = pytest.importorskip("sacrebleu")
TOL = 0.01                       # BLEU points


@pytest.fixture(scope="module")
def verses():
    return [text for *_, text in read_verses()]


@pytest.fixture(scope="module")
def pairs():
    """English verses (World English Bible text) and, for the same references, a second
    English text: the Spanish verse, which shares names, numbers and punctuation only."""
    corpus = parallel_corpus("es", "en")
    return corpus.test[:400]


def perturb(sentence: str, rng: random.Random, vocabulary: list[str]) -> str:
    """Drop, replace, duplicate words and sometimes swap two neighbours."""
    out = []
    for word in sentence.split():
        r = rng.random()
        if r < 0.12:
            continue
        if r < 0.22:
            out.append(rng.choice(vocabulary))
        elif r < 0.27:
            out += [word, word]
        else:
            out.append(word)
    if len(out) > 2 and rng.random() < 0.4:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def ours_and_theirs(hyps, refs, **kw):
    smooth = kw.pop("smooth", "exp")
    ours = corpus_bleu(hyps, refs, smooth=smooth, **kw)
    streams = [refs] if isinstance(refs[0], str) else refs
    theirs = sacrebleu.corpus_bleu(hyps, streams, smooth_method=smooth,
                                   tokenize=kw.get("tokenize", "13a"),
                                   lowercase=kw.get("lowercase", False))
    return ours, theirs


def test_13a_tokeniser_matches_sacrebleu(verses, pairs):
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
    theirs = Tokenizer13a()
    lines = verses + [s for s, _ in pairs] + [
        "It costs $3.50, or 1,000 pesos - 2-3 days.", "a&amp;b &lt;x&gt; &quot;q&quot;",
        "end-\nof-line <skipped> text", "  spaces\tand\ttabs  ", "", "¿Qué? ¡Sí!", "x.y,z"]
    for line in lines:
        assert tokenize_13a(line) == theirs(line), line


@pytest.mark.parametrize("smooth", ["exp", "floor", "add-k", "none"])
@pytest.mark.parametrize("seed", [0, 1])
def test_corpus_bleu_matches_sacrebleu_on_perturbed_verses(verses, smooth, seed):
    rng = random.Random(seed)
    refs = rng.sample(verses, 300)
    vocabulary = " ".join(verses[:200]).split()
    hyps = [perturb(r, rng, vocabulary) for r in refs]
    ours, theirs = ours_and_theirs(hyps, refs, smooth=smooth)
    assert 10 < theirs.score < 90
    assert abs(ours.score - theirs.score) < TOL
    if smooth != "add-k":                    # sacrebleu reports add-k's counts with k added
        assert list(ours.counts) == list(theirs.counts)
        assert list(ours.totals) == list(theirs.totals)
    assert (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)
    assert abs(ours.bp - theirs.bp) < 1e-12


def test_another_translation_and_lowercase(pairs):
    """Spanish verses scored against the English ones: almost nothing matches beyond names
    and punctuation, so the higher orders are zero or near it (smoothing matters)."""
    spanish, english = [s for s, _ in pairs], [e for _, e in pairs]
    for lowercase in (False, True):
        ours, theirs = ours_and_theirs(spanish, english, lowercase=lowercase)
        assert abs(ours.score - theirs.score) < TOL
        assert ours.score < 10


def test_pretokenised_input(verses):
    from deepglossary.data.parallel import tokenize
    rng = random.Random(3)
    refs = rng.sample(verses, 200)
    hyps = [perturb(r, rng, refs[0].split()) for r in refs]
    hyp_tokens, ref_tokens = [tokenize(h) for h in hyps], [tokenize(r) for r in refs]
    ours = corpus_bleu(hyp_tokens, ref_tokens)
    theirs = sacrebleu.corpus_bleu([" ".join(h) for h in hyp_tokens],
                                   [[" ".join(r) for r in ref_tokens]], tokenize="none")
    assert abs(ours.score - theirs.score) < TOL
    same = corpus_bleu([" ".join(h) for h in hyp_tokens], [" ".join(r) for r in ref_tokens],
                       tokenize="none")
    assert same.score == ours.score


def test_several_references(verses):
    rng = random.Random(4)
    refs = rng.sample(verses, 150)
    other = [perturb(r, rng, refs[1].split()) for r in refs]
    hyps = [perturb(r, rng, refs[2].split()) for r in refs]
    ours, theirs = ours_and_theirs(hyps, [refs, other])
    assert abs(ours.score - theirs.score) < TOL
    assert ours.score > corpus_bleu(hyps, refs).score - TOL     # a second ref never hurts


def test_sentence_bleu_matches_sacrebleu(verses):
    rng = random.Random(5)
    for ref in rng.sample(verses, 100):
        hyp = perturb(ref, rng, verses[7].split())
        assert abs(sentence_bleu(hyp, [ref]).score
                   - sacrebleu.sentence_bleu(hyp, [ref]).score) < TOL
        assert sentence_bleu(hyp, ref).score == sentence_bleu(hyp, [ref]).score


@pytest.mark.parametrize("hyps, refs", [
    (["", "the cat sat on the mat"], ["a reference here", "the cat sat on a mat"]),  # empty
    ([""], ["nothing was produced"]),                                          # only empty
    (["the the the the the the the the"], ["the cat"]),     # longer than the reference
    (["the cat sat on the mat and more and more and more words"], ["the cat sat on the mat"]),
    (["cat the mat on sat"], ["the cat sat on the mat"]),   # no matching 2-, 3-, 4-gram
    (["the cat is"], ["the cat sat on the mat"]),           # matches, but no 4-gram at all
    (["a b"], ["c d"]),                                     # no match at all
    (["identical words here now"], ["identical words here now"]),
])
@pytest.mark.parametrize("smooth", ["exp", "floor", "add-k", "none"])
def test_edge_cases_match_sacrebleu(hyps, refs, smooth):
    ours, theirs = ours_and_theirs(hyps, refs, smooth=smooth)
    assert abs(ours.score - theirs.score) < TOL, (ours, theirs.score)


def test_edge_case_values():
    assert corpus_bleu([""], ["nothing was produced"]).score == 0.0
    assert corpus_bleu([""], ["x"]).bp == 0.0
    assert corpus_bleu(["same four words here"], ["same four words here"]).score == \
        pytest.approx(100.0)
    long = corpus_bleu(["the cat sat on the mat and more"], ["the cat sat on the mat"])
    assert long.bp == 1.0 and long.score < 100            # no penalty, but lower precision
    short = corpus_bleu(["the cat sat on"], ["the cat sat on the mat"])
    assert short.bp == pytest.approx(math.exp(1 - 6 / 4))
    clipped = corpus_bleu(["the the the the"], ["the cat"], smooth="none")
    assert clipped.counts[0] == 1 and clipped.totals[0] == 4   # clipped to the ref's count
    assert corpus_bleu(["cat the mat on sat"], ["the cat sat on the mat"],
                       smooth="none").score == 0.0


def test_corpus_bleu_is_not_the_mean_of_sentence_bleus(verses):
    rng = random.Random(6)
    refs = rng.sample(verses, 50)
    hyps = [perturb(r, rng, refs[0].split()) for r in refs]
    mean = sum(sentence_bleu(h, [r]).score for h, r in zip(hyps, refs)) / len(refs)
    assert abs(corpus_bleu(hyps, refs).score - mean) > 0.1


def test_statistics_pieces():
    assert ngrams(["a", "b", "a"], 2) == {("a",): 2, ("b",): 1, ("a", "b"): 1, ("b", "a"): 1}
    counts, totals, c, r = statistics(["a b c d"], ["a b c e"])
    assert counts == [3, 2, 1, 0] and totals == [4, 3, 2, 1] and (c, r) == (4, 4)
    # the closest reference length, the shorter on a tie
    assert statistics(["a b c"], [["a b"], ["a b c d"]])[3] == 2
    result = bleu_from_statistics([3, 2, 1, 0], [4, 3, 2, 1], 4, 4, smooth="exp")
    assert isinstance(result, BLEUResult) and "BLEU =" in str(result)
    assert float(result) == result.score


def test_clear_errors():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        corpus_bleu(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="reference stream 1"):
        corpus_bleu(["a", "b"], [["a", "b"], ["a"]])
    with pytest.raises(ValueError, match="at least one hypothesis"):
        corpus_bleu([], [])
    with pytest.raises(TypeError, match="bare strings"):
        corpus_bleu("a b", "a b")
    with pytest.raises(TypeError, match="all strings or all token lists"):
        corpus_bleu(["a b", ["a", "b"]], ["a b", "a b"])
    with pytest.raises(TypeError, match="token lists"):
        corpus_bleu([["a", "b"]], ["a b"])
    with pytest.raises(ValueError, match="tokenize must be"):
        corpus_bleu(["a"], ["a"], tokenize="intl")
    with pytest.raises(ValueError, match="smooth must be"):
        corpus_bleu(["a"], ["a"], smooth="add-one")
    with pytest.raises(ValueError, match="max_order"):
        corpus_bleu(["a"], ["a"], max_order=0)
