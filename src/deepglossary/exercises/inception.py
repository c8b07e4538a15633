"""Checkers for the exercises of the Inception Module and GoogLeNet chapters."""

import numpy as np

from deepglossary.exercises import compare, passed


def _linear_branches(rng, c_in, channels, dtype):
    """Branches that are 1x1 convolutions without bias: u_b = W_b x over channels. Returns the
    weights and each branch's backward, g_b (N, C_b, H, W) -> W_b^T g_b (N, C_in, H, W)."""
    weights = [rng.standard_normal((c, c_in)).astype(dtype) for c in channels]

    def backward_of(w):
        def backward(g):
            g = np.asarray(g)
            if g.ndim != 4 or g.shape[1] != w.shape[0]:
                raise AssertionError(f"a branch with {w.shape[0]} output channels received a "
                                     f"gradient of shape {g.shape}; expected (N, {w.shape[0]}, "
                                     "H, W): split the upstream gradient along the channels "
                                     "(axis 1), in the branches' order")
            return np.einsum("oc,nohw->nchw", w, g)
        return backward

    return weights, [backward_of(w) for w in weights]


def check_inception_input_grad(inception_input_grad):
    """``inception_input_grad(grad_output, channels, branch_backwards)`` returns dL/dx of a
    module whose output is the concatenation, along the channels (axis 1), of branches that
    all read the same input x: ``grad_output`` (N, sum(channels), H, W), ``channels`` the
    branches' output channels in order, ``branch_backwards[b]`` a function taking branch b's
    upstream gradient (N, channels[b], H, W) to its input gradient (N, C_in, H, W).

    Checked against dL/dx = sum over b of W_b^T g_b (branches that are 1x1 convolutions), on:
    branches of unequal widths (an equal split fails), one branch of one channel, a batch as
    large as the channel count (a split along the batch axis fails), two and four branches,
    H != W, and float32 (the result keeps the dtype). Returning one branch's gradient, or the
    mean instead of the sum, fails too."""
    rng = np.random.default_rng(21)
    settings = [((2, 5, 3, 4), (1, 2, 1, 3)), ((3, 4, 2, 2), (2, 1)), ((7, 6, 3, 3), (1, 3, 2, 1)),
                ((1, 3, 5, 2), (4, 4, 2, 6)), ((2, 8, 2, 3), (3, 1, 1, 2))]
    for i, ((n, c_in, h, w), channels) in enumerate(settings):
        dtype = np.float32 if i == len(settings) - 1 else np.float64
        weights, backwards = _linear_branches(rng, c_in, channels, dtype)
        g = rng.standard_normal((n, sum(channels), h, w)).astype(dtype)
        ends = np.cumsum(channels)[:-1]
        expected = sum(np.einsum("oc,nohw->nchw", wb, gb)
                       for wb, gb in zip(weights, np.split(g, ends, axis=1)))
        case = (f"batch {n}, {c_in} input channels, {h}x{w}, branches of {channels} channels, "
                f"{np.dtype(dtype).name}")
        got = np.asarray(inception_input_grad(g.copy(), tuple(channels), list(backwards)))
        if got.dtype != dtype:
            raise AssertionError(f"dx has dtype {got.dtype}, expected {np.dtype(dtype)} ({case})")
        compare("dx", got, expected, case=case,
                rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-5)
    return passed("backward through the concatenation", len(settings))


def _inception_parameters(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                          kernel5=3):
    """The package's count: build the module and add up its parameters."""
    from deepglossary.nn.inception import Inception

    module = Inception(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                       kernel5=kernel5, dtype=np.float32)
    return sum(p.size for p in module.parameters())


def check_inception_parameters(inception_parameters):
    """``inception_parameters(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5,
    pool_proj, kernel5=3)`` returns the number of parameters of ``nn.Inception`` with these
    arguments: every convolution without bias, each followed by a batch normalization with a
    scale and a shift per channel; the max-pooling has none. Checked on GoogLeNet's
    inception3a, 4e and 5b with torchvision's 3x3 and the paper's 5x5 kernel in the third
    branch, and on small modules where one width is 1: forgetting the batch normalization,
    counting convolution biases, ignoring ``kernel5``, skipping the reductions or the pool
    projection each fail."""
    cases = [((192, 64, 96, 128, 16, 32, 32), 3), ((192, 64, 96, 128, 16, 32, 32), 5),
             ((528, 256, 160, 320, 32, 128, 128), 3), ((832, 384, 192, 384, 48, 128, 128), 5),
             ((1, 1, 1, 1, 1, 1, 1), 3), ((5, 2, 3, 4, 1, 2, 6), 5), ((7, 3, 1, 2, 4, 1, 1), 7)]
    for args, kernel5 in cases:
        expected = _inception_parameters(*args, kernel5=kernel5)
        got = inception_parameters(*args, kernel5=kernel5)
        if got != expected:
            raise AssertionError(f"inception_parameters{args} with kernel5={kernel5}: expected "
                                 f"{expected:,}, got {got!r}")
    return passed("parameters of an Inception module", len(cases))


def check_auxiliary_loss(auxiliary_loss):
    """``auxiliary_loss(logits, aux_logits2, aux_logits1, y, weight=0.3)`` returns
    ``(loss, (g_logits, g_aux2, g_aux1))``: GoogLeNet's training loss, the cross-entropy of
    the main logits plus ``weight`` times the cross-entropy of each auxiliary classifier's
    logits (each cross-entropy the mean over the batch), and its gradients with respect to
    the three logit arrays (N, K) (the tuple a GoogLeNet training backward takes, in that
    order). Checked against torch's autograd, on batches of 1 to 5, weights 0.3, 0 and 1, and
    float32, where each gradient must keep the logits' dtype (as torch's do): a gradient
    without the weight, a sum over the batch instead of the mean, the two auxiliary gradients
    swapped, or float64 gradients for float32 logits fail."""
    from deepglossary.verify import torch_module

    torch = torch_module()
    rng = np.random.default_rng(23)
    settings = [(4, 10, 0.3, np.float64), (1, 3, 0.3, np.float64), (5, 7, 0.0, np.float64),
                (3, 4, 1.0, np.float64), (4, 10, 0.3, np.float32)]
    for n, k, weight, dtype in settings:
        arrays = [rng.standard_normal((n, k)).astype(dtype) * 3 for _ in range(3)]
        y = rng.integers(0, k, n)
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        ce = torch.nn.functional.cross_entropy
        labels = torch.tensor(y)
        loss = ce(tensors[0], labels) + weight * (ce(tensors[1], labels)
                                                  + ce(tensors[2], labels))
        loss.backward()
        case = f"batch {n}, {k} classes, weight {weight}, {np.dtype(dtype).name}"
        got_loss, grads = auxiliary_loss(*[a.copy() for a in arrays], y.copy(), weight=weight)
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else {}
        compare("loss", float(got_loss), loss.item(), case=case, **tol)
        if not isinstance(grads, tuple | list) or len(grads) != 3:
            raise AssertionError(f"return (loss, (g_logits, g_aux2, g_aux1)), got gradients "
                                 f"{type(grads).__name__} ({case})")
        for name, got, t in zip(("g_logits", "g_aux2", "g_aux1"), grads, tensors):
            got = np.asarray(got)
            if got.dtype != np.dtype(dtype):
                raise AssertionError(f"{name} has dtype {got.dtype}, expected {np.dtype(dtype)}, "
                                     f"the dtype of the logits ({case})")
            compare(name, got, t.grad.numpy(), case=case, **tol)
    return passed("GoogLeNet's loss with auxiliary classifiers", len(settings))
