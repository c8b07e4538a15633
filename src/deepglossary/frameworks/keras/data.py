"""Keras's split of the data given to ``fit`` into training and validation rows."""

import math

import numpy as np


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def validation_split_indices(n: int, validation_split: float):
    """Keras's split of ``n`` rows: ``(train, validation)`` index arrays, the validation rows
    being the *last* ``n - floor(n (1 - validation_split))``, taken before any shuffling."""
    if not isinstance(validation_split, int | float | np.floating) or \
            not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if validation_split and split_at in (0, n):
        raise ValueError(f"{n} examples cannot be split with validation_split="
                         f"{validation_split}: one side would be empty")
    return np.arange(split_at), np.arange(split_at, n)
