"""The build-time links between glossary terms (tools/sphinx/dg_terms.py): which words of a
chapter's prose are found as mentions of which term."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "sphinx"))
import dg_terms  # noqa: E402

NAMES = dg_terms.glossary((ROOT / "book" / "intro.md").read_text())
COMPILED = dg_terms.pattern(NAMES)


def found(text):
    return [(text[a:b], name) for a, b, name in dg_terms.mentions(text, COMPILED)]


def test_every_chapter_is_a_term_and_abbreviations_count():
    chapters = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").glob("*/*.ipynb")}
    assert set(NAMES.values()) == chapters
    assert NAMES["BPTT"] == NAMES["Backpropagation Through Time"]
    assert NAMES["NCE"] == "book/representations/noise-contrastive-estimation"


def test_mentions_in_running_text():
    assert found("Batch normalization and an LSTM; backpropagation through time (BPTT).") == [
        ("Batch normalization", "Batch Normalization"), ("LSTM", "LSTM"),
        ("backpropagation through time", "Backpropagation Through Time"), ("BPTT", "BPTT")]
    assert found("ReLUs, multilayer perceptrons and noise-contrastive estimation") == [
        ("ReLUs", "ReLU"), ("multilayer perceptrons", "Multilayer Perceptron"),
        ("noise-contrastive estimation", "Noise-Contrastive Estimation")]


def test_what_is_not_a_mention():
    # part of a longer word or of a hyphenated name, a file name, a different case of a name
    # written with capitals inside it
    assert found("log-softmax, softmaxed, relu_backward, sgd.py, Relu, glove, lstm") == []
    assert found("max-pooling") == [("max-pooling", "Max-Pooling")]      # the longer term wins
