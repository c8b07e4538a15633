"""The Deep Dream chapter's checkers accept right answers (the package's own among them) and
reject the naive ones their docstrings name."""

import numpy as np
import pytest

from deepglossary import dream
from deepglossary.exercises import dream as checks


def step_right(image, grad, step_size):
    return dream.normalized_step(image, grad, step_size)


def step_no_normalisation(image, grad, step_size):
    return np.clip(image + step_size * grad, 0, 1)


def step_by_max(image, grad, step_size):
    return np.clip(image + step_size * grad / (np.abs(grad).max() + 1e-8), 0, 1)


def step_by_norm(image, grad, step_size):
    return np.clip(image + step_size * grad / (np.linalg.norm(grad) + 1e-8), 0, 1)


def step_no_clip(image, grad, step_size):
    return image + step_size * grad / (np.abs(grad).mean() + 1e-8)


def step_no_eps(image, grad, step_size):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(image + step_size * grad / np.abs(grad).mean(), 0, 1)


def step_descent(image, grad, step_size):
    return np.clip(image - step_size * grad / (np.abs(grad).mean() + 1e-8), 0, 1)


def step_in_place(image, grad, step_size):
    image += step_size * grad / (np.abs(grad).mean() + 1e-8)
    np.clip(image, 0, 1, out=image)
    return image


def step_float64(image, grad, step_size):
    return np.clip(image.astype(np.float64) + step_size * grad / (np.abs(grad).mean() + 1e-8),
                   0, 1)


def step_no_cast(image, grad, step_size):
    """Right but for the dtype: a float32 image plus a float64 gradient stays float64."""
    return np.clip(image + step_size * grad / (np.abs(grad).mean() + 1e-8), 0, 1)


def test_normalized_step_checker():
    checks.check_normalized_step(step_right)
    for wrong in (step_no_normalisation, step_by_max, step_by_norm, step_no_clip, step_no_eps,
                  step_descent, step_in_place, step_float64, step_no_cast):
        with pytest.raises(AssertionError):
            checks.check_normalized_step(wrong)


def test_a_missing_cast_is_caught_by_the_mixed_dtype_case():
    """step_no_cast is right whenever image and gradient share a dtype: only the case of a
    float32 image with a float64 gradient can catch it, and the message names the dtype."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        image, grad = rng.uniform(0.2, 0.8, (5, 6)).astype(dtype), rng.standard_normal((5, 6))
        grad = grad.astype(dtype)
        np.testing.assert_array_equal(step_no_cast(image, grad, 0.01),
                                      step_right(image, grad, 0.01))
    with pytest.raises(AssertionError, match="dtype float64, expected float32"):
        checks.check_normalized_step(step_no_cast)
    image = np.full((3, 4), 0.5, dtype=np.float32)
    assert step_right(image, np.ones((3, 4)), 0.01).dtype == np.float32


def octaves_right(shape, octaves, scale):
    return dream.octave_shapes(shape, octaves, scale, min_size=1)


def octaves_largest_first(shape, octaves, scale):
    return octaves_right(shape, octaves, scale)[::-1]


def octaves_successive(shape, octaves, scale):
    sizes = [tuple(shape)]
    for _ in range(octaves - 1):
        h, w = sizes[0]
        sizes.insert(0, (round(h / scale), round(w / scale)))
    return sizes


def octaves_truncated(shape, octaves, scale):
    return [(int(shape[0] / scale**k), int(shape[1] / scale**k))
            for k in range(octaves - 1, -1, -1)]


def octaves_floats(shape, octaves, scale):
    return [(shape[0] / scale**k, shape[1] / scale**k) for k in range(octaves - 1, -1, -1)]


def octaves_one_too_many(shape, octaves, scale):
    return octaves_right(shape, octaves + 1, scale)


def test_octave_shapes_checker():
    checks.check_octave_shapes(octaves_right)
    for wrong in (octaves_largest_first, octaves_successive, octaves_truncated, octaves_floats,
                  octaves_one_too_many):
        with pytest.raises(AssertionError):
            checks.check_octave_shapes(wrong)
    with pytest.raises(AssertionError, match="smallest first"):
        checks.check_octave_shapes(octaves_largest_first)
