"""Checkers for the exercises of the chapter ILSVRC (top-k error)."""

import numpy as np

from deepglossary.exercises import passed
from deepglossary.metrics import topk_correct, topk_error


def _cases():
    """(description, scores, targets, k): random rows, the extremes of k, a square score matrix
    (where the wrong axis runs silently), float32, one example, and ties at the boundary."""
    rng = np.random.default_rng(10)
    cases = []
    s = rng.standard_normal((40, 10))
    t = rng.integers(0, 10, 40)
    for k in (1, 3, 5):
        cases.append((f"40 examples, 10 classes, k = {k}", s, t, k))
    cases.append(("k = K = 10: every target is in the top 10, the error is 0", s, t, 10))
    square = rng.standard_normal((7, 7))
    cases.append(("a square 7 x 7 score matrix, k = 2 (rank along dim 1, the classes)", square,
                  rng.integers(0, 7, 7), 2))
    cases.append(("float32 scores, 25 examples, 1000 classes, k = 5",
                  rng.standard_normal((25, 1000)).astype(np.float32), rng.integers(0, 1000, 25),
                  5))
    cases.append(("one example", rng.standard_normal((1, 6)), np.array([4]), 3))
    tied = np.array([[1.0, 3.0, 3.0, 0.0],      # classes 1 and 2 tie for first: top-1 is 1
                     [2.0, 2.0, 2.0, 2.0],      # all tie: top-2 is classes 0 and 1
                     [5.0, 1.0, 1.0, 1.0],      # three-way tie for second: top-2 is 0 and 1
                     [0.0, 4.0, 4.0, 4.0]])
    cases.append(("ties broken towards the lower class index, k = 1", tied,
                  np.array([2, 1, 2, 1]), 1))
    cases.append(("ties broken towards the lower class index, k = 2", tied,
                  np.array([2, 2, 2, 3]), 2))
    # wide rows with many ties (3 values over 12 and 1000 classes): a sort that is not stable
    # (NumPy's default argsort, argpartition) orders tied classes in no fixed way here, where
    # rows of 4 classes are too short to show it
    wide = rng.integers(0, 3, (200, 12)).astype(float)
    wide_t = rng.integers(0, 12, 200)
    for k in (1, 3, 5):
        cases.append((f"ties in wide rows, 200 x 12, 3 distinct values, k = {k}", wide, wide_t,
                      k))
    huge = rng.integers(0, 3, (50, 1000)).astype(float)
    cases.append(("ties in wide rows, 50 x 1000, 3 distinct values, k = 5", huge,
                  rng.integers(0, 1000, 50), 5))
    scaled = s * 1e3                            # the ranking must not care about the scale
    cases.append(("logits multiplied by 1000 (no softmax overflow allowed)", scaled, t, 3))
    return cases


def check_topk_error(topk_error_fn):
    """``topk_error_fn(scores, targets, k)``: the fraction of rows of ``scores`` (N, K) whose
    target class (``targets``, (N,) integers) is *not* among the k largest scores of its row,
    ties broken towards the lower class index. Checked on random scores for k = 1, 3, 5 and
    k = K, a square matrix (where ranking along the wrong axis runs without error), float32
    scores with 1000 classes, one example, ties at the top-k boundary (in rows of 4, 12 and
    1000 classes, where a sort that is not stable fails), and large logits."""
    cases = _cases()
    for what, scores, targets, k in cases:
        expected = topk_error(scores, targets, k)
        with np.errstate(all="ignore"):
            got = topk_error_fn(scores.copy(), targets.copy(), k)
        if np.ndim(got) != 0:
            raise AssertionError(f"return one number, the error rate; got shape {np.shape(got)} "
                                 f"({what})")
        got = float(got)
        if not np.isclose(got, expected, rtol=0, atol=1e-12):
            hint = ""
            if "ties" in what:     # tie order first: a reversed sort can also match 1 - error
                hint = (" (for equal scores the lower class index ranks first: is your sort "
                        "reversed or not stable (use kind=\"stable\"), or do you count only "
                        "strictly larger scores?)")
            elif np.isclose(got, 1 - expected, atol=1e-12) and expected != 0.5:
                hint = " (that is the accuracy, not the error)"
            right_rows = np.flatnonzero(topk_correct(scores, targets, k))
            raise AssertionError(f"error {got:.4f}, expected {expected:.4f}{hint} ({what}); "
                                 f"correct rows: {right_rows}")
    return passed("topk_error", len(cases))


def check_topk_correct_torch(fn):
    """``fn(logits, target, k)`` on torch tensors (logits (N, K), target (N,) int64) returns a
    bool tensor (N,): is each target among the k largest logits of its row? Checked on square
    batches (N = K, where ``topk`` along dim 0 runs silently), k = 1 and k = K, and float32."""
    from deepglossary.verify import torch_module

    torch = torch_module()                    # torch lives in verify, imported on first use
    rng = np.random.default_rng(11)
    # the square case first: there topk along dim 0 runs and this checker names the mistake;
    # on a non-square batch torch raises a shape error of its own
    cases = [("square, N = K = 8, k = 3", (8, 8), 3), ("N = 12, K = 10, k = 5", (12, 10), 5),
             ("k = 1", (9, 4), 1), ("k = K = 6", (5, 6), 6), ("one example", (1, 10), 5)]
    for what, shape, k in cases:
        scores = rng.standard_normal(shape)
        targets = rng.integers(0, shape[1], shape[0])
        expected = topk_correct(scores, targets, k)
        for dtype in (torch.float64, torch.float32):
            got = fn(torch.tensor(scores, dtype=dtype), torch.tensor(targets), k)
            if not isinstance(got, torch.Tensor) or got.dtype != torch.bool:
                raise AssertionError(f"return a bool tensor, got {type(got).__name__} "
                                     f"{getattr(got, 'dtype', '')} ({what})")
            if tuple(got.shape) != (shape[0],):
                raise AssertionError(f"expected shape ({shape[0]},), got {tuple(got.shape)}: "
                                     f"reduce over the k guesses with .any(dim=1) ({what})")
            if not np.array_equal(got.numpy(), expected):
                bad = np.flatnonzero(got.numpy() != expected)
                raise AssertionError(f"wrong rows {bad} ({what}, {dtype}): expected "
                                     f"{expected[bad].tolist()}, got {got.numpy()[bad].tolist()}"
                                     f" for targets {targets[bad].tolist()}; take the k largest "
                                     "logits along dim=1, the classes")
    return passed("top-k in torch", len(cases))
