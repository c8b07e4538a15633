"""Data sets the chapters train on. Everything here works offline: generated, or shipped with
the package (provenance and licences in ``README.md`` beside this file)."""

from deepglossary.data.fashion import FashionMNIST, fashion_mnist
from deepglossary.data.mnist import MNIST, mnist, read_idx
from deepglossary.data.toy import two_moons, xor

__all__ = ["MNIST", "mnist", "read_idx", "two_moons", "xor"]
__all__ += ["FashionMNIST", "fashion_mnist"]
from deepglossary.data.text import TextCorpus, text_corpus  # noqa: E402

__all__ += ["TextCorpus", "text_corpus"]
