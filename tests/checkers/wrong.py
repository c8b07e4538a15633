"""Typical wrong answers for every exercise checker, used by ``tests/test_checkers.py``.

``WRONG`` maps a checker's key, ``"<module>.<check_name>"`` (the module of
``deepglossary.exercises``), to the wrong answers it must reject. A ``Wrong`` has a label (the
mistake, as a student makes it), ``build(ref, ns)`` that returns the wrong answer from the
reference answer ``ref`` (what the chapter's solution cell defines under the student's name)
and the chapter's namespace ``ns``, optionally ``says`` (regexes the checker's message must
contain) and ``exercises`` (the exercise labels it applies to, when one checker serves several
exercises and the mistake only makes sense in some).

To cover a new checker, add its key with at least two mistakes a student really makes.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MIN_WRONG = 2


@dataclass
class Wrong:
    label: str
    build: Callable
    says: tuple = ()
    exercises: tuple | None = None


WRONG: dict[str, list[Wrong]] = {}

# What a chapter defines before its exercises and its solutions use, by chapter (the notebook's
# stem): run after the setup cell's imports (np, torch, dg, nn), before the solution cells.
_OPTIM = "from deepglossary import optim"
CONTEXT = {
    "adadelta": _OPTIM, "adagrad": _OPTIM, "adam": _OPTIM, "momentum": _OPTIM,
    "rmsprop": _OPTIM, "sgd": _OPTIM,
    "restricted-boltzmann-machine": "from deepglossary import rbm as R",
    "deep-belief-network": "from deepglossary import rbm as R",
    "fine-tuning": "from deepglossary import finetune as ft",
    "icml": "from deepglossary import reproduce as rp",
    "vgg": "from deepglossary.models import vgg as vgg_module",
    "theano": "from deepglossary.frameworks import theano as th\n"
              "from deepglossary.frameworks.theano import gradient, ops",
    "tensorflow": "from deepglossary.frameworks import tensorflow as tf\n"
                  "from deepglossary.frameworks.tensorflow import ops",
    "keras": "from deepglossary.frameworks import keras",
    "word2vec": "from deepglossary import word2vec as w2v\nfrom deepglossary import wordsim as ws",
    "glove": "from deepglossary import wordsim as ws",
}


def wrong(key: str, label: str, *, says=(), exercises=None):
    """Register the decorated ``build(ref, ns)`` as a wrong answer for the checker ``key``."""
    def register(build):
        WRONG.setdefault(key, []).append(Wrong(label, build, tuple(says),
                                               None if exercises is None else tuple(exercises)))
        return build
    return register


def output(ref, change, index=None):
    """The reference with ``change`` applied to its output (to its element ``index`` when it
    returns a tuple); the signature stays the reference's (``functools.wraps``)."""
    @functools.wraps(ref)
    def answer(*args, **kwargs):
        result = ref(*args, **kwargs)
        if index is None:
            return change(result, *args, **kwargs)
        result = list(result)
        result[index] = change(result[index], *args, **kwargs)
        return tuple(result)
    return answer


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------- blocks

@wrong("blocks.check_tanh_via_sigmoid", "sigmoid(x) instead of sigmoid(2x)")
def _(ref, ns):
    return lambda x: 2 * ns["nn"].Sigmoid()(x) - 1


@wrong("blocks.check_tanh_via_sigmoid", "a literal exp that overflows")
def _(ref, ns):
    return lambda x: 2 / (1 + np.exp(-2 * x)) - 1


@wrong("blocks.check_tanh_via_sigmoid", "float64 for float32 input")
def _(ref, ns):
    return lambda x: ref(np.asarray(x, dtype=np.float64))


@wrong("blocks.check_activation", "derivative left at 1")
def _(ref, ns):
    class NoDerivative(ref):
        def df(self, x, y):
            return np.ones_like(x)
    NoDerivative.__name__ = ref.__name__
    return NoDerivative


@wrong("blocks.check_activation", "derivative off by a factor of 2 (chain rule applied twice)")
def _(ref, ns):
    class Doubled(ref):
        def df(self, x, y):
            return 2 * super().df(x, y)
    Doubled.__name__ = ref.__name__
    return Doubled


@wrong("blocks.check_activation", "forward in float64 for float32 input")
def _(ref, ns):
    class Upcast(ref):
        def f(self, x):
            return super().f(np.asarray(x, dtype=np.float64))
    Upcast.__name__ = ref.__name__
    return Upcast


@wrong("blocks.check_parameter_count", "forgot the biases")
def _(ref, ns):
    return lambda sizes: sum(a * b for a, b in zip(sizes, sizes[1:]))


@wrong("blocks.check_parameter_count", "one bias per input instead of per output")
def _(ref, ns):
    return lambda sizes: sum((a + 1) * b - b + a for a, b in zip(sizes, sizes[1:]))


@wrong("blocks.check_affine_backward", "bias gradient averaged over the batch")
def _(ref, ns):
    return output(ref, lambda db, x, w, g: db / g.reshape(-1, w.shape[0]).shape[0], 2)


@wrong("blocks.check_affine_backward", "bias gradient not summed over the batch")
def _(ref, ns):
    return output(ref, lambda db, x, w, g: g.reshape(-1, w.shape[0]), 2)


@wrong("blocks.check_affine_backward", "float64 weight gradient for float32 input")
def _(ref, ns):
    return output(ref, lambda dw, *a: dw.astype(np.float64), 1)


@wrong("blocks.check_collapse", "only the last layer's bias")
def _(ref, ns):
    return output(ref, lambda wb, layers: (wb[0], layers[-1].bias.data))


@wrong("blocks.check_collapse", "biases added without passing through later weights")
def _(ref, ns):
    return output(ref, lambda wb, layers: (wb[0], sum(layer.bias.data for layer in layers)))


@wrong("blocks.check_stable_softmax", "no shift: exp overflows", says=("softmax",))
def _(ref, ns):
    return lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


@wrong("blocks.check_stable_softmax", "minus the batch's maximum, not each row's")
def _(ref, ns):
    return lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(axis=-1, keepdims=True)


@wrong("blocks.check_stable_softmax", "float64 for float32 input", says=("float32|dtype",))
def _(ref, ns):
    return lambda z: ref(np.asarray(z, dtype=np.float64))


@wrong("blocks.check_softmax_jacobian", "diag(p) - p**2 (no outer product)")
def _(ref, ns):
    return lambda p: np.diag(p - p * p)


@wrong("blocks.check_softmax_jacobian", "sign flipped: outer(p, p) - diag(p)")
def _(ref, ns):
    return lambda p: np.outer(p, p) - np.diag(p)


@wrong("blocks.check_mlp_backward", "forgot the ReLU's mask")
def _(ref, ns):
    def mlp_backward(x, W1, b1, W2, b2, grad_logits):
        h1 = np.maximum(x @ W1.T + b1, 0)
        z1_bar = grad_logits @ W2
        return z1_bar.T @ x, z1_bar.sum(axis=0), grad_logits.T @ h1, grad_logits.sum(axis=0)
    return mlp_backward


@wrong("blocks.check_mlp_backward", "second layer's weight gradient from the pre-activation")
def _(ref, ns):
    def mlp_backward(x, W1, b1, W2, b2, grad_logits):
        z1 = x @ W1.T + b1
        z1_bar = (grad_logits @ W2) * (z1 > 0)
        return z1_bar.T @ x, z1_bar.sum(axis=0), grad_logits.T @ z1, grad_logits.sum(axis=0)
    return mlp_backward


# ---------------------------------------------------------------- embedding

@wrong("embedding.check_embedding_backward", "grad[ids] += g loses repeated ids")
def _(ref, ns):
    def embedding_backward(ids, grad_output, num_embeddings, padding_idx=None):
        width = grad_output.shape[-1]
        table = np.zeros((num_embeddings, width), dtype=grad_output.dtype)
        table[ids.reshape(-1)] += grad_output.reshape(-1, width)
        if padding_idx is not None:
            table[padding_idx] = 0
        return table
    return embedding_backward


@wrong("embedding.check_embedding_backward", "padding_idx ignored")
def _(ref, ns):
    return lambda ids, grad_output, num_embeddings, padding_idx=None: ref(
        ids, grad_output, num_embeddings)


@wrong("embedding.check_bag_mean", "np.add.reduceat: an empty bag takes the next id")
def _(ref, ns):
    def bag_mean(table, ids, offsets):
        lengths = np.diff(np.r_[offsets, len(ids)])
        sums = np.add.reduceat(table[ids], offsets, axis=0)
        return sums / np.maximum(lengths, 1)[:, None].astype(table.dtype)
    return bag_mean


@wrong("embedding.check_bag_mean", "sums, not means")
def _(ref, ns):
    return output(ref, lambda m, table, ids, offsets:
                  m * np.maximum(np.diff(np.r_[offsets, len(ids)]), 1)[:, None])


# ---------------------------------------------------------------- learning

@wrong("learning.check_cross_entropy_grad", "forgot the 1/N")
def _(ref, ns):
    return output(ref, lambda g, logits, targets: g * len(targets))


@wrong("learning.check_cross_entropy_grad", "logits - one_hot, no softmax")
def _(ref, ns):
    def cross_entropy_grad(logits, targets):
        p = logits.copy()
        p[np.arange(len(targets)), targets] -= 1
        return p / len(targets)
    return cross_entropy_grad


@wrong("learning.check_cross_entropy_grad", "float64 for float32 logits")
def _(ref, ns):
    return lambda logits, targets: ref(np.asarray(logits, dtype=np.float64), targets)


@wrong("learning.check_nll", "log_probs[:, targets]: an (N, N) block")
def _(ref, ns):
    return lambda log_probs, targets: -log_probs[:, targets].mean()


@wrong("learning.check_nll", "sum instead of mean")
def _(ref, ns):
    return lambda log_probs, targets: -log_probs[np.arange(len(targets)), targets].sum()


@wrong("learning.check_nll", "forgot the minus sign")
def _(ref, ns):
    return lambda log_probs, targets: log_probs[np.arange(len(targets)), targets].mean()


@wrong("learning.check_numerical_gradient", "forward difference (f(x + eps) - f(x)) / eps")
def _(ref, ns):
    def numerical_gradient(f, x, eps=1e-6):
        grad = np.zeros_like(x)
        base = f(x)
        for i in np.ndindex(x.shape):
            keep = x[i]
            x[i] = keep + eps
            grad[i] = (f(x) - base) / eps
            x[i] = keep
        return grad
    return numerical_gradient


@wrong("learning.check_numerical_gradient", "x left changed (not restored)")
def _(ref, ns):
    def numerical_gradient(f, x, eps=1e-6):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            keep = x[i]
            x[i] = keep + eps
            up = f(x)
            x[i] = keep - eps
            grad[i] = (up - f(x)) / (2 * eps)
        return grad
    return numerical_gradient


@wrong("learning.check_nearest_mean", "argmin of the score (sign slip)")
def _(ref, ns):
    def predict(x_train, y_train, x):
        classes = np.unique(y_train)
        mu = np.stack([x_train[y_train == c].mean(axis=0) for c in classes])
        return classes[(x @ mu.T - 0.5 * (mu**2).sum(axis=1)).argmin(axis=1)]
    return predict


@wrong("learning.check_nearest_mean", "the index of the class, not its label")
def _(ref, ns):
    def predict(x_train, y_train, x):
        classes = np.unique(y_train)
        mu = np.stack([x_train[y_train == c].mean(axis=0) for c in classes])
        return (x @ mu.T - 0.5 * (mu**2).sum(axis=1)).argmax(axis=1)
    return predict


@wrong("learning.check_nearest_mean", "forgot the -|mu|^2 / 2 term")
def _(ref, ns):
    def predict(x_train, y_train, x):
        classes = np.unique(y_train)
        mu = np.stack([x_train[y_train == c].mean(axis=0) for c in classes])
        return classes[(x @ mu.T).argmax(axis=1)]
    return predict


# ---------------------------------------------------------------- optimization

@wrong("optimization.check_update_rule", "gradient ascent (sign slip)", says=("step 1",))
def _(ref, ns):
    @functools.wraps(ref)
    def update(p, g, state, **kwargs):
        return 2 * p - ref(p, g, state, **kwargs)
    return update


@wrong("optimization.check_update_rule", "keywords ignored: the exercise's lr hard-coded",
       says=("lr = 0.5",))
def _(ref, ns):
    @functools.wraps(ref)
    def update(p, g, state, **kwargs):
        return ref(p, g, state)
    return update


@wrong("optimization.check_update_rule", "state not kept between steps", says=("step 2",),
       exercises=("adadelta-update", "adagrad-update", "adam-update", "momentum-update",
                  "rmsprop-update"))
def _(ref, ns):
    @functools.wraps(ref)
    def update(p, g, state, **kwargs):
        return ref(p, g, {}, **kwargs)
    return update


@wrong("optimization.check_update_rule", "epsilon inside the square root",
       exercises=("adam-update", "rmsprop-update"))
def _(ref, ns):
    return ns["eps_inside"]


@wrong("optimization.check_clip_by_norm", "each gradient clipped by its own norm")
def _(ref, ns):
    def clip(grads, max_norm):
        total = np.sqrt(sum((g**2).sum() for g in grads))
        return [g * min(1.0, max_norm / (np.sqrt((g**2).sum()) + 1e-6)) for g in grads], total
    return clip


@wrong("optimization.check_clip_by_norm", "always rescaled, also below max_norm")
def _(ref, ns):
    def clip(grads, max_norm):
        total = np.sqrt(sum((g**2).sum() for g in grads))
        return [g * (max_norm / (total + 1e-6)) for g in grads], total
    return clip


@wrong("optimization.check_clip_by_norm", "the norm of the sum, not of all entries")
def _(ref, ns):
    def clip(grads, max_norm):
        total = np.sqrt(sum(g.sum() ** 2 for g in grads))
        return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total
    return clip


# ---------------------------------------------------------------- convolutional

@wrong("alexnet.check_conv_stats", "groups ignored")
def _(ref, ns):
    return lambda size, i, o, k, stride=1, padding=0, groups=1: ref(size, i, o, k, stride, padding)


@wrong("alexnet.check_conv_stats", "forgot the biases")
def _(ref, ns):
    return output(ref, lambda p, size, i, o, *a, **k: o * (p // o - 1), 1)


@wrong("alexnet.check_conv_stats", "padding counted once, not on both sides")
def _(ref, ns):
    return lambda size, i, o, k, stride=1, padding=0, groups=1: ref(
        size - padding, i, o, k, stride, padding, groups)


@wrong("alexnet.check_lrn", "alpha not divided by the window size")
def _(ref, ns):
    return lambda x, size, alpha=1e-4, beta=0.75, k=1.0: ref(x, size, alpha * size, beta, k)


@wrong("alexnet.check_lrn", "forgot the exponent beta")
def _(ref, ns):
    return lambda x, size, alpha=1e-4, beta=0.75, k=1.0: ref(x, size, alpha, 1.0, k)


@wrong("alexnet.check_lrn", "window normalised over the spatial axis, not the channels")
def _(ref, ns):
    return lambda x, size, alpha=1e-4, beta=0.75, k=1.0: np.swapaxes(
        ref(np.swapaxes(x, 1, -1), size, alpha, beta, k), 1, -1)


@wrong("pooling.check_avg_pool_backward", "always divided by kernel^2 (padding counted)")
def _(ref, ns):
    return lambda x_shape, g, kernel, stride, padding, count_include_pad: ref(
        x_shape, g, kernel, stride, padding, True)


@wrong("pooling.check_avg_pool_backward", "not divided at all")
def _(ref, ns):
    return output(ref, lambda dx, x_shape, g, kernel, *a: dx * kernel * kernel)


@wrong("pooling.check_max_pool_backward", "dx[...] = g instead of += (overlaps lost)")
def _(ref, ns):
    def max_pool_backward(x, grad_output, kernel, stride):
        dx = np.zeros_like(x)
        n, c, ho, wo = grad_output.shape
        a, b = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
        for i in range(ho):
            for j in range(wo):
                window = x[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel]
                first = window.reshape(n, c, -1).argmax(axis=2)
                rows, cols = i * stride + first // kernel, j * stride + first % kernel
                dx[a, b, rows, cols] = grad_output[:, :, i, j]
        return dx
    return max_pool_backward


@wrong("pooling.check_max_pool_backward", "gradient spread evenly over the window")
def _(ref, ns):
    def max_pool_backward(x, grad_output, kernel, stride):
        dx = np.zeros_like(x)
        for i in range(grad_output.shape[2]):
            for j in range(grad_output.shape[3]):
                dx[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel] += (
                    grad_output[:, :, i:i + 1, j:j + 1] / (kernel * kernel))
        return dx
    return max_pool_backward


@wrong("pooling.check_max_pool_backward", "every tied maximum gets the gradient")
def _(ref, ns):
    def max_pool_backward(x, grad_output, kernel, stride):
        dx = np.zeros_like(x)
        for i in range(grad_output.shape[2]):
            for j in range(grad_output.shape[3]):
                rows = slice(i * stride, i * stride + kernel)
                cols = slice(j * stride, j * stride + kernel)
                window = x[:, :, rows, cols]
                top = window == window.max(axis=(2, 3), keepdims=True)
                dx[:, :, rows, cols] += top * grad_output[:, :, i:i + 1, j:j + 1]
        return dx
    return max_pool_backward


@wrong("pooling.check_receptive_field", "jump (product of earlier strides) ignored")
def _(ref, ns):
    return lambda layers: 1 + sum(d * (k - 1) for k, s, d in layers)


@wrong("pooling.check_receptive_field", "dilation ignored")
def _(ref, ns):
    return lambda layers: ref([(k, s, 1) for k, s, d in layers])


@wrong("convolutional.check_conv_parameter_count", "groups ignored")
def _(ref, ns):
    return lambda i, o, k, groups=1, bias=True: ref(i, o, k, 1, bias)


@wrong("convolutional.check_conv_parameter_count", "bias always counted")
def _(ref, ns):
    return lambda i, o, k, groups=1, bias=True: ref(i, o, k, groups, True)


@wrong("convolutional.check_conv2d", "bias forgotten")
def _(ref, ns):
    return lambda x, weight, bias, stride=1, padding=0, dilation=1: ref(
        x, weight, None, stride, padding, dilation)


@wrong("convolutional.check_conv2d", "dilation ignored")
def _(ref, ns):
    return lambda x, weight, bias, stride=1, padding=0, dilation=1: ref(
        x, weight, bias, stride, padding, 1)


@wrong("convolutional.check_conv2d", "kernel flipped (true convolution, not torch's correlation)")
def _(ref, ns):
    return lambda x, weight, bias, stride=1, padding=0, dilation=1: ref(
        x, weight[:, :, ::-1, ::-1], bias, stride, padding, dilation)


@wrong("dream.check_normalized_step", "no clipping to [0, 1]")
def _(ref, ns):
    return lambda image, grad, step_size: (
        image + step_size * grad / (np.abs(grad).mean() + 1e-8)).astype(image.dtype)


@wrong("dream.check_normalized_step", "gradient not normalised")
def _(ref, ns):
    return lambda image, grad, step_size: np.clip(image + step_size * grad, 0, 1).astype(
        image.dtype)


@wrong("dream.check_normalized_step", "float64 result for a float32 image")
def _(ref, ns):
    return output(ref, lambda new, *a: new.astype(np.float64))


@wrong("dream.check_octave_shapes", "largest octave first")
def _(ref, ns):
    return lambda shape, octaves, scale: ref(shape, octaves, scale)[::-1]


@wrong("dream.check_octave_shapes", "int() truncation instead of round()")
def _(ref, ns):
    return lambda shape, octaves, scale: [tuple(int(side / scale**o) for side in shape)
                                          for o in range(octaves - 1, -1, -1)]


@wrong("inception.check_auxiliary_loss", "auxiliary gradients not weighted")
def _(ref, ns):
    def auxiliary_loss(logits, aux2, aux1, y, weight=0.3):
        loss, (g, g2, g1) = ref(logits, aux2, aux1, y, weight)
        return loss, (g, g2 / weight, g1 / weight)
    return auxiliary_loss


@wrong("inception.check_auxiliary_loss", "gradients not divided by the batch size")
def _(ref, ns):
    def auxiliary_loss(logits, aux2, aux1, y, weight=0.3):
        loss, grads = ref(logits, aux2, aux1, y, weight)
        return loss, tuple(g * len(y) for g in grads)
    return auxiliary_loss


@wrong("inception.check_auxiliary_loss", "the heads' losses not weighted")
def _(ref, ns):
    def auxiliary_loss(logits, aux2, aux1, y, weight=0.3):
        loss, grads = ref(logits, aux2, aux1, y, weight)
        main = ref(logits, aux2, aux1, y, 0.0)[0]
        return main + (loss - main) / weight, grads
    return auxiliary_loss


@wrong("inception.check_inception_input_grad", "only the first branch's gradient")
def _(ref, ns):
    def inception_input_grad(grad_output, channels, branch_backwards):
        return branch_backwards[0](grad_output[:, :channels[0]])
    return inception_input_grad


@wrong("inception.check_inception_input_grad", "branches averaged, not added")
def _(ref, ns):
    return output(ref, lambda g, grad_output, channels, *a: g / len(channels))


@wrong("inception.check_inception_parameters", "one bias per convolution instead of BN's two")
def _(ref, ns):
    def inception_parameters(c_in, c1, r3, c3, r5, c5, proj, kernel5=3):
        convs = [(c_in, c1, 1), (c_in, r3, 1), (r3, c3, 3), (c_in, r5, 1), (r5, c5, kernel5),
                 (c_in, proj, 1)]
        return sum(a * b * k * k + b for a, b, k in convs)
    return inception_parameters


@wrong("inception.check_inception_parameters", "5x5 branch always 5x5 (kernel5 ignored)")
def _(ref, ns):
    return lambda c_in, c1, r3, c3, r5, c5, proj, kernel5=3: ref(c_in, c1, r3, c3, r5, c5, proj,
                                                                kernel5=5)


@wrong("ilsvrc.check_topk_error", "argsort ascending: the k worst classes")
def _(ref, ns):
    return lambda scores, targets, k: ref(-scores, targets, k)


@wrong("ilsvrc.check_topk_error", "accuracy instead of error")
def _(ref, ns):
    return lambda scores, targets, k: 1.0 - ref(scores, targets, k)


@wrong("ilsvrc.check_topk_correct_torch", "top-1 only (k ignored)")
def _(ref, ns):
    return lambda logits, target, k: logits.argmax(dim=1) == target


@wrong("ilsvrc.check_topk_correct_torch", "topk(largest=False)")
def _(ref, ns):
    return lambda logits, target, k: (logits.topk(k, dim=1, largest=False).indices
                                      == target[:, None]).any(dim=1)


@wrong("resnet.check_block_backward", "shortcut forgotten")
def _(ref, ns):
    def block_backward(block, grad_output):
        grad = block.relu.backward(grad_output)
        for name in reversed(block._branch):
            grad = getattr(block, name).backward(grad)
        return grad
    return block_backward


@wrong("resnet.check_block_backward", "shortcut gets the gradient before the last ReLU")
def _(ref, ns):
    def block_backward(block, grad_output):
        grad = block.relu.backward(grad_output)
        for name in reversed(block._branch):
            grad = getattr(block, name).backward(grad)
        if not block.shortcut:
            return grad
        if block.downsample is None:
            return grad + grad_output
        return grad + block.downsample.backward(grad_output)
    return block_backward


@wrong("resnet.check_resnet_parameters", "fc bias forgotten")
def _(ref, ns):
    return lambda block, layers, num_classes: ref(block, layers, num_classes) - num_classes


@wrong("resnet.check_resnet_parameters", "first batch norm forgotten")
def _(ref, ns):
    return lambda block, layers, num_classes: ref(block, layers, num_classes) - 2 * 64


@wrong("vgg.check_make_layers", "ReLU forgotten")
def _(ref, ns):
    nn = ns["nn"]

    def make_layers(config, batch_norm=False, in_channels=3):
        layers = [layer for layer in ref(config, batch_norm, in_channels)
                  if not isinstance(layer, nn.ReLU)]
        return nn.Sequential(*layers)
    return make_layers


@wrong("vgg.check_make_layers", "padding 1 for every kernel (1x1 layers grow the map)")
def _(ref, ns):
    nn = ns["nn"]

    def make_layers(config, batch_norm=False, in_channels=3):
        layers = []
        for entry in config:
            if entry == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            channels, kernel = entry if isinstance(entry, tuple) else (entry, 3)
            layers.append(nn.Conv2d(in_channels, channels, kernel_size=kernel, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(channels))
            layers.append(nn.ReLU())
            in_channels = channels
        return nn.Sequential(*layers)
    return make_layers


@wrong("vgg.check_make_layers", "batch_norm ignored")
def _(ref, ns):
    return lambda config, batch_norm=False, in_channels=3: ref(config, False, in_channels)


@wrong("vgg.check_vgg_memory", "bytes of float32, not values")
def _(ref, ns):
    return output(ref, lambda r, *a: tuple(4 * v for v in r))


@wrong("vgg.check_vgg_memory", "batch norm's outputs not counted")
def _(ref, ns):
    return lambda config, batch_norm, size: ref(config, False, size)


# ---------------------------------------------------------------- ecosystem

@wrong("caffe.check_pooled_size", "floor, as torch's default (ceil_mode=False)")
def _(ref, ns):
    return lambda size, kernel, stride, pad: (size + 2 * pad - kernel) // stride + 1


@wrong("caffe.check_pooled_size", "ceil without dropping a window that starts in the padding")
def _(ref, ns):
    return lambda size, kernel, stride, pad: -(-(size + 2 * pad - kernel) // stride) + 1


@wrong("caffe.check_caffe_sgd_step", "torch's form: the history holds gradients")
def _(ref, ns):
    return ns["torch_form"]


@wrong("caffe.check_caffe_sgd_step", "decay_mult ignored")
def _(ref, ns):
    return lambda w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult: ref(
        w, g, v, rate, momentum, weight_decay, lr_mult, 1.0)


@wrong("caffe.check_caffe_sgd_step", "lr_mult ignored")
def _(ref, ns):
    return lambda w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult: ref(
        w, g, v, rate, momentum, weight_decay, 1.0, decay_mult)


@wrong("icml.check_paired_interval", "ddof=0 standard deviation")
def _(ref, ns):
    rp = ns["rp"]

    def paired_interval(a, b):
        d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
        sem = d.std() / np.sqrt(len(d))
        t = rp.student_t_quantile(0.975, len(d) - 1)
        return d.mean() - t * sem, d.mean() + t * sem
    return paired_interval


@wrong("icml.check_paired_interval", "1.96 (normal) instead of Student's t")
def _(ref, ns):
    def paired_interval(a, b):
        d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
        sem = d.std(ddof=1) / np.sqrt(len(d))
        return d.mean() - 1.96 * sem, d.mean() + 1.96 * sem
    return paired_interval


@wrong("icml.check_paired_interval", "unpaired: the two arms' errors added")
def _(ref, ns):
    rp = ns["rp"]

    def paired_interval(a, b):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        sem = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        t = rp.student_t_quantile(0.975, len(a) - 1)
        diff = a.mean() - b.mean()
        return diff - t * sem, diff + t * sem
    return paired_interval


# ---------------------------------------------------------------- representations

@wrong("autoencoder.check_kl_sparsity_grad", "forgot the 1/N")
def _(ref, ns):
    return output(ref, lambda g, h, rho, beta: g * len(h))


@wrong("autoencoder.check_kl_sparsity_grad", "float64 for float32 codes")
def _(ref, ns):
    return output(ref, lambda g, *a: g.astype(np.float64))


@wrong("autoencoder.check_principal_angles", "arccos only (loses small angles)")
def _(ref, ns):
    return ns["arccos_only"]


@wrong("autoencoder.check_principal_angles", "degrees instead of radians")
def _(ref, ns):
    return output(ref, lambda a, *args: np.degrees(a))


@wrong("rbm.check_variational_bound", "np.log(q) of probabilities that underflow")
def _(ref, ns):
    return ns["with_log_q"]


@wrong("rbm.check_variational_bound", "entropy term -log q forgotten")
def _(ref, ns):
    R, log_sigmoid = ns["R"], ns["log_sigmoid"]

    def bound(x, rbm1, rbm2):
        h1 = R.all_states(rbm1.n_hidden)
        down = h1 @ rbm1.weight.data + rbm1.visible_bias.data
        log_px_h = x @ log_sigmoid(down).T + (1 - x) @ log_sigmoid(-down).T
        up = x @ rbm1.weight.data.T + rbm1.hidden_bias.data
        log_q = log_sigmoid(up) @ h1.T + log_sigmoid(-up) @ (1 - h1).T
        log_p2 = -rbm2.free_energy(h1) - R.log_partition(rbm2)
        return (np.exp(log_q) * (log_px_h + log_p2)).sum(axis=1)
    return bound


@wrong("rbm.check_free_energy", "log(1 + exp(z)) overflows")
def _(ref, ns):
    return lambda x, W, b_vis, b: -(x @ b_vis) - np.log(1 + np.exp(x @ W.T + b)).sum(axis=1)


@wrong("rbm.check_free_energy", "visible bias term forgotten")
def _(ref, ns):
    return lambda x, W, b_vis, b: ref(x, W, np.zeros_like(b_vis), b)


@wrong("rbm.check_free_energy", "hidden bias b forgotten inside the softplus")
def _(ref, ns):
    return lambda x, W, b_vis, b: ref(x, W, b_vis, np.zeros_like(b))


@wrong("rbm.check_log_partition", "no log-sum-exp: exp overflows")
def _(ref, ns):
    R = ns["R"]

    def log_z(W, b_vis, b):
        hs = R.all_states(len(b))
        u = hs @ W + b_vis
        minus_f = hs @ b + np.logaddexp(0, u).sum(axis=1)
        return float(np.log(np.exp(minus_f).sum()))
    return log_z


@wrong("rbm.check_log_partition", "hidden bias term forgotten")
def _(ref, ns):
    return lambda W, b_vis, b: ref(W, b_vis, np.zeros_like(b))


@wrong("nce.check_nce_grad", "sign flipped: target - sigma")
def _(ref, ns):
    return output(ref, lambda g, *a: -g)


@wrong("nce.check_nce_grad", "forgot the 1/N")
def _(ref, ns):
    return output(ref, lambda g, scores, log_kq: g * len(scores))


@wrong("nce.check_nce_grad", "log(kq) not subtracted")
def _(ref, ns):
    return lambda scores, log_kq: ref(scores, np.zeros_like(log_kq))


@wrong("nce.check_sampler", "uniform ids, weights ignored")
def _(ref, ns):
    return lambda weights, shape, rng: rng.integers(0, len(weights), size=shape)


@wrong("nce.check_sampler", "u = rng.random(shape), not scaled by the total weight")
def _(ref, ns):
    def sample(weights, shape, rng):
        cdf = np.cumsum(weights, dtype=np.float64)
        return np.searchsorted(cdf, rng.random(shape), side="right").astype(np.int64)
    return sample


@wrong("nce.check_sampler", "the last id never drawn (off by one: searchsorted(cdf[:-1]))")
def _(ref, ns):
    def sample(weights, shape, rng):
        cdf = np.cumsum(weights, dtype=np.float64)
        ids = np.searchsorted(cdf[:-1], rng.random(shape) * cdf[-1], side="right")
        return np.minimum(ids, len(weights) - 2).astype(np.int64)
    return sample


# ---------------------------------------------------------------- sequences

def _attention_backward(bug):
    def attention_backward(q, k, v, grad_out):
        factor = 1 / math.sqrt(q.shape[-1])
        e = q @ np.swapaxes(k, -1, -2) * factor
        p = np.exp(e - e.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        d_p = grad_out @ np.swapaxes(v, -1, -2)
        d_v = np.swapaxes(p, -1, -2) @ grad_out
        d_e = p * d_p if bug == "softmax" else p * (d_p - (d_p * p).sum(-1, keepdims=True))
        if bug != "scale":
            d_e *= factor
        return d_e @ k, np.swapaxes(d_e, -1, -2) @ q, d_v
    return attention_backward


@wrong("attention.check_attention_backward", "scale 1/sqrt(d) forgotten in the backward pass")
def _(ref, ns):
    return _attention_backward("scale")


@wrong("attention.check_attention_backward", "softmax backward without the -sum(p * dp) term")
def _(ref, ns):
    return _attention_backward("softmax")


@wrong("attention.check_split_heads", "plain reshape to (N, h, T, d)")
def _(ref, ns):
    return lambda x, num_heads: x.reshape(x.shape[0], num_heads, x.shape[1], -1)


@wrong("attention.check_split_heads", "no transpose: (N, T, h, d)")
def _(ref, ns):
    return lambda x, num_heads: x.reshape(x.shape[0], x.shape[1], num_heads, -1)


def _scalar_bptt(bug):
    def scalar_bptt(w, u, x, h0, g, k=None):
        t_len = len(x)
        k = t_len if k is None or bug == "ignore k" else k
        hs = [h0]
        for t in range(t_len):
            hs.append(w * hs[-1] + u * x[t])
        dw = du = dh0 = 0.0
        dh = 0.0
        for start in range(0, t_len, k):
            if bug != "carry over the cut":
                dh = 0.0
            for t in reversed(range(start, min(start + k, t_len))):
                dh = g[t] if bug == "no future" else dh + g[t]
                dw += dh * (hs[t + 1] if bug == "off by one" else hs[t])
                du += dh * x[t]
                dh *= w
            if start == 0:
                dh0 = dh
        return dw, du, dh0
    return scalar_bptt


@wrong("bptt.check_scalar_bptt", "no gradient from the future (dh = g[t])")
def _(ref, ns):
    return _scalar_bptt("no future")


@wrong("bptt.check_scalar_bptt", "dw from the state written, h_{t+1}, not the one read")
def _(ref, ns):
    return _scalar_bptt("off by one")


@wrong("bptt.check_truncated_scalar_bptt", "k ignored: full BPTT")
def _(ref, ns):
    return _scalar_bptt("ignore k")


@wrong("bptt.check_truncated_scalar_bptt", "gradient carried over the cut")
def _(ref, ns):
    return _scalar_bptt("carry over the cut")


def _stacked(bug):
    def stacked_bidirectional(layers, x, grad_output):
        h_n, inputs = [], x
        for forward_rnn, backward_rnn in layers:
            out_f, h_f = forward_rnn(inputs)
            out_b, h_b = backward_rnn(inputs[::-1])
            inputs = np.concatenate([out_f, out_b if bug == "output" else out_b[::-1]], axis=2)
            h_n += [h_f[0], h_b[0]]
        grad = grad_output
        for forward_rnn, backward_rnn in reversed(layers):
            hid = forward_rnn.hidden_size
            dx_f, _ = forward_rnn.backward(grad[..., :hid])
            late = grad[..., hid:] if bug == "grad" else grad[::-1, :, hid:]
            dx_b, _ = backward_rnn.backward(late)
            grad = dx_f + dx_b[::-1]
        return inputs, np.stack(h_n), grad
    return stacked_bidirectional


@wrong("bptt.check_stacked_bidirectional", "backward direction's outputs not reversed back")
def _(ref, ns):
    return _stacked("output")


@wrong("bptt.check_stacked_bidirectional", "gradient for the backward direction not reversed")
def _(ref, ns):
    return _stacked("grad")


@wrong("gated.check_gru_reset", "reset gate left open (only z wired)")
def _(ref, ns):
    def wire_reset(cell):
        ref(cell)
        hid = cell.bias_ih.data.shape[0] // 3
        cell.weight_ih.data[:hid, 0] = 0.0
    return wire_reset


@wrong("gated.check_gru_reset", "update gate the wrong way round")
def _(ref, ns):
    def wire_reset(cell):
        ref(cell)
        hid = cell.bias_ih.data.shape[0] // 3
        cell.weight_ih.data[hid:2 * hid] *= -1
    return wire_reset


def _gru(bug):
    def gru_step_backward(x, h, weight_ih, weight_hh, bias_ih, bias_hh, grad_h):
        hid = h.shape[1]
        a, b = x @ weight_ih.T + bias_ih, h @ weight_hh.T + bias_hh
        r = 1 / (1 + np.exp(-(a[:, :hid] + b[:, :hid])))
        z = 1 / (1 + np.exp(-(a[:, hid:2 * hid] + b[:, hid:2 * hid])))
        n = np.tanh(a[:, 2 * hid:] + r * b[:, 2 * hid:])
        dn, dz = grad_h * (1 - z), grad_h * (h - n)
        dzn = dn * (1 - n**2)
        dr = dzn * b[:, 2 * hid:]
        dzr, dzz = dr * r * (1 - r), dz * z * (1 - z)
        d_in = np.concatenate([dzr, dzz, dzn], axis=1)
        d_hid = np.concatenate([dzr, dzz, dzn if bug == "r" else dzn * r], axis=1)
        dh = d_hid @ weight_hh + (0 if bug == "direct" else grad_h * z)
        return (d_in @ weight_ih, dh, d_in.T @ x, d_hid.T @ h, d_in.sum(axis=0), d_hid.sum(axis=0))
    return gru_step_backward


@wrong("gated.check_gru_step_backward", "direct path z * grad_h to h forgotten")
def _(ref, ns):
    return _gru("direct")


@wrong("gated.check_gru_step_backward", "hidden side of n without the reset gate r")
def _(ref, ns):
    return _gru("r")


def _lstm(bug):
    def lstm_step_backward(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, grad_h, grad_c):
        hid = h.shape[1]
        z = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
        i, f, o = (1 / (1 + np.exp(-z[:, k * hid:(k + 1) * hid])) for k in (0, 1, 3))
        g = np.tanh(z[:, 2 * hid:3 * hid])
        tanh_c = np.tanh(f * c + i * g)
        dc_new = grad_c + grad_h * o * (1 if bug == "tanh" else 1 - tanh_c**2)
        do = grad_h * tanh_c
        d_i, d_f, d_g = dc_new * g, dc_new * c, dc_new * i
        dz = np.concatenate([d_i * i * (1 - i), d_f * f * (1 - f),
                             d_g * (1 - g**2), do * o * (1 - o)], axis=1)
        return (dz @ weight_ih, dz @ weight_hh, dc_new if bug == "forget" else dc_new * f,
                dz.T @ x, dz.T @ h, dz.sum(axis=0))
    return lstm_step_backward


@wrong("gated.check_lstm_step_backward", "dc_prev without the forget gate")
def _(ref, ns):
    return _lstm("forget")


@wrong("gated.check_lstm_step_backward", "tanh'(c) forgotten on the way to c")
def _(ref, ns):
    return _lstm("tanh")


@wrong("gated.check_onnx_to_torch", "rows left in ONNX's order i, o, f, c")
def _(ref, ns):
    return lambda w: np.asarray(w).copy()


@wrong("gated.check_onnx_to_torch", "reordered to i, f, o, c (o and c swapped)")
def _(ref, ns):
    def onnx_to_torch(w):
        hid = len(w) // 4
        i, o, f, c = (w[k * hid:(k + 1) * hid] for k in range(4))
        return np.concatenate([i, f, o, c])
    return onnx_to_torch


@wrong("nmt.check_clipped_precision", "counts not clipped")
def _(ref, ns):
    def clipped_counts(hypothesis, references, n):
        grams = Counter(tuple(hypothesis[i:i + n]) for i in range(len(hypothesis) - n + 1))
        seen = set()
        for r in references:
            seen |= {tuple(r[i:i + n]) for i in range(len(r) - n + 1)}
        return sum(c for g, c in grams.items() if g in seen), sum(grams.values())
    return clipped_counts


@wrong("nmt.check_clipped_precision", "clipped by the references' sum, not their maximum")
def _(ref, ns):
    def clipped_counts(hypothesis, references, n):
        grams = Counter(tuple(hypothesis[i:i + n]) for i in range(len(hypothesis) - n + 1))
        most = Counter()
        for r in references:
            most += Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
        return sum(min(c, most[g]) for g, c in grams.items()), sum(grams.values())
    return clipped_counts


@wrong("nmt.check_corpus_bleu", "mean of sentence BLEUs, not corpus BLEU")
def _(ref, ns):
    return lambda hypotheses, references: float(np.mean(
        [ref([h], [r]) for h, r in zip(hypotheses, references)]))


@wrong("nmt.check_corpus_bleu", "brevity penalty forgotten")
def _(ref, ns):
    clipped_counts = ns["clipped_counts"]

    def my_bleu(hypotheses, references):
        match, total = [0] * 4, [0] * 4
        for h, r in zip(hypotheses, references):
            for n in range(1, 5):
                m, t = clipped_counts(h, [r], n)
                match[n - 1] += m
                total[n - 1] += t
        if min(match) == 0:
            return 0.0
        return 100 * math.exp(sum(math.log(m / t) for m, t in zip(match, total)) / 4)
    return my_bleu


@wrong("ntm.check_shift", "rolled the other way")
def _(ref, ns):
    return lambda w, s: ref(w, s[:, ::-1])


@wrong("ntm.check_shift", "np.roll without axis: rows bleed into each other")
def _(ref, ns):
    def shift(w, s):
        half = s.shape[1] // 2
        return sum(s[:, k:k + 1] * np.roll(w, k - half) for k in range(s.shape[1]))
    return shift


def _sharpen(bug):
    def sharpen_backward(w, gamma, grad):
        u = w**gamma
        z = u.sum(-1, keepdims=True)
        du = grad / z if bug == "z" else (grad - (grad * u / z).sum(-1, keepdims=True)) / z
        dw = du * gamma * w ** (gamma - 1)
        log_w = np.log(w) if bug == "log" else np.log(np.where(w > 0, w, 1.0))
        dgamma = (du * u * log_w).sum(-1, keepdims=True)
        return dw.astype(w.dtype), dgamma.astype(w.dtype)
    return sharpen_backward


@wrong("ntm.check_sharpen_backward", "normaliser Z treated as a constant")
def _(ref, ns):
    return _sharpen("z")


@wrong("ntm.check_sharpen_backward", "np.log(w) at w = 0: nan for gamma's gradient")
def _(ref, ns):
    return _sharpen("log")


@wrong("rnn.check_rnn_step", "bias_hh forgotten")
def _(ref, ns):
    return lambda x, h, w_ih, w_hh, b_ih, b_hh: ref(x, h, w_ih, w_hh, b_ih, np.zeros_like(b_hh))


@wrong("rnn.check_rnn_step", "missing transpose: h @ weight_hh")
def _(ref, ns):
    return lambda x, h, w_ih, w_hh, b_ih, b_hh: ref(x, h, w_ih, w_hh.T, b_ih, b_hh)


@wrong("rnn.check_perplexity", "mean NLL, no exp")
def _(ref, ns):
    return lambda logits, targets: float(np.log(ref(logits, targets)))


@wrong("rnn.check_perplexity", "naive softmax in float32: exp overflows")
def _(ref, ns):
    def perplexity_of(logits, targets):
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return float(np.exp(-np.log(p[np.arange(len(targets)), targets]).mean()))
    return perplexity_of


@wrong("recursive.check_rntn_backward", "tensor gradient through V only, not V + V^T")
def _(ref, ns):
    def rntn_backward(h_left, h_right, h, grad_h, weight, tensor):
        hid = h.shape[1]
        x = np.concatenate([h_left, h_right], axis=1)
        dz = grad_h * (1 - h * h)
        grad_x = np.einsum("ni,iab,nb->na", dz, tensor, x) + dz @ weight
        return (grad_x[:, :hid], grad_x[:, hid:], dz.T @ x,
                np.einsum("ni,na,nb->iab", dz, x, x), dz.sum(axis=0))
    return rntn_backward


@wrong("recursive.check_rntn_backward", "tanh derivative forgotten")
def _(ref, ns):
    return lambda h_left, h_right, h, grad_h, weight, tensor: ref(
        h_left, h_right, np.zeros_like(h), grad_h, weight, tensor)


@wrong("seq2seq.check_last_state", "outputs[:, -1]: padding's state for short sequences")
def _(ref, ns):
    return lambda outputs, lengths: outputs[:, -1]


@wrong("seq2seq.check_last_state", "off by one: outputs at index length")
def _(ref, ns):
    return lambda outputs, lengths: outputs[np.arange(len(outputs)),
                                            np.minimum(lengths, outputs.shape[1] - 1)]


def _masked(bug):
    def masked_loss(logits, targets, pad):
        shifted = logits - logits.max(axis=-1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        real = targets != pad
        count = real.size if bug == "count" else real.sum()
        picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
        loss = -(picked * real).sum() / count
        grad = np.exp(logp)
        np.put_along_axis(grad, targets[..., None], np.take_along_axis(
            grad, targets[..., None], axis=-1) - 1, axis=-1)
        mask = np.ones_like(real) if bug == "grad" else real
        return loss, grad * (mask / count)[..., None].astype(logits.dtype)
    return masked_loss


@wrong("seq2seq.check_masked_loss", "divided by all positions, padding included")
def _(ref, ns):
    return _masked("count")


@wrong("seq2seq.check_masked_loss", "gradient not masked at the padding")
def _(ref, ns):
    return _masked("grad")


# ---------------------------------------------------------------- training

@wrong("training.check_dropout", "naive: keep if > p, and 1/(1 - p) at p = 1")
def _(ref, ns):
    return ns["naive_dropout"]


@wrong("training.check_dropout", "in place: overwrites the caller's array")
def _(ref, ns):
    return ns["in_place_dropout"]


@wrong("training.check_dropout", "no 1/(1 - p) rescaling")
def _(ref, ns):
    def my_dropout(x, p, rng):
        keep = rng.random(x.shape) >= p
        return x * keep, keep
    return my_dropout


@wrong("finetune.check_freeze_up_to", "batch norm left in training mode")
def _(ref, ns):
    ft = ns["ft"]

    def freeze_up_to(model, stage):
        last = model.stage(stage)
        ft.unfreeze(model)
        model.train()
        for layer in list(model.features)[:last + 1]:
            ft.freeze(layer)
        return model
    return freeze_up_to


@wrong("finetune.check_freeze_up_to", "off by one: the stage's last layer left trainable")
def _(ref, ns):
    ft, nn = ns["ft"], ns["nn"]

    def freeze_up_to(model, stage):
        last = model.stage(stage)
        ft.unfreeze(model)
        model.train()
        for layer in list(model.features)[:last]:
            ft.freeze(layer)
            if isinstance(layer, nn.BatchNorm):
                layer.eval()
        return model
    return freeze_up_to


@wrong("finetune.check_grouped_sgd_step", "weight decay forgotten")
def _(ref, ns):
    def grouped_sgd_step(param_groups):
        for group in param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.data -= group["lr"] * p.grad
    return grouped_sgd_step


@wrong("finetune.check_grouped_sgd_step", "first group's lr for every group")
def _(ref, ns):
    def grouped_sgd_step(param_groups):
        lr = param_groups[0]["lr"]
        for group in param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.data -= lr * (p.grad + group["weight_decay"] * p.data)
    return grouped_sgd_step


@wrong("finetune.check_grouped_sgd_step", "frozen parameters decayed (grad None taken as 0)")
def _(ref, ns):
    def grouped_sgd_step(param_groups):
        for group in param_groups:
            for p in group["params"]:
                grad = 0.0 if p.grad is None else p.grad
                p.data -= group["lr"] * (grad + group["weight_decay"] * p.data)
    return grouped_sgd_step


# ---------------------------------------------------------------- word2vec, GloVe

def _centre_gradient(bug):
    from deepglossary.word2vec.loss import sigmoid

    def centre_gradient(v, u_pos, u_neg, g):
        s_pos = np.einsum("bd,bd->b", v, u_pos)
        s_neg = np.einsum("bkd,bd->bk", u_neg, v)
        d_pos = sigmoid(s_pos) * g if bug == "positive sign" else (sigmoid(s_pos) - 1) * g
        d_neg = (sigmoid(-s_neg) if bug == "noise sign" else sigmoid(s_neg)) * g[:, None]
        if bug == "no g":
            d_pos, d_neg = sigmoid(s_pos) - 1, sigmoid(s_neg)
        return d_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", d_neg, u_neg)
    return centre_gradient


@wrong("word2vec.check_centre_gradient", "sigma(s_o) instead of sigma(s_o) - 1")
def _(ref, ns):
    return _centre_gradient("positive sign")


@wrong("word2vec.check_centre_gradient", "noise term with sigma(-s_k)")
def _(ref, ns):
    return _centre_gradient("noise sign")


@wrong("word2vec.check_centre_gradient", "upstream gradient g forgotten")
def _(ref, ns):
    return _centre_gradient("no g")


@wrong("word2vec.check_centre_gradient", "float64 for float32 vectors")
def _(ref, ns):
    return output(ref, lambda grad, *a: np.asarray(grad, dtype=np.float64))


@wrong("word2vec.check_analogy", "question words not excluded")
def _(ref, ns):
    def solve(W, a, b, c):
        unit = W / np.linalg.norm(W, axis=1, keepdims=True)
        return ((unit[b] - unit[a] + unit[c]) @ unit.T).argmax(axis=1)
    return solve


@wrong("word2vec.check_analogy", "raw vectors, not normalised: a long vector wins")
def _(ref, ns):
    def solve(W, a, b, c):
        scores = (W[b] - W[a] + W[c]) @ W.T
        rows = np.arange(len(a))
        for q in (a, b, c):
            scores[rows, q] = -np.inf
        return scores.argmax(axis=1)
    return solve


@wrong("word2vec.check_analogy", "only b and c excluded, not a")
def _(ref, ns):
    def solve(W, a, b, c):
        unit = W / np.linalg.norm(W, axis=1, keepdims=True)
        scores = (unit[b] - unit[a] + unit[c]) @ unit.T
        rows = np.arange(len(a))
        for q in (b, c):
            scores[rows, q] = -np.inf
        return scores.argmax(axis=1)
    return solve


def _cooccurrence(bug):
    def cooccurrence_matrix(ids, vocab_size, window):
        X = np.zeros((vocab_size, vocab_size))
        verse = np.cumsum(ids < 0)
        for m in range(1, window + 1):
            a, b = ids[:-m], ids[m:]
            keep = (a >= 0) & (b >= 0)
            if bug != "verses":
                keep &= verse[:-m] == verse[m:]
            weight = m if bug == "d" else 1 / m
            np.add.at(X, (a[keep], b[keep]), weight)
            if bug != "one side":
                np.add.at(X, (b[keep], a[keep]), weight)
        return X
    return cooccurrence_matrix


@wrong("glove.check_cooccurrence", "X[a, b] += w: a repeated pair added once")
def _(ref, ns):
    return lambda ids, vocab_size, window: ref(ids, vocab_size, window, add=ns["fancy_add"])


@wrong("glove.check_cooccurrence", "weight d instead of 1/d")
def _(ref, ns):
    return _cooccurrence("d")


@wrong("glove.check_cooccurrence", "one side of the window only")
def _(ref, ns):
    return _cooccurrence("one side")


@wrong("glove.check_cooccurrence", "windows run across verse boundaries")
def _(ref, ns):
    return _cooccurrence("verses")


# ---------------------------------------------------------------- Theano, TensorFlow, Keras

@wrong("theano.check_softplus_grad", "textbook g * exp(x) / (1 + exp(x)): inf / inf")
def _(ref, ns):
    return ns["textbook"]


@wrong("theano.check_softplus_grad", "upstream gradient g forgotten")
def _(ref, ns):
    th = ns["th"]
    return lambda x, g: th.sigmoid(x)


@wrong("theano.check_log_exp_rewrite", "fires on any log: log(a) -> a")
def _(ref, ns):
    ops = ns["ops"]

    def log_of_exp(var):
        node = var.owner
        return node.inputs[0] if isinstance(node.op, ops.Log) else None
    return log_of_exp


@wrong("theano.check_log_exp_rewrite", "checks the input is an exp, not that the node is a log")
def _(ref, ns):
    ops = ns["ops"]

    def log_of_exp(var):
        node = var.owner
        inner = node.inputs[0].owner if node.inputs else None
        if inner is not None and isinstance(inner.op, ops.Exp):
            return inner.inputs[0]
        return None
    return log_of_exp


@wrong("theano.check_log_exp_rewrite", "also exp(log(a)) -> a")
def _(ref, ns):
    ops = ns["ops"]

    def log_of_exp(var):
        node = var.owner
        inner = node.inputs[0].owner if node.inputs else None
        pairs = ((ops.Log, ops.Exp), (ops.Exp, ops.Log))
        if inner is not None and any(isinstance(node.op, outer) and isinstance(inner.op, under)
                                     for outer, under in pairs):
            return inner.inputs[0]
        return None
    return log_of_exp


@wrong("tensorflow.check_softplus_grad", "upstream gradient g forgotten")
def _(ref, ns):
    tf = ns["tf"]
    return lambda op, g: [tf.sigmoid(op.inputs[0])]


@wrong("tensorflow.check_softplus_grad", "sigmoid of the output y instead of the input x")
def _(ref, ns):
    tf = ns["tf"]
    return lambda op, g: [g * tf.sigmoid(op.outputs[0])]


@wrong("tensorflow.check_softplus_grad", "computed outside the graph (NumPy array)")
def _(ref, ns):
    return lambda op, g: [np.ones(1)]


def _needed(bug):
    tf = None

    def needed(fetches, feed_dict):
        nonlocal tf
        if tf is None:
            from deepglossary.frameworks import tensorflow as tf
        todo = fetches if isinstance(fetches, list) else [fetches]
        todo = [f.op if isinstance(f, tf.Tensor) else f for f in todo]
        fed = {id(t.op) for t in feed_dict}
        seen = {}
        while todo:
            op = todo.pop()
            if op.name in seen:
                continue
            seen[op.name] = op
            if id(op) not in fed or bug == "behind feeds":
                todo += [t.op for t in op.inputs]
                if bug != "control":
                    todo += list(op.control_inputs)
        return {name for name, op in seen.items() if id(op) not in fed or bug == "fed run"}
    return needed


@wrong("tensorflow.check_pruning", "control inputs ignored")
def _(ref, ns):
    return _needed("control")


@wrong("tensorflow.check_pruning", "looks behind a fed tensor")
def _(ref, ns):
    return _needed("behind feeds")


@wrong("tensorflow.check_pruning", "fed ops counted as run")
def _(ref, ns):
    return _needed("fed run")


@wrong("keras.check_validation_split", "round instead of floor")
def _(ref, ns):
    return lambda n, v: (np.arange(round(n * (1 - v))), np.arange(round(n * (1 - v)), n))


@wrong("keras.check_validation_split", "validation from the first rows")
def _(ref, ns):
    def split(n, validation_split):
        at = n - math.floor(n * (1 - validation_split))
        return np.arange(at, n), np.arange(at)
    return split


@wrong("keras.check_stopping_epoch", "an equal value counts as an improvement")
def _(ref, ns):
    def stopping_epoch(values, patience, min_delta=0.0):
        best, wait = np.inf, 0
        for epoch, value in enumerate(values):
            wait += 1
            if value <= best - min_delta:
                best, wait = value, 0
            elif wait >= patience and epoch > 0:
                return epoch
        return None
    return stopping_epoch


@wrong("keras.check_stopping_epoch", "min_delta ignored")
def _(ref, ns):
    return lambda values, patience, min_delta=0.0: ref(values, patience)


@wrong("keras.check_stopping_epoch", "off by one: stops after patience + 1 misses")
def _(ref, ns):
    return lambda values, patience, min_delta=0.0: ref(values, patience + 1, min_delta)
