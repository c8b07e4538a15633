"""MNIST: the shipped subset, and the download path exercised against local files."""

import gzip
import hashlib

import numpy as np
import pytest

from deepglossary.data import mnist, read_idx
from deepglossary.data.mnist import FILES


def test_shipped_subset_is_real_balanced_and_split():
    data = mnist()
    assert data.x_train.shape == (4000, 784) and data.x_test.shape == (1000, 784)
    assert data.x_train.min() == 0 and data.x_train.max() == 1
    assert (np.bincount(data.y_train) == 400).all() and (np.bincount(data.y_test) == 100).all()
    train_images = {row.tobytes() for row in data.x_train}
    assert not any(row.tobytes() in train_images for row in data.x_test), "split overlaps"
    raw = mnist(dtype=np.uint8, flatten=False)
    assert raw.x_train.dtype == np.uint8 and raw.x_train.shape == (4000, 28, 28)
    np.testing.assert_array_equal(raw.x_train.reshape(4000, -1) / 255, data.x_train)


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def mirror(tmp_path):
    """A local 'mirror' holding the four files, built from the shipped digits."""
    raw = mnist(dtype=np.uint8, flatten=False)
    site = tmp_path / "mirror"
    site.mkdir()
    arrays = {"train-images-idx3-ubyte.gz": raw.x_train[:300],
              "train-labels-idx1-ubyte.gz": raw.y_train[:300],
              "t10k-images-idx3-ubyte.gz": raw.x_test[:50],
              "t10k-labels-idx1-ubyte.gz": raw.y_test[:50]}
    sums = {}
    for name, array in arrays.items():
        write_idx(site / name, array)
        sums[name] = hashlib.sha256((site / name).read_bytes()).hexdigest()
    return site, sums, raw


def test_full_download_checks_caches_and_parses(tmp_path, mirror):
    site, sums, raw = mirror
    cache = tmp_path / "cache"
    cache.mkdir()
    url = site.as_uri() + "/"
    data = mnist(full=True, cache_dir=cache, mirrors=["file:///nonexistent/", url],
                 checksums=sums, dtype=np.uint8, flatten=False)
    np.testing.assert_array_equal(data.x_train, raw.x_train[:300])
    np.testing.assert_array_equal(data.y_test, raw.y_test[:50])
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)
    (site / "t10k-labels-idx1-ubyte.gz").unlink()          # now served from the cache only
    again = mnist(full=True, cache_dir=cache, mirrors=[url], checksums=sums)
    assert again.x_train.shape == (300, 784)


def test_corrupted_download_is_named_and_never_used(tmp_path, mirror):
    site, sums, _ = mirror
    cache = tmp_path / "cache"
    cache.mkdir()
    with gzip.open(site / "train-labels-idx1-ubyte.gz", "ab") as f:
        f.write(b"\x01")                                     # one byte too many
    with pytest.raises(ValueError, match="corrupted download of train-labels.*sha256"):
        mnist(full=True, cache_dir=cache, mirrors=[site.as_uri() + "/"], checksums=sums)
    assert not (cache / "train-labels-idx1-ubyte.gz").exists()
    assert not list(cache.glob("*.part"))


def test_missing_cache_directory_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mnist(full=True, cache_dir=tmp_path / "nope")


def test_read_idx_refuses_non_idx_and_truncated(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"\x00" * 9)
    with pytest.raises(ValueError, match="promises shape"):
        read_idx(short)


def test_a_mirror_without_a_scheme_is_skipped_and_leaves_no_part_file(tmp_path, mirror):
    site, sums, raw = mirror
    cache = tmp_path / "cache"
    cache.mkdir()
    data = mnist(full=True, cache_dir=cache, mirrors=["mnist-mirror/no-scheme/", site.as_uri()],
                 checksums=sums, dtype=np.uint8)
    np.testing.assert_array_equal(data.y_train, raw.y_train[:300])
    assert not list(cache.glob("*.part"))
    cache2 = tmp_path / "cache2"
    cache2.mkdir()
    with pytest.raises(ConnectionError, match="no-scheme.*unknown url type"):
        mnist(full=True, cache_dir=cache2, mirrors=["no-scheme/"], checksums=sums)
    assert not list(cache2.iterdir())


def test_a_corrupted_first_mirror_falls_back_to_the_second(tmp_path, mirror):
    site, sums, raw = mirror
    bad = tmp_path / "bad-mirror"
    bad.mkdir()
    for name in FILES:
        (bad / name).write_bytes((site / name).read_bytes()[:-1])    # truncated, all four
    cache = tmp_path / "cache"
    cache.mkdir()
    data = mnist(full=True, cache_dir=cache, mirrors=[bad.as_uri() + "/", site.as_uri() + "/"],
                 checksums=sums, dtype=np.uint8, flatten=False)
    np.testing.assert_array_equal(data.x_test, raw.x_test[:50])
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)
    cache2 = tmp_path / "cache2"
    cache2.mkdir()
    with pytest.raises(ValueError, match="(?s)corrupted download of train-images.*file:///no"):
        mnist(full=True, cache_dir=cache2, mirrors=[bad.as_uri(), "file:///nonexistent/"],
              checksums=sums)
    assert not list(cache2.iterdir())


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.int8, bool, np.complex128])
def test_non_float_dtypes_are_refused(dtype):
    with pytest.raises(TypeError, match="floating dtype .* or np.uint8"):
        mnist(dtype=dtype)


def test_float_dtypes_are_honoured():
    for dtype in (np.float32, np.float64, np.float16):
        data = mnist(dtype=dtype)
        assert data.x_train.dtype == dtype and data.x_test.dtype == dtype
        assert data.x_train.min() == 0 and data.x_train.max() == 1


def test_out_of_range_labels_in_the_files_are_refused(tmp_path, mirror):
    site, sums, _ = mirror
    labels = np.full(300, 3, dtype=np.uint8)
    labels[17] = 200
    write_idx(site / "train-labels-idx1-ubyte.gz", labels)
    sums["train-labels-idx1-ubyte.gz"] = hashlib.sha256(
        (site / "train-labels-idx1-ubyte.gz").read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="digits 0..9"):
        mnist(full=True, cache_dir=tmp_path, mirrors=[site.as_uri()], checksums=sums)
