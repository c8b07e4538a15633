"""The torch twin of ``deepglossary.models.VGG``: torchvision's ``VGG`` rebuilt from ``torch.nn``.

Layer for layer as ``torchvision/models/vgg.py`` (``make_layers`` and the ``VGG`` class), with
the same parameter and buffer names (``features.0.weight``, ``features.1.running_mean`` with
batch norm, ``classifier.6.bias``), so ``verify.copy_parameters`` loads ours into it and
torchvision's pretrained weights would load into both.
"""

from __future__ import annotations

import contextlib

import numpy as np

from deepglossary.models.vgg import scaled_config
from deepglossary.nn import Affine, no_grad
from deepglossary.verify import Report, against_torch, torch_module


def make_layers(config, batch_norm: bool = False, in_channels: int = 3):
    """torchvision's ``make_layers``: a ``torch.nn.Sequential`` of Conv2d 3x3 padding 1
    [+ BatchNorm2d] + ReLU per number, MaxPool2d(2, 2) per "M"."""
    torch = torch_module()
    layers = []
    for entry in scaled_config(config):
        if entry == "M":
            layers.append(torch.nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(torch.nn.Conv2d(in_channels, entry, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(torch.nn.BatchNorm2d(entry))
        layers.append(torch.nn.ReLU(inplace=True))
        in_channels = entry
    return torch.nn.Sequential(*layers)


def vgg(config="16", batch_norm: bool = False, num_classes: int = 1000, *, in_channels: int = 3,
        width: float = 1.0, stages: int | None = None, pool_size=7, hidden: int = 4096,
        dropout: float = 0.5, init_weights: bool = True):
    """torchvision's ``VGG(make_layers(cfg, batch_norm), num_classes, init_weights, dropout)``
    as a ``torch.nn.Module``; the keyword arguments scale it down exactly as they scale
    ``models.VGG``. ``vgg("16")`` has torchvision's ``vgg16()``'s layers and names."""
    torch = torch_module()
    nn = torch.nn
    cfg = scaled_config(config, width, stages)
    last = [entry for entry in cfg if entry != "M"][-1]

    class VGG(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = make_layers(cfg, batch_norm, in_channels)
            self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
            ph, pw = self.avgpool.output_size if isinstance(pool_size, tuple) else (pool_size,) * 2
            self.classifier = nn.Sequential(
                nn.Linear(last * ph * pw, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
                nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
                nn.Linear(hidden, num_classes))
            if init_weights:
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                        nn.init.constant_(m.bias, 0)
                    elif isinstance(m, nn.BatchNorm2d):
                        nn.init.constant_(m.weight, 1)
                        nn.init.constant_(m.bias, 0)
                    elif isinstance(m, nn.Linear):
                        nn.init.normal_(m.weight, 0, 0.01)
                        nn.init.constant_(m.bias, 0)

        def forward(self, x):
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.classifier(x)

    return VGG()


def twin_of(model):
    """A fresh torch twin with the layout of our ``models.VGG`` instance ``model`` (its
    configuration, batch norm, pooling size, widths and dropout), ready for ``against_torch``."""
    affine = [layer for layer in model.classifier if hasattr(layer, "out_features")]
    dropout = next(layer.p for layer in model.classifier if hasattr(layer, "p"))
    return vgg(model.config, model.batch_norm, affine[-1].out_features,
               in_channels=model.in_channels, pool_size=model.avgpool.output_size,
               hidden=affine[0].out_features, dropout=dropout, init_weights=False)


def leaves(model) -> list[tuple[str, object]]:
    """``(dotted name, layer)`` of every layer of our VGG that does the computing, in the order
    of the forward pass: ``features.0`` ... ``avgpool``, ``classifier.0`` ... ``classifier.6``.
    The flattening between ``avgpool`` and ``classifier`` is a reshape inside ``VGG.forward``."""
    return ([(f"features.{i}", layer) for i, layer in enumerate(model.features)]
            + [("avgpool", model.avgpool)]
            + [(f"classifier.{i}", layer) for i, layer in enumerate(model.classifier)])


@contextlib.contextmanager
def recording(model, names=None):
    """Record, during one forward and one backward pass of ``model`` inside the block, the
    input and the upstream gradient of every layer of :func:`leaves` (only of the layers
    ``names`` lists, when given, to keep less memory alive): yields a dict
    ``name -> {"input": array, "grad_output": array}``, filled as the passes run. The layers
    compute exactly as outside the block (their ``forward`` and ``backward`` are wrapped, and
    unwrapped at the end)."""
    calls: dict = {}
    wrapped = []
    known = dict(leaves(model))
    if names is not None and set(names) - set(known):
        raise ValueError(f"recording: no layer named {sorted(set(names) - set(known))}; the "
                         f"names look like {next(iter(known))!r}")
    for name, layer in known.items():
        if names is not None and name not in names:
            continue
        forward, backward = layer.forward, layer.backward

        def record_forward(*inputs, _forward=forward, _name=name):
            calls.setdefault(_name, {})["input"] = inputs[0]
            return _forward(*inputs)

        def record_backward(grad_output, _backward=backward, _name=name):
            calls.setdefault(_name, {})["grad_output"] = grad_output
            return _backward(grad_output)

        layer.forward, layer.backward = record_forward, record_backward
        wrapped.append(layer)
    try:
        yield calls
    finally:
        for layer in wrapped:
            del layer.forward, layer.backward          # the class's methods again


def against_twin_by_layer(model, twin, calls: dict) -> Report:
    """Check every layer of our ``model`` against the layer at the same place in its torch
    ``twin`` (:func:`vgg` or :func:`twin_of`), each on the input and the upstream gradient it
    had in the end-to-end pass that ``calls`` recorded (:func:`recording`), with
    ``verify.against_torch``: output, input gradient and every parameter gradient, plus the
    rerun in the other precision. Returns the combined report; raises on any mismatch.

    Why layer by layer: in float32 two correct implementations round differently, and where a
    2x2 max-pooling window holds two values within rounding of each other (a photograph's flat
    regions make many), one picks the first and the other the second; the gradient then flows
    to a different pixel, and the end-to-end weight gradients of every layer below disagree by
    far more than rounding. Given the same input, each layer decides alike. The twin's in-place
    ReLUs are checked as ``torch.nn.ReLU()``, which computes the same function out of place (a
    leaf tensor cannot be modified in place)."""
    torch = torch_module()
    theirs = dict(twin.named_modules())
    report = Report(f"{type(model).__name__} vs torch, layer by layer")
    for name, layer in leaves(model):
        if name not in calls or "grad_output" not in calls[name]:
            raise ValueError(f"no recorded forward and backward call of {name}: run the model "
                             "forward and backward inside `with recording(model) as calls:`")
        x, g = calls[name]["input"], calls[name]["grad_output"]
        if isinstance(layer, Affine) and layer.weight.size > BLOCK_ENTRIES:
            report.rows += _affine_in_blocks(name, layer, x, g)
            continue
        other = theirs[name]
        if isinstance(other, torch.nn.ReLU):
            other = torch.nn.ReLU()
        report.rows += against_torch(layer, other, x, grad_output=g, title=name).rows
    return report.raise_if_mismatch()


BLOCK_ENTRIES = 1 << 24     # a larger affine layer is checked in blocks of output units


def _affine_in_blocks(name, layer, x, g) -> list:
    """The rows of the check of a large affine layer (VGG's first, 25,088 x 4,096), block by
    block of output units, each block an ``Affine`` holding a copy of the layer's rows checked
    by ``against_torch`` against a ``torch.nn.Linear``: the comparison and the reruns hold
    several float64 arrays of the compared gradient's size (measured on VGG's first layer: a
    peak of 6.8 GB and 19 s for the whole layer at once, 2 GB and 11 s in blocks of 512
    rows). Then the whole layer, called once more, must give every block's output, weight
    and bias gradient rows, and the sum of the blocks' input gradients (norm-wise, at the
    dtype's tolerance), so that the layer the network uses is the one checked."""
    torch = torch_module()
    rows = 1 << max(0, (BLOCK_ENTRIES // layer.in_features).bit_length() - 1)   # 512 in VGG
    layer.zero_grad()
    out = layer(x)                                              # (N, out)
    dx = layer.backward(g)                                      # (N, in)
    dw = layer.weight.grad                                      # (out, in)
    db = None if layer.bias is None else layer.bias.grad        # (out,)
    dx_blocks = np.zeros_like(dx)
    found = []
    for start in range(0, layer.out_features, rows):
        stop = min(start + rows, layer.out_features)
        block = Affine(layer.in_features, stop - start, bias=db is not None,
                       dtype=layer.weight.dtype)
        block.weight.data = layer.weight.data[start:stop].copy()
        if db is not None:
            block.bias.data = layer.bias.data[start:stop].copy()
        g_block = np.ascontiguousarray(g[..., start:stop])    # (N, rows)
        title = f"{name}[{start}:{stop}]"
        linear = torch.nn.utils.skip_init(torch.nn.Linear, layer.in_features, stop - start,
                                          bias=db is not None)      # against_torch copies ours
        found += against_torch(block, linear, x, grad_output=g_block, title=title).rows
        tie = Report(f"{name} = its blocks")
        block_dw = block.weight.grad.copy()                   # (rows, in), checked above
        block_db = None if db is None else block.bias.grad.copy()
        dx_blocks += block.backward(g_block)                  # (N, in), on the checked call
        with no_grad():
            block_out = block(x)
        tie.add("cpu", x.dtype, f"output[:, {start}:{stop}]", out[..., start:stop], block_out,
                expected_dtype=x.dtype)
        tie.add("cpu", x.dtype, f"grad weight[{start}:{stop}]", dw[start:stop], block_dw,
                expected_dtype=layer.weight.dtype)
        if db is not None:
            tie.add("cpu", x.dtype, f"grad bias[{start}:{stop}]", db[start:stop], block_db,
                    expected_dtype=layer.bias.dtype)
        found += tie.rows
    tie = Report(f"{name} = its blocks")
    tie.add("cpu", x.dtype, "grad input = sum of the blocks'", dx, dx_blocks,
            expected_dtype=x.dtype)
    return found + tie.rows
