"""English-Spanish sentence pairs for the Neural Machine Translation chapter: short verses of
the Spanish Reina-Valera 1909 and text derived from the World English Bible, aligned verse
by verse, shipped with the package and checked at every load. Also the tokeniser, the
vocabulary and the padded batches a sequence-to-sequence model reads.

    corpus = parallel_corpus()                  # es -> en, offline
    corpus.train[0]                             # (Spanish verse, English verse)
    src_vocab = Vocab.build([tokenize(s) for s, _ in corpus.train], min_count=2)
    ids, lengths = encode_batch([tokenize(s) for s, _ in corpus.test[:8]], src_vocab)
    decode_batch(ids, src_vocab)                # back to tokens, up to the first EOS

Provenance, licence, fields and split: ``README.md`` beside this file.
``scripts/build_verse_corpus.py`` rebuilds the shipped file from the two Debian packages.
"""

from __future__ import annotations

import collections
import gzip
import pathlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from deepglossary.data.files import checked_file

SHIPPED = pathlib.Path(__file__).with_name("web_sparv_pairs.tsv.gz")
SHIPPED_SHA256 = "d120bdfaf3acef511e285edb814795b4bbfdf1459ae4e3fa66aeff2265f53dbe"

# The special tokens, shared with deepglossary.models.Seq2Seq (interface of issue 13).
PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")

LANGUAGES = {"es": "spanish", "en": "english"}
SPLITS = ("train", "validation", "test")
# The split rule: chapters numbered 0..1188 in canonical order over the 66 books.
TEST_REMAINDER, VALIDATION_REMAINDER, EVERY = 5, 0, 10


def split_of(chapter_number: int) -> str:
    """The split of a verse from the chapter numbered ``chapter_number`` (0 = Genesis 1,
    1188 = Revelation 22): ``"test"`` when ``chapter_number % 10 == 5``, ``"validation"`` when
    it is ``0``, else ``"train"``. Whole chapters are held out, never single verses: verses of
    one chapter repeat each other's phrases and names."""
    if not isinstance(chapter_number, (int, np.integer)) or chapter_number < 0:
        raise ValueError(f"chapter_number must be a whole number >= 0, got {chapter_number!r}")
    rest = int(chapter_number) % EVERY
    return "test" if rest == TEST_REMAINDER else "validation" if rest == VALIDATION_REMAINDER \
        else "train"


# --- the tokeniser ------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+|'[^\W_]+|\S")


def tokenize(text: str) -> list[str]:
    """A sentence -> its tokens: lower-cased words and single punctuation marks.

    The rule, in order: Unicode NFC normalisation; lower case; the typographic apostrophe
    ``’`` becomes ``'``; then a token is a run of letters and digits (accented letters
    included: ``crió``, ``vió``), an apostrophe followed by such a run (the English clitics:
    ``god’s`` -> ``god`` ``'s``), or any other single non-space character (``,`` ``.`` ``¿``
    ``¡`` ``“`` ``”`` ``‘``). Nothing is thrown away but white space.

    >>> tokenize("Y dijo Dios: ¡Sea la luz!")
    ['y', 'dijo', 'dios', ':', '¡', 'sea', 'la', 'luz', '!']
    >>> tokenize("God’s Spirit")
    ['god', "'s", 'spirit']
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize expects a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    return _TOKEN.findall(text)


_NO_SPACE_BEFORE = set(",.;:!?)]”'") | {"'s", "'t", "'ll", "'re", "'ve", "'d", "'m"}
_NO_SPACE_AFTER = set("¿¡([“‘")


def detokenize(tokens) -> str:
    """Tokens -> a readable string: words joined by spaces, no space before closing
    punctuation and clitics (``,`` ``.`` ``'s`` ``”``) or after opening marks (``¿`` ``“``).
    Not the inverse of :func:`tokenize` (case is lost); for display only."""
    out = ""
    for token in tokens:
        if out and token not in _NO_SPACE_BEFORE and not token.startswith("'") \
                and out[-1] not in _NO_SPACE_AFTER:
            out += " "
        out += token
    return out


# --- the vocabulary -----------------------------------------------------------------------

class Vocab:
    """A token <-> index table with the four special tokens first: ``<pad>`` = 0 (PAD),
    ``<bos>`` = 1 (BOS), ``<eos>`` = 2 (EOS), ``<unk>`` = 3 (UNK), then the words.

    ``Vocab.build(sentences, min_count)`` keeps the tokens seen at least ``min_count`` times
    in ``sentences`` (build it from the training side only), most frequent first, ties in
    alphabetical order, so that the same sentences always give the same table. Every other
    token maps to UNK. PyTorch counterpart: ``torchtext.vocab.build_vocab_from_iterator``
    with ``specials`` and ``set_default_index(UNK)``.

    Attributes:
        itos: list of tokens, index -> token (``len(vocab)`` of them)
        stoi: dict token -> index
        counts: dict token -> count in the sentences it was built from (specials: 0)
    """

    def __init__(self, tokens, counts=None):
        tokens = list(tokens)
        if tuple(tokens[:4]) != SPECIALS:
            raise ValueError(f"a Vocab's first four tokens must be {SPECIALS}, got "
                             f"{tuple(tokens[:4])}")
        if len(set(tokens)) != len(tokens):
            dup = sorted({t for t in tokens if tokens.count(t) > 1})
            raise ValueError(f"tokens appear twice in the vocabulary: {dup[:10]}")
        self.itos = tokens
        self.stoi = {t: i for i, t in enumerate(tokens)}
        self.counts = dict(counts or {})

    @classmethod
    def build(cls, sentences, min_count: int = 1, max_size: int | None = None) -> Vocab:
        """From an iterable of token lists: the tokens seen at least ``min_count`` times,
        most frequent first (ties alphabetical), at most ``max_size`` words beside the four
        specials (None: no limit)."""
        if not isinstance(min_count, (int, np.integer)) or min_count < 1:
            raise ValueError(f"min_count must be a whole number >= 1, got {min_count!r}")
        counts = collections.Counter()
        for sentence in sentences:
            if isinstance(sentence, str):
                raise TypeError("Vocab.build expects token lists (use tokenize), got a str")
            counts.update(sentence)
        for special in SPECIALS:
            counts.pop(special, None)
        words = sorted((t for t, c in counts.items() if c >= min_count),
                       key=lambda t: (-counts[t], t))
        if max_size is not None:
            words = words[:max_size]
        return cls(list(SPECIALS) + words, counts)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: 4 specials + {len(self) - 4} words)"

    def encode(self, tokens) -> list[int]:
        """Token list -> index list (UNK for unknown tokens; no BOS or EOS added)."""
        if isinstance(tokens, str):
            raise TypeError("Vocab.encode expects a token list (use tokenize), got a str")
        return [self.stoi.get(t, UNK) for t in tokens]

    def decode(self, ids) -> list[str]:
        """Index list -> tokens, stopping at the first EOS, skipping PAD and BOS."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            if not 0 <= i < len(self):
                raise ValueError(f"index {i} is outside the vocabulary (0..{len(self) - 1})")
            out.append(self.itos[i])
        return out

    def to_dict(self) -> dict:
        """``{"itos": [...]}``: what a weights file stores to rebuild the table."""
        return {"itos": list(self.itos)}

    @classmethod
    def from_dict(cls, d: dict) -> Vocab:
        return cls(d["itos"])


def encode_batch(sentences, vocab: Vocab, *, bos: bool = False, eos: bool = True,
                 max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Token lists -> a padded int64 batch and the lengths.

    Each sentence becomes ``[BOS]`` (if ``bos``) + its indices (UNK for unknown tokens) +
    ``[EOS]`` (if ``eos``), cut to ``max_len`` tokens when longer (the cut keeps BOS and
    drops the end, EOS included), and is padded with PAD at the END to the longest one.

    Returns:
        ids: (N, T) int64, T = the longest length (at least 1)
        lengths: (N,) int64, the real (non-PAD) tokens of each row, BOS and EOS included
    """
    if isinstance(sentences, str) or (len(sentences) and isinstance(sentences[0], str)):
        raise TypeError("encode_batch expects a list of token lists, e.g. "
                        "[tokenize(s) for s in sentences]")
    if len(sentences) == 0:
        raise ValueError("encode_batch needs at least one sentence")
    if max_len is not None and max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    rows = [([BOS] if bos else []) + vocab.encode(s) + ([EOS] if eos else [])
            for s in sentences]
    if max_len is not None:
        rows = [r[:max_len] for r in rows]
    lengths = np.array([len(r) for r in rows], dtype=np.int64)         # (N,)
    ids = np.full((len(rows), max(1, int(lengths.max()))), PAD, dtype=np.int64)   # (N, T)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
    return ids, lengths


def decode_batch(ids, vocab: Vocab) -> list[list[str]]:
    """(N, T) indices -> N token lists, each up to its first EOS, PAD and BOS skipped."""
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"decode_batch expects indices of shape (N, T), got {ids.shape}")
    return [vocab.decode(row) for row in ids]


# --- the corpus ---------------------------------------------------------------------------

class VersePair(NamedTuple):
    """One aligned verse: its reference, split, and the two translations."""

    book: str
    chapter: int
    verse: int
    split: str
    spanish: str
    english: str

    @property
    def reference(self) -> str:
        return f"{self.book} {self.chapter}:{self.verse}"


def read_pairs(path=None, expected_sha256: str | None = None) -> list[VersePair]:
    """Every shipped pair, after checking the file's sha256 (``ValueError`` when it differs:
    a damaged or altered file is never used)."""
    path = checked_file(path, SHIPPED, SHIPPED_SHA256, expected_sha256)
    pairs = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for number, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if (len(parts) != 6 or not parts[1].isdigit() or not parts[2].isdigit()
                    or parts[3] not in SPLITS):
                raise ValueError(f"{path.name}, line {number}: expected 'book<TAB>chapter<TAB>"
                                 f"verse<TAB>split<TAB>spanish<TAB>english', got {line[:80]!r}")
            pairs.append(VersePair(parts[0], int(parts[1]), int(parts[2]), parts[3],
                                   parts[4], parts[5]))
    return pairs


@dataclass
class ParallelCorpus:
    """Sentence pairs ``(source, target)`` by split, in canonical order.

    ``train``, ``validation``, ``test``: lists of ``(source sentence, target sentence)``;
    ``refs``: for each split the matching verse references (``"Psalms 23:1"``);
    ``pairs``: every :class:`VersePair`; ``source`` and ``target``: ``"es"`` or ``"en"``.
    """

    source: str
    target: str
    train: list
    validation: list
    test: list
    refs: dict = field(repr=False)
    pairs: list = field(repr=False)

    @property
    def sizes(self) -> dict:
        return {name: len(getattr(self, name)) for name in SPLITS}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k} {v:,}" for k, v in self.sizes.items())
        return f"ParallelCorpus({self.source} -> {self.target}: pairs {sizes})"


def parallel_corpus(source: str = "es", target: str = "en", *, path=None,
                    expected_sha256: str | None = None) -> ParallelCorpus:
    """The shipped verse pairs as a :class:`ParallelCorpus` from ``source`` to ``target``
    (``"es"``: Reina-Valera 1909, ``"en"``: World English Bible text; es -> en by default).

    The split is by whole chapters (:func:`split_of`): 1 chapter in 10 is test, 1 in 10
    validation, the rest training. ``path`` and ``expected_sha256`` load another file of the
    same layout (tests use them).
    """
    if source not in LANGUAGES or target not in LANGUAGES or source == target:
        raise ValueError(f"source and target must be 'es' and 'en' (either way round), got "
                         f"{source!r} -> {target!r}")
    pairs = read_pairs(path, expected_sha256)
    by_split = {name: [] for name in SPLITS}
    refs = {name: [] for name in SPLITS}
    for p in pairs:
        by_split[p.split].append((getattr(p, LANGUAGES[source]), getattr(p, LANGUAGES[target])))
        refs[p.split].append(p.reference)
    return ParallelCorpus(source, target, by_split["train"], by_split["validation"],
                          by_split["test"], refs, pairs)


def trim(ids: np.ndarray) -> np.ndarray:
    """A padded batch (N, T) without its trailing all-PAD columns (at least one column)."""
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"trim expects a batch of shape (N, T), got {ids.shape}")
    used = (ids != PAD).any(axis=0)                                    # (T,)
    width = int(np.flatnonzero(used)[-1]) + 1 if used.any() else 1
    return ids[:, :width]


def length_batches(lengths, batch_size: int, rng, pool: int = 50) -> list[np.ndarray]:
    """Minibatches of indices that group sentences of similar length (less padding, so
    fewer wasted time steps), still random: shuffle everything, cut it into pools of
    ``pool`` batches, sort each pool by length, cut the pool into batches, and shuffle the
    batches. ``lengths``: (N,) the length each batch is grouped by (the source's, usually);
    ``rng``: a ``np.random.Generator``. Every index appears in exactly one batch."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or len(lengths) == 0:
        raise ValueError(f"length_batches expects lengths of shape (N,), N >= 1, got "
                         f"{lengths.shape}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    order = rng.permutation(len(lengths))                              # (N,)
    out = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start:start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [out[i] for i in rng.permutation(len(out))]
