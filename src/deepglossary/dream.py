"""Deep Dream: gradient ascent on the input image, to amplify what one layer of a network detects.

The network's weights stay fixed; the image is the variable. The objective is a number computed
from one stage's activations, by default the **mean of their squares** (``"square"``): its
gradient with respect to the activations is ``2 a / n``, each unit pushed in proportion to how
strongly it already responds, so the image grows whatever the layer already sees in it ("whatever
you see there, I want more of it"); it is the L2 objective of the original Deep Dream code, whose
backward pass starts from the activations themselves. The plain **mean** (``"mean"``) suits one
class logit; for a convolution's raw output its gradient would be the same for every image (the
sum of the kernel's weights, spread over the pixels), which amplifies nothing in particular.

    model, record = pretrained.digits_cnn()
    out = dream(model, photo, "relu2", mean=record.mean, std=record.std, steps=10, octaves=3)
    out.image                    # (H, W), pixels in [0, 1]
    out.before, out.after        # the objective on the full-size photograph and on the dream

The gradient with respect to the pixels comes from the layers' hand-written backward passes
(:class:`DreamObjective`); each step is normalised by the mean absolute gradient
(:func:`normalized_step`), the image is rolled by a random shift before each step and rolled back
after (jitter), and the work runs over octaves (:func:`octave_shapes`), small to large, carrying
the added detail up with :func:`bilinear_resize`. NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from deepglossary import nn
from deepglossary.nn.core import check_float_dtype

OBJECTIVES = ("square", "mean")
LOGITS = "logits"


# -- resizing --------------------------------------------------------------------------------
def _interpolation_matrix(size_in: int, size_out: int, dtype) -> np.ndarray:
    """The (size_out, size_in) matrix of 1-D linear interpolation with half-pixel centres
    (PyTorch's ``align_corners=False``): output pixel ``i`` samples the input at
    ``(i + 0.5) * size_in / size_out - 0.5``, clamped to the first and last pixel."""
    src = (np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5          # (size_out,)
    src = np.clip(src, 0.0, size_in - 1)                                     # clamp at borders
    lo = np.floor(src).astype(int)                                           # left neighbour
    hi = np.minimum(lo + 1, size_in - 1)                                     # right neighbour
    frac = src - lo                                                          # weight of hi
    m = np.zeros((size_out, size_in))
    np.add.at(m, (np.arange(size_out), lo), 1.0 - frac)
    np.add.at(m, (np.arange(size_out), hi), frac)
    return m.astype(dtype)


def bilinear_resize(image, shape) -> np.ndarray:
    """Resize the last two axes of ``image`` to ``shape = (H', W')`` by bilinear interpolation.

    The same numbers as ``torch.nn.functional.interpolate(x, size=shape, mode="bilinear",
    align_corners=False)`` (no antialiasing): each axis is a linear map, a matrix ``R`` of
    shape (H', H) on the rows and ``C`` of shape (W', W) on the columns, so the result is
    ``R @ image @ C.T``, in the image's dtype.

    Shape:
        image: (..., H, W), float32 or float64
        output: (..., H', W')
    """
    image = np.asarray(image)
    check_float_dtype(image.dtype, "bilinear_resize", "an image")
    if image.ndim < 2:
        raise ValueError(f"bilinear_resize expects an image of shape (..., H, W), got shape "
                         f"{image.shape}")
    h_out, w_out = (int(s) for s in shape)
    if h_out < 1 or w_out < 1:
        raise ValueError(f"bilinear_resize: the new shape must be positive, got {tuple(shape)}")
    rows = _interpolation_matrix(image.shape[-2], h_out, image.dtype)        # (H', H)
    cols = _interpolation_matrix(image.shape[-1], w_out, image.dtype)        # (W', W)
    return rows @ image @ cols.T                                             # (..., H', W')


def octave_shapes(shape, octaves: int, scale: float, min_size: int = 8) -> list[tuple]:
    """The image sizes of the octaves, smallest first, the last one ``shape`` itself: octave
    ``k`` (counting down from the full size, k = octaves - 1, ..., 0) has each side divided by
    ``scale ** k`` and rounded. ``ValueError`` when the smallest side would fall below
    ``min_size`` (the network needs room for its poolings), when ``octaves < 1`` or
    ``scale <= 1``."""
    h, w = (int(s) for s in shape)
    if int(octaves) != octaves or octaves < 1:
        raise ValueError(f"octaves must be a whole number >= 1, got {octaves}")
    if not scale > 1:
        raise ValueError(f"octave scale must be > 1 (each octave smaller than the next), "
                         f"got {scale}")
    shapes = [(max(1, round(h / scale**k)), max(1, round(w / scale**k)))
              for k in range(int(octaves) - 1, -1, -1)]
    if min(shapes[0]) < min_size:
        raise ValueError(f"the smallest of {octaves} octaves at scale {scale} would be "
                         f"{shapes[0][0]} x {shapes[0][1]}, below {min_size} pixels: use fewer "
                         "octaves, a smaller scale or a larger image")
    return shapes


# -- the objective and its gradient -----------------------------------------------------------
class DreamObjective(nn.Layer):
    """The number Deep Dream climbs, as a layer of the image: standardise the pixels, run
    ``net`` (the network up to the chosen stage), and average the activations (``"mean"``) or
    their squares (``"square"``), over every entry or over one ``channel`` (the second axis:
    a feature map, or the logit of one class).

        J(p) = mean_i a_i(x)^2   (or mean_i a_i(x)),   x = (p - mean) / std

    ``backward(g)`` returns g dJ/dp, the gradient with respect to the *pixels*: dJ/da from the
    objective, then ``net.backward`` (each layer's hand-written backward pass) back to the
    standardised input x, then the factor 1/std of the standardisation. ``net``'s parameters
    receive their gradients too (as any backward does); the dream never uses them.

    PyTorch twin: :func:`torch_objective` (the same computation on the torch twin of ``net``).

    Shape:
        p: (N, 1, H, W) pixels (N images; the mean runs over all of them)
        J: () a scalar, in p's dtype
    """

    def __init__(self, net: nn.Layer, objective: str = "square", channel: int | None = None,
                 mean: float = 0.0, std: float = 1.0, stage: str = ""):
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        if not std > 0:
            raise ValueError(f"std must be positive, got {std}")
        self.net = net
        self.objective, self.channel, self.stage = objective, channel, stage
        self.mean, self.std = float(mean), float(std)
        self.training = net.training                                 # evaluation mode or not

    @classmethod
    def at(cls, model, stage: str, objective: str = "square", channel: int | None = None,
           mean: float = 0.0, std: float = 1.0) -> DreamObjective:
        """The objective at ``stage`` of ``model`` (a network with ``STAGES`` and
        ``until(stage)``, such as ``pretrained.DigitsCNN``): one of ``model.STAGES``, or
        ``"logits"`` for the whole network's output. ``ValueError`` naming the stages for any
        other name."""
        stages = tuple(getattr(model, "STAGES", ())) + (LOGITS,)
        if stage not in stages:
            raise ValueError(f"no stage {stage!r} to dream at; the stages are {stages}")
        net = model if stage == LOGITS else model.until(stage)
        return cls(net, objective, channel, mean, std, stage).train(model.training)

    def forward(self, p):
        p = nn.as_input(p, "DreamObjective")
        if p.ndim != 4 or p.shape[1] != 1:
            raise ValueError(f"DreamObjective expects grey images of shape (N, 1, H, W), got "
                             f"shape {p.shape}")
        dtype = p.dtype.type
        x = (p - dtype(self.mean)) / dtype(self.std)                 # (N, 1, H, W) standardised
        a = self.net(x)                                              # (N, C, ...) activations
        if self.channel is not None and not 0 <= self.channel < a.shape[1]:
            raise ValueError(f"channel {self.channel} does not exist: stage {self.stage!r} has "
                             f"{a.shape[1]} channels")
        picked = a if self.channel is None else a[:, self.channel]  # (N, ...) or (N, C, ...)
        self._cache = (a, p.shape)
        if self.objective == "square":
            return np.mean(picked * picked, dtype=p.dtype)          # () mean of squares
        return np.mean(picked, dtype=p.dtype)                       # () mean

    def backward(self, grad_output=1.0):
        a, shape = self._saved()
        g = np.asarray(grad_output, dtype=a.dtype)                   # () upstream dL/dJ
        if g.shape != ():
            raise ValueError(f"DreamObjective.backward expects a scalar gradient, got shape "
                             f"{g.shape}")
        picked = a if self.channel is None else a[:, self.channel]
        n = picked.size                                              # entries averaged
        grad_a = np.zeros_like(a)                                    # (N, C, ...) dJ/da
        sel = (slice(None),) if self.channel is None else (slice(None), self.channel)
        if self.objective == "square":
            grad_a[sel] = g * 2 / n * picked                         # d mean(a^2)/da = 2a/n
        else:
            grad_a[sel] = g / n                                      # d mean(a)/da = 1/n
        grad_x = self.net.backward(grad_a)                           # (N, 1, H, W) dJ/dx
        return grad_x / a.dtype.type(self.std)                       # (N, 1, H, W) dJ/dp

    def gradient(self, image) -> tuple[float, np.ndarray]:
        """The objective at one grey ``image`` (H, W) and its gradient dJ/dp (H, W)."""
        value = self(image[None, None])
        return float(value), self.backward(np.ones((), dtype=value.dtype))[0, 0]

    def value(self, image) -> float:
        """The objective at one grey ``image`` (H, W), storing nothing for backward."""
        with nn.no_grad():
            return float(self(image[None, None]))

    def extra_repr(self) -> str:
        where = self.stage or type(self.net).__name__
        what = "" if self.channel is None else f", channel={self.channel}"
        return f"stage={where!r}, objective={self.objective!r}{what}"


def torch_objective(objective: DreamObjective):
    """The PyTorch twin of a :class:`DreamObjective` built by ``DreamObjective.at`` on a
    ``pretrained.DigitsCNN``: the same standardisation, stage and objective on
    ``twins.digits_cnn.digits_cnn()`` (its ``features`` sliced up to the stage, as
    ``model.until`` slices ours; the whole network for ``"logits"``), with the same parameter
    names (``net.0.weight``, ...), so ``verify.against_torch`` copies ours in. torch is
    imported here, never with this module."""
    from deepglossary.twins.digits_cnn import digits_cnn as twin_network
    from deepglossary.verify import torch_module

    torch = torch_module()
    whole = twin_network(num_classes=_num_classes(objective))
    if objective.stage == LOGITS:
        net = whole
    else:
        net = whole.features[:len(objective.net)]     # a Sequential keeping the names 0, 1, ...

    class TorchDreamObjective(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, p):
            a = self.net((p - objective.mean) / objective.std)
            picked = a if objective.channel is None else a[:, objective.channel]
            return (picked * picked).mean() if objective.objective == "square" else picked.mean()

    return TorchDreamObjective()


def _num_classes(objective: DreamObjective) -> int:
    fc = getattr(objective.net, "fc", None)
    return 10 if fc is None else fc.out_features


# -- one step, and the whole dream -------------------------------------------------------------
def normalized_step(image, grad, step_size: float, clip=(0.0, 1.0), eps: float = 1e-8):
    """One step of gradient *ascent* whose size does not depend on the gradient's scale:
    ``image + step_size * grad / mean|grad|``, clipped to ``clip`` (a ``(low, high)`` pair, or
    ``None``). Before clipping, the mean absolute change of a pixel is exactly ``step_size``;
    ``eps`` keeps a zero gradient from dividing by zero (the image then stays put).
    Returns a new array in the image's dtype."""
    image, grad = np.asarray(image), np.asarray(grad)
    scale = np.abs(grad).mean() + eps                              # mean |dJ/dp|
    out = image + (step_size / scale) * grad                       # (H, W)
    if clip is not None:
        out = np.clip(out, clip[0], clip[1])
    return out.astype(image.dtype, copy=False)


@dataclass
class Dream:
    """What :func:`dream` returns.

    ``image``: the dream (H, W); ``start``: the photograph it began from, in the same dtype;
    ``stage``, ``channel``, ``objective``: what was climbed; ``shapes``: the octaves' sizes,
    smallest first; ``objectives``: for each octave, the objective before each of its steps
    (at the jittered image); ``shifts``: the jitter of every step, in order; ``before`` and
    ``after``: the objective of the full-size start and of the dream, without jitter.
    """

    image: np.ndarray
    start: np.ndarray
    stage: str
    channel: int | None
    objective: str
    shapes: list
    objectives: list = field(repr=False)
    shifts: list = field(repr=False)
    before: float = 0.0
    after: float = 0.0

    @property
    def detail(self) -> np.ndarray:
        """What the dream added to the photograph (H, W)."""
        return self.image - self.start

    @property
    def gain(self) -> float:
        """after / before: how many times the objective grew."""
        return self.after / self.before


def check_image(image, clip=(0.0, 1.0)) -> np.ndarray:
    """A grey image (H, W) of floats inside ``clip``, or a clear error saying what to change."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"dream expects a grey image as a NumPy array (H, W), got "
                        f"{type(image).__name__}")
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"dream expects an image of floats (pixels in [0, 1]), got dtype "
                        f"{image.dtype}; for 8-bit pixels use image / 255")
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        raise ValueError(f"dream expects a grey image (H, W), got shape {image.shape}, a colour "
                         "image: convert it first, e.g. skimage.color.rgb2gray(image)")
    if image.ndim != 2:
        raise ValueError(f"dream expects a grey image of shape (H, W), got shape {image.shape}")
    if not np.isfinite(image).all():
        raise ValueError("dream got an image with NaN or inf pixels")
    if clip is not None and (image.min() < clip[0] or image.max() > clip[1]):
        raise ValueError(f"dream expects pixels in [{clip[0]}, {clip[1]}], got values from "
                         f"{image.min():.3g} to {image.max():.3g}")
    return image


def dream(model, image, stage: str = "relu2", *, channel: int | None = None,
          objective: str = "square", steps: int = 10, step_size: float = 0.01,
          octaves: int = 3, octave_scale: float = 1.4, jitter: int = 4, seed: int = 0,
          mean: float = 0.0, std: float = 1.0, clip=(0.0, 1.0), progress: bool = False
          ) -> Dream:
    """Deep Dream on one grey ``image`` (H, W) with pixels in ``clip``, through ``model`` (a
    network with ``STAGES`` and ``until``, such as ``pretrained.DigitsCNN``) up to ``stage``.

    For each octave, smallest first (:func:`octave_shapes`): the photograph resized to the
    octave's size plus the detail dreamed so far (resized up with :func:`bilinear_resize`),
    then ``steps`` steps of :func:`normalized_step` on :class:`DreamObjective`'s gradient, each
    on the image rolled by a random shift of up to ``jitter`` pixels per axis (drawn from
    ``np.random.default_rng(seed)``) and rolled back after; what the octave added is the detail
    carried up. ``mean`` and ``std``: the standardisation the network was trained with
    (``record.mean``, ``record.std``). ``progress``: a tqdm bar over all the steps.
    Computes in the model's dtype; the model must be in evaluation mode. Deterministic for a
    given ``seed``.
    """
    check_image(image, clip)
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps}")
    if int(jitter) != jitter or jitter < 0:
        raise ValueError(f"jitter must be a whole number of pixels >= 0, got {jitter}")
    if model.training:
        raise ValueError("dream expects a model in evaluation mode (model.eval()): in training "
                         "mode batch normalization would normalise with the statistics of the "
                         "image being dreamed and change its running statistics at every step")
    target = DreamObjective.at(model, stage, objective, channel, mean, std)
    dtype = next(iter(model.parameters())).dtype
    start = image.astype(dtype)
    shapes = octave_shapes(start.shape, octaves, octave_scale)
    rng = np.random.default_rng(seed)
    detail = np.zeros(shapes[0], dtype=dtype)                        # what the dream adds
    history, shifts = [], []
    with tqdm(total=len(shapes) * int(steps), disable=not progress, leave=False,
              desc=f"dreaming at {stage}") as bar:
        for shape in shapes:
            base = start if shape == start.shape else bilinear_resize(start, shape)
            detail = bilinear_resize(detail, shape) if detail.shape != shape else detail
            current = np.clip(base + detail, *clip) if clip is not None else base + detail
            values = []
            for _ in range(int(steps)):
                dy, dx = (int(v) for v in rng.integers(-jitter, jitter + 1, size=2))
                rolled = np.roll(current, (dy, dx), axis=(0, 1))     # jitter: shift the image
                value, grad = target.gradient(rolled)                # J and dJ/dp (h, w)
                rolled = normalized_step(rolled, grad, step_size, clip)
                current = np.roll(rolled, (-dy, -dx), axis=(0, 1))   # ... and shift it back
                values.append(value)
                shifts.append((dy, dx))
                bar.update()
            history.append(np.array(values))
            detail = current - base                                  # carried to the next octave
    model.zero_grad()                                                # the weights never move
    return Dream(image=current, start=start, stage=stage, channel=channel, objective=objective,
                 shapes=shapes, objectives=history, shifts=shifts,
                 before=target.value(start), after=target.value(current))


def band_energy(detail, edges=(0.0, 0.0625, 0.125, 0.25, 0.5)) -> np.ndarray:
    """How the energy (sum of squares) of an image ``detail`` (H, W) splits over bands of
    spatial frequency: the fraction of the power spectrum |FFT|^2 (mean removed) whose radial
    frequency, in cycles per pixel, lies in each ``[edges[i], edges[i+1])``; the last band also
    takes the corners above 0.5. The fractions sum to 1."""
    detail = np.asarray(detail, dtype=np.float64)
    power = np.abs(np.fft.fft2(detail - detail.mean())) ** 2          # (H, W)
    fy = np.fft.fftfreq(detail.shape[0])[:, None]                     # cycles per pixel
    fx = np.fft.fftfreq(detail.shape[1])[None, :]
    radius = np.sqrt(fy**2 + fx**2)                                   # (H, W)
    bands = np.digitize(radius, edges[1:-1])                         # band index of each entry
    energy = np.bincount(bands.ravel(), weights=power.ravel(), minlength=len(edges) - 1)
    return energy / energy.sum()


def mean_frequency(detail) -> float:
    """The power-weighted mean radial spatial frequency of ``detail`` (H, W), in cycles per
    pixel: low for broad patterns, high for fine ones (1/16 for stripes of period 16 pixels, 0.5
    for stripes one pixel wide, sqrt(0.5) ~ 0.71, the highest, for a checkerboard of single
    pixels)."""
    detail = np.asarray(detail, dtype=np.float64)
    power = np.abs(np.fft.fft2(detail - detail.mean())) ** 2
    fy = np.fft.fftfreq(detail.shape[0])[:, None]
    fx = np.fft.fftfreq(detail.shape[1])[None, :]
    return float((np.sqrt(fy**2 + fx**2) * power).sum() / power.sum())
