"""One seeded random generator that the whole package draws from.

``deepglossary.seed(0)`` at the top of a notebook makes every weight initialisation and every
random draw that does not name its own generator repeat exactly from run to run.
"""

import numpy as np

_rng = np.random.default_rng(0)


def seed(value: int) -> np.random.Generator:
    """Reset the package's generator to ``value``; returns it."""
    global _rng
    _rng = np.random.default_rng(value)
    return _rng


def default_rng(rng: np.random.Generator | None = None) -> np.random.Generator:
    """``rng`` when one is given, else the package's seeded generator."""
    return _rng if rng is None else rng
