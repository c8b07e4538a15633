"""MNIST, the handwritten digits: a real 5,000-digit subset shipped with the package, and the
full 70,000 downloaded on request, checked and parsed from the original IDX files.

    data = mnist()                 # offline: 4,000 training and 1,000 test digits
    data = mnist(full=True)        # online once: 60,000 + 10,000, cached afterwards
    data.x_train.shape             # (4000, 784), float64 in [0, 1]
"""

from __future__ import annotations

import gzip
import http.client
import os
import pathlib
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass

import numpy as np

from deepglossary.data.files import sha256  # noqa: F401  (re-exported: scripts import it from here)

SHIPPED = pathlib.Path(__file__).with_name("mnist_5k.npz")
SHIPPED_SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"

# The original files, with the sha256 sums published for them by TensorFlow and PyTorch.
FILES = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = ("https://storage.googleapis.com/cvdf-datasets/mnist/",
           "https://ossci-datasets.s3.amazonaws.com/mnist/")
DEFAULT_CACHE = pathlib.Path(os.environ.get("DEEPGLOSSARY_CACHE",
                                            pathlib.Path.home() / ".cache" / "deepglossary"))

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass
class MNIST:
    """Images as rows (N, 784) (or (N, 28, 28) with ``flatten=False``), labels (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def __repr__(self) -> str:
        return (f"MNIST({self.source}: {len(self.y_train):,} training and "
                f"{len(self.y_test):,} test digits, images {self.x_train.shape[1:]} "
                f"{self.x_train.dtype})")


def read_idx(path) -> np.ndarray:
    """Parse an IDX file (gzipped or not): the format the MNIST files are stored in.

    Header: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
    then each dimension as a big-endian 32-bit integer; then the data, row-major.
    """
    path = pathlib.Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile) as err:     # a truncated or non-gzip .gz file
        raise ValueError(f"{path.name} is not a readable gzip file: {err}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path.name} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    body = raw[4 + 4 * ndim:]
    if len(body) != int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(f"{path.name}: header promises shape {shape}, but the file holds "
                         f"{len(body)} bytes of data")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def download(name: str, cache_dir: pathlib.Path, mirrors=MIRRORS, checksums=None) -> pathlib.Path:
    """The cached file ``name``, downloaded first if needed; its sha256 always checked.

    A cached file that fails the check is removed and fetched again. The mirrors are tried in
    order: one that cannot be reached, has a malformed URL or serves a file that fails the
    check is skipped (a failed file is deleted, never used, and no ``*.part`` file is left).
    When every mirror fails: ``ValueError`` if one of them served a corrupted file, else
    ``ConnectionError``; the message lists what each mirror did.
    """
    checksums = FILES if checksums is None else checksums
    if name not in checksums:
        raise ValueError(f"no sha256 checksum is known for {name!r}; checksums has "
                         f"{sorted(checksums)}")
    if isinstance(mirrors, str):
        mirrors = (mirrors,)                # one URL, not a sequence of one-letter mirrors
    if not mirrors:
        raise ValueError(f"no mirror to download {name} from")
    expected = checksums[name]
    target = cache_dir / name
    if target.exists():
        if sha256(target) == expected:
            return target
        target.unlink()   # a truncated or altered cache entry: fetch it again
    errors, corrupted = [], False
    for mirror in mirrors:
        url = str(mirror).rstrip("/") + "/" + name     # a base URL, with or without its "/"
        with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False, suffix=".part") as tmp:
            part = pathlib.Path(tmp.name)
        try:
            try:
                with urllib.request.urlopen(url, timeout=60) as response, \
                        open(part, "wb") as out:
                    shutil.copyfileobj(response, out)
            except (OSError, ValueError, http.client.HTTPException) as err:
                errors.append(f"{url}: {type(err).__name__}: {err}")
                continue
            got = sha256(part)
            if got != expected:
                corrupted = True
                errors.append(f"{url}: corrupted download of {name}: sha256 {got}, expected "
                              f"{expected}; the file was deleted and not used")
                continue
            part.replace(target)
            return target
        finally:
            part.unlink(missing_ok=True)
    message = f"could not download {name} from any mirror:\n  " + "\n  ".join(errors)
    raise (ValueError if corrupted else ConnectionError)(message)


def _shipped() -> tuple[np.ndarray, ...]:
    if sha256(SHIPPED) != SHIPPED_SHA256:
        raise ValueError(f"{SHIPPED} does not match its recorded sha256: reinstall the package")
    with np.load(SHIPPED) as archive:
        images, labels = archive["images"], archive["labels"].astype(np.int64)
    # a stratified split, the same every time: 400 training and 100 test digits per class
    rng = np.random.default_rng(0)
    train, test = [], []
    for digit in range(10):
        index = rng.permutation(np.flatnonzero(labels == digit))
        train.append(index[:400])
        test.append(index[400:])
    train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    return images[train], labels[train], images[test], labels[test]


def mnist(*, full: bool = False, cache_dir=None, flatten: bool = True, dtype=np.float64,
          mirrors=MIRRORS, checksums=None) -> MNIST:
    """MNIST digits as an :class:`MNIST` of training and test arrays.

    Args:
        full: False (default): the 5,000 digits shipped with the package, split 4,000 / 1,000,
            offline. True: the original 60,000 / 10,000, downloaded once into ``cache_dir``.
        cache_dir: where the full files are kept; it must exist. Default
            ``~/.cache/deepglossary/mnist`` (created), or ``$DEEPGLOSSARY_CACHE/mnist``.
        flatten: images as rows of 784 pixels (default) or as (28, 28) arrays.
        dtype: a floating dtype for the images scaled to [0, 1] (float64 by default, or
            float32, float16), or ``np.uint8`` for the raw 0..255; any other dtype (an integer
            dtype would lose the scaling or wrap) is refused with ``TypeError``.
        mirrors, checksums: base URLs and sha256 sums of the four files (tests point these at
            local files).
    """
    dtype = np.dtype(dtype)
    if not (np.issubdtype(dtype, np.floating) or dtype == np.uint8):
        raise TypeError(f"mnist: dtype must be a floating dtype (images scaled to [0, 1]) or "
                        f"np.uint8 (raw 0..255), got {dtype}")
    if full:
        if cache_dir is None:
            cache_dir = DEFAULT_CACHE / "mnist"
            cache_dir.mkdir(parents=True, exist_ok=True)
        cache_dir = pathlib.Path(cache_dir)
        if not cache_dir.is_dir():
            raise FileNotFoundError(f"MNIST cache directory {cache_dir} does not exist; create it "
                                    "or leave cache_dir out to use the default")
        arrays = [read_idx(download(name, cache_dir, mirrors, checksums)) for name in FILES]
        x_train, y_train, x_test, y_test = arrays
        y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
        for x, y, part in ((x_train, y_train, "training"), (x_test, y_test, "test")):
            if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or x.shape[1:] != (28, 28):
                raise ValueError(f"MNIST {part} files disagree: images {x.shape}, labels {y.shape}")
            if x.dtype != np.uint8:
                raise ValueError(f"MNIST {part} images must be unsigned bytes, got {x.dtype}")
            if len(y) and (y.min() < 0 or y.max() > 9):
                raise ValueError(f"MNIST {part} labels must be digits 0..9, got values in "
                                 f"[{y.min()}, {y.max()}]")
        source = f"full MNIST from {cache_dir}"
    else:
        x_train, y_train, x_test, y_test = _shipped()
        source = "5,000-digit subset shipped with deepglossary"

    def prepare(x):
        x = x.reshape(len(x), -1) if flatten else x
        return x.copy() if dtype == np.uint8 else x.astype(dtype) / dtype.type(255)

    return MNIST(prepare(x_train), y_train, prepare(x_test), y_test, source)
