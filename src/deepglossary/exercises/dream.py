"""Checkers for the exercises of the Deep Dream chapter."""

import numpy as np

from deepglossary.exercises import compare, passed

EPS = 1e-8


def _step_reference(image, grad, step_size):
    out = image + step_size * grad / (np.abs(grad).mean() + EPS)
    return np.clip(out, 0.0, 1.0).astype(image.dtype)


def check_normalized_step(step):
    """``step(image, grad, step_size)`` returns the next image of Deep Dream's ascent:
    ``image + step_size * grad / (mean(|grad|) + 1e-8)``, clipped to [0, 1], in the image's
    dtype, without changing its arguments. Checked on: random images and gradients; the same
    gradient scaled by 1e-3 and 1e3 (the step must not change: a naive ``image + step_size *
    grad`` fails); an image at the edges of [0, 1] (clipping); a gradient with one large
    entry (dividing by the largest |grad| or by the norm instead of the mean fails); a zero
    gradient (the image stays, no NaN); a 1 x 1 image; float32 (the result stays float32); a
    float32 image with a float64 gradient, as a float64 network gives one (the result must be
    cast back to float32: NumPy promotes the sum to float64)."""
    rng = np.random.default_rng(21)
    base = rng.uniform(0.2, 0.8, (9, 13))
    grad = rng.standard_normal((9, 13))
    spiky = grad.copy()
    spiky[4, 6] = 40.0
    edges = base.copy()
    edges[0, :5], edges[1, :5] = 0.0, 1.0
    edges[2, :5] = 0.999
    cases = [("random image and gradient", base, grad, 0.01),
             ("a larger step", base, grad, 0.05),
             ("the gradient times 1e-3", base, 1e-3 * grad, 0.01),
             ("the gradient times 1e3", base, 1e3 * grad, 0.01),
             ("pixels at 0 and 1 (clipping)", edges, grad, 0.05),
             ("a gradient with one large entry", base, spiky, 0.01),
             ("a 1 x 1 image", np.array([[0.5]]), np.array([[-3.0]]), 0.1),
             ("float32", base.astype(np.float32), grad.astype(np.float32), 0.02),
             ("a float32 image with a float64 gradient (cast back)", base.astype(np.float32),
              grad, 0.02)]
    for name, image, g, size in cases:
        kept_image, kept_grad = image.copy(), g.copy()
        got = np.asarray(step(image, g, size))
        if not (np.array_equal(image, kept_image) and np.array_equal(g, kept_grad)):
            raise AssertionError(f"step changed its arguments in place ({name}): return a new "
                                 "image instead")
        if got.dtype != image.dtype:
            raise AssertionError(f"the new image has dtype {got.dtype}, expected {image.dtype} "
                                 f"({name})")
        if not np.isfinite(got).all():
            raise AssertionError(f"the new image has NaN or inf pixels ({name})")
        tol = 1e-5 if image.dtype == np.float32 else 1e-9
        compare("new image", got, _step_reference(image, g, size), case=name, rtol=tol,
                atol=tol)
    zero = np.zeros_like(base)
    got = np.asarray(step(base, zero, 0.01))
    if not np.isfinite(got).all():
        raise AssertionError("a zero gradient gave NaN or inf: add 1e-8 to the mean |grad|")
    compare("new image", got, base, case="a zero gradient: the image must stay as it is")
    return passed("normalised ascent step", len(cases) + 1)


def _octaves_reference(shape, octaves, scale):
    h, w = shape
    return [(round(h / scale**k), round(w / scale**k)) for k in range(octaves - 1, -1, -1)]


def check_octave_shapes(octave_shapes):
    """``octave_shapes(shape, octaves, scale)`` returns the sizes ``(h, w)`` of the octaves,
    smallest first, the last one ``shape`` itself: the octave ``k`` steps below the full size
    has each side divided by ``scale ** k`` and rounded to the nearest whole number. Checked
    on square and oblong images, one octave, scales between 1.2 and 2; the sizes must be
    whole numbers, in order from small to large (largest first fails), each computed from the
    full size (dividing the previous *rounded* size by ``scale`` again drifts, and fails), and
    rounded (truncating with ``int`` fails)."""
    cases = [((128, 128), 3, 1.4), ((128, 96), 4, 1.3), ((300, 451), 4, 1.5),
             ((64, 64), 1, 2.0), ((100, 37), 2, 1.25), ((225, 225), 5, 1.2),
             ((97, 131), 3, 1.7), ((600, 512), 6, 1.4)]
    for shape, octaves, scale in cases:
        case = f"shape {shape}, {octaves} octaves, scale {scale}"
        got = octave_shapes(shape, octaves, scale)
        expected = _octaves_reference(shape, octaves, scale)
        try:
            got_list = [tuple(s) for s in got]
        except TypeError:
            raise AssertionError(f"expected a list of (h, w) pairs, got {got!r} ({case})") from None
        if any(int(v) != v for s in got_list for v in s):
            raise AssertionError(f"sizes must be whole numbers, got {got_list} ({case})")
        got_list = [tuple(int(v) for v in s) for s in got_list]
        if got_list != expected:
            hint = ""
            if got_list == expected[::-1]:
                hint = ": smallest first, the full size last"
            raise AssertionError(f"expected {expected}, got {got_list} ({case}){hint}")
    return passed("octave sizes", len(cases))
