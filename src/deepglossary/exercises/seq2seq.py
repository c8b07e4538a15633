"""Checkers for the exercises of the Seq2Seq chapter.

``check_last_state`` runs the package's GRU over padded batches and compares the student's
gather of each sequence's final state with the masked encoder's (``models.seq2seq.encoder``);
``check_masked_loss`` compares a masked cross-entropy and its gradient with
``losses.CrossEntropy(ignore_index=pad)``, torch's semantics. The cases are chosen to catch
the usual slips: the last column instead of each row's own last token, an off-by-one,
averaging over the PAD positions too, averaging per sequence, a PAD id hard-coded as 0, a
gradient left at the PAD positions, a log-softmax without the max subtracted (logits near
1000 overflow ``exp``), and float32 (the result keeps the input's dtype).
"""

import numpy as np

from deepglossary import nn
from deepglossary.exercises import compare, dtype_ok, passed
from deepglossary.losses import CrossEntropy
from deepglossary.models.seq2seq import encoder


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def check_last_state(last_state):
    """``last_state(outputs, lengths)`` returns each sequence's output at its own last real
    step, ``outputs[n, lengths[n] - 1]``: for a one-layer GRU run over a batch padded at the
    end, that is the state it would end in had it stopped there.

    Shape: outputs (N, S, H); lengths (N,) ints in [1, S]; returns (N, H). Compared with the
    masked encoder's final state on batches with lengths 1 and S side by side, one sequence,
    one step, one unit, and float32."""
    rng = np.random.default_rng(31)
    cases = 0
    for n, s, hid, dtype in [(5, 6, 4, np.float64), (1, 4, 3, np.float64),
                             (4, 1, 2, np.float64), (6, 5, 1, np.float64),
                             (5, 7, 3, np.float32)]:
        gru = nn.GRU(3, hid, batch_first=True, dtype=dtype, rng=rng)
        x = rng.standard_normal((n, s, 3)).astype(dtype)
        lengths = rng.integers(1, s + 1, n)
        lengths[0] = s
        lengths[-1] = 1 if n > 1 else lengths[-1]
        outputs, _ = gru(x)
        _, h_n, _, _ = encoder.run(gru, x, lengths)
        case = f"N={n}, S={s}, H={hid}, lengths {lengths.tolist()}, {np.dtype(dtype).name}"
        got = last_state(outputs.copy(), lengths.copy())
        compare("last state", got, h_n[0], case=case, **_tol(dtype))
        dtype_ok("last state", got, dtype, case)
        cases += 1
    return passed("each sequence's last state", cases)


def check_masked_loss(masked_loss):
    """``masked_loss(logits, targets, pad)`` returns ``(loss, grad)``: the cross-entropy of
    softmax(logits) averaged over the target tokens that are not ``pad`` (every real token
    weighs the same, whatever its sequence's length), and its gradient dL/dlogits, zero at
    the PAD positions. torch: ``CrossEntropyLoss(ignore_index=pad)`` on (N T, V).

    Shape: logits (N, T, V); targets (N, T) ints; loss a float; grad (N, T, V). Compared on
    batches of different lengths, a batch without padding, PAD ids other than 0, logits
    offset by about 1000 (a log-softmax that does not subtract the max overflows), and
    float32."""
    rng = np.random.default_rng(32)
    cases = 0
    for n, t, v, pad, dtype in [(4, 5, 6, 0, np.float64), (3, 4, 5, 0, np.float64),
                                (1, 3, 4, 0, np.float64), (4, 6, 7, 3, np.float64),
                                (5, 4, 6, 0, np.float32), (3, 5, 6, 0, np.float64)]:
        logits = rng.standard_normal((n, t, v)) * 2
        if cases == 5:                                          # large logits: needs the max
            logits = logits + 1000.0 * rng.choice([-1.0, 1.0], (n, t, 1))
        logits = logits.astype(dtype)
        targets = rng.integers(0, v, (n, t))
        targets[targets == pad] = (pad + 1) % v                 # no PAD inside the tokens
        lengths = rng.integers(1, t + 1, n)
        if cases != 1:                                          # case 1: no padding at all
            lengths[0] = 1
            targets[np.arange(t)[None, :] >= lengths[:, None]] = pad
        ce = CrossEntropy(ignore_index=pad)
        expected = ce(logits.reshape(-1, v), targets.reshape(-1))
        grad = ce.backward().reshape(logits.shape)
        case = (f"N={n}, T={t}, V={v}, PAD={pad}, lengths "
                f"{(targets != pad).sum(1).tolist()}, {np.dtype(dtype).name}")
        got = masked_loss(logits.copy(), targets.copy(), pad)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise AssertionError("return a pair (loss, grad)")
        compare("loss", got[0], expected, case=case, **_tol(dtype))
        compare("grad", got[1], grad, case=case, **_tol(dtype))
        dtype_ok("grad", got[1], dtype, case)
        cases += 1
    return passed("masked cross-entropy", cases)
