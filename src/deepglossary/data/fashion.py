"""Fashion-MNIST, Zalando's 28x28 grey photographs of clothes: a real 6,000-image subset shipped
with the package, balanced over the ten classes.

    data = fashion_mnist()         # offline: 5,000 training and 1,000 test images
    data.x_train.shape             # (5000, 784), float64 in [0, 1]
    data.classes[data.y_train[0]]  # "Ankle boot", ...

The images come from the original IDX files of the Debian package ``dataset-fashion-mnist``
(provenance, checksums and licence in ``README.md`` beside this file); ``build_subset`` is the
code that made the shipped file from them.
"""

from __future__ import annotations

import gzip
import hashlib
import pathlib
import zipfile
from dataclasses import dataclass

import numpy as np

from deepglossary.data.files import checked_file
from deepglossary.data.mnist import MNIST, read_idx, sha256

SHIPPED = pathlib.Path(__file__).with_name("fashion_mnist_6k.npz")
SHIPPED_SHA256 = "f0805d904dc72bc4a0e4c8f9256a7ed6824aa42ab5b4117a4409d13302e6b763"

# Label i is CLASSES[i], as the upstream README lists them.
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot")

# The four original IDX files, decompressed: sha256 of their contents (the Debian package's
# .gz files were recompressed, so their own checksums differ from upstream's; the contents
# do not).
IDX_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DEBIAN_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")


@dataclass(repr=False)
class FashionMNIST(MNIST):
    """An :class:`~deepglossary.data.MNIST` (``x_train``, ``y_train``, ``x_test``, ``y_test``,
    ``source``) with the class names: label ``i`` is ``classes[i]``."""

    classes: tuple = CLASSES

    def __repr__(self) -> str:
        return (f"FashionMNIST({self.source}: {len(self.y_train):,} training and "
                f"{len(self.y_test):,} test images, images {self.x_train.shape[1:]} "
                f"{self.x_train.dtype})")


def write_npz(path, **arrays) -> str:
    """Write ``arrays`` as a compressed ``.npz`` that ``np.load`` reads, byte for byte the same
    every time (``np.savez_compressed`` stamps each member with the current time, so its file's
    sha256 changes from run to run). Returns the file's sha256."""
    path = pathlib.Path(path)
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
    return sha256(path)


def _read_checked(directory: pathlib.Path, name: str, checksums: dict) -> np.ndarray:
    """The IDX file ``name`` (or ``name.gz``) of ``directory``, its contents' sha256 checked."""
    for candidate in (directory / name, directory / (name + ".gz")):
        if candidate.exists():
            break
    else:
        raise FileNotFoundError(f"{directory} holds neither {name} nor {name}.gz")
    opener = gzip.open if candidate.suffix == ".gz" else open
    with opener(candidate, "rb") as f:
        got = hashlib.sha256(f.read()).hexdigest()
    if got != checksums[name]:
        raise ValueError(f"{candidate}: the decompressed contents have sha256 {got}, expected "
                         f"{checksums[name]}")
    return read_idx(candidate)


def build_subset(directory=DEBIAN_DIR, path=SHIPPED, *, train_per_class: int = 500,
                 test_per_class: int = 100, seed: int = 0, checksums=None) -> str:
    """Make the shipped subset from the four original IDX files in ``directory`` (gzipped or
    not; by default where Debian's ``dataset-fashion-mnist`` puts them), each checked against
    ``checksums`` (default ``IDX_SHA256``). Draws ``train_per_class`` images of each class from
    the training file and ``test_per_class`` from the test file, without replacement, with
    ``np.random.default_rng(seed)``, keeps them in their original order, and writes them with
    their indices in the original files to ``path``. Returns the written file's sha256.
    """
    directory = pathlib.Path(directory)
    checksums = IDX_SHA256 if checksums is None else checksums
    x_train, y_train, x_test, y_test = (_read_checked(directory, name, checksums)
                                        for name in IDX_SHA256)
    rng = np.random.default_rng(seed)

    def pick(labels, per_class, part):
        counts = np.bincount(labels, minlength=10)
        if len(counts) != 10 or counts.min() < per_class:
            raise ValueError(f"the {part} file has {counts.tolist()} images per class; "
                             f"{per_class} of each of 10 classes were asked for")
        chosen = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
                  for c in range(10)]
        return np.sort(np.concatenate(chosen))

    train, test = pick(y_train, train_per_class, "training"), pick(y_test, test_per_class, "test")
    return write_npz(path, x_train=x_train[train], y_train=y_train[train],
                     x_test=x_test[test], y_test=y_test[test],
                     train_index=train.astype(np.int32), test_index=test.astype(np.int32))


def fashion_mnist(*, flatten: bool = True, dtype=np.float64, path=None,
                  expected_sha256: str | None = None) -> FashionMNIST:
    """Fashion-MNIST images as a :class:`FashionMNIST` of training and test arrays, offline.

    The shipped subset: 5,000 training images (500 of each class, from the original training
    file) and 1,000 test images (100 of each class, from the original test file), in their
    original order. Labels are int64 in 0..9; ``classes`` names them.

    Args:
        flatten: images as rows of 784 pixels (default) or as (28, 28) arrays.
        dtype: a floating dtype for the images scaled to [0, 1] (float64 by default, or
            float32, float16), or ``np.uint8`` for the raw 0..255; any other dtype is refused
            with ``TypeError``.
        path, expected_sha256: another file of the same layout and its sha256 (tests use
            them); by default the shipped file and its recorded sha256.

    Raises ``ValueError`` when the file's sha256 is not the expected one.
    """
    dtype = np.dtype(dtype)
    if not (np.issubdtype(dtype, np.floating) or dtype == np.uint8):
        raise TypeError(f"fashion_mnist: dtype must be a floating dtype (images scaled to "
                        f"[0, 1]) or np.uint8 (raw 0..255), got {dtype}")
    path = checked_file(path, SHIPPED, SHIPPED_SHA256, expected_sha256)
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in ("x_train", "y_train", "x_test", "y_test")}

    def prepare(x):
        x = x.reshape(len(x), -1) if flatten else x
        return x.copy() if dtype == np.uint8 else x.astype(dtype) / dtype.type(255)

    return FashionMNIST(prepare(arrays["x_train"]), arrays["y_train"].astype(np.int64),
                        prepare(arrays["x_test"]), arrays["y_test"].astype(np.int64),
                        "6,000-image Fashion-MNIST subset shipped with deepglossary")
