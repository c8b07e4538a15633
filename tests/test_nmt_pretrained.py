"""The shipped Spanish-to-English model: it loads, is small, and still gives the held-out BLEU
its file records; the training script runs and writes a file the loader reads."""

import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest

from deepglossary.bleu import corpus_bleu
from deepglossary.data.parallel import SPECIALS, parallel_corpus, tokenize
from deepglossary.models import Seq2Seq
from deepglossary.pretrained import NMT_WEIGHTS, NMT_WEIGHTS_SHA256, nmt_es_en, translate

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped():
    return nmt_es_en()


@pytest.fixture(scope="module")
def corpus():
    return parallel_corpus("es", "en")


def test_file_is_small_float16_and_checked(shipped):
    assert NMT_WEIGHTS.stat().st_size < 4_000_000
    model, record = shipped
    assert record.sha256 == NMT_WEIGHTS_SHA256
    with np.load(NMT_WEIGHTS) as archive:
        dtypes = {archive[name].dtype for name in archive.files if name != "metadata"}
    assert dtypes == {np.dtype(np.float16)}
    assert isinstance(model, Seq2Seq) and not model.training
    assert model.attention_kind == record.config["attention"]
    assert record.src_vocab.itos[:4] == list(SPECIALS)
    assert len(record.src_vocab) == model.src_vocab and len(record.tgt_vocab) == model.tgt_vocab
    assert record.train_seconds > 0 and record.seed == 0
    assert set(record.bleu) >= {"test_greedy", "test_beam", "validation_greedy"}
    assert len(record.history["train_loss"]) == record.metadata["epochs"]


def test_vocabularies_are_the_training_sides(shipped, corpus):
    from deepglossary.data.parallel import Vocab
    _, record = shipped
    min_count = record.metadata["min_count"]
    assert Vocab.build([tokenize(s) for s, _ in corpus.train], min_count).itos == \
        record.src_vocab.itos
    assert Vocab.build([tokenize(t) for _, t in corpus.train], min_count).itos == \
        record.tgt_vocab.itos


def test_held_out_bleu_is_what_the_file_records(shipped, corpus):
    model, record = shipped
    hyps = translate(model, record.src_vocab, record.tgt_vocab, [s for s, _ in corpus.test])
    score = corpus_bleu(hyps, [tokenize(t) for _, t in corpus.test]).score
    assert abs(score - record.bleu["test_greedy"]) < 1e-3
    assert score > 8.0                      # the stated quality: about 9 to 10 BLEU
    assert record.bleu["test_beam"] > record.bleu["test_greedy"]
    grid = {(g["width"], g["alpha"]): g["bleu"] for g in record.metadata["grid"]}
    assert grid[(1, 0.0)] == record.bleu["test_greedy"]
    assert grid[(record.metadata["beam"]["width"], record.metadata["beam"]["alpha"])] == \
        record.bleu["test_beam"]


def test_float64_gives_the_same_translations(shipped, corpus):
    model, record = shipped
    model64, _ = nmt_es_en(np.float64)
    sources = [s for s, _ in corpus.test[:40]]
    same = sum(a == b for a, b in zip(
        translate(model, record.src_vocab, record.tgt_vocab, sources),
        translate(model64, record.src_vocab, record.tgt_vocab, sources)))
    assert same >= 38                       # float32 rounding may flip a near tie


def test_translate_keeps_the_order_and_takes_tokens(shipped, corpus):
    model, record = shipped
    sources = [s for s, _ in corpus.test[:10]]
    together = translate(model, record.src_vocab, record.tgt_vocab, sources, batch_size=3)
    alone = [translate(model, record.src_vocab, record.tgt_vocab, [s])[0] for s in sources]
    assert together == alone
    assert translate(model, record.src_vocab, record.tgt_vocab, [tokenize(sources[0])]) == \
        alone[:1]
    with pytest.raises(ValueError, match="at least one"):
        translate(model, record.src_vocab, record.tgt_vocab, [])


def test_loader_refuses_altered_or_foreign_files(tmp_path):
    altered = tmp_path / "nmt.npz"
    altered.write_bytes(NMT_WEIGHTS.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="damaged or altered"):
        nmt_es_en(path=altered)
    with pytest.raises(FileNotFoundError, match="train_nmt.py"):
        nmt_es_en(path=tmp_path / "missing.npz")


def test_training_script_runs_and_its_file_loads(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location("train_nmt", ROOT / "scripts/train_nmt.py")
        train_nmt = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(train_nmt)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    config = {"embed_size": 8, "hidden_size": 8, "cell": "gru", "attention": "general"}
    model, src_vocab, tgt_vocab, _, metadata = train_nmt.train(
        epochs=1, max_steps=2, config=config, progress=False)
    assert metadata["steps"] == 2 and metadata["train_seconds"] >= 0
    metadata["bleu"] = {"test_greedy": 0.0}
    out = tmp_path / "nmt.npz"
    digest = train_nmt.save(model, metadata, out)
    loaded, record = nmt_es_en(path=out, expected_sha256=digest)
    assert record.config == config and record.tgt_vocab.itos == tgt_vocab.itos
    assert json.loads(str(np.load(out)["metadata"]))["steps"] == 2
    for (name, p), (other, q) in zip(model.named_parameters(), loaded.named_parameters()):
        assert name == other
        np.testing.assert_array_equal(p.data.astype(np.float16), q.data.astype(np.float16))
