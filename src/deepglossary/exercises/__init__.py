"""Checkers for the chapters' coding exercises.

A student writes a function (or a layer); the checker runs it on random cases next to the
package's reference and either prints how many cases passed or raises ``AssertionError``
naming the first case that failed, with the expected and received values.
"""

import numpy as np


def compare(name: str, got, expected, *, case: str, rtol: float = 1e-8, atol: float = 1e-10):
    """Raise AssertionError with a readable message unless ``got`` matches ``expected``."""
    got_arr, exp_arr = np.asarray(got), np.asarray(expected)
    if got_arr.shape != exp_arr.shape:
        raise AssertionError(f"{name}: expected shape {exp_arr.shape}, got shape "
                             f"{got_arr.shape} ({case})")
    if not np.allclose(got_arr, exp_arr, rtol=rtol, atol=atol):
        worst = np.abs(got_arr - exp_arr).max()
        raise AssertionError(f"{name}: values differ by up to {worst:.3g} ({case})\n"
                             f"expected:\n{exp_arr}\ngot:\n{got_arr}")


def dtype_ok(name: str, got, dtype, case: str) -> None:
    """Raise AssertionError unless ``got`` has ``dtype`` (a float32 answer must stay float32)."""
    got = np.asarray(got)
    if got.dtype != dtype:
        raise AssertionError(f"{name} has dtype {got.dtype}, expected {np.dtype(dtype)} ({case})")


def passed(what: str, cases: int) -> None:
    print(f"✓ {what}: correct on all {cases} test cases.")
