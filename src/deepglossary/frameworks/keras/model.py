"""``Sequential``: the Keras model, on the package's layers, losses and optimizers.

    model = Sequential([Input(shape=(784,)), Dense(64, activation="relu"), Dropout(0.2),
                        Dense(10)])
    model.compile(optimizer="adam",
                  loss=SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=5, validation_split=0.1)
    history.history["val_loss"]

What ``fit`` does, in order (Keras's semantics where they differ from a plain loop):
validation_split keeps the *last* ``floor`` of the data for validation, before any shuffling;
each epoch draws a new order of the remaining training rows; each batch is a forward, the
loss, the hand-derived backward and one optimizer step; the reported ``loss`` and
``accuracy`` are running means over the epoch's batches, each weighted by its number of
examples (the weights change during the epoch, so this is *not* the loss of the final
weights); after the epoch, the validation set is evaluated in inference mode (no dropout);
then the callbacks run, and one of them may stop training.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from deepglossary.frameworks.keras import losses as keras_losses
from deepglossary.frameworks.keras import optimizers as keras_optimizers
from deepglossary.frameworks.keras.callbacks import History
from deepglossary.frameworks.keras.data import _positive_int, validation_split_indices
from deepglossary.frameworks.keras.layers import Input, KerasLayer
from deepglossary.nn.core import Sequential as _Sequential
from deepglossary.nn.core import check_float_dtype, no_grad
from deepglossary.random import default_rng
from deepglossary.train import check_data

ACCURACY_NAMES = ("accuracy", "acc", "sparse_categorical_accuracy")


class Sequential(_Sequential):
    """A stack of Keras layers with Keras's training API. Keras twin: ``keras.Sequential``;
    PyTorch: ``torch.nn.Sequential`` plus the training loop you write yourself.

    ``layers``: Keras layers, optionally preceded by ``Input(shape=...)``. ``seed``: the
    generator of the initial weights, the dropout masks and (by default) the shuffling;
    ``None``: the package's generator (``deepglossary.seed``). ``dtype``: the parameters'
    dtype; by default the ``Input``'s, else the first batch's floating dtype, else float32.
    The children are named "0", "1", ... as in ``torch.nn.Sequential``; each layer also gets
    Keras's automatic name (``dense``, ``dense_1``, ``dropout``, ...).
    """

    def __init__(self, layers=(), name: str = "sequential", seed=None, dtype=None):
        layers = list(layers)
        first = layers.pop(0) if layers and isinstance(layers[0], Input) else None
        for i, layer in enumerate(layers):
            if isinstance(layer, Input):
                raise TypeError("Input(shape=...) can only come first in a Sequential")
            if not isinstance(layer, KerasLayer):
                raise TypeError(f"Sequential takes Keras layers (Dense, Dropout, ...), got "
                                f"{type(layer).__name__} at position {i}")
        super().__init__()
        self.name = name
        self.built = False
        self.stop_training = False
        self._rng = default_rng(seed)
        self._dtype = None if dtype is None else np.dtype(dtype)
        self._config = {}                 # what compile received; not layers, so not children
        for layer in layers:
            self.add(layer)
        if first is not None:
            self.build((None,) + first.shape, first.dtype or self._dtype or np.float32)

    # -- building ----------------------------------------------------------------------
    def add(self, layer: KerasLayer) -> None:
        """Append a layer (Keras's ``model.add``); built at once if the model already is."""
        if not isinstance(layer, KerasLayer):
            raise TypeError(f"add takes a Keras layer, got {type(layer).__name__}")
        taken = [getattr(child, "name", None) for child in self]
        if getattr(layer, "name", None) is None:
            count = sum(1 for t in taken if t and t.split("_")[0] == layer.kind)
            layer.name = layer.kind if count == 0 else f"{layer.kind}_{count}"
        setattr(self, str(len(self)), layer)
        if self.built:
            shape = self.output_shape
            layer.build(shape, self.dtype, self._rng)
            self.output_shapes.append(layer.compute_output_shape(shape))

    def build(self, input_shape, dtype=None) -> None:
        """Create every layer's parameters for inputs of ``input_shape`` (batch first, e.g.
        ``(None, 784)``): each layer learns its input size from the previous one's output."""
        dtype = np.dtype(dtype or self._dtype or np.float32)
        check_float_dtype(dtype, "Sequential", "parameters")
        if len(self) == 0:
            raise ValueError("Sequential.build: the model has no layers")
        shape = (None,) + tuple(int(s) for s in input_shape[1:])
        self.input_shape, self.dtype, self.output_shapes = shape, dtype, []
        for layer in self:
            layer.build(shape, dtype, self._rng)
            shape = layer.compute_output_shape(shape)
            self.output_shapes.append(shape)
        self.built = True
        if "optimizer" in self._config:
            self._config["optimizer_instance"] = self._config["optimizer"].make(self.parameters())

    @property
    def output_shape(self) -> tuple:
        return self.output_shapes[-1]

    def _inputs(self, x) -> np.ndarray:
        """``x`` as an array of the model's dtype (Keras casts to its float type too); builds
        the model from it if needed; ValueError for a shape the model was not built for."""
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"expected inputs with a batch dimension, (N, ...), got shape "
                             f"{x.shape}")
        if x.dtype.kind not in "fiu":
            raise TypeError(f"inputs must be real numbers, got dtype {x.dtype}")
        if not self.built:
            self.build((None,) + x.shape[1:], self._dtype or
                       (x.dtype if x.dtype in (np.float32, np.float64) else np.float32))
        if x.shape[1:] != self.input_shape[1:]:
            raise ValueError(f"the model was built for inputs of shape {self.input_shape}, "
                             f"got shape {x.shape}")
        return x.astype(self.dtype, copy=False)

    def forward(self, x):
        return super().forward(self._inputs(x))

    # -- compile -------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the optimizer (a name or a recipe of ``keras.optimizers``), the loss (a name
        or an object of ``keras.losses``) and the metrics (``["accuracy"]`` or none).
        Keras's default optimizer is RMSprop, as here."""
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        recipe = keras_optimizers.get(optimizer)
        loss_object = keras_losses.get(loss)
        metrics = list(metrics or [])
        for m in metrics:
            if m not in ACCURACY_NAMES:
                raise ValueError(f"unknown metric {m!r}; known: {list(ACCURACY_NAMES)}")
        self._config = {"optimizer": recipe, "loss": loss_object,
                        "loss_layer": loss_object.layer(), "accuracy": bool(metrics)}
        if self.built:
            self._config["optimizer_instance"] = recipe.make(self.parameters())

    @property
    def optimizer(self):
        """The package optimizer ``fit`` steps (made when the model is built)."""
        return self._config.get("optimizer_instance")

    def _require_compiled(self, what: str) -> None:
        if "loss" not in self._config:
            raise RuntimeError(f"You must call compile() before {what}(): the model has no "
                               f"loss and no optimizer yet")

    def _targets(self, y, n: int) -> np.ndarray:
        """Check the targets against the loss and the output shape before any step."""
        y = np.asarray(y)
        loss = self._config["loss"]
        out = self.output_shape
        if isinstance(loss, keras_losses.SparseCategoricalCrossentropy):
            return keras_losses.sparse_targets(y, n, out[-1], "sparse_categorical_crossentropy")
        if y.shape[1:] != out[1:]:
            raise ValueError(f"{loss.name} expects targets of the output's shape "
                             f"(N,) + {out[1:]}, got shape {y.shape}")
        return y.astype(self.dtype)

    def _correct(self, out, y) -> int:
        labels = y if y.ndim == 1 else y.argmax(axis=1)
        return int((np.asarray(out).argmax(axis=1) == labels).sum())

    # -- fit -------------------------------------------------------------------------------
    def fit(self, x, y, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            rng=None) -> History:
        """Train; returns the :class:`History` (``history.history["loss"]``, ...).

        Shapes: ``x`` (N, ...) real numbers (cast to the model's dtype); ``y`` (N,) or (N, 1)
        integer class indices for the sparse cross-entropy, else the output's shape (N, K).
        ``validation_data``: a pair ``(x_val, y_val)`` shaped alike; it overrides
        ``validation_split``.

        ``batch_size`` defaults to 32 as in Keras; ``verbose``: 0 silent, 1 (or "auto") a
        progress bar per epoch, 2 one line per epoch. ``rng`` (our addition): the generator
        that draws each epoch's order; by default the model's own. After each batch,
        ``self.batch_loss`` holds that batch's loss (the logs hold running means).

        Raises ``RuntimeError`` before ``compile``, ``ValueError`` for targets of the wrong
        shape for the loss, for data of different lengths or with NaN, and for a split that
        leaves one side empty.
        """
        self._require_compiled("fit")
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        epochs = _positive_int(epochs, "epochs")
        x = self._inputs(x)
        check_data(x, np.asarray(y))
        if validation_data is not None:
            x_val, y_val = validation_data
            x_val = self._inputs(x_val)
        elif validation_split:
            train, val = validation_split_indices(len(x), validation_split)
            x, x_val, y, y_val = x[train], x[val], np.asarray(y)[train], np.asarray(y)[val]
        else:
            x_val = y_val = None
        y = self._targets(y, len(x))
        if x_val is not None:
            check_data(x_val, np.asarray(y_val), name="x_val", label_name="y_val")
            y_val = self._targets(y_val, len(x_val))
        rng = self._rng if rng is None else default_rng(rng)
        optimizer, loss_layer = self.optimizer, self._config["loss_layer"]
        history = History()
        hooks = [history] + list(callbacks or [])
        for callback in hooks:
            callback.set_model(self)
        self.stop_training = False
        for callback in hooks:
            callback.on_train_begin()
        n = len(x)
        steps = -(-n // batch_size)
        for epoch in range(epochs):
            for callback in hooks:
                callback.on_epoch_begin(epoch)
            order = rng.permutation(n) if shuffle else np.arange(n)
            self.train()
            total, seen, correct, logs = 0.0, 0, 0, {}
            with tqdm(total=steps, disable=verbose not in (1, "auto"), leave=False,
                      desc=f"epoch {epoch + 1}/{epochs}") as bar:
                for b in range(steps):
                    index = order[b * batch_size:(b + 1) * batch_size]
                    for callback in hooks:
                        callback.on_train_batch_begin(b)
                    optimizer.zero_grad()
                    out = self(x[index])                                  # (B, C)
                    loss = float(loss_layer(out, y[index]))
                    self.backward(loss_layer.backward())
                    optimizer.step()
                    self.batch_loss = loss
                    total, seen = total + loss * len(index), seen + len(index)
                    logs = {"loss": total / seen}                         # running mean
                    if self._config["accuracy"]:
                        correct += self._correct(out, y[index])
                        logs["accuracy"] = correct / seen
                    bar.update()
                    bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)
                    for callback in hooks:
                        callback.on_train_batch_end(b, logs)
            if x_val is not None:
                val = self.evaluate(x_val, y_val, batch_size=batch_size, return_dict=True)
                logs.update({f"val_{k}": v for k, v in val.items()})
            if verbose == 2:
                print(f"Epoch {epoch + 1}/{epochs} - " +
                      " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
            for callback in hooks:
                callback.on_epoch_end(epoch, dict(logs))
            if self.stop_training:
                break
        for callback in hooks:
            callback.on_train_end()
        self.history = history
        return history

    # -- evaluate, predict -------------------------------------------------------------------
    def evaluate(self, x, y, batch_size=None, verbose=0, return_dict: bool = False):
        """Loss (and accuracy) in inference mode (no dropout), as the mean over all examples.
        Returns ``loss``, ``[loss, accuracy]`` with a metric, or a dict with ``return_dict``."""
        self._require_compiled("evaluate")
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        x = self._inputs(x)
        y = self._targets(y, len(x))
        loss_layer = self._config["loss_layer"]
        was_training = self.training
        self.eval()
        total, correct = 0.0, 0
        try:
            with no_grad():
                for start in range(0, len(x), batch_size):
                    out = super().forward(x[start:start + batch_size])
                    target = y[start:start + batch_size]
                    total += float(loss_layer(out, target)) * len(out)
                    correct += self._correct(out, target)
        finally:
            self.train(was_training)
        result = {"loss": total / len(x)}
        if self._config["accuracy"]:
            result["accuracy"] = correct / len(x)
        if return_dict:
            return result
        return result["loss"] if len(result) == 1 else list(result.values())

    def predict(self, x, batch_size=None, verbose=0) -> np.ndarray:
        """The model's outputs in inference mode, (N, ...) in the model's dtype."""
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        x = self._inputs(x)
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                return np.concatenate([super(Sequential, self).forward(x[i:i + batch_size])
                                       for i in range(0, len(x), batch_size)])
        finally:
            self.train(was_training)

    # -- weights and summary -----------------------------------------------------------------
    def get_weights(self) -> list:
        """Copies of every parameter, in order (torch's layout: weight (out, in))."""
        return [p.data.copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        params = self.parameters()
        if len(weights) != len(params):
            raise ValueError(f"set_weights expects {len(params)} arrays, got {len(weights)}")
        for p, w in zip(params, weights):
            if np.shape(w) != p.shape:
                raise ValueError(f"set_weights: shape {np.shape(w)} for a parameter of shape "
                                 f"{p.shape}")
            p.data[...] = w

    def count_params(self) -> int:
        return sum(p.size for p in self.parameters())

    def summary(self, print_fn=print) -> None:
        """Print the layer table as Keras 2 prints it: name (type), output shape, parameters
        (see :func:`~deepglossary.frameworks.keras.summary.keras_summary`)."""
        from deepglossary.frameworks.keras.summary import keras_summary

        keras_summary(self, print_fn)
