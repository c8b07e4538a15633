"""Fine-tuning: reuse a trained network on a new task. Freezing, parameter groups, a new head.

PyTorch does four things for fine-tuning that the package's core does not: a parameter can be
*frozen* (``p.requires_grad_(False)``: no gradient is computed for it, and backpropagation stops
where nothing below needs one), an optimizer takes *parameter groups* with a learning rate each
(``torch.optim.Adam([{"params": ..., "lr": 1e-4}, {"params": ...}], lr=1e-2)``), the head is
replaced by assignment (``model.fc = nn.Linear(64, k)``), and the data set is cut down to a
class-balanced labelled subset. This module adds them on top of ``deepglossary.nn`` and
``deepglossary.optim``, which it leaves unchanged:

    model, record = pretrained.digits_cnn()
    replace_head(model, 10, rng=0)                   # model.fc = nn.Affine(64, 10)
    freeze(model.features)                           # requires_grad = False on each Parameter
    model.features.eval()                            # frozen BN: keep the source statistics
    optimizer = optim.Adam(trainable_parameters(model), lr=1e-2)
    losses = train_steps(model, optimizer, x, y, steps=60, batch_size=25, seed=0)

    unfreeze(model)                                  # full fine-tuning, two learning rates:
    optimizer = GroupedOptimizer(optim.Adam, [{"params": model.features.parameters(),
                                               "lr": 1e-3},
                                              {"params": model.fc.parameters()}], lr=1e-2)

``deepglossary.optim``'s optimizers take a flat list of Parameters and refuse group dicts;
:class:`GroupedOptimizer` gives torch's groups by holding one optimizer per group. Adam, SGD
and the others keep their state per parameter, so this computes exactly what torch's single
optimizer with groups computes (the Fine-Tuning chapter verifies it).
"""

from __future__ import annotations

import copy
import inspect
import math
import time
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from deepglossary import nn
from deepglossary.nn.core import Layer, Parameter, no_grad
from deepglossary.optim import Optimizer, parameter_list
from deepglossary.random import default_rng

# -- freezing -----------------------------------------------------------------------------------


def _layer(layer, who: str) -> Layer:
    if not isinstance(layer, Layer):
        raise TypeError(f"{who} takes a layer (a deepglossary.nn.Layer such as model.features),"
                        f" got {type(layer).__name__}")
    return layer


def freeze(layer: Layer) -> Layer:
    """Freeze every parameter of ``layer``: set ``requires_grad = False`` on each, as torch's
    ``layer.requires_grad_(False)`` does. Returns the layer.

    What it changes: :func:`trainable_parameters` leaves the parameters out (so an optimizer
    built from it never sees them), :func:`backward_to_trainable` stops before the first layer
    with nothing trainable below, and :func:`train_steps` drops any gradient a frozen parameter
    still received. What it does not change, as in torch: the layer's mode. A frozen batch
    normalization in training mode still normalises with the batch's statistics and still
    updates its running averages; call ``layer.eval()`` as well to keep the source's.
    """
    for p in _layer(layer, "freeze").parameters():
        p.requires_grad = False
    return layer


def unfreeze(layer: Layer) -> Layer:
    """Undo :func:`freeze`: every parameter of ``layer`` gets ``requires_grad = True``."""
    for p in _layer(layer, "unfreeze").parameters():
        p.requires_grad = True
    return layer


def requires_grad(p: Parameter) -> bool:
    """Whether ``p`` is trainable: True unless :func:`freeze` marked it (a Parameter of this
    package has no ``requires_grad`` of its own; every one is trainable until frozen)."""
    if not isinstance(p, Parameter):
        raise TypeError(f"requires_grad takes a Parameter, got {type(p).__name__}")
    return bool(getattr(p, "requires_grad", True))


def trainable_parameters(model: Layer) -> list[Parameter]:
    """The parameters of ``model`` that are not frozen, in ``model.parameters()`` order: what
    torch users pass as ``filter(lambda p: p.requires_grad, model.parameters())``."""
    return [p for p in _layer(model, "trainable_parameters").parameters() if requires_grad(p)]


def frozen_names(model: Layer) -> list[str]:
    """The dotted names of the frozen parameters of ``model``."""
    return [name for name, p in _layer(model, "frozen_names").named_parameters()
            if not requires_grad(p)]


def drop_frozen_gradients(model: Layer) -> int:
    """Set ``grad = None`` on every frozen parameter of ``model`` (torch never computes their
    gradients; our layers compute every one they pass through). Returns how many were set."""
    dropped = 0
    for p in model.parameters():
        if not requires_grad(p) and p.grad is not None:
            p.grad = None
            dropped += 1
    return dropped


# -- the head -----------------------------------------------------------------------------------


def _has_layout(model) -> bool:
    """Whether ``model`` has torchvision's layout: ``features`` (a Sequential), ``avgpool`` and
    an affine ``fc``, as ``pretrained.DigitsCNN`` has."""
    return (all(hasattr(model, name) for name in ("features", "avgpool", "fc"))
            and isinstance(model.features, nn.Sequential) and isinstance(model.fc, nn.Affine))


def _check_layout(model, who: str) -> None:
    """TypeError unless ``model`` has the layout of :func:`_has_layout`."""
    missing = [name for name in ("features", "avgpool", "fc") if not hasattr(model, name)]
    if not _has_layout(model):
        raise TypeError(f"{who} expects a model with children features (Sequential), avgpool "
                        f"and fc (Affine), as pretrained.DigitsCNN has; "
                        f"{type(model).__name__} has not"
                        + (f" (missing {', '.join(missing)})" if missing else ""))


def replace_head(model: Layer, num_classes: int, *, rng=None) -> nn.Affine:
    """Put a new, freshly initialised ``Affine(in_features, num_classes)`` in place of
    ``model.fc``, in the old head's dtype (torch: ``model.fc = nn.Linear(64, num_classes)``).
    Returns the new head. Build the optimizer *after* this: one built before holds the old
    head's parameters and would never update the new ones."""
    _check_layout(model, "replace_head")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer) \
            or num_classes < 1:
        raise ValueError(f"replace_head: num_classes must be a positive integer, "
                         f"got {num_classes!r}")
    old = model.fc
    model.fc = nn.Affine(old.in_features, int(num_classes), bias=old.bias is not None,
                         dtype=old.weight.dtype, rng=default_rng(rng))
    return model.fc


def features(model: Layer, x, *, batch_size: int = 250) -> np.ndarray:
    """The pooled features the head of ``model`` reads, ``avgpool(features(x))`` flattened:
    (N, C, H, W) images -> (N, D), computed in evaluation mode without storing anything for
    backward, ``batch_size`` images at a time; the model's mode is restored afterwards."""
    _check_layout(model, "features")
    x = np.asarray(x)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = [model.avgpool(model.features(x[i:i + batch_size])).reshape(
                len(x[i:i + batch_size]), -1) for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(out)


# -- backward that stops where nothing below is trainable --------------------------------------


def backward_to_trainable(model: Layer, grad_output) -> int:
    """``model.backward(grad_output)`` for a model with ``features``, ``avgpool`` and ``fc``,
    stopping as soon as no layer below has a trainable parameter: with ``features`` frozen only
    ``fc.backward`` runs. The gradient with respect to the image is not computed. Returns the
    number of layers of ``features`` backpropagated through (0 when they are all frozen).

    The gradients it leaves are those ``model.backward`` would leave on every trainable
    parameter (frozen ones below the stop get none; frozen ones above it still get theirs, which
    :func:`drop_frozen_gradients` removes). One thing it computes that nothing needs: the input
    gradient of the lowest trainable layer (its input comes from frozen layers or the image),
    since the package's layers have no switch to skip it; torch's autograd skips it."""
    _check_layout(model, "backward_to_trainable")
    shape = model._saved()                                   # (N, D, 1, 1): the pooled shape
    g = model.fc.backward(grad_output)                       # (N, D)
    layers = list(model.features)
    needed = [i for i, layer in enumerate(layers)
              if any(requires_grad(p) for p in layer.parameters())]
    if not needed:
        return 0                                             # backward stops at the head
    g = model.avgpool.backward(g.reshape(shape))             # (N, D, H', W')
    model.features._backward_begins()
    for layer in reversed(layers[needed[0]:]):               # down to the lowest trainable
        g = layer.backward(g)                                # (its input gradient: unused)
    return len(layers) - needed[0]


# -- parameter groups ---------------------------------------------------------------------------


class GroupedOptimizer:
    """An optimizer of ``deepglossary.optim`` with torch's parameter groups: each group a dict
    ``{"params": [...], "lr": ..., ...}`` whose entries override the keyword defaults.

    PyTorch twin: ``torch.optim.Adam([{"params": backbone, "lr": 1e-3}, {"params": head}],
    lr=1e-2)``, here ``GroupedOptimizer(optim.Adam, [...], lr=1e-2)``. One optimizer of class
    ``optimizer`` per group (in ``.optimizers``); since the package's optimizers keep their state
    per parameter, the updates are torch's. ``param_groups`` lists each group's parameters and
    every hyperparameter, defaults filled in; change ``param_groups[i]["lr"]`` (as a learning
    rate schedule does in torch) and the next ``step()`` uses it.

    Refused: a model or a bare list instead of groups (TypeError), a group without ``"params"``
    or with a key the optimizer does not take, and a parameter in two groups (ValueError, as
    torch: it would be updated twice per step).
    """

    def __init__(self, optimizer: type, groups, **defaults):
        if not (isinstance(optimizer, type) and issubclass(optimizer, Optimizer)):
            raise TypeError(f"GroupedOptimizer takes an optimizer class of deepglossary.optim "
                            f"(e.g. optim.Adam) first, got {optimizer!r}")
        if isinstance(groups, dict):
            groups = [groups]
        if isinstance(groups, Layer) or not hasattr(groups, "__iter__"):
            raise TypeError(f"GroupedOptimizer takes a list of parameter groups, dicts such as "
                            f'{{"params": model.fc.parameters(), "lr": 1e-2}}, got '
                            f"{type(groups).__name__}")
        groups = list(groups)
        if not groups or not all(isinstance(g, dict) for g in groups):
            raise TypeError("GroupedOptimizer takes a non-empty list of parameter groups, each "
                            'a dict such as {"params": model.fc.parameters(), "lr": 1e-2}; for '
                            f"a flat list of Parameters use {optimizer.__name__} itself")
        self.hyperparameters = [name for name in inspect.signature(optimizer).parameters
                                if name != "params"]
        self.optimizer_class = optimizer
        self.optimizers: list[Optimizer] = []
        self.param_groups: list[dict] = []
        where: dict[int, int] = {}
        for i, group in enumerate(groups):
            if "params" not in group:
                raise ValueError(f"parameter group {i} has no 'params' entry: each group is a "
                                 f'dict {{"params": [...], ...}}')
            unknown = sorted(set(group) - {"params"} - set(self.hyperparameters))
            if unknown or set(defaults) - set(self.hyperparameters):
                bad = unknown or sorted(set(defaults) - set(self.hyperparameters))
                raise ValueError(f"{optimizer.__name__} has no hyperparameter {bad} "
                                 f"(it takes {self.hyperparameters})")
            params = parameter_list(group["params"], f"{optimizer.__name__} (group {i})")
            for p in params:
                if id(p) in where:
                    raise ValueError(f"some parameters appear in more than one parameter group "
                                     f"({p!r} in groups {where[id(p)]} and {i}): it would be "
                                     "updated twice per step")
                where[id(p)] = i
            options = {**defaults, **{k: v for k, v in group.items() if k != "params"}}
            opt = optimizer(params, **options)
            self.optimizers.append(opt)
            self.param_groups.append({"params": params, **{name: getattr(opt, name)
                                                           for name in self.hyperparameters}})

    @property
    def params(self) -> list[Parameter]:
        """Every parameter of every group, in group order."""
        return [p for opt in self.optimizers for p in opt.params]

    def zero_grad(self) -> None:
        for opt in self.optimizers:
            opt.zero_grad()

    def _sync(self) -> None:
        """Carry changes of ``param_groups[i][name]`` into the group's optimizer, checked by
        building a throwaway optimizer with them (its own range checks)."""
        for group, opt in zip(self.param_groups, self.optimizers):
            options = {name: group[name] for name in self.hyperparameters}
            if any(options[name] != getattr(opt, name) for name in options):
                probe = self.optimizer_class([Parameter(np.zeros(1))], **options)
                for name in options:
                    setattr(opt, name, getattr(probe, name))

    def step(self) -> None:
        """One step of every group's optimizer (parameters whose ``grad`` is None are left
        unchanged, as torch leaves them)."""
        self._sync()
        for opt in self.optimizers:
            opt.step()

    def __repr__(self) -> str:
        groups = ", ".join(f"{len(g['params'])} params lr={g.get('lr')}"
                           for g in self.param_groups)
        return f"GroupedOptimizer({self.optimizer_class.__name__}: {groups})"


# -- data and training ----------------------------------------------------------------------------


def balanced_subset(labels, per_class: int, *, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class of ``labels``, drawn without replacement
    with ``np.random.default_rng(seed)``, sorted. The subsets of one seed are nested: the one
    with 5 per class is part of the one with 20. ValueError when a class has too few examples.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"balanced_subset expects integer class labels of shape (N,), got "
                         f"dtype {labels.dtype} and shape {labels.shape}")
    if isinstance(per_class, bool) or not isinstance(per_class, int | np.integer) \
            or per_class < 1:
        raise ValueError(f"per_class must be a positive integer, got {per_class!r}")
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ValueError(f"class {c} has {len(members)} examples; {per_class} per class "
                             "were asked for")
        chosen.append(rng.permutation(members)[:per_class])
    return np.sort(np.concatenate(chosen))


def step_batches(n: int, steps: int, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    """``steps`` minibatches of ``min(batch_size, n)`` indices into range(n): epochs of a
    shuffled order, one after the other, a minibatch never spanning two epochs' ends unevenly
    (the order runs on into the next shuffle). Seeded: the same for every method."""
    if steps < 0 or batch_size < 1 or n < 1:
        raise ValueError(f"step_batches needs n >= 1, steps >= 0 and batch_size >= 1, got "
                         f"n={n}, steps={steps}, batch_size={batch_size}")
    rng = np.random.default_rng(seed)
    size = min(batch_size, n)
    order = np.empty(0, dtype=np.int64)
    out = []
    for _ in range(steps):
        while len(order) < size:
            order = np.concatenate([order, rng.permutation(n)])
        out.append(order[:size])
        order = order[size:]
    return out


def train_steps(model: Layer, optimizer, x, y, *, steps: int, batch_size: int, seed: int = 0,
                loss_fn=None) -> np.ndarray:
    """``steps`` updates of ``model`` on minibatches of ``(x, y)`` (see :func:`step_batches`):
    forward, cross-entropy, backward, frozen gradients dropped, ``optimizer.step()``. For a
    model with ``features``, ``avgpool`` and ``fc`` the backward stops below the lowest
    trainable layer (:func:`backward_to_trainable`); any other model (a head alone, trained on
    cached features) runs its own ``backward``. The model's mode is the caller's
    (``model.features.eval()`` for frozen batch-norm statistics). Returns the loss of every
    step, shape (steps,)."""
    from deepglossary.losses import CrossEntropy

    loss_fn = CrossEntropy() if loss_fn is None else loss_fn
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    history, stops = [], _has_layout(model)
    for index in step_batches(len(x), steps, batch_size, seed):
        optimizer.zero_grad()
        loss = loss_fn(model(x[index]), y[index])
        if stops:
            backward_to_trainable(model, loss_fn.backward())
        else:
            model.backward(loss_fn.backward())
        drop_frozen_gradients(model)
        optimizer.step()
        history.append(float(loss))
    return np.array(history)


class Paired(NamedTuple):
    """Two classifiers compared on the same test examples (see :func:`paired_comparison`)."""

    gap: float          # accuracy of a minus accuracy of b
    se: float           # the paired standard error of the gap
    a_only: int         # examples a got right and b wrong
    b_only: int         # examples b got right and a wrong
    p_value: float      # McNemar's exact two-sided p-value


def mcnemar_p(a_only: int, b_only: int) -> float:
    """McNemar's exact test, two-sided: if two classifiers were equally accurate, each of the
    ``a_only + b_only`` examples that exactly one of them gets right would favour either with
    probability 1/2; the p-value is the probability of a split at least as lopsided as the
    observed one, ``min(1, 2 P(X <= min(a_only, b_only)))`` with X ~ Binomial(a_only + b_only,
    1/2). Exact integer arithmetic (no normal approximation); 1.0 when nothing is discordant."""
    for name, value in (("a_only", a_only), ("b_only", b_only)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"mcnemar_p: {name} must be a count >= 0, got {value!r}")
    n, k = int(a_only) + int(b_only), min(int(a_only), int(b_only))
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1))          # 2^n P(X <= k), exactly
    return min(1.0, float(Fraction(2 * tail, 2**n)))


def paired_comparison(correct_a, correct_b) -> Paired:
    """Compare two classifiers scored on the *same* test examples, from their per-example
    correctness (boolean arrays of shape (N,)). The gap of accuracies is the mean of
    d_n = correct_a[n] - correct_b[n] (each -1, 0 or 1); its paired standard error is
    ``sqrt(var(d) / N)`` (the population variance of d), smaller than the unpaired
    ``sqrt(SE_a^2 + SE_b^2)`` whenever the two tend to be right on the same examples; the
    p-value is McNemar's (:func:`mcnemar_p`), from the discordant examples alone."""
    a, b = np.asarray(correct_a), np.asarray(correct_b)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0 or a.dtype != bool or b.dtype != bool:
        raise ValueError(f"paired_comparison takes two boolean arrays of one shape (N,), N >= 1 "
                         f"(is each test example classified correctly?), got {a.dtype} "
                         f"{a.shape} and {b.dtype} {b.shape}")
    d = a.astype(np.float64) - b                                # (N,), each -1, 0 or 1
    a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
    return Paired(float(d.mean()), float(np.sqrt(d.var() / len(d))), a_only, b_only,
                  mcnemar_p(a_only, b_only))


def binomial_se(accuracy, n: int):
    """The standard error of an accuracy measured on ``n`` independent test examples,
    ``sqrt(p (1 - p) / n)``: one standard deviation of the binomial count over n."""
    p = np.asarray(accuracy, dtype=np.float64)
    if np.any((p < 0) | (p > 1)) or n < 1:
        raise ValueError(f"binomial_se needs accuracies in [0, 1] and n >= 1, got {accuracy}, "
                         f"n={n}")
    return np.sqrt(p * (1 - p) / n)


def pca(x, k: int = 2):
    """Project the rows of ``x`` (N, D) on their ``k`` principal directions: returns the
    projections (N, k), the directions (k, D) and the fraction of the variance each explains.
    NumPy's SVD of the centred data; each direction's sign is fixed so that its largest entry
    is positive (an SVD may flip signs between machines)."""
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:k] * np.sign(vt[:k][np.arange(min(k, len(vt))),
                                 np.abs(vt[:k]).argmax(axis=1)])[:, None]
    explained = s**2 / max(float((s**2).sum()), np.finfo(float).tiny)
    return centred @ vt.T, vt, explained[:k]


def time_backward(model: Layer, x, y, *, repeats: int = 3) -> dict:
    """Best-of-``repeats`` seconds of one training step's parts on ``(x, y)``: ``forward`` (with
    the loss), ``full backward`` (``model.backward``) and ``backward to trainable``
    (:func:`backward_to_trainable`, which stops where the frozen layers begin)."""
    from deepglossary.losses import CrossEntropy

    loss_fn = CrossEntropy()
    best = {"forward": math.inf, "full backward": math.inf, "backward to trainable": math.inf}
    for _ in range(repeats):
        for kind in ("full backward", "backward to trainable"):
            model.zero_grad()
            start = time.perf_counter()
            loss_fn(model(x), y)
            middle = time.perf_counter()
            g = loss_fn.backward()
            if kind == "full backward":
                model.backward(g)
            else:
                backward_to_trainable(model, g)
            end = time.perf_counter()
            best["forward"] = min(best["forward"], middle - start)
            best[kind] = min(best[kind], end - middle)
    model.zero_grad()
    return best


# -- verification -------------------------------------------------------------------------------


def _named_layers(layer: Layer, prefix: str = ""):
    """(dotted name, layer) of ``layer``'s descendants, depth first, like torch's
    ``named_modules`` without the root."""
    for name, child in layer.named_children():
        yield prefix + name, child
        yield from _named_layers(child, prefix + name + ".")


def fine_tuning_against_torch(ours: Layer, theirs, make_ours, make_theirs, x, y, *,
                              steps: int = 3, batch_size: int = 4, seed: int = 0,
                              title: str | None = None, devices=None):
    """``steps`` fine-tuning steps of our model and of its torch twin, compared; raises
    :class:`~deepglossary.verify.VerificationError` on a mismatch, else returns the
    :class:`~deepglossary.verify.Report`.

    Both models come configured by the caller, as a fine-tuning recipe leaves them: frozen
    parameters (:func:`freeze` on ours, ``requires_grad_(False)`` on theirs; the two sets of
    names must agree) and the mode of every layer (``.eval()`` on a frozen backbone; must agree
    too). ``make_ours(model)`` and ``make_theirs(module)`` build the optimizers (e.g. a
    :class:`GroupedOptimizer` and ``torch.optim.Adam`` with the same groups). Our parameters and
    buffers are copied into theirs, then both train on the same minibatches (ours with
    :func:`train_steps`: cross-entropy, the backward stopping at the frozen layers), in
    ``x``'s dtype. Compared: the loss of every step, every parameter and every buffer (batch
    normalization's running statistics) after the last step; rows also state that the frozen
    parameters did not move on either side and that torch computed no gradient for them.
    Torch's steps run on every device of ``devices`` (default: :func:`deepglossary.verify.devices`,
    the CPU and a CUDA GPU when torch sees one), each from the same starting copy of ``theirs``;
    ``theirs`` itself is left as it came, with our starting parameters copied in.
    """
    import torch

    from deepglossary import verify
    from deepglossary.verify import Report, VerificationError, _torch_dtype, copy_parameters

    devices = verify.devices() if devices is None else list(devices)
    x, y = np.asarray(x), np.asarray(y)
    dtype = x.dtype
    theirs.to(dtype=_torch_dtype(dtype))
    theirs_frozen = sorted(n for n, p in theirs.named_parameters() if not p.requires_grad)
    if sorted(frozen_names(ours)) != theirs_frozen:
        raise ValueError(f"the frozen parameters differ: ours {sorted(frozen_names(ours))}, "
                         f"torch's {theirs_frozen}")
    modes = [(name, layer.training, theirs.get_submodule(name).training)
             for name, layer in _named_layers(ours)]
    if ours.training != theirs.training or any(a != b for _, a, b in modes):
        raise ValueError("the layers' modes differ (train / eval): "
                         + ", ".join(f"{n}: ours {a}, torch {b}" for n, a, b in modes if a != b))
    copy_parameters(ours, theirs)
    before = {name: p.data.copy() for name, p in ours.named_parameters()
              if not requires_grad(p)}
    optimizer = make_ours(ours)
    ours_loss = train_steps(ours, optimizer, x, y, steps=steps, batch_size=batch_size, seed=seed)
    ours_params = dict(ours.named_parameters())
    report = Report(title or f"{steps} fine-tuning steps vs torch")
    moved = sorted(name for name, data in before.items()
                   if not np.array_equal(data, ours_params[name].data))
    grads_of_frozen = 0
    for device in devices:
        module = copy.deepcopy(theirs).to(device=device)    # every device starts alike
        t_optimizer = make_theirs(module)
        xt = torch.from_numpy(x).to(device)
        yt = torch.from_numpy(y.astype(np.int64)).to(device)
        loss_fn, torch_loss = torch.nn.CrossEntropyLoss(), []
        for index in step_batches(len(x), steps, batch_size, seed):
            t_optimizer.zero_grad()
            loss = loss_fn(module(xt[index]), yt[index])
            loss.backward()
            grads_of_frozen += sum(p.grad is not None for p in module.parameters()
                                   if not p.requires_grad)
            t_optimizer.step()
            torch_loss.append(loss.item())
        report.add(device, dtype, "loss of every step", ours_loss, np.array(torch_loss))
        t_params = {name: p.detach().cpu().numpy() for name, p in module.named_parameters()}
        for name, p in ours.named_parameters():
            report.add(device, dtype, name + (" (frozen)" if name in before else ""), p.data,
                       t_params[name], expected_dtype=dtype)
        t_buffers = {name: b.detach().cpu().numpy() for name, b in module.named_buffers()}
        for name, b in ours.named_buffers():
            report.add(device, dtype, name, b, t_buffers[name])
        moved += sorted(f"{name} (torch, {device})" for name, data in before.items()
                        if not np.array_equal(data, t_params[name]))
    if moved or grads_of_frozen:
        raise VerificationError(f"frozen parameters moved ({moved}) or torch computed "
                                f"{grads_of_frozen} gradients for them\n{report}")
    return report.raise_if_mismatch()
