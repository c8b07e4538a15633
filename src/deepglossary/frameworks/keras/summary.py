"""``model.summary()``: the layer table Keras 2 prints, from one traced forward pass
(``deepglossary.models.summary``): each layer's name (type), output shape and parameters."""

import numpy as np


def keras_summary(model, print_fn=print) -> None:
    """Print ``model``'s table line by line through ``print_fn`` (Keras's argument too)."""
    if not model.built:
        raise ValueError("This model has not yet been built: give Input(shape=...) first, "
                         "call build((None, features)), or fit it on data")
    from deepglossary.models.summary import summary as trace

    table = trace(model, (1,) + model.input_shape[1:], dtype=model.dtype)
    rule, width = "_" * 65, (28, 26, 10)

    def line(*cells):
        return (" " + "".join(str(c).ljust(w) for c, w in zip(cells, width))).ljust(65)

    lines = [f'Model: "{model.name}"', rule, line("Layer (type)", "Output Shape", "Param #"),
             "=" * 65]
    for i, layer in enumerate(model):
        row = table.row(str(i))
        lines += [line(f"{layer.name} ({type(layer).__name__})",
                       str((None,) + tuple(row.output_shape)), row.params), " " * 65]
    total = table.total_params
    size = total * np.dtype(model.dtype).itemsize
    lines += ["=" * 65, f"Total params: {total} ({size / 1024:.2f} KB)",
              f"Trainable params: {total} ({size / 1024:.2f} KB)",
              "Non-trainable params: 0 (0.00 Byte)", rule]
    for text in lines:
        print_fn(text)
