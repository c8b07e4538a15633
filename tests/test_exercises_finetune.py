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


def freeze_all_in_eval(model, stage):               # eval() on the whole backbone, ReLUs too
    freeze_right(model, stage)
    for layer in list(model.features)[:model.stage(stage) + 1]:
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
                  freeze_by_index_of_name):
        with pytest.raises(AssertionError):
            ex.check_freeze_up_to(wrong)


def test_freeze_all_in_eval_is_accepted_only_where_it_is_harmless():
    # ReLU and pooling have no parameters and behave alike in both modes, but the checker asks
    # for training mode everywhere except the frozen batch normalizations.
    with pytest.raises(AssertionError):
        ex.check_freeze_up_to(freeze_all_in_eval)


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


def test_grouped_sgd_step_checker():
    ex.check_grouped_sgd_step(sgd_right)
    for wrong in (sgd_one_rate, sgd_decays_frozen, sgd_no_decay, sgd_float64):
        with pytest.raises(AssertionError):
            ex.check_grouped_sgd_step(wrong)
