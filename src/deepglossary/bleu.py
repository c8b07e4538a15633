"""BLEU, written from the definition (Papineni et al., 2002), computing what ``sacrebleu``
computes (its defaults: the ``13a`` tokeniser, ``exp`` smoothing, n-grams up to 4).

    corpus_bleu(["the cat sat on the mat"], ["the cat is on the mat"]).score   # 0..100
    corpus_bleu(hyp_token_lists, ref_token_lists)       # pre-tokenised: token lists
    sentence_bleu("the cat sat", ["the cat is on the mat"]).score

The corpus score, for hypotheses h_i and references r_i (one or several per hypothesis):

    p_n = sum_i sum_{g in n-grams(h_i)} min(count_{h_i}(g), max_refs count_{r}(g))
          / sum_i (number of n-grams of h_i)                          (n = 1..4)
    c = sum_i |h_i|,   r = sum_i (length of the reference of h_i closest in length to |h_i|,
                                  the shorter one on a tie)
    BP = 1 if c >= r, else exp(1 - r / c)   (0 when c = 0)
    BLEU = 100 * BP * exp( (1/4) sum_n log p_n )

The counts are pooled over the corpus before dividing: corpus BLEU is not the mean of the
sentence BLEUs. A p_n of 0 makes BLEU 0; the smoothing methods (Chen and Cherry, 2014) replace
zero precisions: ``exp`` (NIST's, sacrebleu's default) uses 1 / (2^k * total_n) for the k-th
order with no match; ``floor`` uses ``smooth_value`` / total_n (default 0.1); ``add-k`` adds
``smooth_value`` (default 1) to the matches and the totals of every order n >= 2; ``none`` keeps
the zero. As in sacrebleu, a corpus with no matching unigram at all scores 0 whatever the
smoothing, and an order with no n-gram in the hypotheses ends the product (the orders up to it
are averaged only under ``effective_order``, which sentence BLEU uses).

PyTorch has no BLEU; the reference implementation is ``sacrebleu.corpus_bleu`` (tests compare
the two to 0.01 BLEU), ``torchmetrics.text.BLEUScore`` is another.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

SMOOTH_DEFAULTS = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}
TOKENIZERS = ("13a", "none")

# sacrebleu's tokenizer_re, the language-dependent part of mteval-v13a, in order.
_13A = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),   # symbols: spaces around
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),               # . , unless after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),               # . , unless before a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),                    # - after a digit
]


def tokenize_13a(line: str) -> str:
    """The ``13a`` tokenisation of mteval-v13a.pl (WMT's, sacrebleu's default), as a string
    of tokens separated by single spaces.

    Language-independent part: ``<skipped>`` removed, ``-`` + newline joined, newlines made
    spaces, the entities ``&quot; &amp; &lt; &gt;`` unescaped. Then spaces go around every
    ASCII symbol among ``{|}~ [\\]^_` !"#$%& ()*+ :;<=>?@ /``, around ``.`` and ``,`` unless a
    digit is on that side (``3.14`` and ``1,000`` stay whole), and after a ``-`` that
    follows a digit. Letters, digits, apostrophes and non-ASCII characters (``’`` ``“``
    ``¿``) are left as they are.
    """
    if not isinstance(line, str):
        raise TypeError(f"tokenize_13a expects a str, got {type(line).__name__}")
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (line.replace("&quot;", '"').replace("&amp;", "&")
                .replace("&lt;", "<").replace("&gt;", ">"))
    line = f" {line} "
    for pattern, replacement in _13A:
        line = pattern.sub(replacement, line)
    return " ".join(line.split())


@dataclass(frozen=True)
class BLEUResult:
    """A BLEU score and the statistics it was computed from.

    score: BLEU in [0, 100]; precisions: the (smoothed) p_n in percent, n = 1..max_order;
    counts and totals: matched and hypothesis n-grams per order (before add-k); bp: brevity
    penalty; sys_len, ref_len: c and r; ratio: c / r.
    """

    score: float
    precisions: tuple
    counts: tuple
    totals: tuple
    bp: float
    sys_len: int
    ref_len: int

    @property
    def ratio(self) -> float:
        return self.sys_len / self.ref_len if self.ref_len else 0.0

    def __float__(self) -> float:
        return float(self.score)

    def __str__(self) -> str:
        p = "/".join(f"{x:.1f}" for x in self.precisions)
        return (f"BLEU = {self.score:.2f} {p} (BP = {self.bp:.3f} ratio = {self.ratio:.3f} "
                f"hyp_len = {self.sys_len} ref_len = {self.ref_len})")


def ngrams(tokens, max_order: int = 4) -> Counter:
    """Every n-gram of ``tokens`` for n = 1..max_order, as tuples, with their counts."""
    return Counter(tuple(tokens[i:i + n]) for n in range(1, max_order + 1)
                   for i in range(len(tokens) - n + 1))


def _is_tokens(x) -> bool:
    return isinstance(x, (list, tuple)) and all(isinstance(t, str) for t in x)


def _split(segment, tokenize: str, lowercase: bool) -> list[str]:
    """One segment -> its tokens: a token list is taken as it is (lower-cased if asked); a
    string is lower-cased if asked, right-stripped, tokenised by ``tokenize`` and split on
    white space, as sacrebleu does."""
    if isinstance(segment, str):
        segment = segment.lower() if lowercase else segment
        segment = segment.rstrip()
        return (tokenize_13a(segment) if tokenize == "13a" else segment).split()
    return [t.lower() for t in segment] if lowercase else list(segment)


def _closest_ref_len(hyp_len: int, ref_lens) -> int:
    """The reference length closest to ``hyp_len``; the shorter one on a tie."""
    return min(ref_lens, key=lambda r: (abs(hyp_len - r), r))


def _check_options(tokenize, smooth, max_order):
    if tokenize not in TOKENIZERS:
        raise ValueError(f"tokenize must be one of {TOKENIZERS}, got {tokenize!r}")
    if smooth not in SMOOTH_DEFAULTS:
        raise ValueError(f"smooth must be one of {tuple(SMOOTH_DEFAULTS)}, got {smooth!r}")
    if not isinstance(max_order, int) or max_order < 1:
        raise ValueError(f"max_order must be a whole number >= 1, got {max_order!r}")


def _streams(hypotheses, references) -> list[list]:
    """The references as a list of streams, each as long as ``hypotheses``."""
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise TypeError("pass lists of sentences: corpus_bleu([hypothesis], [reference]), "
                        "not bare strings")
    hypotheses, references = list(hypotheses), list(references)
    if not hypotheses:
        raise ValueError("BLEU needs at least one hypothesis")
    pretokenized = _is_tokens(hypotheses[0])
    for h in hypotheses:
        if not (isinstance(h, str) or _is_tokens(h)) or _is_tokens(h) != pretokenized:
            raise TypeError("hypotheses must be all strings or all token lists, got "
                            f"{type(h).__name__} {h!r:.60}")
    if not references:
        raise ValueError("BLEU needs references")
    if pretokenized and isinstance(references[0], str):
        raise TypeError("the hypotheses are token lists, so the references must be token lists "
                        f"too, got str {references[0]!r:.60}")
    # One stream: an entry per hypothesis (a str, or a token list if pre-tokenised).
    one_stream = _is_tokens(references[0]) if pretokenized else isinstance(references[0], str)
    streams = [references] if one_stream else [list(s) for s in references]
    for k, stream in enumerate(streams):
        if len(stream) != len(hypotheses):
            raise ValueError(f"{len(hypotheses)} hypotheses but {len(stream)} references"
                             + (f" in reference stream {k}" if len(streams) > 1 else "")
                             + ": give exactly one reference per hypothesis (and, for several "
                             "references, a list of such streams)")
        for r in stream:
            if (pretokenized and not _is_tokens(r)) or (not pretokenized and
                                                         not isinstance(r, str)):
                raise TypeError(f"references must be {'token lists' if pretokenized else 'str'}"
                                f" like the hypotheses, got {type(r).__name__} {r!r:.60}")
    return hypotheses, streams


def statistics(hypotheses, references, *, tokenize: str = "13a", lowercase: bool = False,
               max_order: int = 4) -> tuple[list[int], list[int], int, int]:
    """The sufficient statistics of corpus BLEU: matched n-grams per order (``counts``), the
    hypothesis n-grams per order (``totals``), ``sys_len`` c and ``ref_len`` r. Arguments as
    :func:`corpus_bleu`."""
    _check_options(tokenize, "exp", max_order)
    hypotheses, streams = _streams(hypotheses, references)
    counts, totals, sys_len, ref_len = [0] * max_order, [0] * max_order, 0, 0
    for i, hyp in enumerate(hypotheses):
        h = _split(hyp, tokenize, lowercase)
        refs = [_split(stream[i], tokenize, lowercase) for stream in streams]
        best = Counter()                              # max count of each n-gram over the refs
        for r in refs:
            best |= ngrams(r, max_order)
        sys_len += len(h)
        ref_len += _closest_ref_len(len(h), [len(r) for r in refs])
        for gram, count in ngrams(h, max_order).items():
            n = len(gram) - 1
            totals[n] += count
            counts[n] += min(count, best[gram])       # clipped: Counter gives 0 when absent
    return counts, totals, sys_len, ref_len


def bleu_from_statistics(counts, totals, sys_len: int, ref_len: int, *, smooth: str = "exp",
                         smooth_value: float | None = None,
                         effective_order: bool = False) -> BLEUResult:
    """BLEU from :func:`statistics`: brevity penalty, (smoothed) precisions, geometric mean."""
    if smooth not in SMOOTH_DEFAULTS:
        raise ValueError(f"smooth must be one of {tuple(SMOOTH_DEFAULTS)}, got {smooth!r}")
    if len(counts) != len(totals) or not counts:
        raise ValueError(f"counts and totals need one entry per order, got {len(counts)} and "
                         f"{len(totals)}")
    value = SMOOTH_DEFAULTS[smooth] if smooth_value is None else smooth_value
    max_order = len(counts)
    bp = 1.0 if sys_len >= ref_len else (math.exp(1 - ref_len / sys_len) if sys_len else 0.0)
    precisions = [0.0] * max_order
    result = dict(counts=tuple(counts), totals=tuple(totals), bp=bp, sys_len=sys_len,
                  ref_len=ref_len)
    if not any(counts):                               # no match at all: 0 (sacrebleu #141)
        return BLEUResult(0.0, tuple(precisions), **result)
    matched, total = [float(c) for c in counts], [float(t) for t in totals]
    halvings, order = 1.0, max_order
    for n in range(max_order):
        if smooth == "add-k" and n > 0:
            matched[n] += value
            total[n] += value
        if total[n] == 0:                             # hypotheses too short for this order
            break
        if effective_order:
            order = n + 1
        if matched[n] == 0:
            if smooth == "exp":                       # 1 / (2^k total): k-th order w/o match
                halvings *= 2
                precisions[n] = 100.0 / (halvings * total[n])
            elif smooth == "floor":
                precisions[n] = 100.0 * value / total[n]
        else:
            precisions[n] = 100.0 * matched[n] / total[n]
    logs = [math.log(p) if p > 0 else -9999999999 for p in precisions[:order]]
    score = bp * math.exp(sum(logs) / order)
    return BLEUResult(score, tuple(precisions), **result)


def corpus_bleu(hypotheses, references, *, tokenize: str = "13a", lowercase: bool = False,
                smooth: str = "exp", smooth_value: float | None = None, max_order: int = 4,
                effective_order: bool = False) -> BLEUResult:
    """Corpus BLEU of ``hypotheses`` against ``references``, in [0, 100].

    Args:
        hypotheses: N system outputs: strings, or token lists (pre-tokenised: used as given).
        references: N references, one per hypothesis (strings or token lists, like the
            hypotheses), or several such lists of N (several references per hypothesis),
            exactly as ``sacrebleu.corpus_bleu(hypotheses, [references])`` takes them.
        tokenize: ``"13a"`` (sacrebleu's default, :func:`tokenize_13a`) or ``"none"`` (split
            on white space: for text already tokenised). Ignored for token lists.
        lowercase: compare lower-cased.
        smooth: ``"exp"`` (default, as sacrebleu), ``"floor"``, ``"add-k"`` or ``"none"``;
        smooth_value: for ``floor`` (default 0.1) and ``add-k`` (default 1).
        max_order: the longest n-gram (4).
        effective_order: average only the orders that the hypotheses contain (sentence BLEU).

    Returns a :class:`BLEUResult` (``.score``). Raises ``ValueError`` when the numbers of
    hypotheses and references differ, ``TypeError`` for mixed or bare-string input.
    Counterpart: ``sacrebleu.corpus_bleu``.
    """
    _check_options(tokenize, smooth, max_order)
    stats = statistics(hypotheses, references, tokenize=tokenize, lowercase=lowercase,
                       max_order=max_order)
    return bleu_from_statistics(*stats, smooth=smooth, smooth_value=smooth_value,
                                effective_order=effective_order)


def sentence_bleu(hypothesis, references, *, tokenize: str = "13a", lowercase: bool = False,
                  smooth: str = "exp", smooth_value: float | None = None,
                  max_order: int = 4) -> BLEUResult:
    """BLEU of one hypothesis against its reference(s) (a list of strings, or of token lists
    for a token-list hypothesis; one reference may be given bare), with ``effective_order``
    as ``sacrebleu.sentence_bleu`` uses it. Noisy: for ranking sentences, not for reporting
    a system's quality (use :func:`corpus_bleu`)."""
    if isinstance(hypothesis, str):
        refs = [references] if isinstance(references, str) else list(references)
    elif _is_tokens(hypothesis):
        refs = [references] if _is_tokens(references) and references and \
            isinstance(references[0], str) else list(references)
    else:
        raise TypeError(f"the hypothesis must be a str or a token list, got "
                        f"{type(hypothesis).__name__}")
    if not refs:
        raise ValueError("sentence_bleu needs at least one reference")
    references = refs
    return corpus_bleu([hypothesis], [[r] for r in references], tokenize=tokenize,
                       lowercase=lowercase, smooth=smooth, smooth_value=smooth_value,
                       max_order=max_order, effective_order=True)
