"""VGG (Simonyan & Zisserman, 2015): stacks of 3x3 convolutions, depth as the one knob.

A configuration is a list: a number is a 3x3 convolution (padding 1) with that many output
channels, followed by ReLU (with ``batch_norm``, by batch normalization and then ReLU); ``"M"``
is a 2x2 max-pooling with stride 2. The four configurations of the paper that torchvision ships:

    "11" (A)  64 M 128 M 256 256 M 512 512 M 512 512 M                  8 conv + 3 affine
    "13" (B)  64 64 M 128 128 M 256 256 M 512 512 M 512 512 M           10 conv + 3 affine
    "16" (D)  64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M
    "19" (E)  64 64 M 128 128 M 256 256 256 256 M 512 512 512 512 M 512 512 512 512 M

After the convolutions (``features``) an adaptive average pooling to 7x7 (``avgpool``), then
``classifier``: 25,088 -> 4,096 -> 4,096 -> ``num_classes`` with ReLU and dropout between. The
names are torchvision's (``features.0.weight``, ``classifier.6.bias``), so its weights load one
to one. ``width``, ``stages``, ``pool_size`` and ``hidden`` scale the network down (for the
28x28 digits) without changing its shape of thought.
"""

from __future__ import annotations

import numpy as np

from deepglossary import init, nn
from deepglossary.random import default_rng

CONFIGS = {   # torchvision's cfgs "A", "B", "D", "E"
    "11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
           512, 512, 512, "M"],
    "19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
           512, 512, 512, 512, "M"],
}


def scaled_config(config="16", width: float = 1.0, stages: int | None = None) -> list:
    """The configuration list of ``config`` (a name of :data:`CONFIGS` or a list), with every
    channel count multiplied by ``width`` (rounded, at least 1) and only the first ``stages``
    stages (a stage ends at an "M") kept. ``scaled_config("11", 1/8, 3)`` is
    ``[8, "M", 16, "M", 32, 32, "M"]``."""
    if isinstance(config, str | int) and str(config) in CONFIGS:
        config = CONFIGS[str(config)]
    elif isinstance(config, str | int):
        raise ValueError(f"VGG: unknown configuration {config!r}; choose one of "
                         f"{sorted(CONFIGS)} or give a list such as [64, 'M', 128, 'M']")
    config = list(config)
    for entry in config:
        if entry != "M" and (isinstance(entry, bool) or not isinstance(entry, int | np.integer)
                             or entry < 1):
            raise ValueError(f"VGG: a configuration holds positive channel counts and 'M', "
                             f"got {entry!r} in {config}")
    if not any(entry != "M" for entry in config):
        raise ValueError(f"VGG: the configuration {config} has no convolution")
    if not (isinstance(width, int | float) and width > 0):
        raise ValueError(f"VGG: width must be a positive number, got {width!r}")
    if stages is not None:
        ends = [i for i, entry in enumerate(config) if entry == "M"]
        if not (isinstance(stages, int | np.integer) and 1 <= stages <= len(ends)):
            raise ValueError(f"VGG: stages must be an integer from 1 to {len(ends)} for this "
                             f"configuration, got {stages!r}")
        config = config[:ends[stages - 1] + 1]
    return [entry if entry == "M" else max(1, round(entry * width)) for entry in config]


def cost(config="16", batch_norm: bool = False, size: int = 224, *, in_channels: int = 3,
         num_classes: int = 1000, pool_size: int = 7, hidden: int = 4096) -> tuple[int, int]:
    """``(parameters, multiply-accumulates)`` of one ``size`` x ``size`` example through
    ``VGG(config, batch_norm, num_classes, ...)``, from the configuration alone, counted as
    ``models.summary`` counts: a 3x3 convolution from C to C' channels has 9 C C' weights and
    C' biases (and 2 C' batch-norm parameters) and does 9 C C' MACs per output position; an
    affine layer from n to n' has n n' + n' parameters and does n n' MACs."""
    params = macs = 0
    channels = in_channels
    for entry in scaled_config(config):
        if entry == "M":
            size //= 2                                  # 2x2 max-pooling, stride 2 (floor)
            continue
        params += 9 * channels * entry + entry + (2 * entry if batch_norm else 0)
        macs += 9 * channels * entry * size * size      # padding 1 keeps size x size
        channels = entry
    for n_in, n_out in ((channels * pool_size**2, hidden), (hidden, hidden),
                        (hidden, num_classes)):
        params += n_in * n_out + n_out
        macs += n_in * n_out
    return params, macs


def make_layers(config, batch_norm: bool = False, in_channels: int = 3, dtype=np.float32,
                rng=None) -> nn.Sequential:
    """``features``: for each number v of ``config``, Conv2d(in, v, 3, padding=1)
    [+ BatchNorm2d(v)] + ReLU; for each "M", MaxPool2d(2, 2). As torchvision's ``make_layers``,
    so that the children are numbered alike ("0" the first convolution, ...)."""
    layers = []
    for entry in scaled_config(config):
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, entry, kernel_size=3, padding=1, dtype=dtype,
                                rng=rng))
        if batch_norm:
            layers.append(nn.BatchNorm(entry, dtype=dtype))
        layers.append(nn.ReLU())
        in_channels = entry
    return nn.Sequential(*layers)


class VGG(nn.Layer):
    """A VGG network. PyTorch twin: ``torchvision.models.VGG`` (built from ``torch.nn`` in
    ``deepglossary.twins.vgg``, since torchvision does not import beside the project's torch).

    Shape:
        x:        (N, in_channels, H, W), H and W at least 2^(number of "M"): 224 x 224 for
                  ImageNet, where ``features`` gives (N, 512, 7, 7)
        features: (N, C_last, H / 2^m, W / 2^m)   (floor at every pooling)
        avgpool:  (N, C_last, 7, 7)               (``pool_size``; the identity when already 7x7)
        flatten:  (N, C_last * 7 * 7) = (N, 25088)
        y:        (N, num_classes)                the logits

    Args:
        config: "11", "13", "16", "19" (torchvision's A, B, D, E) or a configuration list.
        batch_norm: a BatchNorm2d after every convolution (torchvision's ``vgg16_bn``).
        num_classes, dropout: as in torchvision (1000, 0.5).
        in_channels: 3 for colour photographs, 1 for the digits.
        width, stages: scale every channel count by ``width``; keep the first ``stages``
            stages (see :func:`scaled_config`).
        pool_size: the output size of ``avgpool`` (7 in torchvision).
        hidden: the width of the two hidden affine layers (4,096 in torchvision).
        init_weights: torchvision's initialisation: convolutions Kaiming normal with
            fan_out and ReLU's gain (std sqrt(2 / (C_out 9))), affine layers N(0, 0.01^2),
            biases 0, batch-norm scales 1 and shifts 0. With False, each layer keeps its own
            default (PyTorch's uniform initialisation).
        affine_std: the standard deviation of the affine layers' normal initialisation
            (torchvision's 0.01, a scale made for 4,096-wide layers); None keeps their default
            (PyTorch's uniform, which scales with the fan-in), as the digits variant does.
    """

    def __init__(self, config="16", batch_norm: bool = False, num_classes: int = 1000, *,
                 in_channels: int = 3, width: float = 1.0, stages: int | None = None,
                 pool_size=7, hidden: int = 4096, dropout: float = 0.5, dtype=np.float32,
                 rng=None, init_weights: bool = True, affine_std: float | None = 0.01):
        rng = default_rng(rng)
        self.config = scaled_config(config, width, stages)
        self.in_channels, self.batch_norm = int(in_channels), bool(batch_norm)
        self.features = make_layers(self.config, batch_norm, in_channels, dtype, rng)
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        last = [entry for entry in self.config if entry != "M"][-1]
        flat = last * self.avgpool.output_size[0] * self.avgpool.output_size[1]
        redrawn = init_weights and affine_std is not None     # _initialise draws them anew
        self.classifier = nn.Sequential(
            _affine(flat, hidden, dtype, rng, redrawn), nn.ReLU(), nn.Dropout(dropout),
            _affine(hidden, hidden, dtype, rng, redrawn), nn.ReLU(), nn.Dropout(dropout),
            _affine(hidden, num_classes, dtype, rng, redrawn))
        if init_weights:
            self._initialise(rng, affine_std)

    def _initialise(self, rng, affine_std) -> None:
        """torchvision's ``VGG.__init__`` loop over ``self.modules()``."""
        for layer in [*self.features, *self.classifier]:
            if isinstance(layer, nn.Conv2d):
                init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu", rng=rng)
                init.zeros_(layer.bias)
            elif isinstance(layer, nn.BatchNorm):
                init.ones_(layer.weight)
                init.zeros_(layer.bias)
            elif isinstance(layer, nn.Affine) and affine_std is not None:
                w = layer.weight.data                       # N(0, 0.01^2), drawn in w's dtype
                rng.standard_normal(dtype=w.dtype, out=w)   # in place (102,760,448 entries in
                w *= affine_std                             # VGG-16's first: no second copy)
                init.zeros_(layer.bias)

    def forward(self, x):
        x = nn.as_input(x, "VGG")
        smallest = 2 ** self.config.count("M")
        if x.ndim != 4 or x.shape[1] != self.in_channels or min(x.shape[2:]) < smallest:
            raise ValueError(f"VGG expects an input of shape (N, {self.in_channels}, H, W) with "
                             f"H, W >= {smallest} (one 2x2 pooling per stage), got shape "
                             f"{x.shape}")
        h = self.features(x)                     # (N, C_last, H / 2^m, W / 2^m)
        h = self.avgpool(h)                      # (N, C_last, 7, 7)
        self._cache = h.shape
        return self.classifier(h.reshape(len(h), -1))   # torch.flatten(h, 1): (N, C_last 49)

    def backward(self, grad_output):
        shape = self._saved()
        g = self.classifier.backward(grad_output)       # (N, C_last 49)
        g = self.avgpool.backward(g.reshape(shape))     # (N, C_last, H / 2^m, W / 2^m)
        return self.features.backward(g)                # (N, in_channels, H, W)

    def extra_repr(self) -> str:
        return f"config={self.config}, batch_norm={self.batch_norm}"


def _affine(in_features: int, out_features: int, dtype, rng, redrawn: bool) -> nn.Affine:
    """An affine layer with PyTorch's default initialisation, or, when ``redrawn`` (the
    network's initialisation draws its weights anew), with parameters left undrawn, as
    ``torch.nn.utils.skip_init`` leaves them: VGG-16's classifier has 123 million weights,
    and drawing each twice doubles the seconds it takes to build the network."""
    if not redrawn:
        return nn.Affine(in_features, out_features, dtype=dtype, rng=rng)
    layer = nn.Affine(1, 1, dtype=dtype, rng=np.random.default_rng(0))   # then resized:
    layer.in_features, layer.out_features = in_features, out_features    # nothing drawn
    layer.weight.data = np.empty((out_features, in_features), dtype=dtype)   # (no copy, as
    layer.bias.data = np.empty(out_features, dtype=dtype)                    # Parameter() makes)
    return layer


def vgg11(**kwargs) -> VGG:
    """VGG-11 (configuration A): 132,863,336 parameters."""
    return VGG("11", **kwargs)


def vgg13(**kwargs) -> VGG:
    """VGG-13 (configuration B): 133,047,848 parameters."""
    return VGG("13", **kwargs)


def vgg16(**kwargs) -> VGG:
    """VGG-16 (configuration D): 138,357,544 parameters."""
    return VGG("16", **kwargs)


def vgg19(**kwargs) -> VGG:
    """VGG-19 (configuration E): 143,667,240 parameters."""
    return VGG("19", **kwargs)


def vgg11_bn(**kwargs) -> VGG:
    return VGG("11", batch_norm=True, **kwargs)


def vgg13_bn(**kwargs) -> VGG:
    return VGG("13", batch_norm=True, **kwargs)


def vgg16_bn(**kwargs) -> VGG:
    """VGG-16 with batch normalization: 138,365,992 parameters."""
    return VGG("16", batch_norm=True, **kwargs)


def vgg19_bn(**kwargs) -> VGG:
    return VGG("19", batch_norm=True, **kwargs)


def vgg_digits(config="11", batch_norm: bool = False, *, width: float = 1 / 8, stages: int = 3,
               hidden: int = 64, dropout: float = 0.0, dtype=np.float32, seed: int = 0) -> VGG:
    """A scaled-down VGG for the 28x28 digits: the first ``stages`` stages of ``config`` with
    ``width`` times the channels (8, 16, 32 for the defaults), 1 input channel, the maps pooled
    to 3x3 (28 -> 14 -> 7 -> 3 after three stages; the adaptive pooling is then the identity),
    and a classifier C_last 9 -> ``hidden`` -> ``hidden`` -> 10 without dropout by default.
    The convolutions get torchvision's initialisation (Kaiming normal, which follows the width);
    the affine layers keep PyTorch's default: N(0, 0.01^2), made for 4,096-wide layers, would
    multiply the scale of the signal by about 0.01 sqrt(64 / 2) = 0.06 in a 64-wide one."""
    size = 28
    for _ in range(stages):
        size //= 2
    return VGG(config, batch_norm, 10, in_channels=1, width=width, stages=stages,
               pool_size=size, hidden=hidden, dropout=dropout, dtype=dtype,
               rng=np.random.default_rng(seed), affine_std=None)
