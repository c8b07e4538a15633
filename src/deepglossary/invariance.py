"""Measuring what pooling buys: shifts of an image, and the receptive field of a stack.

    shift(x, dy, dx)              x (..., H, W) moved dy rows down and dx columns right,
                                  zeros shifted in (nothing wraps around)
    receptive_field(layers)       the receptive field r and jump j after each layer, from
                                  r_l = r_{l-1} + d_l (k_l - 1) j_{l-1},  j_l = j_{l-1} s_l
    measured_receptive_field(model, size)
                                  the same thing measured from one central output's gradient:
                                  the span (last row reached - first + 1) and the count of rows
                                  reached, which differ when dilation leaves gaps

The pooling chapters use them; the formulas are derived in the chapter "Pooling".
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def shift(x, dy: int, dx: int) -> np.ndarray:
    """``x`` (..., H, W) translated by ``dy`` rows (down if positive) and ``dx`` columns
    (right if positive); the entries that leave the image are dropped, zeros come in."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"shift expects an array (..., H, W), got shape {x.shape}")
    h, w = x.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        raise ValueError(f"a shift by ({dy}, {dx}) moves an image of size {h}x{w} out of view")
    out = np.zeros_like(x)
    src_r, dst_r = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h),
                                                                     slice(0, h + dy))
    src_c, dst_c = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w),
                                                                     slice(0, w + dx))
    out[..., dst_r, dst_c] = x[..., src_r, src_c]
    return out


def _geometry(layer):
    """(kernel, stride, dilation) of the rows of a window layer, or None for a layer that
    keeps positions (activations, 1x1 maps counted by their kernel all the same)."""
    if not hasattr(layer, "kernel_size"):
        return None
    k, s = layer.kernel_size[0], layer.stride[0]
    d = getattr(layer, "dilation", (1, 1))[0]
    return k, s, d


def receptive_field(layers) -> list[dict]:
    """For each layer of ``layers`` (our Conv2d, MaxPool2d, AvgPool2d, or any layer without a
    window, which changes nothing), the receptive field ``r`` (how many input rows one output
    sees) and the jump ``j`` (how many input rows apart two neighbouring outputs are), along the
    rows; square windows make the columns the same. Returns dicts with name, k, s, r, j."""
    r, j, rows = 1, 1, []
    for layer in layers:
        geometry = _geometry(layer)
        if geometry is None:
            continue
        k, s, d = geometry
        r, j = r + d * (k - 1) * j, j * s
        rows.append(dict(name=type(layer).__name__, k=k, s=s, r=r, j=j))
    return rows


class MeasuredField(NamedTuple):
    """What one output's gradient reaches along the rows: ``span`` from the first row reached
    to the last (what the formula predicts), and ``count``, the rows actually reached (fewer
    than ``span`` when a dilated window skips rows that no earlier window fills)."""

    span: int
    count: int


def measured_receptive_field(model, size: int, channels: int = 1) -> MeasuredField:
    """The rows of the input that the gradient of one central output reaches: run ``model`` on
    a (1, channels, size, size) input of ones, send back a gradient that is 1 at the central
    output of channel 0 and 0 elsewhere, and find the rows of the input gradient that are not
    zero. Returns their ``span`` (last - first + 1) and their ``count``. It measures the
    receptive field when no path cancels or drops the gradient (positive weights, average
    pooling: max pooling sends it to one entry per window)."""
    x = np.ones((1, channels, size, size))
    y = model(x)
    g = np.zeros_like(y)
    g[0, 0, y.shape[2] // 2, y.shape[3] // 2] = 1.0
    dx = model.backward(g)
    rows = np.flatnonzero(np.abs(dx[0]).sum(axis=(0, 2)))
    if not rows.size:
        return MeasuredField(0, 0)
    return MeasuredField(int(rows.max() - rows.min() + 1), int(rows.size))
