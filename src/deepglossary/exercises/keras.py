"""Checkers for the Keras chapter's exercises: Keras's validation split, and the rule by which
``EarlyStopping`` stops."""

import numpy as np

from deepglossary.exercises import compare, passed
from deepglossary.frameworks.keras.callbacks import EarlyStopping
from deepglossary.frameworks.keras.data import validation_split_indices

SPLIT_CASES = [(10, 0.25), (7, 0.3), (100, 0.1), (9, 0.5), (1000, 0.2), (3, 0.34), (11, 0.05)]


def check_validation_split(split):
    """``split(n, validation_split)`` must return ``(train, validation)``: integer index
    arrays into the ``n`` rows, chosen as Keras's ``fit`` does. Raises AssertionError naming
    the first case that differs."""
    for n, fraction in SPLIT_CASES:
        case = f"n = {n}, validation_split = {fraction}"
        got = split(n, fraction)
        if not isinstance(got, tuple) or len(got) != 2:
            raise AssertionError(f"split must return (train, validation), got {got!r} ({case})")
        expected = validation_split_indices(n, fraction)
        for name, g, e in zip(("train", "validation"), got, expected):
            g = np.asarray(g)
            if g.dtype.kind not in "iu":
                raise AssertionError(f"{name} indices must be integers, got dtype {g.dtype} "
                                     f"({case})")
            compare(f"{name} indices", g, e, case=case, rtol=0, atol=0)
    passed("validation split", len(SPLIT_CASES))


def reference_stopping_epoch(values, patience, min_delta=0.0):
    """The epoch (from 0) at which ``EarlyStopping(patience, min_delta)`` monitoring a loss
    stops training, or None when it never does; driven by the package's callback."""

    class Model:
        stop_training = False

    callback, model = EarlyStopping(patience=patience, min_delta=min_delta), Model()
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"val_loss": float(value)})
        if model.stop_training:
            return epoch
    return None


def _stopping_cases():
    rng = np.random.default_rng(0)
    cases = [([1.0, 0.9, 0.9, 0.9, 0.9], 2, 0.0),     # a plateau: equal is not better
             ([1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.8, 0.9], 2, 0.0),
             ([1.0, 1.1, 0.5], 0, 0.0),                # patience 0: stop at the first miss
             ([1.0, 0.99, 0.98, 0.97, 0.96], 1, 0.05),  # improvements smaller than min_delta
             ([2.0, 1.0, 0.5, 0.25], 3, 0.0)]           # never stops
    # Random walks on a grid of 0.001, with min_delta 0 or 0.0155, half a grid step off it: no
    # difference of two values lies within 0.0005 of min_delta, so ``value < best - min_delta``
    # and ``best - value > min_delta`` agree despite rounding (with 2 decimals and min_delta
    # 0.02, 1.01 - 0.99 > 0.02 held in floating point and failed a correct answer).
    for _ in range(20):
        walk = 1 + np.cumsum(rng.normal(-0.02, 0.05, 15))
        cases.append((list(np.round(walk, 3)), int(rng.integers(0, 5)),
                      float(rng.choice([0.0, 0.0155]))))
    return cases


def check_stopping_epoch(stopping_epoch):
    """``stopping_epoch(values, patience, min_delta)`` must return the epoch (from 0) at
    which Keras's ``EarlyStopping`` on a loss curve ``values`` stops training, or None."""
    cases = _stopping_cases()
    for values, patience, min_delta in cases:
        expected = reference_stopping_epoch(values, patience, min_delta)
        got = stopping_epoch(list(values), patience, min_delta)
        if got != expected:
            raise AssertionError(f"values {values}, patience {patience}, min_delta {min_delta}:"
                                 f" expected {expected}, got {got}")
    passed("early stopping", len(cases))
