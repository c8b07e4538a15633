"""Small data sets the chapters train on. Everything here is generated or shipped offline."""

import numpy as np

from deepglossary.random import default_rng


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four corners of the unit square with the XOR label: X (4, 2), y (4,)."""
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.array([0.0, 1.0, 1.0, 0.0])


def two_moons(n: int = 200, noise: float = 0.1, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, ``n`` points in all: X (n, 2), labels y (n,) in {0, 1}.

    The same construction as scikit-learn's ``make_moons``; ``noise`` is the standard
    deviation of the Gaussian jitter added to every coordinate.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"two_moons needs an integer n >= 2 points, got {n!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"two_moons: noise must be a finite number >= 0, got {noise}")
    rng = default_rng(rng)
    n_top = n // 2
    t_top = np.linspace(0, np.pi, n_top)
    t_bottom = np.linspace(0, np.pi, n - n_top)
    x = np.concatenate([np.c_[np.cos(t_top), np.sin(t_top)],
                        np.c_[1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)]])
    y = np.r_[np.zeros(n_top), np.ones(n - n_top)]
    x = x + rng.normal(0, noise, size=x.shape)
    order = rng.permutation(n)
    return x[order], y[order]
