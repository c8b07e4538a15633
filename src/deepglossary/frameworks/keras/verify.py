"""The Keras model against PyTorch: a torch twin with the same parameter names, and a whole
``fit`` replayed step by step as the explicit torch training loop that Keras hides.

torch is imported inside the functions only.
"""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.keras import layers as keras_layers
from deepglossary.frameworks.keras import losses as keras_losses
from deepglossary.frameworks.keras import optimizers as keras_optimizers
from deepglossary.frameworks.keras.callbacks import Callback
from deepglossary.frameworks.keras.data import validation_split_indices


def torch_twin(model):
    """A ``torch.nn.Sequential`` computing what our Keras ``model`` computes, with the same
    parameter names (``0.affine.weight``, ...); values are copied by ``copy_parameters``.
    A Dropout twin multiplies by ``mask`` when one is set (to replay our masks) and is
    ``torch.nn.functional.dropout`` otherwise."""
    import torch

    activations = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
                   "softmax": lambda: torch.nn.Softmax(dim=-1)}

    class Dense(torch.nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.affine = torch.nn.Linear(layer.affine.in_features, layer.units,
                                          bias=layer.use_bias)
            name = layer.activation_name
            self.activation = None if name in (None, "linear") else activations[name]()

        def forward(self, x):
            y = self.affine(x)
            return y if self.activation is None else self.activation(y)

    class Dropout(torch.nn.Module):
        def __init__(self, rate):
            super().__init__()
            self.rate, self.mask = rate, None

        def forward(self, x):
            if not self.training:
                return x
            if self.mask is not None:
                return x * self.mask
            return torch.nn.functional.dropout(x, self.rate)

    children = []
    for layer in model:
        if isinstance(layer, keras_layers.Dense):
            children.append(Dense(layer))
        elif isinstance(layer, keras_layers.Dropout):
            children.append(Dropout(layer.rate))
        elif isinstance(layer, keras_layers.Activation):
            children.append(activations[layer.activation_name]())
        elif isinstance(layer, keras_layers.Flatten):
            children.append(torch.nn.Flatten())
        else:
            raise TypeError(f"no torch twin for {type(layer).__name__}")
    return torch.nn.Sequential(*children)


def torch_loss(loss):
    """The torch loss for one of our Keras loss objects."""
    import torch

    if isinstance(loss, keras_losses.SparseCategoricalCrossentropy):
        if loss.from_logits:
            return torch.nn.CrossEntropyLoss()
        eps = keras_losses.EPSILON
        return lambda p, y: torch.nn.functional.nll_loss(torch.log(p.clamp(eps, 1 - eps)), y)
    if isinstance(loss, keras_losses.CategoricalCrossentropy):
        return torch.nn.CrossEntropyLoss()
    return torch.nn.MSELoss()


def torch_optimizer(recipe, parameters):
    """``torch.optim`` with the values of one of our Keras optimizer recipes."""
    import torch

    if isinstance(recipe, keras_optimizers.Adam):
        return torch.optim.Adam(parameters, lr=recipe.learning_rate,
                                betas=(recipe.beta_1, recipe.beta_2), eps=recipe.epsilon)
    if isinstance(recipe, keras_optimizers.SGD):
        return torch.optim.SGD(parameters, lr=recipe.learning_rate, momentum=recipe.momentum)
    if isinstance(recipe, keras_optimizers.RMSprop):
        return torch.optim.RMSprop(parameters, lr=recipe.learning_rate, alpha=recipe.rho,
                                   eps=recipe.epsilon)
    raise TypeError(f"no torch optimizer for {recipe!r}")


class StepRecorder(Callback):
    """Records, after every batch of ``fit``, the batch's loss (``model.batch_loss``) and the
    mask of every Dropout layer, so that the same run can be replayed in torch."""

    def on_train_begin(self, logs=None):
        self.losses, self.masks = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(self.model.batch_loss)
        self.masks.append([None if not isinstance(layer, keras_layers.Dropout)
                           else np.array(layer.mask) for layer in self.model])


def fit_against_torch(model, x, y, *, epochs: int, batch_size: int = 32,
                      validation_split: float = 0.0, seed: int = 0, callbacks=(),
                      title: str | None = None, tolerance: float | None = None,
                      device: str = "cpu"):
    """Train the compiled ``model`` with ``fit`` and, from the same initial weights, its torch
    twin with the explicit loop: the same validation split, the same order of the examples
    (each epoch's permutation drawn from ``np.random.default_rng(seed)`` on both sides), the
    same dropout masks, ``torch.optim`` with the same hyperparameters.

    Compares the loss of every step, the reported epoch losses (the running means, recomputed
    from torch's step losses), the validation losses and every final weight; returns the
    :class:`~deepglossary.verify.Report` and the :class:`History`; raises
    ``VerificationError`` on a mismatch. The torch loop runs on ``device`` ("cpu", or
    "cuda" where a GPU is present).
    """
    import torch

    from deepglossary.verify import Report, copy_parameters

    model._require_compiled("fit_against_torch")
    x = model._inputs(x)                                      # builds the model if needed
    dtype = model.dtype
    twin = torch_twin(model).to(dtype=torch.float64 if dtype == np.float64 else torch.float32)
    copy_parameters(model, twin)                              # the same initial weights
    twin.to(device)
    recorder = StepRecorder()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                        validation_split=validation_split,
                        callbacks=[recorder, *callbacks], rng=np.random.default_rng(seed))

    train, val = validation_split_indices(len(x), validation_split)
    y = np.asarray(y)
    on = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731
    xt, yt, xv, yv = on(x[train]), on(y[train]), on(x[val]), on(y[val])
    loss_fn = torch_loss(model._config["loss"])
    optimizer = torch_optimizer(model._config["optimizer"], twin.parameters())
    rng, step = np.random.default_rng(seed), 0
    steps, epoch_loss, val_loss = [], [], []
    for _ in history.epoch:                                   # as many epochs as fit ran
        order = rng.permutation(len(train))
        twin.train()
        total = 0.0
        for start in range(0, len(train), batch_size):
            index = on(order[start:start + batch_size])
            for module, mask in zip(twin, recorder.masks[step]):
                if mask is not None:
                    module.mask = on(mask)
            optimizer.zero_grad()
            loss = loss_fn(twin(xt[index]), yt[index])
            loss.backward()
            optimizer.step()
            steps.append(loss.item())
            total += loss.item() * len(index)
            step += 1
        epoch_loss.append(total / len(train))
        if len(val):
            twin.eval()
            with torch.no_grad():
                val_loss.append(loss_fn(twin(xv), yv).item())
    report = Report(title or f"fit of {model.name} vs a torch loop, {np.dtype(dtype)}")
    add = lambda what, ours, theirs: report.add(device, dtype, what, ours, theirs,  # noqa: E731
                                                tolerance=tolerance)
    add(f"loss of each of the {len(steps)} steps", np.array(recorder.losses), np.array(steps))
    add("epoch loss (running mean)", np.array(history.history["loss"]), np.array(epoch_loss))
    if val_loss:
        add("val_loss", np.array(history.history["val_loss"]), np.array(val_loss))
    theirs = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        add(f"final {name}", p.data, theirs[name].detach().cpu().numpy())
    return report.raise_if_mismatch(), history
