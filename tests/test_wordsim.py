"""The evaluation of word vectors: the test sets read from gensim with sha256 checks, our
Spearman against scipy's, 3CosAdd and nearest neighbours on vectors built to pass or fail."""

import numpy as np
import pytest
from scipy import stats

from deepglossary import wordsim as ws


def test_the_sets_load_with_their_documented_sizes():
    assert len(ws.wordsim353()) == 353 and ws.wordsim353()[1] == ("tiger", "cat", 7.35)
    simlex = ws.simlex999()
    assert len(simlex) == 999 and simlex[0] == ("old", "new", 1.58)
    questions = ws.analogy_questions()
    assert len(questions) == 14 and sum(map(len, questions.values())) == 19_544
    assert questions["capital-common-countries"][0] == ("athens", "greece", "baghdad", "iraq")
    assert len(questions["family"]) == 506


def test_a_damaged_file_is_refused(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# header\na\tb\t1.0\n")
    with pytest.raises(ValueError, match="damaged or altered"):
        ws.read_pairs(path, "0" * 64)
    from deepglossary.data.files import sha256
    assert ws.read_pairs(path, sha256(path)) == [("a", "b", 1.0)]
    path.write_text("a b 1.0\n")
    with pytest.raises(ValueError, match="line 1"):
        ws.read_pairs(path, sha256(path))
    with pytest.raises(ValueError, match="must be one of"):
        ws.data_path("men")


@pytest.mark.parametrize("seed", range(5))
def test_rankdata_and_spearman_match_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, size=40).astype(float)          # many ties
    y = x + rng.integers(0, 4, size=40)
    np.testing.assert_allclose(ws.rankdata(x), stats.rankdata(x), rtol=0, atol=0)
    np.testing.assert_allclose(ws.spearman(x, y), stats.spearmanr(x, y).statistic, rtol=1e-12)
    z = rng.normal(size=40)
    np.testing.assert_allclose(ws.spearman(z, -z ** 3), -1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="constant"):
        ws.spearman(np.ones(5), z[:5])
    with pytest.raises(ValueError, match="1-D arrays"):
        ws.spearman(z, z[:-1])


def test_similarity_spearman_covers_only_known_words():
    index = {"a": 0, "b": 1, "c": 2, "d": 3}
    angles = np.array([0.0, 0.3, 1.0, 1.5])
    W = np.stack([np.cos(angles), np.sin(angles)], axis=1)           # (4, 2)
    pairs = [("a", "b", 9.0), ("a", "c", 5.0), ("a", "d", 1.0), ("b", "d", 3.0),
             ("a", "zzz", 7.0)]
    result = ws.similarity_spearman(W, index, pairs)
    assert result.covered == 4 and result.total == 5 and result.coverage == 0.8
    cos = [np.cos(0.3), np.cos(1.0), np.cos(1.5), np.cos(1.2)]
    assert result.rho == pytest.approx(stats.spearmanr(cos, [9, 5, 1, 3]).statistic)
    with pytest.raises(ValueError, match="only 0 of 1"):
        ws.similarity_spearman(W, index, [("x", "y", 1.0)])
    with pytest.raises(ValueError, match=r"\(V, d\) float"):
        ws.similarity_spearman(W[0], index, pairs)
    with pytest.raises(ValueError, match="only 4 rows"):
        ws.similarity_spearman(W, {**index, "e": 4}, pairs)


def test_analogy_3cosadd_and_nearest():
    # man - king + woman = queen along an exact offset; the question words are excluded
    words = ["man", "woman", "king", "queen", "apple"]
    index = {w: i for i, w in enumerate(words)}
    W = np.array([[1.0, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [-1, 0.2, 0.1]])
    questions = {"family": [("man", "king", "woman", "queen"), ("king", "man", "queen", "woman"),
                            ("man", "woman", "king", "apple")],
                 "capitals": [("athens", "greece", "baghdad", "iraq")]}
    result = ws.analogy(W, index, questions)
    assert result.covered == {"family": 3, "capitals": 0}
    assert result.correct["family"] == 2 and result.accuracy("family") == pytest.approx(2 / 3)
    assert np.isnan(result.accuracy("capitals")) and result.accuracy() == pytest.approx(2 / 3)
    # with the answer outside the first 3 rows, no question is covered
    assert ws.analogy(W, index, questions, restrict=3).covered["family"] == 0
    got = ws.nearest(W, words, index, "queen", k=2)
    assert [w for w, _ in got] == ["woman", "king"] and got[0][1] == pytest.approx(2 / np.sqrt(6))
    with pytest.raises(KeyError, match="not in the vocabulary"):
        ws.nearest(W, words, index, "pear")
    with pytest.raises(ValueError, match="k must be"):
        ws.nearest(W, words, index, "man", k=5)


def test_spearman_resampled_matches_the_loop_ties_included():
    from deepglossary.wordsim import spearman, spearman_resampled

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 6, 40).astype(float), rng.standard_normal(40)   # many ties in x
    rows = rng.integers(0, 40, (50, 40))                                    # repeats: more ties
    expected = [spearman(x[r], y[r]) for r in rows]
    np.testing.assert_allclose(spearman_resampled(x, y, rows), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="rows must be ints"):
        spearman_resampled(x, y, rows + 1)
    with pytest.raises(ValueError, match="expects x, y"):
        spearman_resampled(x, y[:3], rows)
