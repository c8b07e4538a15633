"""Fashion-MNIST: the shipped subset, its checks, and the code that built it."""

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from deepglossary.data import MNIST, FashionMNIST, fashion_mnist
from deepglossary.data.fashion import CLASSES, IDX_SHA256, SHIPPED, build_subset, write_npz


def test_shipped_subset_shapes_dtypes_and_balance():
    data = fashion_mnist()
    assert isinstance(data, FashionMNIST) and isinstance(data, MNIST)
    assert data.x_train.shape == (5000, 784) and data.x_test.shape == (1000, 784)
    assert data.x_train.dtype == np.float64 and data.y_train.dtype == np.int64
    assert data.x_train.min() == 0 and data.x_train.max() == 1
    for labels, per_class in ((data.y_train, 500), (data.y_test, 100)):
        assert labels.min() == 0 and labels.max() == 9
        assert (np.bincount(labels, minlength=10) == per_class).all()
    assert data.classes == CLASSES and len(data.classes) == 10
    assert data.classes[1] == "Trouser" and data.classes[9] == "Ankle boot"
    assert "5,000 training" in repr(data)


def test_raw_bytes_and_images_agree_across_dtypes_and_layouts():
    raw = fashion_mnist(dtype=np.uint8, flatten=False)
    assert raw.x_train.dtype == np.uint8 and raw.x_train.shape == (5000, 28, 28)
    assert raw.x_train.max() == 255                       # real photographs, full range
    data32 = fashion_mnist(dtype=np.float32)
    assert data32.x_test.dtype == np.float32
    np.testing.assert_allclose(data32.x_test, raw.x_test.reshape(1000, -1) / 255, rtol=1e-6)
    np.testing.assert_array_equal(data32.y_test, raw.y_test)


def test_the_archive_records_where_each_image_came_from():
    with np.load(SHIPPED) as archive:
        for part, size, total in (("train", 5000, 60000), ("test", 1000, 10000)):
            index = archive[f"{part}_index"]
            assert len(index) == size and len(np.unique(index)) == size
            assert (np.diff(index) > 0).all() and index.min() >= 0 and index.max() < total


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.int8, bool, np.complex128])
def test_non_float_dtypes_are_refused(dtype):
    with pytest.raises(TypeError, match="floating dtype .* or np.uint8"):
        fashion_mnist(dtype=dtype)


def test_a_tampered_copy_fails_its_sha256(tmp_path):
    copy = tmp_path / "fashion.npz"
    shutil.copy(SHIPPED, copy)
    assert fashion_mnist(path=copy).x_train.shape == (5000, 784)    # the intact copy loads
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01                                     # one bit in the middle
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"fashion\.npz has sha256 [0-9a-f]{64}, but "
                                         r"f0805d90[0-9a-f]{56} was recorded"):
        fashion_mnist(path=copy)


def write_idx_gz(path, array):
    raw = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape) + array.astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as f:
        f.write(raw)
    return hashlib.sha256(raw).hexdigest()


@pytest.fixture
def idx_dir(tmp_path):
    """Four small IDX files laid out as Debian ships them, and their contents' sha256."""
    rng = np.random.default_rng(1)
    site = tmp_path / "idx"
    site.mkdir()
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (80, 28, 28)),
              "train-labels-idx1-ubyte": np.repeat(np.arange(10), 8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28)),
              "t10k-labels-idx1-ubyte": np.tile(np.arange(10), 3)}
    sums = {name: write_idx_gz(site / (name + ".gz"), a) for name, a in arrays.items()}
    return site, sums, arrays


def test_build_subset_is_balanced_traceable_and_reproducible(tmp_path, idx_dir):
    site, sums, arrays = idx_dir
    out = tmp_path / "subset.npz"
    digest = build_subset(site, out, train_per_class=3, test_per_class=2, checksums=sums)
    assert build_subset(site, tmp_path / "again.npz", train_per_class=3, test_per_class=2,
                        checksums=sums) == digest                      # byte for byte
    data = fashion_mnist(path=out, expected_sha256=digest, dtype=np.uint8, flatten=False)
    assert (np.bincount(data.y_train) == 3).all() and (np.bincount(data.y_test) == 2).all()
    with np.load(out) as archive:
        index = archive["train_index"]
    np.testing.assert_array_equal(data.x_train, arrays["train-images-idx3-ubyte"][index])
    np.testing.assert_array_equal(data.y_train, arrays["train-labels-idx1-ubyte"][index])
    other = build_subset(site, tmp_path / "seed1.npz", train_per_class=3, test_per_class=2,
                         checksums=sums, seed=1)
    assert other != digest                                             # the seed matters


def test_build_subset_refuses_altered_files_and_impossible_requests(tmp_path, idx_dir):
    site, sums, _ = idx_dir
    with pytest.raises(ValueError, match=r"training file has \[8, 8.*9 of each of 10 classes"):
        build_subset(site, tmp_path / "x.npz", train_per_class=9, checksums=sums)
    wrong = dict(sums, **{"t10k-labels-idx1-ubyte": "0" * 64})
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz: the decompressed"):
        build_subset(site, tmp_path / "x.npz", train_per_class=3, test_per_class=2,
                     checksums=wrong)
    with pytest.raises(FileNotFoundError, match="neither"):
        build_subset(tmp_path, tmp_path / "x.npz")
    assert set(IDX_SHA256) == set(sums)


def test_write_npz_round_trips_and_repeats_its_bytes(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array("text")}
    first = write_npz(tmp_path / "1.npz", **arrays)
    assert write_npz(tmp_path / "2.npz", **arrays) == first
    assert write_npz(tmp_path / "3.npz", a=arrays["a"] + 1, b=arrays["b"]) != first
    with np.load(tmp_path / "1.npz") as archive:
        np.testing.assert_array_equal(archive["a"], arrays["a"])
        assert str(archive["b"]) == "text"
