"""The small Keras: lazy building, compile/fit/evaluate/predict, callbacks, errors, and a
whole training run against a torch loop."""

import subprocess
import sys

import numpy as np
import pytest

from deepglossary.frameworks import keras
from deepglossary.frameworks.keras.optimizers import keras_adam_step
from deepglossary.frameworks.keras.verify import fit_against_torch, torch_twin
from deepglossary.verify import against_torch


def data(n=120, features=6, classes=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(dtype)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    return x, y.astype(np.int64) % classes


def mlp(seed=0, dropout=0.2, **kw):
    return keras.Sequential([keras.Dense(16, activation="relu"), keras.Dropout(dropout),
                             keras.Dense(3)], seed=seed, **kw)


def compiled(model, optimizer="adam", metrics=("accuracy",)):
    model.compile(optimizer=optimizer,
                  loss=keras.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=list(metrics))
    return model


def test_layers_are_built_lazily_from_the_first_batch():
    model = mlp()
    assert not model.built and model.parameters() == []
    x, _ = data()
    out = model.predict(x)
    assert model.built and out.shape == (120, 3) and out.dtype == np.float64
    assert model[0].affine.weight.shape == (16, 6) and model[0].kernel.shape == (6, 16)
    assert [layer.name for layer in model] == ["dense", "dropout", "dense_1"]


def test_input_builds_at_once_with_glorot_uniform_and_zero_bias():
    model = keras.Sequential([keras.Input(shape=(400,)), keras.Dense(200)], seed=0)
    w, b = model[0].affine.weight.data, model[0].affine.bias.data
    limit = np.sqrt(6 / (400 + 200))
    assert w.dtype == np.float32 and np.all(b == 0) and np.abs(w).max() <= limit
    assert abs(w.var() - limit**2 / 3) < 0.03 * limit**2 / 3     # U(-a, a): variance a^2/3


def test_summary_prints_shapes_and_parameter_counts():
    model = keras.Sequential([keras.Input(shape=(784,)), keras.Dense(64, activation="relu"),
                              keras.Dropout(0.2), keras.Dense(10)])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "dense (Dense)" in text and "(None, 64)" in text and "50240" in text
    assert "dense_1 (Dense)" in text and "650" in text and "Total params: 50890" in text


def test_fit_returns_a_history_and_learns():
    x, y = data(400)
    model = compiled(mlp(), optimizer=keras.optimizers.Adam(learning_rate=0.01))
    history = model.fit(x, y, epochs=8, batch_size=32, validation_split=0.25, verbose=0)
    h = history.history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(h["loss"]) == 8 and history.epoch == list(range(8))
    assert h["loss"][-1] < 0.6 * h["loss"][0] and h["val_accuracy"][-1] > 0.8
    loss, accuracy = model.evaluate(x[300:], y[300:])
    assert np.isclose(loss, h["val_loss"][-1]) and np.isclose(accuracy, h["val_accuracy"][-1])


def test_validation_split_takes_the_last_rows_before_shuffling():
    train, val = keras.validation_split_indices(10, 0.25)
    assert list(val) == [7, 8, 9] and list(train) == list(range(7))    # floor(10 * 0.75) = 7
    x, y = data(40)
    seen = []
    model = compiled(mlp(dropout=0.0))
    model.fit(x, y, epochs=1, batch_size=40, validation_split=0.25, verbose=0,
              callbacks=[keras.LambdaCallback(
                  on_train_batch_begin=lambda b, logs=None: seen.append(b))])
    assert seen == [0]                                  # 30 training rows: one batch of 40
    assert np.isclose(model.evaluate(x[30:], y[30:], return_dict=True)["loss"],
                      model.history.history["val_loss"][0])


def test_reported_loss_is_the_running_mean_weighted_by_batch_size():
    x, y = data(50)
    losses = []

    class Spy(keras.Callback):
        def on_train_batch_end(self, batch, logs=None):
            losses.append(self.model.batch_loss)

    history = compiled(mlp()).fit(x, y, epochs=1, batch_size=16, callbacks=[Spy()], verbose=0)
    sizes = [16, 16, 16, 2]
    assert np.isclose(history.history["loss"][0], np.dot(losses, sizes) / 50)


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = data(200)
    stop = keras.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model = compiled(mlp(), optimizer=keras.optimizers.Adam(learning_rate=0.3))
    history = model.fit(x, y, epochs=60, batch_size=8, validation_split=0.5, callbacks=[stop],
                        verbose=0)
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert stop.stopped_epoch == len(val) - 1 == best + 2 < 59
    after = model.evaluate(x[100:], y[100:], return_dict=True)["loss"]
    assert np.isclose(after, val[best])                           # the best epoch's weights


def test_early_stopping_rule_on_a_given_curve():
    class Fake:
        stop_training = False

    for values, patience, stopped in [([3, 2, 2, 2, 1], 2, 3), ([3, 2, 1, 0], 0, 0),
                                      ([1, 2], 0, 1), ([1, 1, 1], 1, 1)]:
        callback, model = keras.EarlyStopping(patience=patience), Fake()
        callback.set_model(model)
        callback.on_train_begin()
        for epoch, v in enumerate(values):
            callback.on_epoch_end(epoch, {"val_loss": v})
            if model.stop_training:
                break
        assert callback.stopped_epoch == stopped, (values, patience)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_whole_fit_matches_a_torch_loop_step_by_step(dtype):
    x, y = data(150, dtype=dtype)
    model = compiled(mlp(seed=3))
    report, history = fit_against_torch(model, x, y, epochs=4, batch_size=16,
                                        validation_split=0.2, seed=5)
    assert report.ok and len(history.epoch) == 4


def test_fit_against_torch_with_probabilities_and_sgd():
    x, y = data(90)
    model = keras.Sequential([keras.Dense(8, activation="tanh"),
                              keras.Dense(3, activation="softmax")], seed=2)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    report, _ = fit_against_torch(model, x, y, epochs=2, batch_size=10, seed=1)
    assert report.ok


def test_against_torch_one_step_in_eval_mode():
    x, _ = data(7)
    model = mlp()
    model.build((None, 6), np.float64)
    model.eval()
    against_torch(model, torch_twin(model), x)


def test_errors_are_clear():
    x, y = data()
    with pytest.raises(RuntimeError, match="compile"):
        mlp().fit(x, y)
    with pytest.raises(ValueError, match="unknown optimizer"):
        mlp().compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="unknown loss"):
        mlp().compile(optimizer="adam", loss="sparse_crossentropy")
    with pytest.raises(ValueError, match="unknown activation"):
        keras.Dense(3, activation="rellu")
    with pytest.raises(ValueError, match="one-hot"):
        compiled(mlp()).fit(x, np.eye(3)[y], verbose=0)
    with pytest.raises(ValueError, match="from_logits"):      # logits into a probability loss
        model = mlp()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="built for inputs"):
        model = compiled(mlp())
        model.predict(x)
        model.predict(x[:, :4])
    with pytest.raises(ValueError, match="validation_split"):
        compiled(mlp()).fit(x[:1], y[:1], validation_split=0.5)
    with pytest.raises(ValueError, match="unknown metric"):
        mlp().compile(loss="mse", metrics=["f1"])


def test_keras_adam_is_torch_adam_with_a_growing_epsilon():
    rng = np.random.default_rng(0)
    p, m, v = rng.standard_normal(5), np.zeros(5), np.zeros(5)
    g = 1e-5 * rng.standard_normal(5)
    ours, _, _ = keras_adam_step(p, g, m, v, t=1, epsilon=1e-7)
    eps_t = 1e-7 / np.sqrt(1 - 0.999)
    m1, v1 = 0.1 * g, 0.001 * g * g
    torch_form = p - 1e-3 / 0.1 * m1 / (np.sqrt(v1) / np.sqrt(0.001) + eps_t)
    assert np.allclose(ours, torch_form, rtol=1e-12, atol=1e-15)


def test_restore_best_weights_also_when_training_runs_to_the_end():
    x, y = data(200)
    stop = keras.EarlyStopping(patience=100, restore_best_weights=True)
    model = compiled(mlp(), optimizer=keras.optimizers.Adam(learning_rate=0.3))
    history = model.fit(x, y, epochs=12, batch_size=8, validation_split=0.5, callbacks=[stop],
                        verbose=0)
    val = history.history["val_loss"]
    assert stop.stopped_epoch == 0 and len(val) == 12 and int(np.argmin(val)) < 11
    after = model.evaluate(x[100:], y[100:], return_dict=True)["loss"]
    assert np.isclose(after, min(val))                            # Keras 3's on_train_end


def test_importing_the_keras_modules_does_not_import_torch():
    code = ("import sys, deepglossary.frameworks.keras, deepglossary.frameworks.keras.verify, "
            "deepglossary.exercises.keras; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
