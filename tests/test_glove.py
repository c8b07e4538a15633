"""GloVe: co-occurrence counts, the objective and its gradients against torch, AdaGrad."""

import numpy as np
import pytest

from deepglossary import glove as G
from deepglossary.optim import Adagrad
from deepglossary.verify import against_torch, gradcheck


def naive_counts(ids, vocab, window):
    X = np.zeros((vocab, vocab))
    verses, current = [], []
    for t in list(ids) + [-1]:
        if t < 0:
            verses.append(current)
            current = []
        else:
            current.append(t)
    for verse in verses:
        for p, i in enumerate(verse):
            for q in range(max(0, p - window), min(len(verse), p + window + 1)):
                if q != p:
                    X[i, verse[q]] += 1 / abs(p - q)
    return X


@pytest.mark.parametrize("window", [1, 3, 8])
def test_cooccurrence_matches_a_double_loop(window):
    rng = np.random.default_rng(window)
    ids = rng.integers(0, 7, 200)
    ids[rng.random(200) < 0.05] = -1
    X = G.cooccurrence(ids, 7, window)
    np.testing.assert_allclose(X.dense(), naive_counts(ids, 7, window), rtol=1e-12)
    np.testing.assert_allclose(X.dense(), X.dense().T)
    assert np.all(X.values > 0) and np.all(np.diff(X.rows * 7 + X.cols) > 0)
    np.testing.assert_allclose(X.totals(), X.dense().sum(1))
    np.testing.assert_allclose(X.row(3), X.dense()[3])


def test_cooccurrence_options():
    ids = np.array([0, 1, 2])
    one_sided = G.cooccurrence(ids, 3, 2, symmetric=False).dense()
    assert one_sided[0, 2] == 0.5 and one_sided[2, 0] == 0
    assert G.cooccurrence(ids, 3, 2, distance_weighting=False).dense()[0, 2] == 1


@pytest.mark.parametrize("args, error", [
    ((np.array([0.0, 1.0]), 2, 1), TypeError),
    ((np.array([0, 5, 1]), 3, 1), ValueError),
    ((np.array([0, 1, 2]), 3, 3), ValueError),        # fewer words than window + 1
    ((np.array([0, 1, 2]), 3, 0), ValueError),
])
def test_cooccurrence_refuses_bad_input(args, error):
    with pytest.raises(error):
        G.cooccurrence(*args)


def batch(dtype, V=9, B=40, seed=0):
    rng = np.random.default_rng(seed)
    model = G.GloVe(V, 5, x_max=10.0, dtype=dtype, rng=seed)
    for p in model.parameters():                        # not the tiny initialisation
        p.data[...] = rng.standard_normal(p.shape).astype(dtype)
    rows, cols = rng.integers(0, V, B), rng.integers(0, V, B)
    counts = np.exp(rng.uniform(-2, 4, B)).astype(dtype)  # below and above x_max
    return model, rows, cols, counts


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_objective_against_torch(dtype):
    from deepglossary.twins.glove import torch_twin

    model, rows, cols, counts = batch(dtype)
    report = against_torch(model, torch_twin(model), rows, cols, counts)
    assert report.ok


def test_objective_gradcheck_and_value():
    model, rows, cols, counts = batch(np.float64)
    gradcheck(model, rows, cols, counts)
    W, b, C, c = (p.data for p in model.parameters())
    f = np.minimum(1, (counts / 10) ** 0.75)
    expected = sum(f[k] * (W[rows[k]] @ C[cols[k]] + b[rows[k]] + c[cols[k]]
                           - np.log(counts[k])) ** 2 for k in range(len(rows)))
    np.testing.assert_allclose(model(rows, cols, counts), expected, rtol=1e-12)


def test_adagrad_step_against_torch():
    torch = pytest.importorskip("torch")
    from deepglossary.twins.glove import torch_twin

    model, rows, cols, counts = batch(np.float64, V=30, B=12)
    twin = torch_twin(model)
    with torch.no_grad():
        for name, p in twin.named_parameters():
            p.copy_(torch.from_numpy(dict(model.named_parameters())[name].data))
    ours, theirs = Adagrad(model.parameters(), lr=0.05), torch.optim.Adagrad(
        twin.parameters(), lr=0.05)
    untouched = np.setdiff1d(np.arange(30), rows)
    assert untouched.size
    before = model.weight.data[untouched].copy()
    for _ in range(3):
        model.zero_grad()
        model(rows, cols, counts)
        model.backward(np.ones(()))
        ours.step()
        theirs.zero_grad()
        twin(torch.from_numpy(rows), torch.from_numpy(cols), torch.from_numpy(counts)).backward()
        theirs.step()
    for name, p in twin.named_parameters():
        np.testing.assert_allclose(dict(model.named_parameters())[name].data,
                                   p.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(model.weight.data[untouched], before)


def test_weighting():
    x = np.array([1.0, 50.0, 100.0, 500.0])
    np.testing.assert_allclose(G.weighting(x), [0.01 ** 0.75, 0.5 ** 0.75, 1, 1])
    assert G.weighting(x.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError):
        G.weighting(x, x_max=0)


@pytest.mark.parametrize("call, error", [
    (lambda m: m(np.array([0.0]), np.array([1]), np.array([1.0])), TypeError),
    (lambda m: m(np.array([0]), np.array([9]), np.array([1.0])), ValueError),
    (lambda m: m(np.array([0]), np.array([1]), np.array([0.0])), ValueError),
    (lambda m: m(np.array([0, 1]), np.array([1]), np.array([1.0])), ValueError),
    (lambda m: m(np.array([0]), np.array([1]), np.array([1])), TypeError),
])
def test_objective_refuses_bad_input(call, error):
    with pytest.raises(error):
        call(G.GloVe(9, 3))


def test_training_lowers_the_loss():
    rng = np.random.default_rng(0)
    ids = rng.zipf(1.5, 3000) % 40
    X = G.cooccurrence(ids, 40, 5)
    model = G.GloVe(40, 8, dtype=np.float32, rng=0)
    losses = G.train_glove(model, X, epochs=6, lr=0.05, batch_size=256, rng=0)
    assert losses[-1] < 0.5 * losses[0]
    assert model.vectors().shape == (40, 8) and model.vectors().dtype == np.float32


def test_context_counts_is_a_row_of_the_matrix():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 6, 300)
    ids[rng.random(300) < 0.05] = -1
    X = G.cooccurrence(ids, 6, 4)
    for word in range(6):
        np.testing.assert_allclose(G.context_counts(ids, word, 6, 4), X.row(word), rtol=1e-12)


def test_shipped_vectors_load_and_keep_their_quality():
    from deepglossary import wordsim as ws
    from deepglossary.data.words import word_corpus

    shipped = G.pretrained()
    corpus = word_corpus(shipped.record["min_count"])
    assert shipped.words == corpus.vocab and shipped.vectors.shape == (len(corpus.vocab), 50)
    rho = ws.similarity_spearman(shipped.vectors, corpus.index, ws.wordsim353()).rho
    accuracy = ws.analogy(shipped.vectors, corpus.index, ws.analogy_questions()).accuracy()
    assert rho == pytest.approx(shipped.record["scores"]["0.75"]["wordsim353"], abs=1e-9)
    assert accuracy == pytest.approx(shipped.record["scores"]["0.75"]["analogies"], abs=1e-9)
    assert rho > 0.3 and accuracy > 0.05                       # the chapter's stated quality
    assert shipped.extra["histogram"].sum() == shipped.record["nonzero"]
    for alpha in shipped.record["alphas"]:
        if alpha != shipped.record["main"]:
            assert shipped.extra[f"vectors-{alpha}"].shape == shipped.vectors.shape


def test_shipped_file_is_checked(tmp_path):
    bad = tmp_path / "glove.npz"
    bad.write_bytes(G.WEIGHTS.read_bytes()[:-1] + b"x")
    with pytest.raises(ValueError):
        G.pretrained(bad)


def test_importing_glove_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, deepglossary.glove, deepglossary.twins.glove, "
            "deepglossary.exercises.glove; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
