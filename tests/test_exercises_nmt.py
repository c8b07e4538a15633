"""The NMT chapter's checkers accept right answers and reject the usual slips."""

import math
from collections import Counter

import pytest

from deepglossary.exercises import nmt


def grams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def clipped(hyp, refs, n):
    h = grams(hyp, n)
    most = Counter()
    for r in refs:
        most |= grams(r, n)                       # the largest count over the references
    return sum(min(c, most[g]) for g, c in h.items()), sum(h.values())


def unclipped(hyp, refs, n):
    h = grams(hyp, n)
    seen = set().union(*(grams(r, n) for r in refs))
    return sum(c for g, c in h.items() if g in seen), sum(h.values())


def summed_refs(hyp, refs, n):
    h = grams(hyp, n)
    total = Counter()
    for r in refs:
        total += grams(r, n)                      # adds the references' counts
    return sum(min(c, total[g]) for g, c in h.items()), sum(h.values())


def distinct(hyp, refs, n):
    h = grams(hyp, n)
    most = Counter()
    for r in refs:
        most |= grams(r, n)
    return sum(1 for g in h if most[g]), len(h)   # distinct n-grams only


def first_ref_only(hyp, refs, n):
    return clipped(hyp, refs[:1], n)


def test_precision_checker_accepts_the_right_answer(capsys):
    nmt.check_clipped_precision(clipped)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [unclipped, summed_refs, distinct, first_ref_only])
def test_precision_checker_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        nmt.check_clipped_precision(wrong)


def test_precision_checker_rejects_a_wrong_shape():
    with pytest.raises(AssertionError, match="pair"):
        nmt.check_clipped_precision(lambda h, r, n: clipped(h, r, n)[0])


def bleu(hyps, refs, *, pool=True, sentence_bp=False, guard=True, smooth_exp=False):
    """Corpus BLEU without smoothing; the keywords switch on one slip each."""
    if not pool:                                  # the mean of sentence scores
        return sum(bleu([h], [r]) for h, r in zip(hyps, refs)) / len(hyps)
    matches, totals = [0] * 4, [0] * 4
    for h, r in zip(hyps, refs):
        for n in range(1, 5):
            m, t = clipped(h, [r], n)
            matches[n - 1] += m
            totals[n - 1] += t
    if smooth_exp:                                # sacrebleu's default smoothing: not asked
        k, smoothed = 1, []
        for m, t in zip(matches, totals):
            if m == 0:
                k *= 2
                smoothed.append((1 / k, t or 1))
            else:
                smoothed.append((m, t))
        matches, totals = [m for m, _ in smoothed], [t for _, t in smoothed]
    elif guard and min(matches) == 0:             # without the guard: log(0) raises
        return 0.0
    c, r = sum(len(h) for h in hyps), sum(len(r) for r in refs)
    if sentence_bp:                               # the penalty averaged sentence by sentence
        bp = sum(min(1.0, math.exp(1 - len(y) / len(h))) if h else 0.0
                 for h, y in zip(hyps, refs)) / len(hyps)
    else:
        bp = 1.0 if c >= r else math.exp(1 - r / c)
    return 100 * bp * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / 4)


def test_corpus_checker_accepts_the_right_answer(capsys):
    nmt.check_corpus_bleu(bleu)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("slip", [dict(pool=False), dict(sentence_bp=True), dict(guard=False),
                                  dict(smooth_exp=True)])
def test_corpus_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        nmt.check_corpus_bleu(lambda h, r: bleu(h, r, **slip))


def test_corpus_checker_rejects_no_brevity_penalty():
    def no_bp(hyps, refs):
        score = bleu(hyps, refs)
        c, r = sum(map(len, hyps)), sum(map(len, refs))
        return score / (math.exp(1 - r / c) if c < r else 1.0)
    with pytest.raises(AssertionError):
        nmt.check_corpus_bleu(no_bp)
