"""Principal angles between subspaces: how the linear autoencoder is compared with PCA."""

from __future__ import annotations

import numpy as np


def principal_angles(a, b) -> np.ndarray:
    """The principal angles (radians, ascending) between the column spaces of ``a`` (D, k)
    and ``b`` (D, l), min(k, l) of them; 0 everywhere: the same subspace.

    Orthonormalise both by QR (Qa, Qb). The cosines of the angles are the singular values of
    Qa^T Qb (Bjorck and Golub, 1973), but arccos of a cosine near 1 resolves no angle below
    about 1e-8; their sines are the singular values of the part of Qb outside Qa's span,
    Qb - Qa Qa^T Qb, and arcsin is accurate there. Angles below pi/4 come from the sines,
    the others from the cosines, as ``scipy.linalg.subspace_angles`` does (which returns them
    in descending order).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"principal_angles expects two matrices (D, k) and (D, l) with the "
                         f"same D, got shapes {a.shape} and {b.shape}")
    if a.shape[1] < b.shape[1]:
        a, b = b, a                                                  # a has more columns
    qa, qb = np.linalg.qr(a)[0], np.linalg.qr(b)[0]                  # (D, k), (D, l), k >= l
    overlap = qa.T @ qb                                              # (k, l)
    cosines = np.linalg.svd(overlap, compute_uv=False)               # (l,) descending
    sines = np.linalg.svd(qb - qa @ overlap, compute_uv=False)[::-1] # (l,) ascending
    small = cosines**2 >= 0.5                                        # angle <= pi/4
    return np.where(small, np.arcsin(np.clip(sines, 0.0, 1.0)),
                    np.arccos(np.clip(cosines, -1.0, 1.0)))
