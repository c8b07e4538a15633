"""Checkers for the exercises of the part "Training deep networks"."""

import numpy as np

from deepglossary.exercises import compare, passed


def check_dropout(dropout, cases: int = 7):
    """``dropout(x, p, rng)`` returns ``(y, keep)``: inverted dropout of the array ``x`` with drop
    probability ``p``, drawing the boolean keep-mask ``keep`` (x's shape) from the NumPy
    generator ``rng``. Checked: the shape and dtype of y (float32 stays float32), y = x keep / (1-p)
    exactly, x left unchanged (no in-place update), p = 0 (the identity) and p = 1 (all zeros,
    no NaN), a batch of one and odd shapes, and, over a million entries, the fraction kept and
    the independence of the entries."""
    rng = np.random.default_rng(30)
    big = (1000, 1000)                                   # for the statistical checks
    settings = [(0.0, np.float64, (1, 7)), (1.0, np.float64, (3, 5, 2)), (0.5, np.float32, (4,)),
                (0.3, np.float64, (1, 7)), (0.9, np.float32, (3, 5, 2)), (0.5, np.float64, big),
                (0.2, np.float32, big)]
    for k, (p, dtype, shape) in enumerate(settings[:cases]):
        x = (rng.standard_normal(shape) * 1000).astype(dtype)
        case = f"p = {p}, x of shape {shape} and dtype {np.dtype(dtype).name}"
        original = x.copy()
        y, keep = dropout(x, p, np.random.default_rng(k))
        if not np.array_equal(x, original):
            raise AssertionError(f"the input x was changed ({case}): dropout must return a new "
                                 "array and leave its input alone (no x *= ...)")
        y, keep = np.asarray(y), np.asarray(keep)
        if y.dtype != x.dtype:
            raise AssertionError(f"output dtype {y.dtype}, expected {x.dtype} ({case}): "
                                 "compute the scale in x's dtype")
        if keep.shape != x.shape or keep.dtype != bool:
            raise AssertionError(f"keep must be a boolean array of x's shape {x.shape}, got "
                                 f"{keep.dtype} {keep.shape} ({case})")
        if not np.all(np.isfinite(y)):
            raise AssertionError(f"non-finite output ({case}): with p = 1 there is no 1/(1-p)")
        expected = np.zeros_like(x) if p == 1.0 else np.where(keep, x / dtype(1 - p), 0)
        compare("output", y, expected, case=case, rtol=1e-6 if dtype == np.float32 else 1e-12,
                atol=0)
        n = keep.size
        if p in (0.0, 1.0):
            if keep.mean() != 1 - p:
                raise AssertionError(f"with p = {p} the kept fraction must be {1 - p} ({case})")
            continue
        if n >= 10**6:
            bound = 5 * np.sqrt(p * (1 - p) / n)               # five binomial standard errors
            if abs(keep.mean() - (1 - p)) > bound:
                raise AssertionError(f"kept fraction {keep.mean():.4f}, expected {1 - p} "
                                     f"+- {bound:.4f} ({case})")
            flat = keep.reshape(keep.shape[0], -1).astype(float)
            rows = np.corrcoef(flat[:, 0], flat[:, 1])[0, 1]     # two units, over examples
            cols = np.corrcoef(flat[0], flat[1])[0, 1]           # two examples, over units
            second, _ = dropout(x.copy(), p, np.random.default_rng(k + 100))
            calls = np.corrcoef(keep.ravel(), np.asarray(second).ravel() != 0)[0, 1]
            for what, corr, m in (("two units", rows, flat.shape[0]),
                                  ("two examples", cols, flat.shape[1]), ("two calls", calls, n)):
                if not abs(corr) < 5 / np.sqrt(m):
                    raise AssertionError(f"the masks of {what} are correlated ({corr:.3f}): "
                                         f"draw every entry independently ({case})")
    return passed("dropout", cases)
