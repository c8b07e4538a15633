"""The Theano chapter's checkers accept right answers and reject the usual slips."""

import numpy as np
import pytest

from deepglossary.exercises import theano as ex
from deepglossary.frameworks import theano as th
from deepglossary.frameworks.theano import ops


def test_softplus_checker_accepts_the_stable_gradient():
    ex.check_softplus_grad(lambda x, g: g * th.sigmoid(x))


@pytest.mark.parametrize("wrong", [
    lambda x, g: g * th.exp(x) / (1 + th.exp(x)),     # the textbook form: inf / inf at 1000
    lambda x, g: th.sigmoid(x),                       # forgets the upstream gradient
    lambda x, g: g * th.sigmoid(-x),                  # a sign slip
    lambda x, g: g * th.sigmoid(x) * th.sigmoid(x),   # the derivative of the wrong function
    lambda x, g: (g * th.sigmoid(x)).dtype,           # not a graph
    lambda x, g: g * th.sigmoid(x) * np.float64(1.0), # float64 in a float32 model
])
def test_softplus_checker_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        ex.check_softplus_grad(wrong)


def right_rule(var):
    node = var.owner
    if isinstance(node.op, ops.Log) and node.inputs[0].owner is not None \
            and isinstance(node.inputs[0].owner.op, ops.Exp):
        return node.inputs[0].owner.inputs[0]
    return None


def test_rewrite_checker_accepts_the_right_rule():
    ex.check_log_exp_rewrite(right_rule)


def any_log(var):                                      # fires on every log
    if isinstance(var.owner.op, ops.Log):
        return var.owner.inputs[0]
    return None


def both_orders(var):                                  # also exp(log(a)) -> a
    node = var.owner
    if isinstance(node.op, ops.Exp) and node.inputs[0].owner is not None \
            and isinstance(node.inputs[0].owner.op, ops.Log):
        return node.inputs[0].owner.inputs[0]
    return right_rule(var)


def loses_dtype(var):                                  # a float64 cast of a float32 result
    found = right_rule(var)
    return None if found is None else ops.Cast("float64")(found) if found.dtype != "float64" \
        else found


def unchecked_inner(var):                              # log of anything computed -> its input
    node = var.owner
    if isinstance(node.op, ops.Log) and node.inputs[0].owner is not None:
        return node.inputs[0].owner.inputs[0]
    return None


def sloppy(var):                                       # checks the input is an exp, not the log
    node = var.owner
    if node.inputs and node.inputs[0].owner is not None \
            and isinstance(node.inputs[0].owner.op, ops.Exp):
        return node.inputs[0].owner.inputs[0]
    return None


@pytest.mark.parametrize("wrong", [any_log, both_orders, loses_dtype, unchecked_inner, sloppy,
                                   lambda var: None])
def test_rewrite_checker_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        ex.check_log_exp_rewrite(wrong)


def test_softplus_checker_reports_where_the_textbook_form_is_not_finite():
    with pytest.raises(AssertionError, match="at x = "):
        ex.check_softplus_grad(lambda x, g: g * th.exp(x) / (1 + th.exp(x)))


def test_rewrite_checker_turns_a_crash_into_a_labelled_failure():
    def crashes_on_sum(var):                           # x (a vector) for a sum (a scalar)
        node = var.owner
        if isinstance(node.op, ops.Sum):
            return node.inputs[0]
        return right_rule(var)

    with pytest.raises(AssertionError, match="sum"):
        ex.check_log_exp_rewrite(crashes_on_sum)
