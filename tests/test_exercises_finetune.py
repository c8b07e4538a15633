"""The Fine-Tuning chapter's checkers accept right answers and reject naive ones."""

import numpy as np
import pytest

from deepglossary import finetune, nn
from deepglossary.exercises import finetune as ex


def freeze_right(model, stage):
    last = model.stage(stage)
    finetune.unfreeze(model)
    model.train()
    for layer in list(model.features)[:last + 1]:
        finetune.freeze(layer)
        if isinstance(layer, nn.BatchNorm):
            layer.eval()
    return model


def freeze_excluding_the_stage(model, stage):       # off by one
    last = model.stage(stage)
    finetune.unfreeze(model)
    model.train()
    for layer in list(model.features)[:last]:
        finetune.freeze(layer)
        if isinstance(layer, nn.BatchNorm):
            layer.eval()
    return model


def freeze_without_eval(model, stage):              # frozen BN keeps updating its statistics
    last = model.stage(stage)
    finetune.unfreeze(model)
    model.train()
    for layer in list(model.features)[:last + 1]:
        finetune.freeze(layer)
    return model


def freeze_never_unfreezes(model, stage):           # gradual unfreezing fails
    for layer in list(model.features)[:model.stage(stage) + 1]:
        finetune.freeze(layer)
        if isinstance(layer, nn.BatchNorm):
            layer.eval()
    return model


def freeze_everything_below_the_head(model, stage):
    finetune.freeze(model.features)
    model.features.eval()
    return model


def freeze_with_the_head(model, stage):
    freeze_right(model, stage)
    finetune.freeze(model.fc)
    return model


def freeze_all_in_eval(model, stage):               # eval() on the whole frozen part: right
    finetune.unfreeze(model)
    model.train()
    part = model.until(stage)
    finetune.freeze(part)
    part.eval()                                     # convolutions, ReLUs too: harmless
    return model


def freeze_until_without_unfreezing(model, stage):  # right on a fresh model only
    part = model.until(stage)
    finetune.freeze(part)
    part.eval()
    return model


def freeze_unfreezes_but_keeps_eval(model, stage):  # upper BNs stay in eval mode on arrival
    finetune.unfreeze(model)
    for layer in list(model.features)[:model.stage(stage) + 1]:
        finetune.freeze(layer)
        layer.eval()
    return model


def freeze_returns_nothing(model, stage):
    freeze_right(model, stage)


def freeze_by_index_of_name(model, stage):          # accepts any name: no ValueError
    names = list(model.STAGES)
    last = names.index(stage) if stage in names else len(names) - 1
    finetune.unfreeze(model)
    model.train()
    for layer in list(model.features)[:last + 1]:
        finetune.freeze(layer)
        if isinstance(layer, nn.BatchNorm):
            layer.eval()
    return model


def test_freeze_up_to_checker():
    ex.check_freeze_up_to(freeze_right)
    for wrong in (freeze_excluding_the_stage, freeze_without_eval, freeze_never_unfreezes,
                  freeze_everything_below_the_head, freeze_with_the_head, freeze_returns_nothing,
                  freeze_by_index_of_name, freeze_until_without_unfreezing,
                  freeze_unfreezes_but_keeps_eval):
        with pytest.raises(AssertionError):
            ex.check_freeze_up_to(wrong)


def test_the_mode_of_layers_without_a_mode_dependence_is_not_graded():
    # convolutions, ReLUs and poolings compute the same in both modes: eval() on the whole
    # frozen part is a right answer
    ex.check_freeze_up_to(freeze_all_in_eval)
    with pytest.raises(AssertionError, match="training mode"):
        ex.check_freeze_up_to(freeze_unfreezes_but_keeps_eval)
    with pytest.raises(AssertionError, match="trainable"):
        ex.check_freeze_up_to(freeze_until_without_unfreezing)


def sgd_right(groups):
    for group in groups:
        for p in group["params"]:
            if p.grad is not None:
                p.data -= group["lr"] * (p.grad + group["weight_decay"] * p.data)


def sgd_one_rate(groups):
    lr = groups[0]["lr"]
    for group in groups:
        for p in group["params"]:
            if p.grad is not None:
                p.data -= lr * (p.grad + group["weight_decay"] * p.data)


def sgd_decays_frozen(groups):                      # weight decay on a parameter without grad
    for group in groups:
        for p in group["params"]:
            g = np.zeros_like(p.data) if p.grad is None else p.grad
            p.data -= group["lr"] * (g + group["weight_decay"] * p.data)


def sgd_no_decay(groups):
    for group in groups:
        for p in group["params"]:
            if p.grad is not None:
                p.data -= group["lr"] * p.grad


def sgd_float64(groups):                            # computes and stores in float64
    for group in groups:
        for p in group["params"]:
            if p.grad is not None:
                p.data = p.data.astype(np.float64) - group["lr"] * (
                    p.grad.astype(np.float64) + group["weight_decay"] * p.data)


def sgd_decay_into_grad(groups):                    # right parameters, corrupted gradients
    for group in groups:
        for p in group["params"]:
            if p.grad is not None:
                p.grad += group["weight_decay"] * p.data
                p.data -= group["lr"] * p.grad


def sgd_clears_grad(groups):                        # the step is not zero_grad
    sgd_right(groups)
    for group in groups:
        for p in group["params"]:
            p.grad = None


def test_grouped_sgd_step_checker():
    ex.check_grouped_sgd_step(sgd_right)
    for wrong in (sgd_one_rate, sgd_decays_frozen, sgd_no_decay, sgd_float64, sgd_clears_grad):
        with pytest.raises(AssertionError):
            ex.check_grouped_sgd_step(wrong)


def test_a_step_that_writes_the_decay_into_grad_is_caught():
    with pytest.raises(AssertionError, match="changed p.grad"):
        ex.check_grouped_sgd_step(sgd_decay_into_grad)
