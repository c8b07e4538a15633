"""Decoding a trained encoder-decoder: greedy search and beam search.

Both run the decoder one step at a time, under ``no_grad``, feeding back the token chosen:

    state = encoder's final state;  y_0 = BOS
    each step: h_t, state = decoder(embed(y_{t-1}), state);  log p(. | y_<t, x) = log_softmax(...)

A hypothesis's *model score* is log p(Y | X) = sum_t log p(y_t | y_<t, X), summed over its
tokens, EOS included. Greedy search keeps the single best next token. Beam search of width k
keeps the k best partial hypotheses; when one ends with EOS it is set aside as finished and
the beam shrinks by one, so the search stops after k finished hypotheses (or ``max_len``
steps). With k = 1 it is exactly greedy search.

Length normalisation (GNMT, Wu et al., 2016): the finished hypotheses, which differ in length,
are ranked by log p(Y | X) / lp(Y) with lp(Y) = ((5 + |Y|) / 6)^alpha, |Y| counting EOS.
alpha = 0 ranks by the raw model score; a larger alpha favours longer outputs. Inside the
search all candidates of one step have the same length, so lp would not change their order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepglossary import nn
from deepglossary.nn.softmax import log_softmax


@dataclass
class Decoded:
    """What a decoder returns for N sources.

    tokens: (N, T_out) int64, each output with its EOS (when it reached one), padded with PAD
    lengths: (N,) the number of output tokens, EOS included
    scores: (N,) log p(output | source), the model score
    normalized: (N,) the score divided by GNMT's lp (equal to scores when alpha = 0)
    finished: (N,) True where the output ends with EOS (False: cut at max_len)
    """

    tokens: np.ndarray
    lengths: np.ndarray
    scores: np.ndarray
    normalized: np.ndarray
    finished: np.ndarray


def length_penalty(lengths, alpha: float) -> np.ndarray:
    """GNMT's lp(Y) = ((5 + |Y|) / 6)^alpha."""
    return ((5.0 + np.asarray(lengths, dtype=np.float64)) / 6.0) ** alpha


def _start(model, src, max_len):
    """Encode, and the decoding settings checked."""
    src = np.asarray(src)
    enc_out, state, padding = model.encode(src)
    if max_len is None:
        max_len = 2 * src.shape[1] + 2
    if isinstance(max_len, bool) or not isinstance(max_len, int | np.integer) or max_len < 1:
        raise ValueError(f"max_len must be a positive integer, got {max_len!r}")
    return enc_out, state, padding, int(max_len)


def _step(model, ids, state, enc_out, padding):
    """One decoder step for M running hypotheses: ids (M,) -> log-probabilities (M, V_t) in
    float64, and the new state."""
    y = model.tgt_embed(ids[:, None]).astype(enc_out.dtype, copy=False)    # (M, 1, E)
    dec_out, state = model.decoder(y, state)                                # (M, 1, H)
    top, _ = model._head(dec_out, enc_out, padding)
    logits = model.out(top)[:, 0]                                           # (M, V_t)
    return log_softmax(logits.astype(np.float64)), state


def _take(state, index):
    """The decoder state (L, M, H), or an LSTM's pair, rows picked by ``index``."""
    if isinstance(state, tuple):
        return tuple(s[:, index] for s in state)
    return state[:, index]


def greedy(model, src, max_len: int | None = None) -> Decoded:
    """Greedy decoding: y_t = argmax log p(. | y_<t, x), until EOS or ``max_len`` tokens
    (default 2 S + 2). Vectorised over the batch; a row that has emitted EOS stops counting.
    Returns :class:`Decoded`."""
    with nn.no_grad():
        enc_out, state, padding, max_len = _start(model, src, max_len)
        n = len(enc_out)
        out = np.full((n, max_len), model.pad, dtype=np.int64)
        scores = np.zeros(n)
        lengths = np.zeros(n, dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        ids = np.full(n, model.bos, dtype=np.int64)
        for t in range(max_len):
            logp, state = _step(model, ids, state, enc_out, padding)       # (N, V_t)
            best = logp.argmax(axis=1)                                      # (N,)
            running = ~done
            scores += np.where(running, logp[np.arange(n), best], 0.0)
            out[running, t] = best[running]
            lengths += running
            done |= best == model.eos
            ids = np.where(done, model.pad, best)       # finished rows: ignored from now on
            if done.all():
                break
    width = max(int(lengths.max()), 1)
    return Decoded(out[:, :width], lengths, scores, scores.copy(), done.copy())


def beam_search(model, src, width: int = 4, max_len: int | None = None,
                alpha: float = 0.0) -> Decoded:
    """Beam search of ``width`` k, vectorised over the batch (N k hypotheses per step).

    Each step extends every live hypothesis by every token, keeps the best ``k - f``
    extensions (f = how many hypotheses of that source have finished), sets aside those that
    end with EOS as finished, and continues the rest. It stops when every source has k
    finished hypotheses, or after ``max_len`` tokens (default 2 S + 2; the live ones then
    count as unfinished candidates). The output is the candidate with the best
    ``score / lp(Y)`` (see the module docstring; ``alpha = 0``: the best raw score).
    """
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
        raise ValueError(f"beam_search: width must be a positive integer, got {width!r}")
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"beam_search: alpha must be >= 0, got {alpha}")
    k = int(width)
    with nn.no_grad():
        enc_out, state, padding, max_len = _start(model, src, max_len)
        n = len(enc_out)
        rows = np.repeat(np.arange(n), k)                                   # (N k,)
        enc_out, padding, state = enc_out[rows], padding[rows], _take(state, rows)
        scores = np.full((n, k), -np.inf)
        scores[:, 0] = 0.0                              # one live hypothesis at the start
        hyps = np.full((n, k, max_len), model.pad, dtype=np.int64)          # live histories
        fin = np.full((n, k, max_len), model.pad, dtype=np.int64)           # finished ones
        fin_scores = np.full((n, k), -np.inf)
        fin_len = np.zeros((n, k), dtype=np.int64)
        n_fin = np.zeros(n, dtype=np.int64)
        ids = np.full(n * k, model.bos, dtype=np.int64)
        steps = 0
        for t in range(max_len):
            steps = t + 1
            logp, state = _step(model, ids, state, enc_out, padding)       # (N k, V)
            vocab = logp.shape[1]
            cand = (scores[:, :, None] + logp.reshape(n, k, vocab)).reshape(n, k * vocab)
            with np.errstate(invalid="ignore"):
                order = np.argsort(-cand, axis=1, kind="stable")[:, :k]     # (N, k) best first
            top = np.take_along_axis(cand, order, axis=1)                   # (N, k)
            keep = (np.arange(k)[None, :] < (k - n_fin)[:, None]) & np.isfinite(top)
            parent, token = order // vocab, order % vocab                   # (N, k) each
            hyps = np.take_along_axis(hyps, parent[:, :, None], axis=1)
            hyps[:, :, t] = token
            ended = keep & (token == model.eos)                             # (N, k)
            live = keep & ~ended
            r, c = np.nonzero(ended)
            slot = n_fin[r] + (np.cumsum(ended, axis=1) - 1)[r, c]          # next free slots
            fin[r, slot] = hyps[r, c]
            fin_scores[r, slot] = top[r, c]
            fin_len[r, slot] = t + 1
            n_fin += ended.sum(axis=1)
            scores = np.where(live, top, -np.inf)
            ids = np.where(live, token, model.pad).reshape(-1)
            state = _take(state, (np.arange(n)[:, None] * k + parent).reshape(-1))
            if not live.any():
                break
        # candidates: the finished ones, and the live ones cut at max_len
        cand_tokens = np.concatenate([fin, hyps], axis=1)                   # (N, 2k, max_len)
        cand_scores = np.concatenate([fin_scores, scores], axis=1)          # (N, 2k)
        cand_len = np.concatenate([fin_len, np.full((n, k), steps)], axis=1)
        cand_done = np.concatenate([np.ones((n, k), bool), np.zeros((n, k), bool)], axis=1)
        with np.errstate(invalid="ignore"):
            normalized = cand_scores / length_penalty(cand_len, alpha)
        best = np.argmax(normalized, axis=1)                                # (N,)
        pick = np.arange(n)
        lengths = cand_len[pick, best]
        out = cand_tokens[pick, best]
        out = np.where(np.arange(max_len)[None, :] < lengths[:, None], out, model.pad)
        width_out = max(int(lengths.max()), 1)
        return Decoded(out[:, :width_out], lengths, cand_scores[pick, best],
                       normalized[pick, best], cand_done[pick, best])
