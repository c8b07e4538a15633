"""Build the English-Spanish verse corpus that ships with the package,
``src/deepglossary/data/web_sparv_pairs.tsv.gz``. Run once, by hand; CI never runs it.

Inputs (two Debian packages, unpacked, not installed, and the PyPI package ``pysword``):

    apt-get download sword-text-web sword-text-sparv      # or fetch the .debs from Debian
    dpkg-deb -x sword-text-web_426.0-1_all.deb /tmp/sword/web
    dpkg-deb -x sword-text-sparv_2.60-1_all.deb /tmp/sword/sparv
    pip install pysword==0.2.8                            # reads SWORD modules in Python
    .venv/bin/python scripts/build_verse_corpus.py --web /tmp/sword/web --sparv /tmp/sword/sparv

``sword-text-web`` holds the SWORD module ``engWEB2015eb`` (the World English Bible, public
domain, versification NRSVA) and ``sword-text-sparv`` the module ``spaRV1909eb`` (the Spanish
Reina-Valera of 1909, public domain, versification KJV). The script:

1. reads every verse of both modules with pysword, keeping the OSIS markup (pysword's own
   cleaner glues the words on either side of a removed footnote: "only bornSon");
2. cleans each verse with :func:`clean_osis`: footnotes, cross-references and speaker labels
   are dropped, the canonical psalm titles are kept as text (the Spanish module has them as
   plain text in verse 1 too), every other tag is removed, spaces are normalised;
3. aligns the two translations verse by verse on (book, chapter, verse), over the 66 books both
   hold (the English module's deuterocanonical books have no Spanish side);
4. checks the alignment: the two modules number some chapters differently (the Spanish
   module follows the Hebrew numbering in places, so that its Numbers 13:6 is the English
   Numbers 13:7, for instance). An IBM Model 1 word-translation table (Brown et al., 1993;
   ``MODEL1_ITERATIONS`` rounds of EM over all aligned verses, English given Spanish, words
   seen once mapped to one "rare" entry) scores each pair by the mean over English tokens of
   log mean_j t(english token | spanish token j, or NULL). Known limitations: this score is
   compared across different English verses, whose lengths and word frequencies differ, and
   Model 1 is trained on all aligned verses, test pairs included (the filter uses no
   translations of the model, but the test side does shape which pairs are kept). A pair is
   dropped when the Spanish verse scores higher against one of the ``WINDOW`` English verses
   before or after it (the
   numberings differ by up to five verses, in Job 40 for instance); a whole chapter is dropped
   when more than ``MAX_SHIFTED`` of its verses are (it is shifted, and even its passing verses
   are suspect; chapters that are lists of near-identical verses, of towns or of offerings,
   go too);
5. keeps a pair when both sides have between ``MIN_TOKENS`` and ``MAX_TOKENS`` tokens (the
   tokeniser of ``deepglossary.data.parallel``, punctuation included) and their token counts
   differ by at most a factor ``MAX_RATIO`` (what the alignment check misses is often
   lopsided);
6. marks the split by whole chapters (``deepglossary.data.parallel.split_of``): chapters are
   numbered 0, 1, 2, ... in canonical order over the 1,189 chapters of the 66 books, and
   chapter ``i`` is held out for testing when ``i % 10 == 5`` and for validation when
   ``i % 10 == 0``; the others are for training.
   Whole chapters, not every k-th verse, because neighbouring verses repeat each other's
   phrases and names (parallelism in poetry, formulas in narrative): a held-out verse whose
   neighbour is in the training set is half memorised;
7. writes ``book<TAB>chapter<TAB>verse<TAB>split<TAB>spanish<TAB>english`` lines, gzipped
   with a fixed timestamp so that a rerun gives the same bytes, and prints the sha256 (it goes
   into ``SHIPPED_SHA256`` in ``src/deepglossary/data/parallel.py``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import pathlib
import re
import sys
from collections import Counter

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from deepglossary.data.parallel import SHIPPED, split_of, tokenize  # noqa: E402

WEB_MODULE, SPARV_MODULE = "engWEB2015eb", "spaRV1909eb"
MIN_TOKENS, MAX_TOKENS = 3, 20
MAX_RATIO = 1.8
MODEL1_ITERATIONS, WINDOW, MAX_SHIFTED = 5, 6, 0.25
# sha256 of the two .deb files the corpus was built from (Debian, checked when given).
DEB_SHA256 = {
    "sword-text-web_426.0-1_all.deb":
        "930b23670b352f0829a306501de4bebb5e654a2df02cde2cbe86b802177868e1",
    "sword-text-sparv_2.60-1_all.deb":
        "5c87f9b2bc97457e8a872f5bae7ea7ce59cb3de1dcee73e4d4740451863694cf",
}

_DROP = re.compile(r"<(note|speaker|title level=\"1\")[^>]*>.*?</(note|speaker|title)>", re.S)
_AFTER_BOOK = re.compile(r"<div[^>]*type=\"book\"\s*/>.*", re.S)   # the glossary after Rev 22
_STRUCTURE = re.compile(r"</?(div|l|lg|lb|item|list|chapter|milestone|title)\b[^>]*>")
_INLINE = re.compile(r"<[^>]+>")
_GAP = "\x00"
_ADDED = "\x01"                               # marks a <transChange> tag's place
_TRANS_CHANGE = re.compile(r"</?transChange\b[^>]*>")
_CLITICS = r"(?:me|te|se|lo|la|le|los|las|les|nos|os)+"
# an enclitic: an added run of object pronouns right after a lower-case verb ending in a vowel,
# r or d (infinitive, imperative, gerund: "decir"+"le", "dad"+"le", "diciéndo"+"le")
_ENCLITIC = re.compile(r"(?<=[a-záéíóúñü][aeiouáéíóúrd])" + _ADDED + "(" + _CLITICS + r")"
                       + _ADDED)


def clean_osis(text: str) -> str:
    """One verse's OSIS markup -> plain text.

    Footnotes (``<note>``), speaker labels (``<speaker>``) and the one non-canonical heading are
    dropped; a dropped note leaves a space between two words it separated ("born<note/>Son" ->
    "born Son") and nothing before punctuation ("earth<note/>." -> "earth."). Structural tags
    (poetry lines, paragraphs, lists, the psalm-title tag) become spaces; inline tags (words
    with Strong's numbers, quotations, the translators' added words) are removed and their text
    kept. Where a ``<transChange>`` tag (words the translators added) sits between two letters,
    a space is inserted ("si Dios<transChange>lo</transChange>permitiere" -> "si Dios lo
    permitiere"), except for an enclitic: an added run of object pronouns (me, te, se, lo, la,
    le, los, las, les, nos, os) directly after a lower-case word ending in a vowel, r or d stays
    glued to it on the left ("decir<transChange>le</transChange>" -> "decirle"). The shipped
    file predates this rule (see the data README). Runs of white space become one space; the
    ends are stripped.
    """
    text = _AFTER_BOOK.sub("", text)
    text = _DROP.sub(_GAP, text)
    text = _STRUCTURE.sub(" ", text)
    text = _TRANS_CHANGE.sub(_ADDED, text)
    text = _INLINE.sub("", text)
    text = _ENCLITIC.sub(r"\1" + _ADDED, text)          # an enclitic stays on its verb
    text = re.sub(r"(?<=[^\W\d_])" + _ADDED + r"(?=[^\W\d_])", " ", text)   # letter|letter
    text = text.replace(_ADDED, "")
    text = re.sub(r"(?<=[\w,.;:!?’”])" + _GAP + r"(?=[\w“‘])", " ", text)
    text = text.replace(_GAP, "")
    return re.sub(r"\s+", " ", text).strip()


def read_module(root: pathlib.Path, name: str) -> dict:
    """{(book, chapter, verse): raw OSIS text} for every non-empty verse of a SWORD module,
    books in the module's canonical order (pysword names them: 'Genesis', 'I Samuel', ...)."""
    from pysword.modules import SwordModules

    modules = SwordModules(str(root / "usr/share/sword"))
    modules.parse_modules()
    bible = modules.get_bible_from_module(name)
    structure = bible.get_structure()
    verses = {}
    for testament in ("ot", "nt"):
        for book in structure.get_books()[testament]:
            for chapter in range(1, len(book.chapter_lengths) + 1):
                index = structure.ref_to_indicies(books=[book.name], chapters=[chapter])
                for verse, i in enumerate(index[testament], 1):
                    text = bible._text_for_index(testament, i)
                    if text:
                        verses[(book.name, chapter, verse)] = text
    return verses


def align(web: dict, sparv: dict) -> list[tuple]:
    """(book, chapter, verse, chapter_number, spanish, english) for each reference both hold,
    in the Spanish module's canonical order; ``chapter_number`` counts the chapters of the
    66 books from 0 (Genesis 1) to 1188 (Revelation 22)."""
    chapters = {}
    for book, chapter, _ in sparv:                    # dicts keep canonical order
        chapters.setdefault((book, chapter), len(chapters))
    rows = []
    for (book, chapter, verse), raw in sparv.items():
        if (book, chapter, verse) in web:
            rows.append((book, chapter, verse, chapters[(book, chapter)], clean_osis(raw),
                         clean_osis(web[(book, chapter, verse)])))
    return rows


def _indices(sentences):
    """Token lists -> index arrays with 0 first (NULL, and every word seen once)."""
    counts = Counter(t for s in sentences for t in s)
    table = {t: i + 1 for i, t in enumerate(sorted(t for t, c in counts.items() if c >= 2))}
    return [np.array([0] + [table.get(t, 0) for t in s]) for s in sentences], len(table) + 1


def model1_shifted(rows) -> np.ndarray:
    """For each aligned row, whether the Spanish verse fits one of the ``WINDOW`` English
    verses before or after it better than its own (step 4), as a boolean array."""
    spanish, n_es = _indices([tokenize(r[4]) for r in rows])
    english, n_en = _indices([tokenize(r[5]) for r in rows])
    t = np.full((n_es, n_en), 1.0 / n_en)                     # t(english | spanish)
    for _ in range(MODEL1_ITERATIONS):
        expected = np.zeros_like(t)
        for s, e in zip(spanish, english):
            sub = t[np.ix_(s, e)]                             # (len s, len e)
            np.add.at(expected, (s[:, None], e[None, :]), sub / sub.sum(0, keepdims=True))
        t = expected / expected.sum(1, keepdims=True)

    def score(i, j):
        return np.log(t[np.ix_(spanish[i], english[j])].mean(0)).mean()

    n = len(rows)
    own = np.array([score(i, i) for i in range(n)])
    best = np.full(n, -np.inf)                        # the best neighbour's score
    for i in range(n):
        for j in range(max(0, i - WINDOW), min(n, i + WINDOW + 1)):
            if j != i:
                best[i] = max(best[i], score(i, j))
    return best > own


def keep(spanish: str, english: str) -> bool:
    """The length filter of step 5."""
    ns, ne = len(tokenize(spanish)), len(tokenize(english))
    return (MIN_TOKENS <= ns <= MAX_TOKENS and MIN_TOKENS <= ne <= MAX_TOKENS
            and max(ns, ne) <= MAX_RATIO * min(ns, ne))


def build(web_root, sparv_root, path=SHIPPED) -> tuple[str, dict]:
    """Write the shipped file; returns its sha256 and counts for the report."""
    web = read_module(pathlib.Path(web_root), WEB_MODULE)
    sparv = read_module(pathlib.Path(sparv_root), SPARV_MODULE)
    rows = [r for r in align(web, sparv) if r[4] and r[5]]
    shifted = model1_shifted(rows)
    chapters = Counter(r[3] for r in rows)
    bad_chapters = Counter(r[3] for r, bad in zip(rows, shifted) if bad)
    dropped = {c for c, n in bad_chapters.items() if n > MAX_SHIFTED * chapters[c]}
    out, counts = io.StringIO(), {"english verses": len(web), "spanish verses": len(sparv),
                                  "aligned": len(rows), "shifted verses": int(shifted.sum()),
                                  "shifted chapters": len(dropped), "train": 0, "validation": 0,
                                  "test": 0}
    for (book, chapter, verse, number, spanish, english), bad in zip(rows, shifted):
        if bad or number in dropped or not keep(spanish, english):
            continue
        if "\t" in spanish + english:
            raise ValueError(f"a tab in {book} {chapter}:{verse}")
        split = split_of(number)
        counts[split] += 1
        out.write(f"{book}\t{chapter}\t{verse}\t{split}\t{spanish}\t{english}\n")
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                compresslevel=9, filename="") as f:
        f.write(out.getvalue().encode("utf-8"))
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest(), counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web", type=pathlib.Path, default=pathlib.Path("/tmp/sword/web"),
                        help="sword-text-web unpacked with dpkg-deb -x")
    parser.add_argument("--sparv", type=pathlib.Path, default=pathlib.Path("/tmp/sword/sparv"),
                        help="sword-text-sparv unpacked with dpkg-deb -x")
    parser.add_argument("--debs", type=pathlib.Path, default=None,
                        help="folder holding the two .deb files, to check their sha256")
    parser.add_argument("--out", type=pathlib.Path, default=SHIPPED)
    args = parser.parse_args(argv)
    if args.debs is not None:
        for name, expected in DEB_SHA256.items():
            got = hashlib.sha256((args.debs / name).read_bytes()).hexdigest()
            if got != expected:
                raise SystemExit(f"{name}: sha256 {got}, expected {expected}")
    digest, counts = build(args.web, args.sparv, args.out)
    print(", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
