"""The two kernels every convolution and pooling layer shares: im2col and its adjoint, col2im.

``im2col`` lays every receptive field of a padded image out as one column of a matrix (the
(kh kw C, N Ho Wo) matrix below), so that a convolution becomes one matrix product; ``col2im``
scatters such columns back onto the image,
adding where windows overlap. They are adjoint linear maps, <im2col(x), c> = <x, col2im(c)>,
which is exactly why the backward pass of "gather windows" is "scatter-add windows" (a test
checks the identity on random shapes).

Shapes (one 2-D window geometry; ``...`` is any leading axes, e.g. (N, C) or (C, N)):
    x:     (..., H, W)
    cols:  (kh, kw, ..., Ho, Wo)   cols[a, b, ..., i, j] = x_pad[..., i*sh + a*dh, j*sw + b*dw]
    Ho = floor((H + pt + pb - dh*(kh-1) - 1) / sh) + 1, likewise Wo.

The kernel offsets come first: each ``cols[a, b]`` is one strided slice of the padded image,
copied whole, so building the matrix is kh * kw contiguous copies and a convolution over
(C, N, H, W) data reads ``cols`` as the (kh kw C, N Ho Wo) matrix it needs without a transpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """Kernel size, stride, dilation and padding (top, bottom, left, right) of a 2-D window."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int, int, int]

    def extent(self) -> tuple[int, int]:
        """Height and width the dilated kernel covers: d (k - 1) + 1."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """Ho, Wo = floor((size + padding - extent) / stride) + 1; < 1 means no window fits."""
        pt, pb, pl, pr = self.padding
        (eh, ew), (sh, sw) = self.extent(), self.stride
        return (h + pt + pb - eh) // sh + 1, (w + pl + pr - ew) // sw + 1


def pair(value, name: str, layer: str, *, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each at least ``minimum``, as a pair."""
    items = tuple(value) if isinstance(value, tuple | list) else (value, value)
    if len(items) != 2 or not all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                                  for v in items):
        raise TypeError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        raise ValueError(f"{layer}: {name} must be at least {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def pad(x: np.ndarray, padding: tuple[int, int, int, int], value: float = 0.0) -> np.ndarray:
    """x (..., H, W) -> (..., H + pt + pb, W + pl + pr), the border filled with ``value``."""
    pt, pb, pl, pr = padding
    if not any(padding):
        return x
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(pt, pb), (pl, pr)], constant_values=value)


def _slices(window: Window, a: int, b: int, ho: int, wo: int) -> tuple[slice, slice]:
    """Where kernel offset (a, b) reads in the padded image, for every output position."""
    (sh, sw), (dh, dw) = window.stride, window.dilation
    return (slice(a * dh, a * dh + (ho - 1) * sh + 1, sh),
            slice(b * dw, b * dw + (wo - 1) * sw + 1, sw))


def im2col(x: np.ndarray, window: Window, pad_value: float = 0.0) -> np.ndarray:
    """Every window of ``x`` (..., H, W), as (kh, kw, ..., Ho, Wo): one copy per kernel offset."""
    xp = pad(x, window.padding, pad_value)                          # (..., Hp, Wp)
    (kh, kw), (ho, wo) = window.kernel, window.output_size(x.shape[-2], x.shape[-1])
    cols = np.empty((kh, kw, *x.shape[:-2], ho, wo), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[a, b] = xp[(..., *_slices(window, a, b, ho, wo))]
    return cols


def col2im(cols: np.ndarray, shape: tuple[int, ...], window: Window) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every window's entries back where they came from.

    cols (kh, kw, ..., Ho, Wo) -> (..., H, W). One vectorized strided add per kernel offset
    (9 for a 3x3 kernel), so overlapping windows add up without np.add.at.
    """
    h, w = shape[-2:]
    pt, pb, pl, pr = window.padding
    (kh, kw), (ho, wo) = window.kernel, cols.shape[-2:]
    xp = np.zeros((*shape[:-2], h + pt + pb, w + pl + pr), dtype=cols.dtype)   # (..., Hp, Wp)
    for a in range(kh):
        for b in range(kw):
            xp[(..., *_slices(window, a, b, ho, wo))] += cols[a, b]
    return xp[..., pt : pt + h, pl : pl + w]
