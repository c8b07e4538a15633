"""Networks the project trained itself, shipped with the package: never downloaded.

``digits_cnn()`` is a small convolutional network trained on the 4,000 shipped MNIST training
digits by ``scripts/train_digits_cnn.py`` (NumPy only, seeded). It is fully convolutional up
to a global average pooling, so it takes a grey image of any size: the Deep Dream chapter
amplifies its features on a photograph, and the Fine-Tuning chapter reuses its features on
Fashion-MNIST.

    model, record = digits_cnn()             # evaluation mode, float32
    x = record.preprocess(data.x_test)       # (N, 784) in [0, 1] -> (N, 1, 28, 28), standardised
    model(x).argmax(axis=1)                  # the digits
    model.until("relu2")(x)                  # the features after the second block
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass

import numpy as np

from deepglossary import init, nn
from deepglossary.data.mnist import sha256
from deepglossary.random import default_rng

WEIGHTS = pathlib.Path(__file__).parent / "data" / "digits_cnn.npz"
WEIGHTS_SHA256 = "87c8c7ee39ad5183c0939e70a24b8be7d4a0a39d0214884ae3e0b17749ca56c5"


class DigitsCNN(nn.Layer):
    """A small all-convolutional digit classifier: four 3x3 convolutions, each followed by
    batch normalization and ReLU, the first three by a 2x2 max-pooling, then a global average
    pooling and one affine layer. PyTorch twin: ``deepglossary.twins.digits_cnn.digits_cnn()``
    (a ``torch.nn.Module`` with the same children, parameter and buffer names).

    Children, named as torchvision names them (``features``, ``avgpool``, ``fc``):

    ``features`` (Sequential), by index and stage name (:attr:`STAGES`; shapes for a 28 x 28
    digit, and for an H x W image):

         0 conv1  Conv2d(1, 16, 3, padding=1, bias=False)    (N, 16, 28, 28)  (N, 16, H, W)
         1 bn1    BatchNorm2d(16)
         2 relu1  ReLU
         3 pool1  MaxPool2d(2)                               (N, 16, 14, 14)  H/2
         4 conv2  Conv2d(16, 32, 3, padding=1, bias=False)   (N, 32, 14, 14)
         5 bn2    BatchNorm2d(32)
         6 relu2  ReLU
         7 pool2  MaxPool2d(2)                               (N, 32, 7, 7)    H/4
         8 conv3  Conv2d(32, 64, 3, padding=1, bias=False)   (N, 64, 7, 7)
         9 bn3    BatchNorm2d(64)
        10 relu3  ReLU
        11 pool3  MaxPool2d(2)                               (N, 64, 3, 3)    H/8
        12 conv4  Conv2d(64, 64, 3, padding=1, bias=False)   (N, 64, 3, 3)
        13 bn4    BatchNorm2d(64)
        14 relu4  ReLU

    ``avgpool``: AdaptiveAvgPool2d(1), (N, 64, 1, 1), flattened to (N, 64) (``torch.flatten(x,
    1)`` in the twin); ``fc``: Affine(64, 10), the logits. Replace ``fc`` by an
    ``Affine(64, k)`` to reuse the features for a task with k classes.

    Initialisation (torchvision's ResNet rule): convolutions Kaiming normal with fan_out and
    ReLU's gain, batch-norm scales 1 and shifts 0, ``fc`` PyTorch's default uniform.

    Shape:
        x: (N, 1, H, W), any H, W >= 8 (three 2x2 poolings; trained on 28 x 28, standardised)
        y: (N, num_classes)     (each pooling rounds down, as in torch)
    """

    STAGES = ("conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2",
              "conv3", "bn3", "relu3", "pool3", "conv4", "bn4", "relu4")
    WIDTHS = (16, 32, 64, 64)

    def __init__(self, num_classes: int = 10, dtype=np.float32, rng=None):
        rng = default_rng(rng)
        layers, before = [], 1
        for i, width in enumerate(self.WIDTHS):
            conv = nn.Conv2d(before, width, 3, padding=1, bias=False, dtype=dtype, rng=rng)
            init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu", rng=rng)
            layers += [conv, nn.BatchNorm(width, dtype=dtype), nn.ReLU()]
            if i < len(self.WIDTHS) - 1:
                layers.append(nn.MaxPool2d(2))
            before = width
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Affine(before, num_classes, dtype=dtype, rng=rng)

    def stage(self, name: str) -> int:
        """The index in ``features`` of the stage ``name`` ("conv1", ..., "relu3")."""
        if name not in self.STAGES:
            raise ValueError(f"DigitsCNN has no stage {name!r}; its stages are {self.STAGES}")
        return self.STAGES.index(name)

    def until(self, name: str) -> nn.Sequential:
        """The layers of ``features`` up to and including stage ``name``, as a Sequential that
        shares them (the same layer objects and weights): its output is that stage's
        activations, and its backward gives their gradient with respect to the image."""
        return nn.Sequential(*list(self.features)[:self.stage(name) + 1])

    def forward(self, x):
        x = nn.as_input(x, "DigitsCNN")
        if x.ndim != 4 or x.shape[1] != 1 or min(x.shape[2:]) < 8:
            raise ValueError(f"DigitsCNN expects an input of shape (N, 1, H, W) with H, W >= 8 "
                             f"(three 2x2 poolings), got shape {x.shape}")
        h = self.features(x)                      # (N, 64, H/8, W/8)
        h = self.avgpool(h)                       # (N, 64, 1, 1)
        self._cache = h.shape
        return self.fc(h.reshape(len(h), -1))     # torch.flatten(h, 1): (N, 64) -> (N, 10)

    def backward(self, grad_output):
        shape = self._saved()
        g = self.fc.backward(grad_output)                 # (N, 64)
        g = self.avgpool.backward(g.reshape(shape))       # (N, 64, H/8, W/8)
        return self.features.backward(g)                  # (N, 1, H, W)


@dataclass(frozen=True)
class PretrainedRecord:
    """What was recorded with the weights: the normalisation the network was trained with
    (``mean`` and ``std`` of the training pixels in [0, 1]), the accuracy it reached on the
    1,000 shipped MNIST test digits (``test_accuracy``, a fraction), how it was trained
    (``seed``, ``epochs``, ``training``: a description), and the file it came from."""

    architecture: str
    mean: float
    std: float
    test_accuracy: float
    seed: int
    epochs: int
    training: str
    path: pathlib.Path
    sha256: str

    def preprocess(self, images, dtype=np.float32) -> np.ndarray:
        """Images with pixels in [0, 1] -> the network's input (N, 1, H, W), standardised
        with the training ``mean`` and ``std``, in ``dtype``. Takes rows of 784 pixels
        (N, 784) (as ``data.mnist()`` gives them: 28 x 28 digits), grey images (N, H, W), one
        image (H, W), or (N, 1, H, W)."""
        x = np.asarray(images)
        if x.ndim == 2 and x.shape[1] == 784:
            x = x.reshape(-1, 1, 28, 28)
        elif x.ndim == 2:
            x = x[None, None]
        elif x.ndim == 3:
            x = x[:, None]
        elif not (x.ndim == 4 and x.shape[1] == 1):
            raise ValueError(f"preprocess expects (N, 784), (H, W), (N, H, W) or (N, 1, H, W) "
                             f"images with pixels in [0, 1], got shape {x.shape}")
        dtype = np.dtype(dtype)
        return ((x.astype(dtype) - dtype.type(self.mean)) / dtype.type(self.std)).astype(dtype)


def digits_cnn_untrained(num_classes: int = 10, dtype=np.float32, seed: int = 0) -> DigitsCNN:
    """The architecture of :func:`digits_cnn`, freshly initialised by :class:`DigitsCNN`'s
    rule (torchvision's ResNet rule: convolutions Kaiming normal with fan_out and ReLU's gain,
    batch-norm scales 1 and shifts 0, ``fc`` PyTorch's default uniform; not PyTorch's default
    for the convolutions), drawn from ``np.random.default_rng(seed)``, in training mode: for
    training from scratch with the same shape, from the rule the pretrained network started
    from (``scripts/train_digits_cnn.py``)."""
    return DigitsCNN(num_classes, dtype=dtype, rng=np.random.default_rng(seed))


def read_weights(path=None, expected_sha256: str | None = None):
    """The arrays and the metadata (a dict) of a weights file, after checking its sha256
    (``ValueError`` naming the file and both hashes when it differs)."""
    path = WEIGHTS if path is None else pathlib.Path(path)
    expected = WEIGHTS_SHA256 if expected_sha256 is None else expected_sha256
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: reinstall the package, or run "
                                "scripts/train_digits_cnn.py to make it (nothing is downloaded)")
    got = sha256(path)
    if got != expected:
        raise ValueError(f"{path} has sha256 {got}, but {expected} was recorded for it in "
                         "deepglossary/pretrained.py: the file is damaged or altered")
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(str(arrays.pop("metadata")))
    return arrays, metadata, got


def state_dict(model: nn.Layer) -> dict:
    """Every parameter and buffer of ``model`` by its torch-style dotted name (the arrays
    themselves, not copies), as ``torch.nn.Module.state_dict`` lists them (without
    ``num_batches_tracked``, which our batch normalization keeps as a plain count)."""
    state = {name: p.data for name, p in model.named_parameters()}
    state.update(model.named_buffers())
    return state


def load_parameters(model: nn.Layer, arrays: dict) -> nn.Layer:
    """Copy ``arrays`` (torch-style dotted names) into ``model``'s parameters and buffers,
    cast to each one's dtype; ``ValueError`` unless the names and shapes agree exactly."""
    state = state_dict(model)
    if set(state) != set(arrays):
        raise ValueError(f"the weights do not fit the model: model only "
                         f"{sorted(set(state) - set(arrays))}, file only "
                         f"{sorted(set(arrays) - set(state))}")
    for name, current in state.items():
        if arrays[name].shape != current.shape:
            raise ValueError(f"{name}: the model's shape is {current.shape}, the file's "
                             f"{arrays[name].shape}")
        current[...] = arrays[name]                  # in place: parameter or buffer
    return model


def digits_cnn(dtype=np.float32, *, path=None,
               expected_sha256: str | None = None) -> tuple[DigitsCNN, PretrainedRecord]:
    """The pretrained digit network, in evaluation mode, and its :class:`PretrainedRecord`.

    Loads the shipped ``data/digits_cnn.npz`` (float32 weights; ``dtype=np.float64`` casts
    them up), after checking its sha256 against the one recorded here: ``ValueError``, naming
    the file and both hashes, if it differs. Never downloads anything. ``path`` and
    ``expected_sha256`` load another file of the same layout (tests use them).
    """
    arrays, meta, digest = read_weights(path, expected_sha256)
    if meta.get("architecture") != "DigitsCNN":
        raise ValueError(f"the file holds a {meta.get('architecture')!r}, not a DigitsCNN")
    model = DigitsCNN(meta.get("num_classes", 10), dtype=dtype, rng=0)
    load_parameters(model, arrays).eval()
    record = PretrainedRecord(
        architecture=meta["architecture"], mean=float(meta["mean"]), std=float(meta["std"]),
        test_accuracy=float(meta["test_accuracy"]), seed=int(meta["seed"]),
        epochs=int(meta["epochs"]), training=meta["training"],
        path=WEIGHTS if path is None else pathlib.Path(path), sha256=digest)
    return model, record


# --- the English-Spanish translation model (Neural Machine Translation chapter) ------------

NMT_WEIGHTS = pathlib.Path(__file__).parent / "data" / "nmt_es_en.npz"
NMT_WEIGHTS_SHA256 = "f096f74cf59c9063c401dc8c6e705457cfbbcfc25ec3b43ab38b1c61903a5840"


@dataclass(frozen=True)
class NMTRecord:
    """What was recorded with the translation model: its vocabularies (``src_vocab``
    Spanish, ``tgt_vocab`` English, :class:`deepglossary.data.parallel.Vocab`), the
    architecture (``config``: the ``Seq2Seq`` arguments), the held-out BLEU it reached
    (``bleu``: a dict, e.g. ``{"test_greedy": ..., "test_beam": ...}``, tokenised and
    lower-cased BLEU in [0, 100] on the shipped test verses), the training ``history``
    (per epoch: training loss, validation loss), ``train_seconds`` (the wall-clock time the
    training took, on the machine that ran it), the ``seed``, the ``training`` recipe, and the
    file it came from."""

    src_vocab: object
    tgt_vocab: object
    config: dict
    bleu: dict
    history: dict
    train_seconds: float
    seed: int
    training: str
    metadata: dict
    path: pathlib.Path
    sha256: str


def translate(model, src_vocab, tgt_vocab, sentences, *, width: int = 1, alpha: float = 0.0,
              max_len: int | None = None, batch_size: int = 256) -> list[list[str]]:
    """Translate ``sentences`` (strings, or token lists) with a ``Seq2Seq``: tokenise,
    encode with ``src_vocab`` (EOS appended), decode greedily (``width=1``) or by beam
    search of ``width`` (length penalty ``alpha``), and return each output as a token list
    (up to its EOS, which is dropped). Sentences are decoded in batches of ``batch_size``
    sorted by length (less padding); the outputs come back in the input order."""
    from deepglossary.data.parallel import decode_batch, encode_batch, tokenize, trim

    tokens = [tokenize(s) if isinstance(s, str) else list(s) for s in sentences]
    if not tokens:
        raise ValueError("translate needs at least one sentence")
    order = np.argsort([len(t) for t in tokens], kind="stable")
    out = [None] * len(tokens)
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        src = trim(encode_batch([tokens[i] for i in index], src_vocab)[0])   # (B, S)
        if width == 1:
            decoded = model.greedy(src, max_len=max_len)
        else:
            decoded = model.beam_search(src, width=width, max_len=max_len, alpha=alpha)
        for i, words in zip(index, decode_batch(decoded.tokens, tgt_vocab)):
            out[i] = words
    return out


def nmt_es_en(dtype=np.float32, *, path=None,
              expected_sha256: str | None = None) -> tuple[nn.Layer, NMTRecord]:
    """The shipped Spanish-to-English translation model (an attention ``Seq2Seq`` trained by
    ``scripts/train_nmt.py`` on the shipped verse pairs), in evaluation mode, and its
    :class:`NMTRecord`.

    Loads ``data/nmt_es_en.npz`` (float16 weights, cast to ``dtype``) after checking its
    sha256 against :data:`NMT_WEIGHTS_SHA256` (``ValueError`` naming both hashes if it
    differs). Never downloads anything. ``path`` and ``expected_sha256`` load another file of
    the same layout (tests use them).
    """
    from deepglossary.data.parallel import Vocab
    from deepglossary.models import Seq2Seq

    path = NMT_WEIGHTS if path is None else pathlib.Path(path)
    expected = NMT_WEIGHTS_SHA256 if expected_sha256 is None else expected_sha256
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: reinstall the package, or run "
                                "scripts/train_nmt.py to make it (nothing is downloaded)")
    arrays, meta, digest = read_weights(path, expected)
    if meta.get("architecture") != "Seq2Seq":
        raise ValueError(f"the file holds a {meta.get('architecture')!r}, not a Seq2Seq")
    src_vocab, tgt_vocab = Vocab(meta["src_itos"]), Vocab(meta["tgt_itos"])
    config = dict(meta["config"])
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), config.pop("embed_size"),
                    config.pop("hidden_size"), **config, dtype=dtype, rng=0)
    load_parameters(model, arrays).eval()
    record = NMTRecord(
        src_vocab=src_vocab, tgt_vocab=tgt_vocab, config=dict(meta["config"]),
        bleu=dict(meta["bleu"]), history=dict(meta["history"]),
        train_seconds=float(meta["train_seconds"]), seed=int(meta["seed"]),
        training=meta["training"], metadata=meta, path=path, sha256=digest)
    return model, record


# --- the Neural Turing Machine on the copy task (Neural Turing Machine chapter) -----------

NTM_WEIGHTS = pathlib.Path(__file__).parent / "data" / "ntm_copy.npz"
NTM_LSTM_WEIGHTS = pathlib.Path(__file__).parent / "data" / "ntm_copy_lstm.npz"
NTM_WEIGHTS_SHA256 = "e14a8f78c5c7cd2e69db62fcb5dc806d7d7725e7399646711d0a5be1f684736a"
NTM_LSTM_WEIGHTS_SHA256 = "f160b6b1afc0a98beb47a2c0a7178c51ef032fbe6907b81c8781d6f9145e8998"
NTM_COPY_CONFIG = {"controller": "feedforward", "hidden_size": 64, "memory_slots": 40,
                   "memory_width": 20, "num_reads": 1}
NTM_LSTM_CONFIG = {"hidden_size": 40}       # about as many parameters as the NTM


@dataclass(frozen=True)
class CopyRecord:
    """What was recorded with a copy-task model: the ``config`` it was built with, the
    training lengths 1..``max_length``, ``bits`` per vector, the ``steps`` trained, every
    step's ``losses`` and ``lengths``, ``train_seconds`` (wall time on the machine that ran
    it), ``train_errors`` (mean bit errors per sequence at each training length), the
    ``seed``, the ``training`` recipe, and the file it came from."""

    architecture: str
    config: dict
    max_length: int
    bits: int
    steps: int
    losses: list
    lengths: list
    train_seconds: float
    train_errors: dict
    seed: int
    training: str
    path: pathlib.Path
    sha256: str


def ntm_copy(which: str = "ntm", dtype=np.float32, *, path=None,
             expected_sha256: str | None = None):
    """The copy-task model trained by ``scripts/train_ntm.py``, and its :class:`CopyRecord`.

    ``which``: ``"ntm"`` (a :class:`deepglossary.models.NTM`, ``data/ntm_copy.npz``) or
    ``"lstm"`` (the baseline :class:`deepglossary.ntm_tasks.LSTMCopier`,
    ``data/ntm_copy_lstm.npz``). Both take x (N, T, bits + 1) and return logits (N, T, bits).
    The file's sha256 is checked first (``ValueError`` naming both hashes if it differs);
    nothing is downloaded. ``path`` and ``expected_sha256`` load another file (tests)."""
    from deepglossary.models import NTM
    from deepglossary.ntm_tasks import LSTMCopier

    if which not in ("ntm", "lstm"):
        raise ValueError(f"ntm_copy: which must be 'ntm' or 'lstm', got {which!r}")
    default = NTM_WEIGHTS if which == "ntm" else NTM_LSTM_WEIGHTS
    path = default if path is None else pathlib.Path(path)
    expected = expected_sha256 or (NTM_WEIGHTS_SHA256 if which == "ntm"
                                   else NTM_LSTM_WEIGHTS_SHA256)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: reinstall the package, or run "
                                "scripts/train_ntm.py to make it (nothing is downloaded)")
    arrays, meta, digest = read_weights(path, expected)
    bits = int(meta["bits"])
    if which == "ntm" and meta.get("architecture") == "NTM":
        model = NTM(bits + 1, bits, **meta["config"], dtype=dtype, rng=0)
    elif which == "lstm" and meta.get("architecture") == "LSTMCopier":
        model = LSTMCopier(bits + 1, bits, **meta["config"], dtype=dtype, rng=0)
    else:
        raise ValueError(f"the file holds a {meta.get('architecture')!r}, not the {which!r} "
                         "model")
    load_parameters(model, arrays).eval()
    record = CopyRecord(
        architecture=meta["architecture"], config=dict(meta["config"]),
        max_length=int(meta["max_length"]), bits=bits, steps=int(meta["steps"]),
        losses=list(meta["losses"]), lengths=list(meta["lengths"]),
        train_seconds=float(meta["train_seconds"]),
        train_errors={int(k): float(v) for k, v in meta["train_errors"].items()},
        seed=int(meta["seed"]), training=meta["training"], path=path, sha256=digest)
    return model, record
