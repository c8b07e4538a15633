"""Checkers for the exercises of the Neural Machine Translation chapter: BLEU's clipped
n-gram precision and corpus BLEU.

The reference is ``deepglossary.bleu`` (checked against sacrebleu in ``tests/test_bleu.py``).
The cases are chosen to catch the usual slips: counting a repeated hypothesis word more often
than the reference has it (no clipping), adding the counts of several references instead of
taking the largest, counting distinct n-grams instead of all of them, a hypothesis shorter than
n, averaging sentence scores instead of pooling the counts, and a brevity penalty computed
sentence by sentence.
"""

from __future__ import annotations

import math

from deepglossary.bleu import corpus_bleu, statistics
from deepglossary.exercises import passed

# (hypothesis, references): each case tokenised already.
_PRECISION_CASES = [
    ("the the the the the the the", ["the cat is on the mat", "there is a cat on the mat"]),
    ("the cat sat on the mat", ["the cat is on the mat"]),
    ("the cat the cat the cat", ["the cat and the dog and the cat"]),
    ("a b a b a b", ["a b c", "a b a b"]),                # several refs: the max, not the sum
    ("and god said let there be light", ["god said let there be light and there was light"]),
    ("cat", ["the cat is on the mat"]),                   # shorter than n for n >= 2
    ("", ["a reference"]),                                # empty hypothesis
    ("x y z", ["a b c"]),                                 # nothing matches
    ("el el el", ["el", "el el"]),
]

_CORPUS_CASES = [
    # (hypotheses, references): pooled counts differ from averaged sentence scores
    (["the cat sat on the mat", "and god said let there be light now"],
     ["the cat is on the mat", "and god said let there be light"]),
    (["he went up to the mountain to pray", "a b"],
     ["he went up into the mountain to pray", "a b c d e f g h"]),
    (["in the beginning god created the heavens and the earth",
      "the earth was formless and empty and dark"],
     ["in the beginning god created the heavens and the earth",
      "the earth was formless and empty"]),
    (["jesus wept", "jesus wept and said to them"],
     ["jesus wept", "jesus answered and said to them"]),
    # no 4-gram matches anywhere (lower orders do match): 0 without smoothing
    (["the cat sat on a mat", "god said let light be"],
     ["the cat is on the mat", "and god said let there be light"]),
    # one sentence too short to have any 4-gram, the other matching fully
    (["and god said let there be light", "amen"],
     ["and god said let there be light", "amen amen"]),
]


def _tokens(s: str) -> list[str]:
    return s.split()


def check_clipped_precision(clipped_counts) -> None:
    """``clipped_counts(hypothesis, references, n)`` returns ``(matches, total)`` for one
    sentence: ``total`` the number of n-grams of the hypothesis (a token list), ``matches``
    how many of them the references (a list of token lists) contain, each n-gram counted at
    most as often as it occurs in the one reference where it occurs most (clipping).
    Checked for n = 1..4 against ``deepglossary.bleu``."""
    cases = 0
    for hyp, refs in _PRECISION_CASES:
        h, rs = _tokens(hyp), [_tokens(r) for r in refs]
        counts, totals, _, _ = statistics([h], [[r] for r in rs], max_order=4)
        for n in range(1, 5):
            got = clipped_counts(list(h), [list(r) for r in rs], n)
            if not isinstance(got, tuple | list) or len(got) != 2:
                raise AssertionError(f"return a pair (matches, total), got {got!r}")
            expected = (counts[n - 1], totals[n - 1])
            if (int(got[0]), int(got[1])) != expected or got[0] != int(got[0]):
                raise AssertionError(
                    f"n = {n}, hypothesis {hyp!r}, references {refs}: expected (matches, "
                    f"total) = {expected}, got {tuple(got)}")
            cases += 1
    passed("clipped n-gram counts", cases)


def check_corpus_bleu(bleu) -> None:
    """``bleu(hypotheses, references)`` returns the corpus BLEU in [0, 100] of a list of
    hypotheses (token lists) against one reference each (token lists), n-grams up to 4, no
    smoothing. Checked against ``deepglossary.bleu.corpus_bleu(..., smooth="none")`` on
    corpora where pooling the counts and averaging sentence scores disagree."""
    cases = 0
    for hyps, refs in _CORPUS_CASES:
        h, r = [_tokens(x) for x in hyps], [_tokens(x) for x in refs]
        expected = corpus_bleu(h, r, smooth="none").score
        try:
            got = bleu([list(x) for x in h], [list(x) for x in r])
        except (ValueError, ZeroDivisionError, OverflowError) as error:
            raise AssertionError(f"hypotheses {hyps}, references {refs}: raised "
                                 f"{type(error).__name__}: {error} (a zero count?)") from error
        if not isinstance(got, int | float) and not hasattr(got, "__float__"):
            raise AssertionError(f"return a number, got {type(got).__name__}")
        if not math.isclose(float(got), expected, rel_tol=1e-9, abs_tol=1e-9):
            raise AssertionError(f"hypotheses {hyps}, references {refs}: expected BLEU "
                                 f"{expected:.4f}, got {float(got):.4f}")
        cases += 1
    passed("corpus BLEU", cases)
