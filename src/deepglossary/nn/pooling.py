"""Pooling layers and Flatten: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten.

All of them look at the same windows as a convolution (``im2col``), one channel at a time, and
send gradients back with its adjoint (``col2im``):

    max:      y = max over the window;   dx gets g at the window's arg-max, 0 elsewhere
    average:  y = sum over window / m;   dx gets g / m at every position of the window

(m the divisor: the window's size, or the count of real, unpadded entries when
``count_include_pad=False``). Overlapping windows add their contributions.
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.conv import check_window_fits
from deepglossary.nn.core import Layer, as_input
from deepglossary.nn.im2col import Window, col2im, im2col, pair


def _image(x, layer: str) -> np.ndarray:
    x = as_input(x, layer)
    if x.ndim != 4:
        raise ValueError(f"{layer} expects an input of shape (N, C, H, W), got shape {x.shape}")
    return x


class _Pool2d(Layer):
    def __init__(self, kernel_size, stride, padding, dilation, ceil_mode):
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", name, minimum=1)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", name,
                                                                    minimum=1)
        self.padding = pair(padding, "padding", name, minimum=0)
        self.dilation = pair(dilation, "dilation", name, minimum=1)
        if ceil_mode:
            raise ValueError(f"{name}: ceil_mode=True is not supported; pad the input instead")
        for k, p in zip(self.kernel_size, self.padding):
            if p > k // 2:                      # torch's rule: pad at most half the kernel
                raise ValueError(f"{name}: padding {self.padding} must be at most half the "
                                 f"kernel size {self.kernel_size}")
        ph, pw = self.padding
        self.window = Window(self.kernel_size, self.stride, self.dilation, (ph, ph, pw, pw))

    def _input(self, x):
        x = _image(x, type(self).__name__)
        check_window_fits(x.shape, self.window, type(self).__name__)
        return x

    def _grad(self, grad_output, shape):
        n, c = shape[:2]
        ho, wo = self.window.output_size(*shape[2:])
        return self._check_grad(grad_output, (n, c, ho, wo), type(self).__name__)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")


class MaxPool2d(_Pool2d):
    """The maximum of each window. PyTorch twin: ``torch.nn.MaxPool2d``.

    Shape: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = floor((H + 2 p - d (k - 1) - 1) / s) + 1.
    Padding counts as -inf. The gradient goes to the window's arg-max; with tied values, to the
    first in row-major order, as torch's CPU kernel does.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)

    def forward(self, x):
        x = self._input(x)
        cols = im2col(x, self.window, pad_value=-np.inf)          # (kh, kw, N, C, Ho, Wo)
        kh, kw = self.kernel_size
        flat = cols.reshape(kh * kw, *cols.shape[2:])            # (kh kw, N, C, Ho, Wo)
        arg = flat.argmax(axis=0)                                # first maximum wins ties
        y = np.take_along_axis(flat, arg[None], axis=0)[0]       # (N, C, Ho, Wo)
        if np.isneginf(y).any():          # x is finite (checked): a window saw only padding
            raise ValueError(f"{self!r}: on an input of shape {x.shape} some windows cover "
                             "only padding (torch returns -inf there); use less padding or "
                             "dilation")
        self._cache = (arg, x.shape)
        return y

    def backward(self, grad_output):
        arg, shape = self._saved()
        g = self._grad(grad_output, shape)
        kh, kw = self.kernel_size
        dcols = np.zeros((kh * kw, *g.shape), dtype=g.dtype)     # (kh kw, N, C, Ho, Wo)
        np.put_along_axis(dcols, arg[None], g[None], axis=0)     # g at each window's arg-max
        return col2im(dcols.reshape(kh, kw, *g.shape), shape, self.window)


class AvgPool2d(_Pool2d):
    """The mean of each window. PyTorch twin: ``torch.nn.AvgPool2d``.

    With padding, ``count_include_pad=True`` (torch's default) divides by the full window size;
    ``False`` divides by the number of real (unpadded) entries in the window.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def _divisor(self, shape, dtype) -> np.ndarray:
        """The divisor of every output position, (Ho, Wo) (a scalar array when constant)."""
        kh, kw = self.kernel_size
        if self.count_include_pad or self.padding == (0, 0):
            return np.asarray(kh * kw, dtype=dtype)
        ones = np.ones((1, 1, *shape[2:]), dtype=dtype)
        return im2col(ones, self.window).sum(axis=(0, 1))[0, 0]     # real entries per window

    def forward(self, x):
        x = self._input(x)
        cols = im2col(x, self.window)                            # (kh, kw, N, C, Ho, Wo)
        y = cols.sum(axis=(0, 1)) / self._divisor(x.shape, x.dtype)
        self._cache = x.shape
        return y

    def backward(self, grad_output):
        shape = self._saved()
        g = self._grad(grad_output, shape)
        kh, kw = self.kernel_size
        share = g / self._divisor(shape, g.dtype)                # (N, C, Ho, Wo)
        dcols = np.broadcast_to(share, (kh, kw, *g.shape))       # (kh, kw, N, C, Ho, Wo)
        return col2im(dcols, shape, self.window)                 # dx: g / m over each window

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
