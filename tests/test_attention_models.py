"""The shipped attention models (scripts/train_attention_reversal.py) load, are the files
recorded, and still give the quality the Attention Mechanism chapter states."""

import numpy as np
import pytest

from deepglossary import attention_models as am
from deepglossary import seq2seq_tasks as st


@pytest.mark.parametrize("kind", ["dot", "general", "additive"])
def test_attention_models_reverse_length_12(kind):
    model, record = am.pretrained(kind)
    assert record["attention"] == kind and record["hidden_size"] == 64
    table = st.accuracy_by_length(model, [8, 12], n=100, rng=7)
    assert table.exact.min() > 0.85
    assert record["exact_1_to_12"][-1] > 0.85                    # as recorded when trained


def test_model_without_attention_collapses():
    model, _ = am.pretrained("none")
    assert model.attention_kind is None
    table = st.accuracy_by_length(model, [4, 12], n=100, rng=7)
    assert table.exact[0] > 0.95 and table.exact[1] < 0.3


def test_names_and_checksum(tmp_path):
    assert am.pretrained("h64-general")[1]["attention"] == "general"
    with pytest.raises(ValueError, match="no shipped model"):
        am.pretrained("h64-luong")
    broken = tmp_path / "broken.npz"
    data = bytearray(am.ATTENTION_WEIGHTS.read_bytes())
    data[-1] ^= 0xFF                                             # one byte changed
    broken.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        st.pretrained("h64-general", path=broken, expected_sha256=am.ATTENTION_SHA256)


def test_weights_are_float32_and_finite():
    model, _ = am.pretrained("additive")
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and np.isfinite(p.data).all(), name
