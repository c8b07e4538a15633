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


def default_rng(rng: np.random.Generator | int | None = None) -> np.random.Generator:
    """``rng`` when a Generator is given, a new one seeded with it when an int is given (as
    ``np.random.default_rng`` does), else the package's seeded generator."""
    if rng is None:
        return _rng
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {rng!r}")
