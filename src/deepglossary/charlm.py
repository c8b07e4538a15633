"""Character-level language models: what the sequence chapters share to read, train on, score
and generate text.

    vocab = Vocabulary(corpus.train)                     # the characters, sorted
    x, y = streams(vocab.encode(corpus.train), 32)       # (32, L) inputs and next characters
    model = CharRNN(len(vocab), 128)                     # one-hot -> RNN -> Affine
    truncated_bptt(model, CrossEntropy(), x, y, k=64, optimizer=Adam(model.parameters()))
    perplexity(model, vocab.encode(corpus.test))         # held-out perplexity, one stream
    sample(model, vocab, "Jesus said", 200, temperature=0.5, rng=0)

The baselines a language model must beat, on the same characters: ``ngram_perplexity`` with
order 1 (unigram: each character's frequency) and order 2 (bigram: the frequency of a
character after the previous one), both with add-constant smoothing.
"""

from __future__ import annotations

import numpy as np

from deepglossary import nn
from deepglossary.nn.core import Layer, no_grad
from deepglossary.random import default_rng

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class Vocabulary:
    """The characters of a text, sorted, each numbered by its position: ``encode`` maps text to
    integer ids (int64), ``decode`` maps ids back. A character outside the vocabulary is refused
    with ``ValueError`` naming it (never mapped silently to another one)."""

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise ValueError("Vocabulary needs a non-empty string to collect characters from")
        self.chars = sorted(set(text))
        self._index = {c: i for i, c in enumerate(self.chars)}
        self._table = np.array(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """``text`` as an int64 array of ids, shape (len(text),)."""
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError:
            unknown = sorted(set(text) - set(self._index))
            raise ValueError(f"characters not in the vocabulary: {unknown!r}") from None

    def decode(self, ids) -> str:
        """Ids (any integer array-like, one dimension) back to a string."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"decode expects a 1-D array of integer ids, got dtype {ids.dtype} "
                             f"and shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be in [0, {len(self)}), got values in "
                             f"[{ids.min()}, {ids.max()}]")
        return "".join(self._table[ids])

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} characters: {''.join(self.chars)!r})"


def streams(ids, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut one long sequence of ids into ``batch_size`` parallel streams for truncated BPTT.

    Shape: ids (M,) -> x (B, L), y (B, L) with L = (M - 1) // B: row b of x is the contiguous
    stretch ``ids[b L:(b + 1) L]`` and y is the same stretch one character later (the targets),
    so a chunk of columns of row b continues that row's previous chunk and the recurrent state
    can be carried across chunks. The last (M - 1) mod B ids are dropped.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"streams expects a 1-D array of integer ids, got dtype {ids.dtype} and "
                         f"shape {ids.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    length = (len(ids) - 1) // batch_size
    if length < 1:
        raise ValueError(f"{len(ids)} ids are too few for {batch_size} streams of at least one "
                         "step (each needs an input and its next character)")
    x = ids[:batch_size * length].reshape(batch_size, length)           # (B, L)
    y = ids[1:batch_size * length + 1].reshape(batch_size, length)      # (B, L), one step on
    return x, y


def one_hot(tokens, size: int, dtype=np.float32) -> np.ndarray:
    """Shape: tokens (...) integer ids in [0, size) -> (..., size), 1 at each id, 0 elsewhere."""
    tokens = np.asarray(tokens)
    if not np.issubdtype(tokens.dtype, np.integer):
        raise ValueError(f"one_hot expects integer ids, got dtype {tokens.dtype}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= size):
        raise ValueError(f"ids must be in [0, {size}), got values in "
                         f"[{tokens.min()}, {tokens.max()}]")
    out = np.zeros(tokens.shape + (size,), dtype=dtype)
    np.put_along_axis(out, tokens[..., None], 1, axis=-1)
    return out


class CharRNN(Layer):
    """A character-level language model: one-hot characters -> a recurrent layer -> an affine
    decoder giving the logits of the next character at every step. PyTorch twin:
    :meth:`torch_twin` (``torch.nn.RNN`` / ``LSTM`` / ``GRU`` with ``batch_first=True`` and a
    ``torch.nn.Linear``, the same parameter names).

    Shape (N sequences, T steps, K characters, H hidden units):
        tokens: (N, T) integer ids;  state: (num_layers, N, H) (a pair for the LSTM) or None
        logits: (N, T, K);  the returned state is the recurrent layer's h_n (or (h_n, c_n))
        rnn.weight_ih_l0: (G H, K), the one-hot input's weights, one column per character;
        decoder.weight: (K, H), decoder.bias: (K,)

    ``forward(tokens, state=None) -> (logits, state)``, the convention of
    :func:`deepglossary.train.truncated_bptt`; ``backward(grad_logits)`` accumulates every
    parameter's gradient and returns the gradient of the initial state (the ids have none).
    The one-hot input times ``weight_ih_l0`` is a lookup of one column per character, an
    embedding; the product is kept (not replaced by indexing) so that the layer stays torch's.
    """

    def __init__(self, vocab_size: int, hidden_size: int, num_layers: int = 1, *,
                 cell: str = "rnn", dtype=np.float32, rng=None):
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell must be one of {sorted(CELLS)}, got {cell!r}")
        rng = default_rng(rng)
        self.vocab_size, self.cell, self.dtype = int(vocab_size), cell, np.dtype(dtype)
        self.rnn = CELLS[cell](vocab_size, hidden_size, num_layers, batch_first=True,
                               dtype=dtype, rng=rng)
        self.decoder = nn.Affine(hidden_size, vocab_size, dtype=dtype, rng=rng)

    def forward(self, tokens, state=None):
        tokens = np.asarray(tokens)
        if tokens.ndim != 2:
            raise ValueError(f"CharRNN expects token ids of shape (N, T), got shape "
                             f"{tokens.shape}; for one sequence use tokens[None]")
        x = one_hot(tokens, self.vocab_size, self.dtype)                    # (N, T, K)
        out, state = self.rnn(x, state)                                     # (N, T, H)
        return self.decoder(out), state                                     # (N, T, K)

    def backward(self, grad_logits):
        self._backward_begins()
        grads = self.rnn.backward(self.decoder.backward(grad_logits))       # dx, dh0 (, dc0)
        return grads[1:] if self.cell == "lstm" else grads[1]

    def torch_twin(self):
        """The same model in torch, float32 or float64 like ours (parameters not copied: use
        ``verify.copy_parameters``). Its forward takes the one-hot input (N, T, K) and a state,
        and returns ``(logits, state)``."""
        from deepglossary.verify import torch_module

        torch = torch_module()
        dtype = torch.float64 if self.dtype == np.float64 else torch.float32
        rnn_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[self.cell]
        rnn = rnn_cls(self.vocab_size, self.rnn.hidden_size, self.rnn.num_layers,
                      batch_first=True, dtype=dtype)
        decoder = torch.nn.Linear(self.rnn.hidden_size, self.vocab_size, dtype=dtype)

        class TorchCharRNN(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn, self.decoder = rnn, decoder

            def forward(self, x, state=None):
                out, state = self.rnn(x, state)
                return self.decoder(out), state

        return TorchCharRNN()

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, cell={self.cell!r}"


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """log softmax(logits) along ``axis``, stable for large logits (the maximum subtracted)."""
    z = np.asarray(logits)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def temperature_probabilities(logits, temperature: float) -> np.ndarray:
    """softmax(logits / temperature) along the last axis; temperature 0 is its limit, all the
    probability on the largest logit (the first one if several tie). Shape: (..., K) kept."""
    if not (isinstance(temperature, int | float | np.integer | np.floating)
            and np.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return one_hot(z.argmax(axis=-1), z.shape[-1], np.float64)
    return np.exp(log_softmax(z / temperature))


def sample(model, vocab: Vocabulary, prompt: str, length: int, *, temperature: float = 1.0,
           rng=None, n: int = 1):
    """Generate ``length`` characters after ``prompt``: read the prompt, then repeatedly draw
    the next character from softmax(logits / temperature) and feed it back in.

    Temperature 1 samples the model's own distribution, lower values sharpen it, 0 always takes
    the most probable character (greedy; ``rng`` is then unused), higher values flatten it.
    With ``n > 1``, n samples are drawn side by side, each from the same prompt. Returns the
    generated text (without the prompt): a string, or a list of n strings.
    """
    if not prompt:
        raise ValueError("sample needs a non-empty prompt to start from")
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 0:
        raise ValueError(f"length must be an integer >= 0, got {length!r}")
    temperature_probabilities(np.zeros(1), temperature)                 # checks it
    rng = default_rng(rng)
    ids = np.tile(vocab.encode(prompt), (n, 1))                         # (n, len(prompt))
    out = np.empty((n, length), dtype=np.int64)
    with no_grad():
        logits, state = model(ids)                                      # (n, P, K)
        for t in range(length):
            p = temperature_probabilities(logits[:, -1], temperature)   # (n, K)
            if temperature == 0:
                nxt = p.argmax(axis=1)
            else:                                                       # inverse CDF per row
                u = rng.random((n, 1))
                nxt = np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)
            out[:, t] = nxt
            logits, state = model(nxt[:, None], state)                  # (n, 1, K)
    texts = [vocab.decode(row) for row in out]
    return texts[0] if n == 1 else texts


def log_likelihoods(model, ids, *, chunk: int = 2000) -> np.ndarray:
    """The log-probability (natural log, float64) that ``model`` gives each of ``ids[1:]``,
    each predicted from all the characters before it: one stream, the state carried from chunk
    to chunk of ``chunk`` steps (no gradient, so no truncation of the context). Shape (M - 1,)
    for M ids."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"expected a 1-D array of at least 2 integer ids, got dtype "
                         f"{ids.dtype} and shape {ids.shape}")
    out, state = np.empty(len(ids) - 1), None
    with no_grad():
        for s in range(0, len(ids) - 1, chunk):
            y = ids[s + 1:s + chunk + 1]                                # the next characters
            logits, state = model(ids[s:s + len(y)][None], state)       # (1, steps, K)
            z = logits[0].astype(np.float64)                            # (steps, K)
            top = z.max(axis=1)
            log_norm = top + np.log(np.exp(z - top[:, None]).sum(axis=1))   # log sum_k e^z_k
            out[s:s + len(y)] = z[np.arange(len(y)), y] - log_norm
    return out


def cross_entropy(model, ids, *, chunk: int = 2000) -> float:
    """The mean negative log-likelihood, in nats per character, of ``ids[1:]``: see
    :func:`log_likelihoods`."""
    return float(-log_likelihoods(model, ids, chunk=chunk).mean())


def perplexity(model, ids, *, chunk: int = 2000) -> float:
    """exp(cross-entropy per character) on ``ids``: the model is as uncertain as a uniform
    choice among that many characters. See :func:`cross_entropy`."""
    return float(np.exp(cross_entropy(model, ids, chunk=chunk)))


def ngram_log_probs(train_ids, vocab_size: int, order: int, add: float) -> np.ndarray:
    """The log-probabilities of an add-constant smoothed n-gram model of ``order`` 1 or 2.

    Order 1 (unigram): log p(c) = log((count(c) + add) / (M + add K)), shape (K,).
    Order 2 (bigram): log p(c | b) = log((count(b c) + add) / (count(b .) + add K)), shape
    (K, K), row b the previous character. ``add`` > 0 keeps a character never seen (after b)
    possible; 1 is Laplace's rule.
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 (unigram) or 2 (bigram), got {order!r}")
    if not add > 0:
        raise ValueError(f"add must be > 0 (a zero count would give probability 0), got {add!r}")
    ids = np.asarray(train_ids)
    if order == 1:
        counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)        # (K,)
    else:
        counts = np.zeros((vocab_size, vocab_size))                               # (K, K)
        np.add.at(counts, (ids[:-1], ids[1:]), 1)
    counts += add
    return np.log(counts) - np.log(counts.sum(axis=-1, keepdims=True))


def ngram_cross_entropy(log_probs, ids) -> float:
    """Nats per character of ``ids[1:]`` under an n-gram table from :func:`ngram_log_probs`
    (the same characters a recurrent model is scored on: all but the first)."""
    ids = np.asarray(ids)
    if log_probs.ndim == 1:
        return float(-log_probs[ids[1:]].mean())
    return float(-log_probs[ids[:-1], ids[1:]].mean())


def ngram_perplexity(train_ids, eval_ids, vocab_size: int, order: int, *,
                     add: float | None = None, validation_ids=None,
                     candidates=(0.001, 0.01, 0.1, 0.5, 1.0)) -> tuple[float, float]:
    """Perplexity of an n-gram model counted on ``train_ids`` and scored on ``eval_ids``.

    The smoothing constant is ``add`` when given; otherwise the one among ``candidates`` with
    the lowest cross-entropy on ``validation_ids`` (never chosen on the evaluated text).
    Returns ``(perplexity, add)``.
    """
    if add is None:
        if validation_ids is None:
            raise ValueError("give add, or validation_ids to choose it on")
        add = min(candidates, key=lambda a: ngram_cross_entropy(
            ngram_log_probs(train_ids, vocab_size, order, a), validation_ids))
    table = ngram_log_probs(train_ids, vocab_size, order, add)
    return float(np.exp(ngram_cross_entropy(table, eval_ids))), float(add)
