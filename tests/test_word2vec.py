"""word2vec: the sampling (noise, subsampling, dynamic window), the loss's hand-derived
gradients against torch in float64 and float32, the sparse SGD step against the layers' dense
gradients, a short training whose loss falls, and the shipped vectors' stated quality."""

import numpy as np
import pytest

from deepglossary.twins.word2vec import torch_twin, word2vec_against_torch
from deepglossary.word2vec import (
    CBOW,
    SkipGram,
    cbow_windows,
    draw_negatives,
    keep_probability,
    negative_sampling,
    noise_distribution,
    skipgram_pairs,
    subsample,
    train,
)
from deepglossary.word2vec.train import sgd_step

COUNTS = np.array([1000, 300, 100, 30, 10, 3, 1, 0])


def test_noise_distribution_and_draws():
    p = noise_distribution(COUNTS)
    np.testing.assert_allclose(p, COUNTS ** 0.75 / (COUNTS ** 0.75).sum())
    draws = draw_negatives(p, (200_000,), rng=0)
    freq = np.bincount(draws, minlength=len(p)) / len(draws)
    np.testing.assert_allclose(freq, p, atol=3e-3)
    assert freq[-1] == 0                                       # a count of zero is never drawn
    assert draw_negatives(p, (3, 4), rng=1).shape == (3, 4)
    with pytest.raises(ValueError, match="non-negative ints"):
        noise_distribution(np.array([1.5, 2.0]))


def test_keep_probability_is_the_c_code_variant():
    f = COUNTS / COUNTS.sum()
    t = 1e-2
    keep = keep_probability(COUNTS, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.minimum(1, (np.sqrt(f / t) + 1) * t / f)
    np.testing.assert_allclose(keep[:-1], expected[:-1])
    assert keep[0] < 0.2 and keep[4] == 1.0 and keep[-1] == 1.0
    assert np.all(keep_probability(COUNTS, 0) == 1)
    ids = np.repeat(np.arange(len(COUNTS)), COUNTS)
    kept = subsample(ids, COUNTS, t, rng=0)
    np.testing.assert_allclose(np.bincount(kept, minlength=8)[:2] / COUNTS[:2], keep[:2],
                               rtol=0.15)
    assert np.array_equal(np.bincount(kept, minlength=8)[4:], COUNTS[4:])   # rare words stay


def test_skipgram_pairs_dynamic_window():
    ids = np.arange(50_000) % 1000                          # positions recoverable from ids
    centres, contexts = skipgram_pairs(ids, window=3, rng=0)
    distance = np.abs(((contexts - centres + 500) % 1000) - 500)
    assert set(np.unique(distance)) == {1, 2, 3}
    share = np.bincount(distance)[1:] / len(ids) / 2         # per position and side
    np.testing.assert_allclose(share, [1, 2 / 3, 1 / 3], atol=0.01)   # (W - r + 1) / W
    small, ctx = skipgram_pairs(np.array([7, 8, 9]), window=1, rng=0)
    assert sorted(zip(small.tolist(), ctx.tolist())) == [(7, 8), (8, 7), (8, 9), (9, 8)]
    with pytest.raises(ValueError, match="window must be an int >= 1"):
        skipgram_pairs(ids, window=0)


def test_cbow_windows():
    ids = np.array([10, 11, 12, 13, 14])
    ctx, mask, targets = cbow_windows(ids, window=2, rng=0)
    assert ctx.shape == (5, 4) and mask.dtype == bool and list(targets) == [10, 11, 12, 13, 14]
    for row in range(5):
        got = sorted(ctx[row][mask[row]].tolist())
        assert got and all(abs(w - targets[row]) <= 2 and w != targets[row] for w in got)
    assert not mask[0, :2].any() and not mask[4, 2:].any()      # nothing outside the stream


def _inputs(rng, V, B=12, K=4):
    return rng.integers(0, V, B), rng.integers(0, V, B), rng.integers(0, V, (B, K))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_skipgram_and_cbow_against_torch(dtype):
    rng = np.random.default_rng(0)
    sg = SkipGram(30, 6, dtype=dtype, rng=1, init="normal")
    report = word2vec_against_torch(sg, *_inputs(rng, 30))
    assert report.ok and len(report.rows_on("cpu")) == 3
    cbow = CBOW(30, 6, dtype=dtype, rng=2, init="normal")
    ctx, mask, targets = cbow_windows(rng.integers(0, 30, 15), window=3, rng=3)
    report = word2vec_against_torch(cbow, ctx, mask, targets, rng.integers(0, 30, (15, 4)))
    assert report.ok and len(report.rows_on("cpu")) == 3


def test_loss_formula_and_extreme_scores_stay_finite():
    v = np.array([[100.0, 0.0]])
    loss, g_v, g_pos, g_neg = negative_sampling(v, np.array([[-1.0, 0]]), np.array([[[1.0, 0]]]))
    assert np.isfinite(loss).all() and loss[0] == pytest.approx(200.0)
    np.testing.assert_allclose(g_v, [[2.0, 0]])                # (-1) u_o + 1 u_n
    rng = np.random.default_rng(0)
    v, u, un = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2, 3))
    s = 1 / (1 + np.exp(-np.einsum("bd,bd->b", v, u)))
    sn = 1 / (1 + np.exp(np.einsum("bkd,bd->bk", un, v)))
    np.testing.assert_allclose(negative_sampling(v, u, un)[0],
                               -np.log(s) - np.log(sn).sum(1))


def test_bad_inputs_are_refused():
    sg = SkipGram(10, 3)
    with pytest.raises(ValueError, match=r"negatives must be an integer array of shape \(B, K\)"):
        sg(np.arange(3), np.arange(3), np.arange(3))
    with pytest.raises(ValueError, match=r"word ids in \[0, 10\)"):
        sg(np.array([10]), np.array([0]), np.zeros((1, 2), int))
    with pytest.raises(ValueError, match="mask must be a bool array"):
        CBOW(10, 3)(np.zeros((2, 2), int), np.zeros((2, 2), bool), np.arange(2),
                    np.zeros((2, 1), int))
    with pytest.raises(TypeError, match="SkipGram or CBOW"):
        torch_twin(object())
    with pytest.raises(ValueError, match="model must be"):
        train(np.arange(5), np.ones(5, int), model="glove")


@pytest.mark.parametrize("kind", ["skipgram", "cbow"])
def test_sparse_step_equals_dense_gradient_step(kind):
    rng = np.random.default_rng(0)
    V, d, lr = 20, 5, 0.1
    layer = (SkipGram if kind == "skipgram" else CBOW)(V, d, rng=4, init="normal")
    neg = rng.integers(0, V, (30, 3))
    if kind == "skipgram":
        batch = (rng.integers(0, V, 30), rng.integers(0, 4, 30))     # repeated rows
    else:
        batch = cbow_windows(rng.integers(0, 4, 30), window=2, rng=5)
    W_in, W_out = layer.in_embed.weight.data.copy(), layer.out_embed.weight.data.copy()
    loss = sgd_step(W_in, W_out, batch, neg, lr)
    np.testing.assert_allclose(loss, layer(*batch, neg))
    layer.backward(np.ones(30))
    np.testing.assert_allclose(W_in, layer.in_embed.weight.data - lr * layer.in_embed.weight.grad,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W_out,
                               layer.out_embed.weight.data - lr * layer.out_embed.weight.grad,
                               rtol=1e-12, atol=1e-12)


def test_short_training_lowers_the_loss_and_repeats():
    rng = np.random.default_rng(0)
    # a toy language: words 0-9 follow each other in order, 10-19 likewise
    ids = np.concatenate([np.arange(10) + 10 * rng.integers(0, 2) for _ in range(2000)])
    counts = np.bincount(ids, minlength=20)
    for kind in ("skipgram", "cbow"):
        a = train(ids, counts, model=kind, dim=8, window=2, epochs=3, batch_size=256, seed=0,
                  log_every=5, sample=0)
        b = train(ids, counts, model=kind, dim=8, window=2, epochs=3, batch_size=256, seed=0,
                  log_every=5, sample=0)
        assert np.array_equal(a.W_in, b.W_in) and a.W_in.dtype == np.float32
        assert a.losses[-1] < 0.6 * a.losses[0]
        assert a.settings["model"] == kind and a.seconds > 0


def test_the_shipped_vectors_load_and_still_give_the_stated_scores():
    from deepglossary import wordsim
    from deepglossary.data.words import word_corpus
    from deepglossary.word2vec.pretrained import pretrained

    vectors, corpus = pretrained(), word_corpus()
    assert vectors.vocab == corpus.vocab and vectors.W_in.shape == (len(corpus.vocab), 100)
    assert vectors.W_in.dtype == np.float32 and vectors.gensim.shape == vectors.W_in.shape
    stated, recipe = vectors.metadata["scores"], vectors.metadata["recipe"]
    assert recipe["model"] == "skipgram" and recipe["epochs"] == 5
    ws = wordsim.similarity_spearman(vectors.W_in, corpus.index, wordsim.wordsim353())
    sl = wordsim.similarity_spearman(vectors.W_in, corpus.index, wordsim.simlex999())
    family = wordsim.analogy(vectors.W_in, corpus.index,
                             {"family": wordsim.analogy_questions()["family"]})
    assert ws.rho == pytest.approx(stated["wordsim353"], abs=1e-6) and ws.covered == 55
    assert sl.rho == pytest.approx(stated["simlex999"], abs=1e-6)
    assert family.accuracy("family") == pytest.approx(stated["family"])
    assert ws.rho > 0.15 and family.accuracy("family") > 0.1       # it learned something
    reference = vectors.metadata["gensim"]["scores"]
    assert abs(ws.rho - reference["wordsim353"]) < 0.1
    near_gold = [w for w, _ in wordsim.nearest(vectors.W_in, vectors.vocab, vectors.index, "gold")]
    assert "silver" in near_gold


def test_the_shipped_sweep_has_every_window_and_a_seed_check():
    from deepglossary.word2vec.pretrained import pretrained

    sweep = pretrained().metadata["sweep"]
    assert sweep["settings"]["windows"] == [2, 5, 10]
    check = sweep["seed_check"]
    assert check["window"] == 2 and check["run"]["seed"] != sweep["runs"]["2"]["seed"]
    assert len({run["seed"] for run in sweep["runs"].values()}) == 1    # one seed, every window
    assert sweep["settings"]["epochs"] >= 2
    for run in [*sweep["runs"].values(), check["run"]]:
        assert set(run["neighbours"]) == set(sweep["probes"])
        assert all(len(near) == 6 for near in run["neighbours"].values())
        assert np.array(run["projection"]).shape == (len(sweep["projected"]), 2)
        assert run["scores"]["wordsim353_covered"] == 55


def test_a_damaged_weights_file_is_refused(tmp_path):
    from deepglossary.word2vec.pretrained import WEIGHTS, pretrained

    copy = tmp_path / "w.npz"
    raw = bytearray(WEIGHTS.read_bytes())
    raw[-100] ^= 0xFF
    copy.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="damaged or altered"):
        pretrained(path=copy)


def test_importing_the_modules_imports_neither_torch_nor_gensim():
    import subprocess
    import sys

    code = ("import sys, deepglossary.word2vec, deepglossary.word2vec.pmi, "
            "deepglossary.word2vec.pretrained, deepglossary.twins.word2vec, deepglossary.wordsim, "
            "deepglossary.data.words, deepglossary.exercises.word2vec; "
            "assert 'torch' not in sys.modules and 'gensim' not in sys.modules and "
            "'scipy' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pmi_counts_and_shift():
    from deepglossary.word2vec.pmi import pair_counts, shifted_pmi

    ids = np.tile(np.arange(4), 500)
    counts = np.bincount(ids)
    pairs, centre = pair_counts(ids, counts, 3, window=1, sample=0, seed=0)
    assert pairs[0, 1] == 500 and pairs[1, 0] == 500 and pairs[0, 2] == 0
    assert centre[0] == 999                                    # the first 0 has no left word
    spmi = shifted_pmi(pairs, centre, counts, k=5)
    np.testing.assert_allclose(spmi[0, 1], np.log(500 / (999 * 0.25)) - np.log(5))
    assert spmi[0, 2] == -np.inf
