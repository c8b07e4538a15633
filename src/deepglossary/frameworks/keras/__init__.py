"""Keras, small: ``Sequential`` with lazily built layers, ``compile``, ``fit`` with callbacks
and a ``History``, on the package's NumPy layers, losses and optimizers.

    from deepglossary.frameworks import keras
    model = keras.Sequential([keras.Dense(64, activation="relu"), keras.Dropout(0.2),
                              keras.Dense(10)])
    model.compile(optimizer="adam", loss=keras.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, validation_split=0.2)

``layers``, ``losses``, ``optimizers`` and ``callbacks`` mirror Keras's modules; the torch
twin and the step-by-step comparison with a torch training loop are in ``verify``.
"""

from deepglossary.frameworks.keras import callbacks, layers, losses, optimizers
from deepglossary.frameworks.keras.callbacks import (
    Callback,
    EarlyStopping,
    History,
    LambdaCallback,
)
from deepglossary.frameworks.keras.data import validation_split_indices
from deepglossary.frameworks.keras.layers import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    KerasLayer,
)
from deepglossary.frameworks.keras.losses import (
    CategoricalCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from deepglossary.frameworks.keras.model import Sequential

__all__ = ["Activation", "Callback", "CategoricalCrossentropy", "Dense", "Dropout",
           "EarlyStopping", "Flatten", "History", "Input", "KerasLayer", "LambdaCallback",
           "MeanSquaredError", "Sequential", "SparseCategoricalCrossentropy", "callbacks",
           "layers", "losses", "optimizers", "validation_split_indices"]
