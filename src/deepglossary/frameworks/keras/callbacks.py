"""Callbacks: code that ``fit`` calls at fixed points of its loop. Keras twin:
``keras.callbacks``. ``History`` is the callback every ``fit`` returns."""

from __future__ import annotations

import numpy as np


class Callback:
    """Override any of the hooks; ``self.model`` is the model being trained. Keras twin:
    ``keras.callbacks.Callback``. ``logs`` holds the epoch's (or, for batches, the running)
    values: ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...


class History(Callback):
    """``history.history["loss"]`` (one value per epoch), ``"val_loss"``, ...; ``epoch``: the
    epoch numbers, from 0. Keras twin: ``keras.callbacks.History``."""

    def on_train_begin(self, logs=None):
        self.epoch, self.history = [], {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs. Keras twin:
    ``keras.callbacks.EarlyStopping`` (Keras 3's rule).

    After each epoch: ``wait += 1``; if the value improved on the best so far (by more than
    ``min_delta``: below ``best - min_delta`` in mode "min"), it becomes the best and ``wait``
    returns to 0; otherwise, once ``wait >= patience`` (and not in the first epoch) training
    stops and ``stopped_epoch`` is set. With ``restore_best_weights``, the weights of the best
    epoch come back when training ends, whether it stopped early or ran all its epochs (Keras
    3's ``on_train_end``).
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False):
        if isinstance(patience, bool) or not isinstance(patience, int | np.integer) \
                or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0, got {patience!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor, self.patience, self.mode = monitor, int(patience), mode
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = bool(restore_best_weights)

    def _improved(self, value, reference) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best = np.inf if self.mode == "min" else -np.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which fit did not "
                             f"report; available: {sorted(logs)} (val_ metrics need "
                             f"validation_split or validation_data)")
        current = logs[self.monitor]
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improved(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class LambdaCallback(Callback):
    """Hooks given as functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.
    Keras twin: ``keras.callbacks.LambdaCallback``."""

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            if not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)
