"""Checkers for the exercises of the Fine-Tuning chapter."""

import numpy as np

from deepglossary.exercises import compare, passed


def _stages_of(model):
    """(stage name, layer) of ``model.features``, by DigitsCNN's stage names."""
    return list(zip(model.STAGES, model.features))


def check_freeze_up_to(freeze_up_to):
    """``freeze_up_to(model, stage)`` takes a ``pretrained.DigitsCNN`` and a stage name of
    ``DigitsCNN.STAGES`` ("conv1", "bn1", ..., "relu4") and leaves the model so that *exactly*
    the parameters of ``model.features`` up to and including that stage are frozen
    (``finetune.requires_grad(p)`` is False for them, True for every other parameter, ``fc``
    included), the batch normalizations among them are in evaluation mode and the other batch
    normalizations in training mode; it returns the model, and raises ValueError for a name
    that is not a stage. Only the batch normalizations' modes are checked: they are the only
    layers of DigitsCNN whose behaviour depends on the mode (a convolution, ReLU, pooling or
    affine layer computes the same in both), so ``model.until(stage).eval()`` is as right as
    putting the batch normalizations alone in evaluation mode.

    Checked on: the first stage alone (a convolution: its batch normalization stays
    trainable, in training mode), a batch normalization as the last frozen stage (off by one:
    it must be frozen too, and in evaluation mode), a ReLU or pooling as the stage (no
    parameters of its own), the whole backbone, and a model that arrives with everything frozen
    and in evaluation mode, as in gradual unfreezing (what lies above the stage must be
    unfrozen, and its batch normalizations put back in training mode)."""
    from deepglossary import finetune, nn
    from deepglossary.pretrained import digits_cnn_untrained

    cases = [("conv1", False), ("bn1", False), ("relu2", False), ("pool2", True),
             ("bn3", False), ("conv4", True), ("relu4", False)]
    for stage, arrives_frozen in cases:
        model = digits_cnn_untrained(10, dtype=np.float64, seed=0)
        how = "a model that arrives all frozen and in eval mode" if arrives_frozen else \
            "a fresh model in training mode"
        if arrives_frozen:
            finetune.freeze(model)
            model.eval()
        got = freeze_up_to(model, stage)
        if got is not model:
            raise AssertionError(f"freeze_up_to(model, {stage!r}) must return the model")
        last = model.stage(stage)
        for index, (name, layer) in enumerate(_stages_of(model)):
            below = index <= last
            for p in layer.parameters():
                if finetune.requires_grad(p) == below:
                    raise AssertionError(
                        f"freeze_up_to(model, {stage!r}) on {how}: the parameters of stage "
                        f"{name} (features.{index}) should be "
                        f"{'frozen' if below else 'trainable'}")
            if not isinstance(layer, nn.BatchNorm):
                continue                                 # the mode changes nothing here
            if layer.training == below:
                raise AssertionError(
                    f"freeze_up_to(model, {stage!r}) on {how}: the batch normalization {name} "
                    f"(features.{index}) should be in {'eval' if below else 'training'} mode "
                    + ("(frozen: it must keep the source's running statistics)" if below else
                       "(it is trained: it normalises with each batch's statistics)"))
        if not all(finetune.requires_grad(p) for p in model.fc.parameters()):
            raise AssertionError(f"freeze_up_to(model, {stage!r}) on {how}: the head fc must "
                                 "stay trainable")
    model = digits_cnn_untrained(10, dtype=np.float64, seed=0)
    try:
        freeze_up_to(model, "conv5")
    except ValueError:
        pass
    else:
        raise AssertionError("freeze_up_to(model, 'conv5') should raise ValueError: DigitsCNN "
                             f"has no stage conv5 (its stages are {model.STAGES})")
    return passed("freeze_up_to", len(cases) + 1)


def check_grouped_sgd_step(grouped_sgd_step):
    """``grouped_sgd_step(param_groups)`` takes a list of groups, dicts with ``"params"`` (a
    list of Parameters), ``"lr"`` and ``"weight_decay"``, and updates every parameter in place
    as ``torch.optim.SGD`` with those groups does: p <- p - lr (grad + weight_decay p), skipping
    a parameter whose ``grad`` is None altogether (no weight decay either: a frozen parameter
    must not move), and leaving every ``grad`` as it was (torch adds the decay to the step, not
    to the stored gradient).

    Checked against ``torch.optim.SGD`` on: two groups with different learning rates (a single
    rate for all fails), weight decay in one group only, a parameter whose gradient is None
    with weight decay on (it must not shrink), float32, and a group with an empty list; after
    each step, every parameter and every gradient (unchanged, or still None)."""
    from deepglossary.nn import Parameter
    from deepglossary.verify import torch_module

    torch = torch_module()
    rng = np.random.default_rng(5)
    settings = [
        ([((3, 4), True), ((4,), True)], [((2, 3), True)], 0.1, 0.01, 0.0, 0.0, np.float64),
        ([((5,), True)], [((2, 2), True), ((3,), True)], 0.05, 0.5, 0.1, 0.0, np.float64),
        ([((3, 3), False), ((3,), True)], [((4,), True)], 0.1, 0.2, 0.5, 0.5, np.float64),
        ([((2, 5), True)], [((5,), False)], 0.3, 0.03, 0.0, 0.2, np.float32),
        ([], [((3,), True)], 0.1, 0.2, 0.1, 0.1, np.float64),
    ]
    for first, second, lr1, lr2, wd1, wd2, dtype in settings:
        shapes = [first, second]
        arrays = [[(rng.standard_normal(s).astype(dtype), has) for s, has in group]
                  for group in shapes]
        grads = [[rng.standard_normal(a.shape).astype(dtype) if has else None
                  for a, has in group] for group in arrays]
        ours = [[Parameter(a.copy()) for a, _ in group] for group in arrays]
        for params, gs in zip(ours, grads):
            for p, g in zip(params, gs):
                p.grad = None if g is None else g.copy()
        theirs = [[torch.tensor(a.copy(), requires_grad=True) for a, _ in group]
                  for group in arrays]
        for tensors, gs in zip(theirs, grads):
            for t, g in zip(tensors, gs):
                t.grad = None if g is None else torch.tensor(g.copy())
        case = (f"groups of shapes {[[s for s, _ in g] for g in shapes]} (False: grad None), "
                f"lr {lr1} and {lr2}, weight_decay {wd1} and {wd2}, {np.dtype(dtype).name}")
        torch_groups = [{"params": t, "lr": lr, "weight_decay": wd}
                        for t, lr, wd in zip(theirs, (lr1, lr2), (wd1, wd2)) if t]
        torch.optim.SGD(torch_groups, lr=1.0).step()
        grouped_sgd_step([{"params": p, "lr": lr, "weight_decay": wd}
                          for p, lr, wd in zip(ours, (lr1, lr2), (wd1, wd2))])
        for g, (params, tensors) in enumerate(zip(ours, theirs)):
            for i, (p, t) in enumerate(zip(params, tensors)):
                if p.data.dtype != np.dtype(dtype):
                    raise AssertionError(f"group {g}, parameter {i}: dtype {p.data.dtype}, "
                                         f"expected {np.dtype(dtype)} ({case})")
                compare(f"group {g}, parameter {i} after the step", p.data,
                        t.detach().numpy(), case=case,
                        rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-7)
                given = grads[g][i]
                if given is None:
                    if p.grad is not None:
                        raise AssertionError(f"group {g}, parameter {i}: its grad was None and "
                                             f"must stay None, got an array ({case})")
                elif p.grad is None or not np.array_equal(p.grad, given):
                    raise AssertionError(
                        f"group {g}, parameter {i}: the step changed p.grad ({case}); "
                        "torch.optim.SGD adds the weight decay to the step, not to the stored "
                        "gradient, which must stay as the backward pass left it")
    return passed("grouped SGD step", len(settings))
