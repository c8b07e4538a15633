"""The Inception module of GoogLeNet, and its convolution unit BasicConv2d.

An Inception module runs four branches side by side on the same input and stacks their
outputs along the channel axis:

    branch1: 1x1 convolution
    branch2: 1x1 convolution (the "reduction") -> 3x3 convolution
    branch3: 1x1 convolution (the "reduction") -> "5x5" convolution (see ``kernel5``)
    branch4: 3x3 max pooling, stride 1 -> 1x1 convolution (the "pool projection")
    y = concat(branch1(x), branch2(x), branch3(x), branch4(x)) over channels

Every branch keeps the height and width, so the four outputs can be stacked. Backward: the
concatenation sends each branch its own slice of the upstream gradient, and since the input
x feeds all four branches (a fork), its gradient is the sum of the four branches' input
gradients:

    dL/dx = sum_k  branch_k.backward(g[:, channels of branch k])

Names, channel arguments and defaults follow torchvision's ``googlenet.py``, so that its state
dicts load one to one.
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.activations import ReLU
from deepglossary.nn.batchnorm import BatchNorm
from deepglossary.nn.conv import Conv2d
from deepglossary.nn.core import Layer, Sequential, as_input
from deepglossary.nn.pooling import MaxPool2d


class BasicConv2d(Layer):
    """Convolution without bias, batch normalization (eps 0.001), ReLU: GoogLeNet's unit.

    PyTorch twin: torchvision's ``googlenet.BasicConv2d`` (children ``conv``, ``bn``; it applies
    the ReLU as a function, ours as the child ``relu``, which holds no parameters, so the
    parameter and buffer names are the same). The convolution has no bias because the batch
    normalization that follows subtracts the channel's mean, which would cancel it; its
    ``bias`` (beta) plays that role.

    Shape: x (N, in_channels, H, W) -> y (N, out_channels, Ho, Wo), Ho as for ``Conv2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dtype=np.float64, rng=None):
        self.conv = Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                           padding=padding, bias=False, dtype=dtype, rng=rng)
        self.bn = BatchNorm(out_channels, eps=0.001, dtype=dtype)
        self.relu = ReLU()
        self.in_channels, self.out_channels = in_channels, out_channels

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))      # (N, C_in, H, W) -> (N, C_out, Ho, Wo)

    def backward(self, grad_output):
        self._backward_begins()
        g = self.relu.backward(grad_output)          # (N, C_out, Ho, Wo), zero where y = 0
        g = self.bn.backward(g)                      # (N, C_out, Ho, Wo)
        return self.conv.backward(g)                 # (N, C_in, H, W)


class Inception(Layer):
    """Four parallel branches concatenated over channels (Szegedy et al., 2015).

    PyTorch twin: torchvision's ``googlenet.Inception``, with its argument order and children:
    ``branch1`` (BasicConv2d 1x1, ``ch1x1`` channels), ``branch2`` (Sequential: 1x1 to
    ``ch3x3red``, 3x3 padding 1 to ``ch3x3``), ``branch3`` (Sequential: 1x1 to ``ch5x5red``,
    then ``kernel5`` x ``kernel5`` to ``ch5x5``), ``branch4`` (Sequential: MaxPool2d(3, 1, 1,
    ceil_mode=True), 1x1 to ``pool_proj``).

    ``kernel5``: torchvision's "5x5" branch uses a 3x3 kernel (a known discrepancy with the
    paper, pytorch/vision issue 906, kept so that its pretrained weights load), and so does
    ours by default; ``kernel5=5`` gives the paper's 5x5 convolution (padding 2).

    Shape: x (N, in_channels, H, W) -> y (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    Backward: the upstream gradient is split into the four branches' channel slices, and the
    four input gradients are added (the input feeds every branch).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int, kernel5: int = 3, dtype=np.float64, rng=None):
        if not isinstance(kernel5, int | np.integer) or kernel5 < 1 or kernel5 % 2 == 0:
            raise ValueError(f"Inception: kernel5 must be an odd positive integer (3, as in "
                             f"torchvision, or 5, as in the paper), got {kernel5!r}")
        kw = {"dtype": dtype, "rng": rng}
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1, **kw)
        self.branch2 = Sequential(BasicConv2d(in_channels, ch3x3red, 1, **kw),
                                  BasicConv2d(ch3x3red, ch3x3, 3, padding=1, **kw))
        self.branch3 = Sequential(BasicConv2d(in_channels, ch5x5red, 1, **kw),
                                  BasicConv2d(ch5x5red, ch5x5, kernel5, padding=kernel5 // 2,
                                              **kw))
        self.branch4 = Sequential(MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                  BasicConv2d(in_channels, pool_proj, 1, **kw))
        self.in_channels, self.kernel5 = in_channels, int(kernel5)
        self.branch_channels = (ch1x1, ch3x3, ch5x5, pool_proj)
        self.out_channels = sum(self.branch_channels)

    def branches(self) -> list[Layer]:
        return [self.branch1, self.branch2, self.branch3, self.branch4]

    def forward(self, x):
        x = as_input(x, "Inception")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Inception expects an input of shape (N, {self.in_channels}, H, W), "
                             f"got shape {x.shape}")
        outputs = [branch(x) for branch in self.branches()]          # 4 x (N, C_k, H, W)
        self._cache = x.shape
        return np.concatenate(outputs, axis=1)                       # (N, sum C_k, H, W)

    def backward(self, grad_output):
        shape = self._saved()
        n, _, h, w = shape
        g = self._check_grad(grad_output, (n, self.out_channels, h, w), "Inception")
        ends = np.cumsum(self.branch_channels)                        # [C_1, C_1 + C_2, ...]
        slices = np.split(g, ends[:-1], axis=1)                       # 4 x (N, C_k, H, W)
        dx = None
        for branch, g_k in reversed(list(zip(self.branches(), slices))):
            d = branch.backward(g_k)                                  # (N, C_in, H, W)
            dx = d if dx is None else dx + d                          # the fork: gradients add
        return dx

    def extra_repr(self) -> str:
        return (f"{self.in_channels} -> {self.out_channels} = "
                f"{' + '.join(map(str, self.branch_channels))}, kernel5={self.kernel5}")
