"""Convolution layers: ``Conv2d`` (and ``Conv1d`` on the same code), by im2col and one product.

The forward pass lays every receptive field out as a column (``im2col``: the matrix X_col has one
column per output position) and multiplies by the kernel bank; the backward pass is two more
products and one scatter:

    forward   Y = W X_col + b      X_col: (kh kw Cg, N Ho Wo) per group, W: (Cout/G, kh kw Cg)
    backward  dW = Ybar X_col^T          (the correlation of the input with the upstream gradient)
              db = sum of Ybar over N, Ho, Wo
              dX = col2im(W^T Ybar)      (a transposed convolution: gather's adjoint is scatter-add)

with Ybar the upstream gradient laid out like Y, (Cout/G, N Ho Wo) per group, and G the number of
groups: they split the channels into G independent convolutions; ``groups == in_channels``
is the depthwise convolution.

The depthwise convolution with one filter per channel (``groups == in_channels ==
out_channels``) takes a faster path: its products are (N Ho Wo, kh kw) @ (kh kw, 1), one per
channel, far too thin for BLAS, so it is computed directly as a sum of kh kw shifted, strided
slices of the padded input, each scaled by one weight per channel (see
:func:`depthwise_forward`). Set ``DEPTHWISE_FAST = False`` to send it through im2col as well.
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary import init
from deepglossary.nn.core import Layer, Parameter, as_input
from deepglossary.nn.im2col import Window, _slices, col2im, im2col, pad, pair

DEPTHWISE_FAST = True
"""Compute depthwise convolutions (groups == in_channels == out_channels) by shifted slices;
False sends them through the general im2col path (the tests compare the two)."""


def _check_conv_args(layer, in_channels, out_channels, groups):
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{layer}: in_channels ({in_channels}) and out_channels "
                         f"({out_channels}) must both be divisible by groups ({groups})")


def _padding(padding, kernel, dilation, stride, layer) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair, "valid" or "same" (as torch pads)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"{layer}: padding must be an int, a pair, 'valid' or 'same', "
                             f"got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{layer}: padding='same' needs stride 1 (as in torch), "
                             f"got stride {stride}")
        out = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)                 # torch puts the odd one out at the end
            out += [total // 2, total - total // 2]
        return tuple(out)
    ph, pw = pair(padding, "padding", layer, minimum=0)
    return (ph, ph, pw, pw)


def _grouped_matmul(a, b):
    """(G, m, k) @ (G, k, n) -> (G, m, n) as one 2-D BLAS product per group: numpy's stacked
    matmul falls back to a slow loop when an operand is a transposed view."""
    out = np.empty((a.shape[0], a.shape[1], b.shape[2]), dtype=np.result_type(a, b))
    for group in range(a.shape[0]):
        np.matmul(a[group], b[group], out=out[group])
    return out


def check_window_fits(shape, window: Window, layer: str) -> None:
    """Refuse a kernel larger than the padded input: no output position would exist."""
    ho, wo = window.output_size(shape[-2], shape[-1])
    if ho < 1 or wo < 1:
        pt, pb, pl, pr = window.padding
        raise ValueError(
            f"{layer}: the kernel (extent {window.extent()}, dilation included) is larger than "
            f"the padded input ({shape[-2] + pt + pb}, {shape[-1] + pl + pr}) of an input of "
            f"shape {tuple(shape)}")


DEPTHWISE_BLOCK_BYTES = 2**19
"""The fast path works through the batch in blocks of about this many bytes of padded input, so
that the kh kw passes over a block read it from the cache instead of from main memory."""


def _batch_blocks(xp) -> tuple[range, int]:
    """Start indices and size B of the batch blocks of the padded input xp (N, C, Hp, Wp)."""
    per_item = xp[0].nbytes                                              # C Hp Wp itemsize
    size = max(1, DEPTHWISE_BLOCK_BYTES // max(1, per_item))
    return range(0, xp.shape[0], size), size


def depthwise_forward(x, weight, bias, window: Window):
    """The depthwise convolution (one filter per channel) as a sum of shifted slices.

    x (N, C, H, W), weight (C, 1, kh, kw), bias (C,) or None -> y (N, C, Ho, Wo) and what
    :func:`depthwise_backward` needs. With X the zero-padded input and s, d stride and dilation,

        y[n, c, p, q] = b[c] + sum_{i, j} w[c, 0, i, j] X[n, c, p s + i d, q s + j d],

    so for each kernel offset (i, j) the term is the strided slice X[:, :, i d :: s, j d :: s]
    (Ho x Wo positions) times one weight per channel: kh kw elementwise products, no im2col.
    The batch is worked through in blocks that fit in the cache (``DEPTHWISE_BLOCK_BYTES``).
    PyTorch: ``torch.nn.functional.conv2d(x, weight, bias, groups=C)``.
    """
    n, c, h, w = x.shape
    kh, kw = window.kernel
    ho, wo = window.output_size(h, w)
    xp = pad(x, window.padding)                                          # (N, C, Hp, Wp)
    y = np.empty((n, c, ho, wo), dtype=x.dtype)                          # (N, C, Ho, Wo)
    starts, size = _batch_blocks(xp)
    buffer = np.empty((min(size, n), c, ho, wo), dtype=x.dtype)          # (B, C, Ho, Wo)
    for start in starts:
        xb, yb = xp[start : start + size], y[start : start + size]       # a block of B items
        term = buffer[: len(xb)]                                         # (B, C, Ho, Wo)
        for i in range(kh):
            for j in range(kw):
                rows, cols = _slices(window, i, j, ho, wo)
                wij = weight[:, 0, i, j][None, :, None, None]            # (1, C, 1, 1)
                if i == 0 and j == 0:
                    np.multiply(xb[:, :, rows, cols], wij, out=yb)       # w_00 X_00
                else:
                    np.multiply(xb[:, :, rows, cols], wij, out=term)     # w_ij X_ij
                    yb += term                                           # (B, C, Ho, Wo)
    if bias is not None:
        y += bias[None, :, None, None]                                   # + b (1, C, 1, 1)
    return y, (xp, None, x.shape, (ho, wo))     # wmat None marks the depthwise path


def depthwise_backward(g, weight, saved, window: Window, with_bias: bool):
    """(dx, dweight, dbias) of :func:`depthwise_forward` from g (N, C, Ho, Wo).

    Each term w_ij X_ij of the forward sum is linear in both factors, so

        dX_ij = w_ij g   (added into the padded slice it was read from: overlapping windows add)
        dw_ij = sum over N, Ho, Wo of g X_ij
        db    = sum over N, Ho, Wo of g

    and dx is the padded gradient with its border cut off.
    """
    xp, _, xshape, (ho, wo) = saved
    n, c, h, w = xshape
    kh, kw = window.kernel
    pt, _, pl, _ = window.padding
    dxp = np.zeros(xp.shape, dtype=g.dtype)                              # (N, C, Hp, Wp)
    dweight = np.zeros(weight.shape, dtype=g.dtype)                      # (C, 1, kh, kw)
    starts, size = _batch_blocks(xp)
    buffer = np.empty((min(size, n), c, ho, wo), dtype=g.dtype)          # (B, C, Ho, Wo)
    for start in starts:
        xb, gb = xp[start : start + size], g[start : start + size]       # a block of B items
        dxb, term = dxp[start : start + size], buffer[: len(xb)]         # (B, C, Hp, Wp) ...
        for i in range(kh):
            for j in range(kw):
                rows, cols = _slices(window, i, j, ho, wo)
                np.multiply(gb, xb[:, :, rows, cols], out=term)          # g X_ij (B, C, Ho, Wo)
                dweight[:, 0, i, j] += term.sum(axis=(0, 2, 3))          # dw_ij (C,)
                np.multiply(gb, weight[:, 0, i, j][None, :, None, None], out=term)  # w_ij g
                dxb[:, :, rows, cols] += term                            # dX_ij (B, C, Ho, Wo)
    dbias = g.sum(axis=(0, 2, 3)) if with_bias else None                 # db (C,)
    return dxp[:, :, pt : pt + h, pl : pl + w], dweight, dbias          # (N, C, H, W)


def _is_depthwise(x_channels, weight, groups) -> bool:
    """True for groups == in_channels == out_channels: one (kh, kw) filter per channel."""
    return DEPTHWISE_FAST and groups == x_channels == weight.shape[0] and weight.shape[1] == 1


def conv2d_forward(x, weight, bias, window: Window, groups: int):
    """y = conv(x) (N, Cout, Ho, Wo) and what the backward pass needs.

    The data are laid out channels-first, (C, N, H, W), so that the im2col matrix is
    (kh kw Cg, N Ho Wo) per group with no transpose, and the product with the kernel bank is
    one (batched) matrix product. Depthwise convolutions (groups == C == Cout) go to
    :func:`depthwise_forward` unless ``DEPTHWISE_FAST`` is False.
    """
    n, c, h, w = x.shape
    if _is_depthwise(c, weight, groups):
        return depthwise_forward(x, weight, bias, window)
    cout, cg, kh, kw = weight.shape
    ho, wo = window.output_size(h, w)
    m = n * ho * wo
    cols = im2col(x.transpose(1, 0, 2, 3), window)                        # (kh, kw, C, N, Ho, Wo)
    if groups == 1:
        cols = cols.reshape(1, kh * kw * c, m)                            # (1, kh kw C, M)
    else:
        cols = (cols.reshape(kh, kw, groups, cg, m).transpose(2, 0, 1, 3, 4)
                .reshape(groups, kh * kw * cg, m))                        # (G, kh kw Cg, M)
    wmat = (weight.reshape(groups, cout // groups, cg, kh, kw).transpose(0, 1, 3, 4, 2)
            .reshape(groups, cout // groups, kh * kw * cg))               # (G, Cout/G, kh kw Cg)
    y = _grouped_matmul(wmat, cols).reshape(cout, n, ho, wo)   # Y = W X_col (Cout, N, Ho, Wo)
    if bias is not None:
        y += bias[:, None, None, None]
    return y.transpose(1, 0, 2, 3), (cols, wmat, x.shape, (ho, wo))      # (N, Cout, Ho, Wo)


def conv2d_backward(g, weight, saved, window: Window, groups: int, with_bias: bool):
    """(dx, dweight, dbias) from the upstream gradient g (N, Cout, Ho, Wo)."""
    cols, wmat, xshape, (ho, wo) = saved
    if wmat is None:                                   # the forward pass took the depthwise path
        return depthwise_backward(g, weight, saved, window, with_bias)
    n, c = xshape[:2]
    cout, cg, kh, kw = weight.shape
    gmat = g.transpose(1, 0, 2, 3).reshape(groups, cout // groups, n * ho * wo)  # (G, Cout/G, M)
    dweight = _grouped_matmul(gmat, cols.transpose(0, 2, 1))   # dW = Ybar X_col^T  (G, Cout/G, K)
    dweight = (dweight.reshape(groups, cout // groups, kh, kw, cg).transpose(0, 1, 4, 2, 3)
               .reshape(weight.shape))                                    # (Cout, Cg, kh, kw)
    dbias = g.sum(axis=(0, 2, 3)) if with_bias else None                  # db = sum of Ybar (Cout,)
    dcols = _grouped_matmul(wmat.transpose(0, 2, 1), gmat)     # W^T Ybar (G, kh kw Cg, M)
    dcols = (dcols.reshape(groups, kh, kw, cg, n, ho, wo).transpose(1, 2, 0, 3, 4, 5, 6)
             .reshape(kh, kw, c, n, ho, wo))                              # (kh, kw, C, N, Ho, Wo)
    dx = col2im(dcols, (c, n, *xshape[2:]), window)                       # dX = col2im(W^T Ybar)
    return dx.transpose(1, 0, 2, 3), dweight, dbias                       # (N, C, H, W)


class Conv2d(Layer):
    """A 2-D convolution (cross-correlation, as in every framework). PyTorch twin:
    ``torch.nn.Conv2d`` (``padding_mode="zeros"``).

    Shape:
        x:      (N, in_channels, H, W)
        weight: (out_channels, in_channels / groups, kh, kw)
        bias:   (out_channels,)
        y:      (N, out_channels, Ho, Wo),  Ho = floor((H + 2 p - d (kh - 1) - 1) / s) + 1

    Args: ``kernel_size``, ``stride``, ``dilation`` (int or pair), ``padding`` (int, pair,
    "valid" or "same"), ``groups`` (``in_channels`` gives the depthwise convolution), ``bias``.
    Initialisation is torch's: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    fan_in = in_channels / groups * kh * kw.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, dtype=np.float64, rng=None):
        name = "Conv2d"
        _check_conv_args(name, in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name, minimum=1)
        self.stride = pair(stride, "stride", name, minimum=1)
        self.dilation = pair(dilation, "dilation", name, minimum=1)
        self.padding = padding
        self.window = Window(self.kernel_size, self.stride, self.dilation,
                             _padding(padding, self.kernel_size, self.dilation, self.stride, name))
        self.weight = Parameter(np.empty((out_channels, in_channels // groups,
                                          *self.kernel_size), dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        self.bias = None
        if bias:
            fan_in = init.calculate_fan_in_and_fan_out(self.weight)[0]
            bound = 1 / math.sqrt(fan_in)
            self.bias = init.uniform_(Parameter(np.empty(out_channels, dtype=dtype)),
                                      -bound, bound, rng)

    def _check(self, x) -> np.ndarray:
        x = as_input(x, "Conv2d")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d expects an input of shape (N, {self.in_channels}, H, W), "
                             f"got shape {x.shape}")
        check_window_fits(x.shape, self.window, "Conv2d")
        return x

    def forward(self, x):
        x = self._check(x)
        w = self.weight.data.astype(x.dtype, copy=False)
        b = None if self.bias is None else self.bias.data.astype(x.dtype, copy=False)
        y, saved = conv2d_forward(x, w, b, self.window, self.groups)
        self._cache = saved
        return y

    def backward(self, grad_output):
        saved = self._saved()
        n, ho, wo = saved[2][0], *saved[3]
        g = self._check_grad(grad_output, (n, self.out_channels, ho, wo), type(self).__name__)
        w = self.weight.data.astype(g.dtype, copy=False)
        dx, dw, db = conv2d_backward(g, w, saved, self.window, self.groups, self.bias is not None)
        self.weight.accumulate(dw)
        if self.bias is not None:
            self.bias.accumulate(db)
        return dx

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding!r}")
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv1d(Conv2d):
    """A 1-D convolution over (N, C, L), computed as a Conv2d over (N, C, 1, L).
    PyTorch twin: ``torch.nn.Conv1d``; weight (out_channels, in_channels / groups, k)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding=0, dilation: int = 1, groups: int = 1, bias: bool = True,
                 dtype=np.float64, rng=None):
        name = "Conv1d"
        for arg, value in (("kernel_size", kernel_size), ("stride", stride),
                           ("dilation", dilation)):
            if not isinstance(value, int | np.integer) or isinstance(value, bool):
                raise TypeError(f"{name}: {arg} must be an int, got {value!r}")
        if not isinstance(padding, str):
            if not isinstance(padding, int | np.integer) or isinstance(padding, bool):
                raise TypeError(f"{name}: padding must be an int, 'valid' or 'same', "
                                f"got {padding!r}")
            padding = (0, padding)
        super().__init__(in_channels, out_channels, (1, kernel_size), (1, stride), padding,
                         (1, dilation), groups, bias, dtype, rng)
        self.weight.data = self.weight.data[:, :, 0, :].copy()   # (out, in / groups, k)

    def _check(self, x):
        x = as_input(x, "Conv1d")
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv1d expects an input of shape (N, {self.in_channels}, L), "
                             f"got shape {x.shape}")
        check_window_fits((1,) + x.shape[2:], self.window, "Conv1d")   # as (1, L)
        return x

    def forward(self, x):
        x = self._check(x)
        w = self.weight.data[:, :, None, :].astype(x.dtype, copy=False)   # (out, in/G, 1, k)
        b = None if self.bias is None else self.bias.data.astype(x.dtype, copy=False)
        y, saved = conv2d_forward(x[:, :, None, :], w, b, self.window, self.groups)
        self._cache = saved
        return y[:, :, 0, :]                                               # (N, out, Lo)

    def backward(self, grad_output):
        saved = self._saved()
        n, (_, lo) = saved[2][0], saved[3]
        g = self._check_grad(grad_output, (n, self.out_channels, lo), "Conv1d")
        w = self.weight.data[:, :, None, :].astype(g.dtype, copy=False)
        dx, dw, db = conv2d_backward(g[:, :, None, :], w, saved, self.window, self.groups,
                                     self.bias is not None)
        self.weight.accumulate(dw[:, :, 0, :])
        if self.bias is not None:
            self.bias.accumulate(db)
        return dx[:, :, 0, :]
