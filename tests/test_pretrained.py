"""The pretrained digit network: its file's checks, its recorded accuracy recomputed, its
training script's determinism, and its gradient on a photograph against its torch twin."""

import gc
import importlib.util
import json
import pathlib
import shutil

import numpy as np
import pytest

from deepglossary import nn
from deepglossary.data import mnist
from deepglossary.pretrained import (
    WEIGHTS,
    WEIGHTS_SHA256,
    DigitsCNN,
    digits_cnn,
    digits_cnn_untrained,
    state_dict,
)
from deepglossary.train import accuracy

SCRIPT = pathlib.Path(__file__).parents[1] / "scripts" / "train_digits_cnn.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_digits_cnn", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def photograph(size: int = 128) -> np.ndarray:
    """Grace Hopper (matplotlib's sample photograph) in grey, size x size, pixels in [0, 1]."""
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        grey = image.convert("L").resize((size, size), Image.BILINEAR)
    return np.asarray(grey, dtype=np.float64) / 255


def test_the_shipped_file_is_small_float32_and_loads_in_eval_mode():
    assert WEIGHTS.stat().st_size < 1_000_000
    with np.load(WEIGHTS) as archive:
        assert all(archive[name].dtype == np.float32 for name in archive.files
                   if name != "metadata")
    model, record = digits_cnn()
    assert isinstance(model, DigitsCNN) and not model.training
    assert all(not layer.training for layer in model.features)
    assert record.sha256 == WEIGHTS_SHA256 and record.architecture == "DigitsCNN"
    assert 0 < record.std < 1 and 0 < record.mean < 0.5
    assert model.fc.weight.dtype == np.float32
    assert sum(p.size for p in model.parameters()) == 61_050
    model64, _ = digits_cnn(np.float64)
    assert model64.features[0].weight.dtype == np.float64
    np.testing.assert_array_equal(model64.fc.weight.data, model.fc.weight.data)


def test_a_tampered_copy_is_refused_naming_the_file_and_both_hashes(tmp_path):
    copy = tmp_path / "digits_cnn.npz"
    shutil.copy(WEIGHTS, copy)
    digits_cnn(path=copy)                                   # the intact copy loads
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"{tmp_path}.*digits_cnn\.npz has sha256 "
                                         rf"[0-9a-f]{{64}}, but {WEIGHTS_SHA256} was recorded"):
        digits_cnn(path=copy)
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        digits_cnn(path=tmp_path / "missing.npz")


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path):
    from deepglossary.data.fashion import write_npz

    with np.load(WEIGHTS) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["fc.weight"] = arrays["fc.weight"][:, :32]
    path = tmp_path / "bad.npz"
    digest = write_npz(path, **arrays)
    with pytest.raises(ValueError, match=r"fc.weight: the model's shape is \(10, 64\)"):
        digits_cnn(path=path, expected_sha256=digest)
    del arrays["fc.weight"]
    digest = write_npz(path, **arrays)
    with pytest.raises(ValueError, match=r"model only \['fc.weight'\]"):
        digits_cnn(path=path, expected_sha256=digest)


def test_the_recorded_test_accuracy_is_reproduced():
    model, record = digits_cnn()
    data = mnist(dtype=np.float32)
    x = record.preprocess(data.x_test)
    assert x.shape == (1000, 1, 28, 28) and x.dtype == np.float32
    measured = accuracy(model, x, data.y_test)
    assert abs(measured - record.test_accuracy) <= 0.001
    assert measured >= 0.97
    untrained = digits_cnn_untrained().eval()           # a net that knows nothing is at chance
    assert accuracy(untrained, x, data.y_test) < 0.3


def test_the_file_records_what_the_script_does():
    script = load_script()
    with np.load(WEIGHTS) as archive:
        meta = json.loads(str(archive["metadata"]))
    assert meta["seed"] == script.SEED and meta["epochs"] == script.EPOCHS
    assert meta["steps"] == script.EPOCHS * -(-4000 // script.BATCH_SIZE)
    data = mnist(dtype=np.float32)
    assert meta["mean"] == pytest.approx(float(data.x_train.mean()), rel=1e-6)
    assert meta["std"] == pytest.approx(float(data.x_train.std()), rel=1e-6)


def test_the_training_script_is_deterministic(tmp_path):
    script = load_script()
    runs = [script.train(max_steps=1, progress=False) for _ in range(2)]
    (first, meta), (second, _) = runs
    assert meta["steps"] == 1
    fresh = state_dict(digits_cnn_untrained(seed=int(np.random.default_rng(0).integers(2**31))))
    before, _ = script.train(max_steps=0, progress=False)        # the initialisation it uses
    for name, value in state_dict(before).items():
        np.testing.assert_array_equal(value, fresh[name], err_msg=name)
    moved = 0
    for name, value in state_dict(first).items():
        np.testing.assert_array_equal(value, state_dict(second)[name], err_msg=name)
        moved += not np.array_equal(value, fresh[name])
    assert moved == len(fresh)                       # the step changed every array
    digests = [script.save(model, m, tmp_path / f"{i}.npz") for i, (model, m) in enumerate(runs)]
    assert digests[0] == digests[1]
    other, _ = script.train(seed=1, max_steps=1, progress=False)
    assert not np.array_equal(state_dict(other)["fc.weight"], state_dict(first)["fc.weight"])


def test_the_shifted_training_images_move_as_a_whole():
    script = load_script()
    images = np.zeros((3, 1, 28, 28), dtype=np.float32)
    images[:, 0, 10:14, 12:16] = 1
    out = script.shifted(images, np.random.default_rng(0), 2)
    assert out.shape == images.shape
    for a, b in zip(images, out):
        assert b.sum() == a.sum()                       # the square moved, none of it lost
        rows, cols = np.nonzero(b[0])
        assert 8 <= rows.min() <= 12 and 10 <= cols.min() <= 14


def test_the_architecture_untrained_and_its_stages():
    a, b = digits_cnn_untrained(seed=3), digits_cnn_untrained(seed=3)
    pretrained, _ = digits_cnn()
    assert a.training
    assert {k: v.shape for k, v in state_dict(a).items()} == \
        {k: v.shape for k, v in state_dict(pretrained).items()}
    for name, value in state_dict(a).items():
        np.testing.assert_array_equal(value, state_dict(b)[name])
    assert digits_cnn_untrained(num_classes=4).fc.weight.shape == (4, 64)
    assert len(a.features) == len(DigitsCNN.STAGES)
    for name, layer in zip(DigitsCNN.STAGES, a.features):
        kind = {"conv": nn.Conv2d, "bn": nn.BatchNorm, "relu": nn.ReLU, "pool": nn.MaxPool2d}
        assert isinstance(layer, kind[name.rstrip("1234")])
    head = pretrained.until("relu2")
    assert head[0] is pretrained.features[0] and len(head) == pretrained.stage("relu2") + 1
    x = np.zeros((2, 1, 28, 28), dtype=np.float32)
    assert head(x).shape == (2, 32, 14, 14)
    assert pretrained.until("relu4")(x).shape == (2, 64, 3, 3)
    with pytest.raises(ValueError, match="no stage 'relu5'"):
        pretrained.until("relu5")


def test_wrong_inputs_are_refused_with_the_expected_shape():
    model, record = digits_cnn()
    for shape in [(1, 3, 32, 32), (1, 1, 7, 64), (28, 28)]:
        with pytest.raises(ValueError, match=r"\(N, 1, H, W\) with H, W >= 8"):
            model(np.zeros(shape, dtype=np.float32))
    with pytest.raises(ValueError, match="preprocess expects"):
        record.preprocess(np.zeros((2, 3, 28, 28)))
    assert record.preprocess(np.zeros((40, 50))).shape == (1, 1, 40, 50)
    assert record.preprocess(np.zeros((2, 40, 50))).shape == (2, 1, 40, 50)


def test_a_photograph_passes_and_its_input_gradient_matches_torch():
    from deepglossary.twins.digits_cnn import digits_cnn as twin
    from deepglossary.verify import against_torch

    model, record = digits_cnn()
    x = record.preprocess(photograph(128))
    assert x.shape == (1, 1, 128, 128) and x.dtype == np.float32
    assert model(x).shape == (1, 10)
    report = against_torch(model, twin(), x)              # raises on any mismatch
    assert any(row.quantity == "grad input" for row in report.rows)
    model64, _ = digits_cnn(np.float64)
    against_torch(model64, twin(), record.preprocess(photograph(64), dtype=np.float64))
    del model, model64, report
    gc.collect()


def test_importing_these_modules_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, deepglossary.pretrained, deepglossary.twins.digits_cnn, "
            "deepglossary.data.fashion; assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
