"""Checkers for the exercises of the Caffe chapter.

``check_pooled_size`` compares a student's pooled output length with Caffe's rule
(``frameworks.caffe.caffe_pooled_size``: rounded up, one fewer when the last window would start
in the padding) on cases where rounding up and rounding down differ, with and without
padding, and where Caffe's rule and PyTorch's ``ceil_mode=True`` differ.

``check_caffe_sgd_step`` compares a student's one-parameter Caffe SGD update with the
package's ``SGDSolver`` (verified against a torch transcription in the chapter), on cases that
catch torch's buffer (a rate that changes between steps), a forgotten ``lr_mult`` or
``decay_mult``, and float32.
"""

import numpy as np

from deepglossary.exercises import compare, dtype_ok, passed
from deepglossary.frameworks.caffe.layers import caffe_pooled_size

# (size, kernel, stride, pad). (24, 2, 2, 0), (8, 2, 2, 0), (13, 3, 2, 0) and (1, 1, 1, 0)
# divide exactly, so floor and ceil agree; (7, 2, 2, 0) and (10, 4, 3, 0) need Caffe's ceil;
# the padded ones its rule for a window starting in the padding; and (24, 1, 2, 0),
# (4, 1, 2, 0) (a window smaller than its stride, no padding) are where Caffe keeps a last
# window starting beyond the input and PyTorch's ceil_mode=True drops it.
_POOL_CASES = [(24, 2, 2, 0), (8, 2, 2, 0), (13, 3, 2, 0), (7, 2, 2, 0), (6, 3, 3, 1),
               (5, 3, 2, 1), (28, 3, 2, 1), (1, 1, 1, 0), (10, 4, 3, 0), (5, 2, 2, 1),
               (24, 1, 2, 0), (4, 1, 2, 0)]


def check_pooled_size(pooled_size):
    """``pooled_size(size, kernel, stride, pad)`` returns Caffe's number of pooling windows
    along one axis of length ``size`` (an int). Tried on cases where floor and ceil differ,
    with and without padding (where Caffe drops a window that would start in the padding),
    and where Caffe differs from PyTorch's ``ceil_mode=True`` (a window smaller than its
    stride, no padding: Caffe keeps a last window that starts beyond the input)."""
    for size, kernel, stride, pad in _POOL_CASES:
        case = f"size={size}, kernel={kernel}, stride={stride}, pad={pad}"
        got = pooled_size(size, kernel, stride, pad)
        if isinstance(got, bool) or not isinstance(got, int | np.integer):
            raise AssertionError(f"pooled_size must return an int, got {got!r} ({case})")
        expected = caffe_pooled_size(size, kernel, stride, pad)
        if got != expected:
            raise AssertionError(f"pooled_size: expected {expected}, got {got} ({case})")
    passed("pooled_size", len(_POOL_CASES))


def _reference_step(w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult):
    v = momentum * v + (rate * lr_mult) * (g + (weight_decay * decay_mult) * w)
    return w - v, v


# (rate per step, momentum, weight_decay, lr_mult, decay_mult, dtype)
_SGD_CASES = [((0.1, 0.1, 0.1), 0.9, 0.0, 1.0, 1.0, np.float64),
              ((0.1, 0.05, 0.01), 0.9, 0.0, 1.0, 1.0, np.float64),
              ((0.01, 0.008, 0.006), 0.9, 5e-4, 2.0, 1.0, np.float64),
              ((0.01, 0.008, 0.006), 0.5, 0.1, 1.0, 0.0, np.float64),
              ((0.01, 0.008, 0.006), 0.9, 0.1, 2.0, 0.5, np.float32)]


def check_caffe_sgd_step(sgd_step):
    """``sgd_step(w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult)`` returns
    ``(w_new, v_new)``: Caffe's update of one parameter w (any shape) with gradient g and
    history v (w's shape), at learning rate ``rate``. Run for three steps with rates that
    change, lr_mult and decay_mult not 1, and float32 (the results keep w's dtype)."""
    rng = np.random.default_rng(41)
    for rates, momentum, wd, lr_mult, decay_mult, dtype in _SGD_CASES:
        case = (f"rates {rates}, momentum {momentum}, weight_decay {wd}, lr_mult {lr_mult}, "
                f"decay_mult {decay_mult}, {np.dtype(dtype)}")
        w = rng.standard_normal((3, 4)).astype(dtype)
        v = np.zeros_like(w)
        w_ref, v_ref = w.copy(), v.copy()
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else {}
        for step, rate in enumerate(rates):
            g = rng.standard_normal(w.shape).astype(dtype)
            got = sgd_step(w.copy(), g.copy(), v.copy(), rate, momentum, wd, lr_mult,
                           decay_mult)
            if not isinstance(got, tuple | list) or len(got) != 2:
                raise AssertionError(f"sgd_step must return (w_new, v_new), got "
                                     f"{type(got).__name__} ({case})")
            w_ref, v_ref = _reference_step(w_ref, g, v_ref, dtype(rate), dtype(momentum),
                                           dtype(wd), dtype(lr_mult), dtype(decay_mult))
            w, v = (np.asarray(a) for a in got)
            compare("v_new", v, v_ref, case=f"{case}, step {step + 1}", **tol)
            compare("w_new", w, w_ref, case=f"{case}, step {step + 1}", **tol)
            dtype_ok("w_new", w, dtype, case)
    passed("sgd_step", len(_SGD_CASES))
