"""A sequence-to-sequence task that trains in seconds and shows the limit of a fixed-size
state (the Seq2Seq chapter; the Attention Mechanism chapter runs the same task with attention).

    src, tgt = reversal(64, lengths=(1, 12), symbols=10, rng=0)   # tgt = reversed src + EOS
    model = task_model(hidden_size=64)                             # a Seq2Seq sized for it
    history = train(model, steps=1500, lengths=(1, 12), rng=0)     # Adam, clipping, a bar
    table = accuracy_by_length(model, range(1, 17), rng=1)         # exact and token accuracy

or all of it in one call: ``run(attention=None)`` / ``run(attention="dot")``.

The symbols are independent and uniform on ``symbols`` values, so a source of length L holds
L log2(symbols) bits, all of which the decoder needs; without attention they must all pass
through the encoder's final state, whose size does not grow with L.
Token ids follow the project's convention: PAD = 0, BOS = 1, EOS = 2, UNK = 3, then the
symbols 4, 5, ....
"""

from __future__ import annotations

import pathlib
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from deepglossary import optim
from deepglossary.models.seq2seq import Seq2Seq
from deepglossary.random import default_rng

PAD, BOS, EOS, UNK = 0, 1, 2, 3
FIRST_SYMBOL = 4
TASKS = ("reverse", "copy")
SYMBOLS, TRAIN_LENGTHS, EMBED_SIZE = 10, (1, 12), 32     # the chapter's (and script's) task
REVERSAL_WEIGHTS = pathlib.Path(__file__).parent / "data" / "seq2seq_reversal.npz"
REVERSAL_SHA256 = "d853346ff88dd2a6a68df75269ce8d6ffe73f31502f0ebec659cedf7981c09ae"


def _integer(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _length_range(lengths) -> tuple[int, int]:
    if isinstance(lengths, int | np.integer) and not isinstance(lengths, bool):
        lengths = (lengths, lengths)
    if (not isinstance(lengths, tuple | list) or len(lengths) != 2
            or not all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                       for v in lengths) or not 1 <= lengths[0] <= lengths[1]):
        raise ValueError(f"lengths must be an integer >= 1 or a pair (min, max) with "
                         f"1 <= min <= max, got {lengths!r}")
    return int(lengths[0]), int(lengths[1])


def vocab_size(symbols: int) -> int:
    """The vocabulary of the task: the four special tokens and the symbols."""
    return FIRST_SYMBOL + _integer(symbols, "symbols", 2)


def reversal(n: int, lengths=(1, 12), symbols: int = 10, rng=None, task: str = "reverse"):
    """``n`` random sources and their targets, padded at the end with PAD.

    Each source has a length drawn uniformly from ``lengths`` = (min, max) (or exactly
    ``lengths`` when an int) and independent uniform symbols; its target is the source
    reversed (``task="reverse"``) or copied (``"copy"``), then EOS.
    Shape: returns src (n, max length) and tgt (n, max length + 1), int64.
    """
    n = _integer(n, "n", 1)
    low, high = _length_range(lengths)
    symbols = _integer(symbols, "symbols", 2)
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    rng = default_rng(rng)
    length = rng.integers(low, high + 1, size=n)                             # (n,)
    width = int(length.max())
    sym = rng.integers(FIRST_SYMBOL, FIRST_SYMBOL + symbols, size=(n, width))
    pos = np.arange(width)[None, :]                                          # (1, S)
    real = pos < length[:, None]                                             # (n, S)
    src = np.where(real, sym, PAD)
    if task == "reverse":                        # tgt[t] = src[length - 1 - t]
        index = np.clip(length[:, None] - 1 - pos, 0, width - 1)
        body = np.take_along_axis(sym, index, axis=1)
    else:
        body = sym
    tgt = np.full((n, width + 1), PAD, dtype=np.int64)
    tgt[:, :width] = np.where(real, body, PAD)
    tgt[np.arange(n), length] = EOS
    return src.astype(np.int64), tgt


def task_model(hidden_size: int = 64, *, symbols: int = 10, embed_size: int = 32,
               cell: str = "gru", attention: str | None = None, num_layers: int = 1,
               dtype=np.float32, rng=0) -> Seq2Seq:
    """A :class:`~deepglossary.models.Seq2Seq` sized for the task (same vocabulary both
    sides), float32 by default: training is about twice as fast as in float64."""
    v = vocab_size(symbols)
    return Seq2Seq(v, v, embed_size, hidden_size, cell=cell, num_layers=num_layers,
                   attention=attention, pad=PAD, bos=BOS, eos=EOS, dtype=dtype, rng=rng)


@dataclass
class History:
    """What :func:`train` returns: the loss of every step and the wall time in seconds."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    seconds: float = 0.0


def train(model: Seq2Seq, *, steps: int = 1500, batch_size: int = 64, lengths=(1, 12),
          symbols: int | None = None, lr: float = 3e-3, clip: float = 1.0,
          task: str = "reverse", rng=None, progress: bool = True) -> History:
    """Train with teacher forcing on fresh padded batches: Adam (``lr``), gradient clipping to
    global norm ``clip``, a tqdm bar (``progress``). The loss is the mean cross-entropy over
    the real target tokens (PAD ignored). ``symbols`` defaults to what the model's vocabulary
    holds. Fresh data every step: there is nothing to overfit.
    """
    steps = _integer(steps, "steps", 1)
    batch_size = _integer(batch_size, "batch_size", 1)
    symbols = model.tgt_vocab - FIRST_SYMBOL if symbols is None else symbols
    if vocab_size(symbols) > min(model.src_vocab, model.tgt_vocab):
        raise ValueError(f"{symbols} symbols need a vocabulary of {vocab_size(symbols)}, the "
                         f"model has {model.src_vocab} and {model.tgt_vocab}")
    rng = default_rng(rng)
    opt = optim.Adam(model.parameters(), lr=lr)
    history, start = History(), time.perf_counter()
    with tqdm(range(steps), disable=not progress, desc="training", leave=False) as bar:
        for _ in bar:
            src, tgt = reversal(batch_size, lengths, symbols, rng, task)
            opt.zero_grad()
            loss, grad = model.loss(model(src, tgt), tgt)
            model.backward(grad)
            history.grad_norm.append(optim.clip_grad_norm(model.parameters(), clip))
            opt.step()
            history.loss.append(float(loss))
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
    history.seconds = time.perf_counter() - start
    return history


@dataclass
class LengthTable:
    """Accuracy by source length: ``exact`` (the whole output right, EOS in place) and
    ``token`` (the fraction of target positions, EOS included, that the output gets right)."""

    lengths: np.ndarray
    exact: np.ndarray
    token: np.ndarray
    score: np.ndarray            # mean model score log p(output | source) per length


def compare(decoded, tgt):
    """Exact-sequence and per-token correctness of decoded outputs against targets.
    Returns (exact (N,) bool, token (N,) the fraction of tgt's real positions right)."""
    tgt = np.asarray(tgt)
    n, t_len = tgt.shape
    out = np.full((n, max(t_len, decoded.tokens.shape[1])), PAD, dtype=np.int64)
    out[:, :decoded.tokens.shape[1]] = decoded.tokens
    real = tgt != PAD                                                        # (N, T)
    hit = (out[:, :t_len] == tgt) & real
    token = hit.sum(axis=1) / real.sum(axis=1)
    exact = (hit.sum(axis=1) == real.sum(axis=1)) & (decoded.lengths == real.sum(axis=1))
    return exact, token


def accuracy_by_length(model: Seq2Seq, lengths=range(1, 17), *, n: int = 200,
                       symbols: int | None = None, width: int = 1, task: str = "reverse",
                       rng=1) -> LengthTable:
    """Decode ``n`` fresh sources of each length (greedy for ``width=1``, else beam search)
    and measure exact-sequence and token accuracy. One batch per length: no padding."""
    symbols = model.tgt_vocab - FIRST_SYMBOL if symbols is None else symbols
    rng = default_rng(rng)
    lengths = np.array(list(lengths), dtype=np.int64)
    exact, token, score = (np.empty(len(lengths)) for _ in range(3))
    for i, length in enumerate(lengths):
        src, tgt = reversal(n, int(length), symbols, rng, task)
        decoded = (model.greedy(src) if width == 1 else model.beam_search(src, width))
        e, t = compare(decoded, tgt)
        exact[i], token[i], score[i] = e.mean(), t.mean(), decoded.scores.mean()
    return LengthTable(lengths, exact, token, score)


@dataclass
class Run:
    """What :func:`run` returns."""

    model: Seq2Seq
    history: History
    table: LengthTable


def run(attention: str | None = None, *, hidden_size: int = 64, steps: int = 1500,
        train_lengths=(1, 12), test_lengths=range(1, 17), symbols: int = 10,
        cell: str = "gru", seed: int = 0, progress: bool = True, **train_kwargs) -> Run:
    """The whole experiment in one call: build a model (with or without ``attention``),
    train it on ``train_lengths``, measure accuracy on ``test_lengths`` (longer ones test
    generalisation). Seeded by ``seed``."""
    model = task_model(hidden_size, symbols=symbols, cell=cell, attention=attention,
                       rng=seed)
    history = train(model, steps=steps, lengths=train_lengths, symbols=symbols,
                    rng=seed + 1, progress=progress, **train_kwargs)
    table = accuracy_by_length(model, test_lengths, symbols=symbols, rng=seed + 2)
    return Run(model, history, table)


def train_and_save(configs: dict, path, *, steps: int, progress: bool = False) -> dict:
    """Train the models of ``configs`` on the chapter's task and recipe and write them to
    ``path``: what ``scripts/train_seq2seq_reversal.py`` and
    ``scripts/train_attention_reversal.py`` run to make the shipped files.

    ``configs``: name -> (config, seed), config a dict of ``hidden_size`` and ``attention``;
    the model draws from ``seed``, the data from ``seed + 1``. Each model's float32 parameters
    are stored under ``name/`` by their torch-style names, with a JSON ``metadata`` (the
    recipe, each model's seconds, its loss every 100 steps and the exact accuracy by length
    1..12 on 200 fresh sources). Returns the metadata.
    """
    import json

    from deepglossary.pretrained import state_dict

    arrays, meta = {}, {"task": "reverse", "symbols": SYMBOLS, "train_lengths":
                        list(TRAIN_LENGTHS), "steps": steps, "embed_size": EMBED_SIZE,
                        "cell": "gru", "dtype": "float32", "models": {}}
    for name, (config, seed) in configs.items():
        model = task_model(config["hidden_size"], symbols=SYMBOLS,
                           attention=config["attention"], rng=seed)
        history = train(model, steps=steps, lengths=TRAIN_LENGTHS, symbols=SYMBOLS,
                        rng=seed + 1, progress=progress)
        table = accuracy_by_length(model, range(1, 13), n=200, rng=1000)
        for key, value in state_dict(model).items():
            arrays[f"{name}/{key}"] = value
        meta["models"][name] = {**config, "seed": seed, "seconds": round(history.seconds, 1),
                                "final_loss": float(np.mean(history.loss[-100:])),
                                "loss_every_100": [float(np.mean(history.loss[i:i + 100]))
                                                   for i in range(0, steps, 100)],
                                "exact_1_to_12": [float(a) for a in table.exact]}
        print(f"{name}: {history.seconds:.1f} s, final loss "
              f"{meta['models'][name]['final_loss']:.3f}, exact accuracy by length 1..12 "
              f"{np.round(table.exact, 2).tolist()}", flush=True)
    np.savez_compressed(path, metadata=np.array(json.dumps(meta)), **arrays)
    return meta


def pretrained(name: str = "h64", *, path=None, expected_sha256: str | None = None):
    """A model trained by ``scripts/train_seq2seq_reversal.py`` and shipped with the package
    (never downloaded): ``"h16"``, ``"h32"``, ``"h64"``, ``"h128"`` (GRU, no attention, that
    hidden size) or ``"h64-dot"`` (with dot-product attention). Returns the float32 model and
    its record (a dict: the recipe, the training time, the loss every 100 steps, the exact
    accuracy by length 1..12 measured when it was trained). The file's sha256 is checked."""
    from deepglossary.pretrained import load_parameters, read_weights

    arrays, meta, _ = read_weights(REVERSAL_WEIGHTS if path is None else path,
                                   REVERSAL_SHA256 if expected_sha256 is None
                                   else expected_sha256)
    if name not in meta["models"]:
        raise ValueError(f"no shipped model {name!r}; there are {sorted(meta['models'])}")
    record = meta["models"][name]
    model = task_model(record["hidden_size"], symbols=meta["symbols"],
                       embed_size=meta["embed_size"], cell=meta["cell"],
                       attention=record["attention"], rng=0)
    prefix = name + "/"
    load_parameters(model, {k[len(prefix):]: v for k, v in arrays.items()
                            if k.startswith(prefix)})
    return model, {**record, **{k: v for k, v in meta.items() if k != "models"}}
