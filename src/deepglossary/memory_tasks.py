"""Tasks that need a long memory, and one small routine to train sequence classifiers on them.

The task, *delayed recall*: a stream of random symbols, one-hot, in which one symbol carries a
marker; after ``delay`` more random symbols the sequence ends, and the network must name the
marked symbol. Nothing after the marker tells it anything, so it must write the symbol into
its state when the marker comes and keep it there, through ``delay`` steps of distractors that
use the same input channels, until the end. Chance is ``1 / symbols``.

::

    step      0   1   2   3   4 | 5 | 6   7   ...  5 + delay
    symbol    c   a   d   a   b | b*| d   c   ...  a          ->  target: b
              (lead distractors)  marked   (delay distractors)

The marked symbol does not come first: at step 0 the zero initial state would mark it by
itself, and a plain RNN then solves much longer delays (try ``lead=0``). With ``lead``
distractors before it, the network has to *write* on the marker.

The shared routine, used by the LSTM and GRU chapters and later ones:

    task = DelayedRecall(delay=20)
    model = SequenceClassifier("lstm", task.input_size, 32, task.symbols, keep_bias=1.0)
    run = train_classifier(model, task, steps=700, lr=3e-3, seed=0)
    run.test_accuracy, run.solved_at, run.accuracy   # final, first solved step, curve

``memory_runs`` trains one model per (model, delay) with the same settings and returns the
runs, which ``accuracy_table`` lays out as delays x models.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from deepglossary import nn, optim
from deepglossary.losses import CrossEntropy
from deepglossary.nn.core import Layer
from deepglossary.random import default_rng

KINDS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _count(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class DelayedRecall:
    """The delayed-recall task with its sizes fixed; ``task.sample(n, rng)`` draws a batch.

    Shape (n sequences, L = lead + 1 + delay steps, K = symbols):
        x: (n, L, K + 1) one-hot symbols in columns 0..K-1, the marker in column K
           (1 at step ``lead`` only);  y: (n,) int64, the marked symbol, in 0..K-1
    """

    delay: int
    symbols: int = 4
    lead: int = 5
    dtype: type = np.float32

    def __post_init__(self):
        _count(self.delay, "delay", 0)
        _count(self.symbols, "symbols", 2)
        _count(self.lead, "lead", 0)
        if np.dtype(self.dtype) not in (np.float32, np.float64):
            raise TypeError(f"DelayedRecall: dtype must be float32 or float64, got {self.dtype}")

    @property
    def length(self) -> int:
        return self.lead + 1 + self.delay

    @property
    def input_size(self) -> int:
        return self.symbols + 1

    def sample(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` sequences and their targets, drawn from ``rng`` (a Generator or a seed)."""
        n = _count(n, "n", 1)
        rng = default_rng(rng)
        symbols = rng.integers(0, self.symbols, size=(n, self.length))   # (n, L)
        x = np.zeros((n, self.length, self.input_size), dtype=self.dtype)
        np.put_along_axis(x, symbols[..., None], 1, axis=2)              # one-hot symbols
        x[:, self.lead, self.symbols] = 1                                  # the marker
        return x, symbols[:, self.lead].astype(np.int64)


def delayed_recall(n: int, delay: int, *, symbols: int = 4, lead: int = 5, rng=None,
                   dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """``n`` delayed-recall sequences: x (n, lead + 1 + delay, symbols + 1), y (n,).
    The function form of ``DelayedRecall(delay, symbols, lead, dtype).sample(n, rng)``."""
    return DelayedRecall(delay, symbols, lead, dtype).sample(n, rng)


class SequenceClassifier(Layer):
    """A recurrent layer read once, at the end: its last layer's final state(s) -> an affine
    layer -> logits. PyTorch twin: :meth:`torch_twin` (``torch.nn.RNN`` / ``LSTM`` / ``GRU``
    with ``batch_first=True``, then ``torch.nn.Linear``; the same parameter names).

    Shape (N sequences, T steps, D inputs, H hidden units, K classes, dirs = 2 if
    bidirectional else 1):
        x: (N, T, D) (batch first);  logits: (N, K)
        the features read: h_n of the last layer, both directions concatenated, (N, dirs H)
        (for one direction that is the output at the last step)
        rnn.*: the recurrent layer's parameters;  head.weight: (K, dirs H), head.bias: (K,)

    ``keep_bias``: the initial bias of the gate that keeps the old state, the LSTM's forget
    gate f or the GRU's update gate z (torch's convention, h' = (1 - z) n + z h), rows H:2H
    of torch's layout in both (i, f, g, o and r, z, n). When given, the gate's two biases are
    set so that they sum to it, ``bias_ih[H:2H] = keep_bias`` and ``bias_hh[H:2H] = 0``, in
    every layer and direction; otherwise they keep torch's initialisation,
    U(-1/sqrt(H), 1/sqrt(H)) each. ``keep_bias=1.0`` on an LSTM is Jozefowicz et al.'s (2015)
    forget-gate bias of 1.
    ``backward(grad_logits)`` returns dx (N, T, D).
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int, classes: int, *,
                 num_layers: int = 1, bidirectional: bool = False, keep_bias=None,
                 dtype=np.float32, rng=None):
        if kind not in KINDS:
            raise ValueError(f"SequenceClassifier: kind must be one of {sorted(KINDS)}, "
                             f"got {kind!r}")
        if keep_bias is not None and kind == "rnn":
            raise ValueError("SequenceClassifier: keep_bias is the bias of the LSTM's forget "
                             "gate or the GRU's update gate; a plain 'rnn' has no gate")
        rng = default_rng(rng)
        self.kind, self.classes = kind, _count(classes, "classes", 2)
        self.keep_bias = None if keep_bias is None else float(keep_bias)
        self.rnn = KINDS[kind](input_size, hidden_size, num_layers, batch_first=True,
                               bidirectional=bidirectional, dtype=dtype, rng=rng)
        dirs = 2 if bidirectional else 1
        self.head = nn.Affine(dirs * hidden_size, classes, dtype=dtype, rng=rng)
        if self.keep_bias is not None:
            hid = hidden_size
            for name, p in self.rnn.named_parameters():
                if name.startswith("bias_ih"):                     # rows of f (i, f, g, o)
                    p.data[hid:2 * hid] = self.keep_bias           # or of z (r, z, n)
                elif name.startswith("bias_hh"):
                    p.data[hid:2 * hid] = 0.0

    def _last_rows(self) -> slice:
        """The rows of h_n that belong to the last layer (one per direction)."""
        dirs = 2 if self.rnn.bidirectional else 1
        return slice((self.rnn.num_layers - 1) * dirs, self.rnn.num_layers * dirs)

    def forward(self, x):
        out, state = self.rnn(x)                                  # out (N, T, dirs H)
        h_n = state[0] if self.kind == "lstm" else state          # (layers dirs, N, H)
        last = h_n[self._last_rows()]                             # (dirs, N, H)
        features = np.concatenate(list(last), axis=1)             # (N, dirs H)
        self._cache = (out.shape, h_n.shape)
        return self.head(features)                                # (N, K)

    def backward(self, grad_output):
        out_shape, hn_shape = self._saved()
        g_features = self.head.backward(grad_output)              # (N, dirs H)
        g_hn = np.zeros(hn_shape, dtype=g_features.dtype)         # only the last layer read
        rows = self._last_rows()
        g_hn[rows] = g_features.reshape(len(g_features), -1, hn_shape[2]).transpose(1, 0, 2)
        g_out = np.zeros(out_shape, dtype=g_features.dtype)       # the outputs were not used
        return self.rnn.backward(g_out, g_hn)[0]                  # dx (N, T, D)

    def torch_twin(self):
        """The same model in torch (parameters not copied: ``verify.copy_parameters``)."""
        from deepglossary.verify import torch_module

        torch = torch_module()
        rnn, head = self.rnn, self.head
        dtype = torch.float64 if head.weight.data.dtype == np.float64 else torch.float32
        cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[self.kind]
        kind, rows = self.kind, self._last_rows()

        class TorchSequenceClassifier(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = cls(rnn.input_size, rnn.hidden_size, rnn.num_layers,
                               batch_first=True, bidirectional=rnn.bidirectional, dtype=dtype)
                self.head = torch.nn.Linear(head.in_features, head.out_features, dtype=dtype)

            def forward(self, x):
                _, state = self.rnn(x)
                h_n = state[0] if kind == "lstm" else state
                return self.head(torch.cat(list(h_n[rows]), dim=1))

        return TorchSequenceClassifier()

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}" + ("" if self.keep_bias is None
                                        else f", keep_bias={self.keep_bias}")


@dataclass
class Run:
    """What ``train_classifier`` recorded.

    ``loss`` and ``accuracy``: every step's, on that step's fresh training batch (the data
    never repeat, so these are estimates of the error on new data too); ``solved_at``: the
    step after which the mean accuracy of the last ``window`` batches first reached
    ``solved`` (training stops there), or None; ``test_accuracy``: on a fixed held-out set
    after training; ``seconds``: the wall-clock time of training; ``model``: the trained model.
    """

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    test_accuracy: float = float("nan")
    solved_at: int | None = None
    seconds: float = 0.0
    model: object = field(default=None, repr=False)

    @property
    def steps(self) -> int:
        return len(self.loss)

    def smoothed(self, window: int = 25) -> np.ndarray:
        """The training accuracy averaged over the last ``window`` steps (fewer at the start)."""
        acc = np.asarray(self.accuracy, dtype=float)
        total = np.cumsum(np.r_[0.0, acc])
        lo = np.maximum(np.arange(1, len(acc) + 1) - window, 0)
        return (total[1:] - total[lo]) / (np.arange(1, len(acc) + 1) - lo)


def train_classifier(model, task, *, steps: int = 700, batch_size: int = 32, lr: float = 3e-3,
                     clip: float = 1.0, seed: int = 0, test_size: int = 1000,
                     solved: float = 0.99, window: int = 25) -> Run:
    """Train ``model`` on fresh batches of ``task`` with Adam and gradient-norm clipping.

    Each step draws ``batch_size`` new sequences (``task.sample(n, rng)``), computes the
    cross-entropy of ``model(x)`` (logits (N, K)), backpropagates, clips the gradients' joint
    norm to ``clip`` and takes an Adam step of rate ``lr``. Training stops after ``steps``
    steps, or earlier once the mean batch accuracy over the last ``window`` steps reaches
    ``solved``. Then the accuracy on ``test_size`` held-out sequences (drawn from a stream of
    their own, the same for every model given the same ``seed``) is measured.
    The training batches come from ``seed`` too, so models trained with one seed see the same
    data. Returns a :class:`Run`.
    """
    steps = _count(steps, "steps", 1)
    batch_size = _count(batch_size, "batch_size", 1)
    window = _count(window, "window", 1)
    if not 0 < solved <= 1:
        raise ValueError(f"solved must be an accuracy in (0, 1], got {solved!r}")
    data = np.random.default_rng([seed, 1])                  # the training stream
    params = model.parameters()
    opt = optim.Adam(params, lr=lr)
    loss_fn, run = CrossEntropy(), Run(model=model)
    start = time.perf_counter()
    for step in range(steps):
        x, y = task.sample(batch_size, data)
        model.zero_grad()
        logits = model(x)                                     # (N, K)
        run.loss.append(float(loss_fn(logits, y)))
        run.accuracy.append(float((logits.argmax(axis=1) == y).mean()))
        model.backward(loss_fn.backward())
        if clip:
            optim.clip_grad_norm(params, clip)
        opt.step()
        if step + 1 >= window and np.mean(run.accuracy[-window:]) >= solved:
            run.solved_at = step + 1
            break
    run.seconds = time.perf_counter() - start
    x_test, y_test = task.sample(test_size, np.random.default_rng([seed, 2]))
    with nn.no_grad():
        run.test_accuracy = float((model(x_test).argmax(axis=1) == y_test).mean())
    return run


def memory_runs(models, delays, *, hidden_size: int = 32, symbols: int = 4, lead: int = 5,
                seed: int = 0, cache: dict | None = None, **settings) -> dict:
    """Train one model per (model, delay) on delayed recall; returns {(label, delay): Run}.

    ``models``: {label: kind} or {label: (kind, keep_bias)}, kinds from ``"rnn"``, ``"lstm"``,
    ``"gru"`` (``keep_bias``: see :class:`SequenceClassifier`), e.g.
    ``{"RNN": "rnn", "LSTM, forget bias 1": ("lstm", 1.0)}``. Every model is built from the
    generator ``seed`` (float32, ``hidden_size`` units, one layer) and trained with
    ``train_classifier(..., seed=seed, **settings)``: with one seed, every model starts from
    the same draws and sees the same batches. ``cache``: a dict of finished runs, keyed by
    everything that defines one, to reuse and fill, so that a widget or a later table never
    trains one configuration twice.
    """
    cache = {} if cache is None else cache
    runs = {}
    for label, spec in models.items():
        kind, keep_bias = (spec, None) if isinstance(spec, str) else spec
        for delay in delays:
            key = (kind, keep_bias, delay, hidden_size, symbols, lead, seed,
                   tuple(sorted(settings.items())))
            if key not in cache:
                task = DelayedRecall(delay, symbols, lead)
                model = SequenceClassifier(kind, task.input_size, hidden_size, symbols,
                                           keep_bias=keep_bias, rng=np.random.default_rng(seed))
                cache[key] = train_classifier(model, task, seed=seed, **settings)
            runs[(label, delay)] = cache[key]
    return runs


def accuracy_table(runs: dict) -> str:
    """The runs of ``memory_runs`` as text: one row per delay, one column per model (in the
    order first met), each cell the held-out accuracy and, in brackets, the step at which
    training counted it solved (``-``: never, within its steps); a blank where a model was not
    run at that delay."""
    labels = list(dict.fromkeys(label for label, _ in runs))
    delays = sorted({delay for _, delay in runs})
    width = max(16, *(len(label) + 2 for label in labels))
    lines = ["delay" + "".join(f"{label:>{width}}" for label in labels)]
    for delay in delays:
        cells = []
        for label in labels:
            run = runs.get((label, delay))
            if run is None:
                cells.append(" " * width)
                continue
            when = "-" if run.solved_at is None else str(run.solved_at)
            cells.append(f"{run.test_accuracy:>{width - 7}.1%} ({when:>4})")
        lines.append(f"{delay:5d}" + "".join(cells))
    return "\n".join(lines)
