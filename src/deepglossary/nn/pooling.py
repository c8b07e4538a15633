"""Pooling layers and Flatten: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten.

All of them look at the same windows as a convolution (``im2col``), one channel at a time, and
send gradients back with its adjoint (``col2im``):

    max:      y = max over the window;   dx gets g at the window's arg-max, 0 elsewhere
    average:  y = sum over window / m;   dx gets g / m at every position of the window

(m the divisor: the window's size, or the count of real, unpadded entries when
``count_include_pad=False``). Overlapping windows add their contributions.

``ceil_mode=True`` (torch's rule, exactly): the output size rounds up instead of down,
Ho = ceil((H + 2 p - d (k - 1) - 1) / s) + 1, then drops the last window if it would start
at or past H + p (in the right padding or beyond); the partial window at the bottom and right
sees the input through extra -inf (max) or zero (average) padding, and an average divides by
the part of the window inside the padded input (count_include_pad) or inside the input.
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.core import Layer, as_input
from deepglossary.nn.im2col import Window, _slices, col2im, im2col, pair


def _image(x, layer: str) -> np.ndarray:
    x = as_input(x, layer)
    if x.ndim != 4:
        raise ValueError(f"{layer} expects an input of shape (N, C, H, W), got shape {x.shape}")
    return x


def pooled_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                ceil_mode: bool) -> int:
    """PyTorch's output length of a pooling window along one axis (ATen's
    ``pooling_output_shape``): floor or ceil of (size + 2 p - d (k - 1) - 1) / s, plus 1; in
    ceil mode one fewer when the last window would start at or past ``size + padding`` (in the
    right padding or beyond). May be below 1, when no window fits."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1   # // rounds down, as torch
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class _Pool2d(Layer):
    def __init__(self, kernel_size, stride, padding, dilation, ceil_mode):
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", name, minimum=1)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", name,
                                                                    minimum=1)
        self.padding = pair(padding, "padding", name, minimum=0)
        self.dilation = pair(dilation, "dilation", name, minimum=1)
        self.ceil_mode = bool(ceil_mode)
        for k, p in zip(self.kernel_size, self.padding):
            if p > k // 2:                      # torch's rule: pad at most half the kernel
                raise ValueError(f"{name}: padding {self.padding} must be at most half the "
                                 f"kernel size {self.kernel_size}")
        ph, pw = self.padding
        self.window = Window(self.kernel_size, self.stride, self.dilation, (ph, ph, pw, pw))

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """(Ho, Wo) for an (H, W) input, floor or ceil mode (see :func:`pooled_size`)."""
        return tuple(pooled_size(n, k, s, p, d, self.ceil_mode) for n, k, s, p, d in
                     zip((h, w), self.kernel_size, self.stride, self.padding, self.dilation))

    def window_for(self, h: int, w: int) -> Window:
        """The window geometry for an (H, W) input: in ceil mode the bottom and right padding
        grow by just enough rows and columns for the last, partial window (0 in floor mode)."""
        if not self.ceil_mode:
            return self.window
        (ho, wo), (eh, ew) = self.output_size(h, w), self.window.extent()
        (sh, sw), (ph, pw) = self.stride, self.padding
        extra_h = max((ho - 1) * sh + eh - (h + 2 * ph), 0)       # rows past the padded input
        extra_w = max((wo - 1) * sw + ew - (w + 2 * pw), 0)
        return Window(self.kernel_size, self.stride, self.dilation,
                      (ph, ph + extra_h, pw, pw + extra_w))

    def _geometry(self, h: int, w: int) -> tuple[tuple[int, int], Window]:
        """(Ho, Wo) and the window for an (H, W) input, computed once per input size."""
        cache = self.__dict__.setdefault("_geometries", {})
        if (h, w) not in cache:
            cache[(h, w)] = self.output_size(h, w), self.window_for(h, w)
        return cache[(h, w)]

    def _input(self, x):
        name = type(self).__name__
        x = _image(x, name)
        (ho, wo), window = self._geometry(*x.shape[2:])
        if ho < 1 or wo < 1:
            ph, pw = self.padding
            raise ValueError(
                f"{name}: the kernel (extent {self.window.extent()}, dilation included) is "
                f"larger than the padded input ({x.shape[2] + 2 * ph}, {x.shape[3] + 2 * pw}) "
                f"of an input of shape {tuple(x.shape)}")
        return x, window

    def _grad(self, grad_output, shape):
        n, c = shape[:2]
        ho, wo = self._geometry(*shape[2:])[0]
        return self._check_grad(grad_output, (n, c, ho, wo), type(self).__name__)

    def extra_repr(self) -> str:
        text = (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")
        return text + (", ceil_mode=True" if self.ceil_mode else "")


class MaxPool2d(_Pool2d):
    """The maximum of each window. PyTorch twin: ``torch.nn.MaxPool2d``.

    Shape: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = floor((H + 2 p - d (k - 1) - 1) / s) + 1
    (ceil instead of floor with ``ceil_mode=True``, see the module's docstring).
    Padding counts as -inf. The gradient goes to the window's arg-max; with tied values, to the
    first in row-major order, as torch's CPU kernel does.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)

    def forward(self, x):
        x, window = self._input(x)
        (kh, kw), (ho, wo) = self.kernel_size, self._geometry(*x.shape[2:])[0]
        (n, c, h, w), (pt, pb, pl, pr) = x.shape, window.padding
        # positions first, (H, W, N, C): each kernel offset's window is a block of whole
        # (N, C) planes, so the passes below run over long contiguous rows even on 3x3 maps
        xp = np.full((h + pt + pb, w + pl + pr, n, c), -np.inf, dtype=x.dtype)   # -inf border
        xp[pt:pt + h, pl:pl + w] = x.transpose(2, 3, 0, 1)                       # (Hp, Wp, N, C)
        y = xp[_slices(window, 0, 0, ho, wo)].copy()            # (Ho, Wo, N, C) running max
        arg = np.zeros(y.shape, dtype=np.int16 if kh * kw < 2**15 else np.intp)
        for k in range(1, kh * kw):       # one pass per kernel offset, as im2col's copies
            view = xp[_slices(window, k // kw, k % kw, ho, wo)]  # (Ho, Wo, N, C)
            better = view > y             # strictly: the first maximum wins ties
            np.copyto(arg, k, where=better)                      # the window's arg-max
            np.maximum(y, view, out=y)
        if np.isneginf(y).any():          # x is finite (checked): a window saw only padding
            raise ValueError(f"{self!r}: on an input of shape {x.shape} some windows cover "
                             "only padding (torch returns -inf there); use less padding or "
                             "dilation")
        self._cache = (arg, x.shape, window)
        return np.ascontiguousarray(y.transpose(2, 3, 0, 1))    # (N, C, Ho, Wo)

    def backward(self, grad_output):
        arg, shape, window = self._saved()
        g = self._grad(grad_output, shape).transpose(2, 3, 0, 1)   # (Ho, Wo, N, C)
        (kh, kw), (n, c, h, w), (pt, pb, pl, pr) = self.kernel_size, shape, window.padding
        ho, wo = g.shape[:2]
        dxp = np.zeros((h + pt + pb, w + pl + pr, n, c), dtype=g.dtype)   # (Hp, Wp, N, C)
        for k in range(kh * kw):          # each window's g lands on its arg-max; windows add
            dxp[_slices(window, k // kw, k % kw, ho, wo)] += g * (arg == k)
        return np.ascontiguousarray(dxp[pt:pt + h, pl:pl + w].transpose(2, 3, 0, 1))


class AvgPool2d(_Pool2d):
    """The mean of each window. PyTorch twin: ``torch.nn.AvgPool2d``.

    With padding, ``count_include_pad=True`` (torch's default) divides by the full window size;
    ``False`` divides by the number of real (unpadded) entries in the window.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def _divisor(self, shape, window: Window, dtype) -> np.ndarray:
        """The divisor of every output position, (Ho, Wo) (a scalar array when constant):
        the part of each window inside the padded input (count_include_pad) or inside the
        input; in ceil mode the extra bottom and right padding never counts, as in torch."""
        kh, kw = self.kernel_size
        if window.padding == self.window.padding and (self.count_include_pad
                                                      or self.padding == (0, 0)):
            return np.asarray(kh * kw, dtype=dtype)
        (h, w), (ph, pw) = shape[2:], self.padding
        pt, pb, pl, pr = window.padding
        counted = np.zeros((1, 1, h + pt + pb, w + pl + pr), dtype=dtype)   # padded image
        if self.count_include_pad:
            counted[..., : h + 2 * ph, : w + 2 * pw] = 1           # input and its own padding
        else:
            counted[..., ph : ph + h, pw : pw + w] = 1             # the input only
        plain = Window(window.kernel, window.stride, window.dilation, (0, 0, 0, 0))
        return im2col(counted, plain).sum(axis=(0, 1))[0, 0]       # (Ho, Wo)

    def forward(self, x):
        x, window = self._input(x)
        cols = im2col(x, window)                                 # (kh, kw, N, C, Ho, Wo)
        y = cols.sum(axis=(0, 1)) / self._divisor(x.shape, window, x.dtype)
        self._cache = (x.shape, window)
        return y

    def backward(self, grad_output):
        shape, window = self._saved()
        g = self._grad(grad_output, shape)
        kh, kw = self.kernel_size
        share = g / self._divisor(shape, window, g.dtype)        # (N, C, Ho, Wo)
        dcols = np.broadcast_to(share, (kh, kw, *g.shape))       # (kh, kw, N, C, Ho, Wo)
        return col2im(dcols, shape, window)                      # dx: g / m over each window

    def extra_repr(self) -> str:
        return super().extra_repr() + f", count_include_pad={self.count_include_pad}"


class AdaptiveAvgPool2d(Layer):
    """Average pooling to a fixed output size. PyTorch twin: ``torch.nn.AdaptiveAvgPool2d``.

    Output cell (i, j) averages rows floor(i H / Ho) to ceil((i + 1) H / Ho) - 1 and likewise
    columns, torch's rule. ``output_size=1`` is global average pooling:
    (N, C, H, W) -> (N, C, 1, 1).
    """

    def __init__(self, output_size):
        self.output_size = pair(output_size, "output_size", "AdaptiveAvgPool2d", minimum=1)

    @staticmethod
    def _bounds(size: int, out: int) -> list[tuple[int, int]]:
        return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]

    def forward(self, x):
        x = _image(x, "AdaptiveAvgPool2d")
        ho, wo = self.output_size
        rows, cols = self._bounds(x.shape[2], ho), self._bounds(x.shape[3], wo)
        y = np.empty((*x.shape[:2], ho, wo), dtype=x.dtype)
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
        self._cache = x.shape
        return y

    def backward(self, grad_output):
        shape = self._saved()
        ho, wo = self.output_size
        g = self._check_grad(grad_output, (*shape[:2], ho, wo), "AdaptiveAvgPool2d")
        dx = np.zeros(shape, dtype=g.dtype)
        for i, (r0, r1) in enumerate(self._bounds(shape[2], ho)):
            for j, (c0, c1) in enumerate(self._bounds(shape[3], wo)):
                dx[:, :, r0:r1, c0:c1] += (g[:, :, i, j] / ((r1 - r0) * (c1 - c0)))[:, :, None,
                                                                                    None]
        return dx

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Flatten(Layer):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one. PyTorch twin: ``torch.nn.Flatten``.

    Shape: (N, C, H, W) -> (N, C H W) with the defaults start_dim=1, end_dim=-1.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        x = as_input(x, "Flatten")
        start, end = self.start_dim % max(x.ndim, 1), self.end_dim % max(x.ndim, 1)
        if not (-x.ndim <= self.start_dim < x.ndim and -x.ndim <= self.end_dim < x.ndim) \
                or start > end:
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) "
                             f"does not fit an input of shape {x.shape}")
        self._cache = x.shape
        return x.reshape(*x.shape[:start], -1, *x.shape[end + 1:])

    def backward(self, grad_output):
        shape = self._saved()
        start, end = self.start_dim % len(shape), self.end_dim % len(shape)
        expected = (*shape[:start], int(np.prod(shape[start:end + 1])), *shape[end + 1:])
        return self._check_grad(grad_output, expected, "Flatten").reshape(shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
