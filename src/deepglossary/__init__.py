"""Deep Learning Glossary, from scratch: the NumPy package the book's chapters share.

The package is NumPy only. PyTorch appears in :mod:`deepglossary.verify` alone, imported
lazily there, so ``import deepglossary`` never imports torch.
"""

from deepglossary.random import default_rng, seed

__version__ = "0.1.0"
__all__ = ["default_rng", "seed", "__version__"]
