"""More primitives for the engine, each with its backward written next to its forward.

The Neural Turing Machine chapter needs them: gates (``sigmoid``), positive strengths
(``softplus``), slicing a head's parameter vector (``getitem``), joining and reshaping
(``concat``, ``stack``, ``reshape``, ``transpose``), rotating a weighting (``roll``), and four
fused steps of the addressing, whose backwards are derived in that chapter: ``softmax``,
``cosine_similarity``, ``circular_convolution`` and ``sharpen``. A fused primitive is one node
instead of ten, which matters when the engine runs a recurrence in Python.

Shapes: ``N`` the batch, ``S`` memory slots, ``W`` the slot width, ``K`` shift offsets.
Every function takes :class:`Tensor` inputs (arrays and numbers are lifted) and returns a
Tensor; the PyTorch counterpart is named in each docstring.
"""

from __future__ import annotations

import numpy as np

from deepglossary.autograd.engine import Tensor


def _node(data, parents: tuple, op: str) -> Tensor:
    return Tensor(data, parents, op)


def _axis(axis: int, ndim: int, who: str) -> int:
    if not isinstance(axis, int | np.integer) or not -ndim <= axis < ndim:
        raise ValueError(f"{who}: axis {axis!r} is out of range for a tensor with {ndim} "
                         "dimensions")
    return int(axis) % ndim


# -- elementwise ---------------------------------------------------------------------------
def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x), computed without overflow. Any shape. PyTorch: ``torch.sigmoid``."""
    x = Tensor.lift(x)
    e = np.exp(-np.abs(x.data))                           # in (0, 1]: never overflows
    out = _node(np.where(x.data >= 0, 1 / (1 + e), e / (1 + e)), (x,), "sigmoid")

    def backward():                          # s' = s (1 - s)
        x._accumulate(out.grad * out.data * (1 - out.data))
    out._backward = backward
    return out


def softplus(x) -> Tensor:
    """log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), without overflow. Any shape.
    PyTorch: ``torch.nn.functional.softplus`` (with its default beta = 1, and no threshold)."""
    x = Tensor.lift(x)
    out = _node(np.logaddexp(0, x.data), (x,), "softplus")

    def backward():                          # softplus' = sigmoid
        e = np.exp(-np.abs(x.data))
        x._accumulate(out.grad * np.where(x.data >= 0, 1 / (1 + e), e / (1 + e)))
    out._backward = backward
    return out


# -- picking, joining and reshaping ------------------------------------------------------
def getitem(x, index) -> Tensor:
    """``x[index]`` (NumPy indexing: slices, integers, integer arrays). PyTorch: ``x[index]``.

    Backward: the gradient goes back to the entries that were picked; an entry picked twice
    (an integer array with repeats) gets both gradients, added (``np.add.at``)."""
    x = Tensor.lift(x)
    if isinstance(index, Tensor):
        raise TypeError("getitem: index with integers, slices or integer arrays, not a Tensor")
    out = _node(x.data[index], (x,), "getitem")

    def backward():                          # scatter the gradient back, adding repeats
        grad = np.zeros_like(x.data)                      # x's shape
        np.add.at(grad, index, out.grad)
        x._accumulate(grad)
    out._backward = backward
    return out


def concat(tensors, axis: int = -1) -> Tensor:
    """Join tensors along ``axis`` (all other sizes equal). PyTorch: ``torch.cat``.

    Backward: each input gets its own block of the gradient back."""
    tensors = [Tensor.lift(t) for t in tensors]
    if not tensors:
        raise ValueError("concat needs at least one tensor")
    axis = _axis(axis, tensors[0].data.ndim, "concat")
    out = _node(np.concatenate([t.data for t in tensors], axis=axis), tuple(tensors), "concat")
    bounds = np.cumsum([t.shape[axis] for t in tensors])[:-1]

    def backward():                          # split the gradient at the joints
        for t, g in zip(tensors, np.split(out.grad, bounds, axis=axis)):
            t._accumulate(g)
    out._backward = backward
    return out


def stack(tensors, axis: int = 0) -> Tensor:
    """Stack equally shaped tensors along a new ``axis``. PyTorch: ``torch.stack``."""
    tensors = [Tensor.lift(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    axis = _axis(axis, tensors[0].data.ndim + 1, "stack")
    out = _node(np.stack([t.data for t in tensors], axis=axis), tuple(tensors), "stack")

    def backward():                          # input k gets the k-th slice along axis
        for k, t in enumerate(tensors):
            t._accumulate(np.take(out.grad, k, axis=axis))
    out._backward = backward
    return out


def reshape(x, shape) -> Tensor:
    """The same entries in another shape. PyTorch: ``x.reshape(shape)``."""
    x = Tensor.lift(x)
    out = _node(x.data.reshape(shape), (x,), "reshape")

    def backward():                          # reshape the gradient back
        x._accumulate(out.grad.reshape(x.shape))
    out._backward = backward
    return out


def transpose(x, axes=None) -> Tensor:
    """Permute the axes (reverse them by default). PyTorch: ``x.permute(axes)``, ``x.T``."""
    x = Tensor.lift(x)
    axes = tuple(reversed(range(x.data.ndim))) if axes is None else tuple(axes)
    out = _node(np.transpose(x.data, axes), (x,), "transpose")

    def backward():                          # the inverse permutation
        x._accumulate(np.transpose(out.grad, np.argsort(axes)))
    out._backward = backward
    return out


def roll(x, shift: int, axis: int = -1) -> Tensor:
    """Rotate entries ``shift`` places along ``axis``: out[i] = x[(i - shift) mod n].
    PyTorch: ``torch.roll``. Backward: rotate the gradient back, by -shift."""
    x = Tensor.lift(x)
    out = _node(np.roll(x.data, shift, axis=axis), (x,), f"roll{shift}")

    def backward():                          # d out[i] / d x[i - shift] = 1
        x._accumulate(np.roll(out.grad, -shift, axis=axis))
    out._backward = backward
    return out


def bmm(a, b) -> Tensor:
    """Batched matrix product: a (N, I, J) @ b (N, J, K) -> (N, I, K). PyTorch: ``torch.bmm``."""
    a, b = Tensor.lift(a), Tensor.lift(b)
    if a.data.ndim != 3 or b.data.ndim != 3 or a.shape[0] != b.shape[0] \
            or a.shape[2] != b.shape[1]:
        raise ValueError(f"bmm takes (N, I, J) and (N, J, K), got {a.shape} and {b.shape}")
    out = _node(a.data @ b.data, (a, b), "bmm")

    def backward():                          # C = A B per batch: dA = G B^T, dB = A^T G
        a._accumulate(out.grad @ b.data.transpose(0, 2, 1))          # (N, I, J)
        b._accumulate(a.data.transpose(0, 2, 1) @ out.grad)          # (N, J, K)
    out._backward = backward
    return out


# -- the fused steps of the NTM's addressing ----------------------------------------------
def softmax(x, axis: int = -1) -> Tensor:
    """e^x / sum(e^x) along ``axis`` (the maximum subtracted first). PyTorch:
    ``torch.softmax``. Backward: dx = y (g - sum(g y)), the Jacobian diag(y) - y y^T applied."""
    x = Tensor.lift(x)
    axis = _axis(axis, x.data.ndim, "softmax")
    e = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
    out = _node(e / e.sum(axis=axis, keepdims=True), (x,), "softmax")

    def backward():
        y, g = out.data, out.grad
        x._accumulate(y * (g - (g * y).sum(axis=axis, keepdims=True)))
    out._backward = backward
    return out


def cosine_similarity(key, memory, eps: float = 1e-8) -> Tensor:
    """K[n, i] = k_n . M_n,i / (|k_n| |M_n,i|), for every slot i at once.

    ``key`` (N, W), ``memory`` (N, S, W) -> (N, S). Norms are taken as sqrt(|v|^2 + eps^2),
    so an all-zero row gives 0 rather than 0/0. PyTorch: ``F.cosine_similarity(key[:, None],
    memory, dim=-1)`` (which clamps the norms' product at eps instead).

    Backward, with a = k.M_i, p = |k|, q_i = |M_i|, K_i = a / (p q_i), upstream G_i:
    dk = sum_i G_i (M_i / (p q_i) - K_i k / p^2), dM_i = G_i (k / (p q_i) - K_i M_i / q_i^2).
    """
    key, memory = Tensor.lift(key), Tensor.lift(memory)
    if key.data.ndim != 2 or memory.data.ndim != 3 or memory.shape[0] != key.shape[0] \
            or memory.shape[2] != key.shape[1]:
        raise ValueError(f"cosine_similarity takes key (N, W) and memory (N, S, W), got "
                         f"{key.shape} and {memory.shape}")
    k, m = key.data, memory.data
    dot = (m @ k[:, :, None])[:, :, 0]                                # (N, S)
    p = np.sqrt((k * k).sum(-1) + eps * eps)[:, None]                 # (N, 1)  |k|
    q = np.sqrt((m * m).sum(-1) + eps * eps)                          # (N, S)  |M_i|
    out = _node(dot / (p * q), (key, memory), "cosine")

    def backward():
        g, sim = out.grad, out.data                                   # (N, S)
        gpq = g / (p * q)                                             # (N, S)
        key._accumulate((gpq[:, None, :] @ m)[:, 0]
                        - (g * sim).sum(-1, keepdims=True) * k / p**2)        # (N, W)
        memory._accumulate(gpq[:, :, None] * k[:, None, :]
                           - (g * sim / q**2)[:, :, None] * m)                # (N, S, W)
    out._backward = backward
    return out


def circular_convolution(w, s) -> Tensor:
    """Shift a weighting: out[n, i] = sum_k s[n, k] w[n, (i - o_k) mod S], o_k = k - K // 2.

    ``w`` (N, S), ``s`` (N, K) with K odd (3: offsets -1, 0, +1) -> (N, S). Graves et al.
    (2014), equation (8). PyTorch: no single function; ``sum(s[:, k, None] * torch.roll(w,
    o_k, 1))``. Backward: dw = sum_k s_k roll(G, -o_k), ds_k = sum_i G_i roll(w, o_k)_i.
    """
    w, s = Tensor.lift(w), Tensor.lift(s)
    if w.data.ndim != 2 or s.data.ndim != 2 or s.shape[0] != w.shape[0] or s.shape[1] % 2 != 1:
        raise ValueError(f"circular_convolution takes w (N, S) and s (N, K) with K odd, got "
                         f"{w.shape} and {s.shape}")
    half = s.shape[1] // 2
    rolled = np.stack([np.roll(w.data, k - half, axis=1) for k in range(s.shape[1])], 1)
    out = _node((s.data[:, None, :] @ rolled)[:, 0], (w, s), "circconv")   # (N, S)

    def backward():
        g = out.grad                                                          # (N, S)
        s._accumulate((rolled @ g[:, :, None])[:, :, 0])                     # (N, K)
        w._accumulate(sum(s.data[:, k, None] * np.roll(g, half - k, axis=1)
                          for k in range(s.shape[1])))                        # (N, S)
    out._backward = backward
    return out


def sharpen(w, gamma) -> Tensor:
    """w_i^gamma / sum_j w_j^gamma along the last axis. Graves et al. (2014), equation (9).

    ``w`` (N, S) non-negative, ``gamma`` (N, 1) -> (N, S). PyTorch: ``w ** gamma / (w **
    gamma).sum(-1, keepdim=True)``. Backward, with u = w^gamma, Z = sum u, y = u / Z:
    du_i = (G_i - sum_j G_j y_j) / Z; dw_i = du_i gamma w_i^(gamma-1);
    dgamma = sum_i du_i u_i log w_i (0 where w_i = 0, the limit for gamma > 0).
    """
    w, gamma = Tensor.lift(w), Tensor.lift(gamma, w)
    if (w.data < 0).any():
        raise ValueError("sharpen expects a non-negative weighting w")
    if w.data.ndim != 2 or gamma.shape != (w.shape[0], 1):
        raise ValueError(f"sharpen takes w (N, S) and gamma (N, 1), got {w.shape} and "
                         f"{gamma.shape}")
    u = w.data ** gamma.data                                              # (N, S)
    z = u.sum(-1, keepdims=True)                                          # (N, 1)
    out = _node(u / z, (w, gamma), "sharpen")

    def backward():
        g, y = out.grad, out.data
        du = (g - (g * y).sum(-1, keepdims=True)) / z                     # (N, S)
        positive = w.data > 0
        safe = np.where(positive, w.data, 1.0)
        w._accumulate(du * gamma.data * np.where(positive, safe ** (gamma.data - 1),
                                                 (gamma.data == 1).astype(w.data.dtype)))
        gamma._accumulate((du * u * np.where(positive, np.log(safe), 0.0)).sum(
            -1, keepdims=True))                                           # (N, 1)
    out._backward = backward
    return out
