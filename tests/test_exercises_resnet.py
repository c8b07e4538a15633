"""The ResNet chapter's checkers accept right answers and reject the usual wrong ones."""

import copy

import numpy as np
import pytest

from deepglossary import nn
from deepglossary.exercises import resnet


def block_backward(block, grad_output, *, mistake=None):
    """A right backward pass of a residual block, or one with one usual mistake."""
    g = grad_output if mistake == "before_relu" else block.relu.backward(grad_output)
    if mistake == "before_relu":
        block.relu.backward(grad_output)          # called, but its result ignored
    branch = g
    for name in reversed(block._branch):
        branch = getattr(block, name).backward(branch)
    if not block.shortcut or mistake == "no_shortcut":
        return branch
    if block.downsample is None or mistake == "no_downsample":
        return branch + g
    if mistake == "downsample_forward_only":
        return branch + block.downsample(g) if g.shape[1] == block.inplanes else branch
    return branch + block.downsample.backward(g)


def test_block_backward_checker_accepts_a_right_answer():
    resnet.check_block_backward(block_backward)


@pytest.mark.parametrize("mistake", ["no_shortcut", "before_relu", "no_downsample",
                                     "downsample_forward_only"])
def test_block_backward_checker_rejects_wrong_answers(mistake):
    def wrong(block, g):
        return block_backward(block, g, mistake=mistake)

    with pytest.raises(AssertionError):
        resnet.check_block_backward(wrong)


def test_block_backward_checker_names_the_missing_shortcut():
    with pytest.raises(AssertionError, match="shortcut's term is missing"):
        resnet.check_block_backward(lambda b, g: block_backward(b, g, mistake="no_shortcut"))


@pytest.mark.parametrize("delegate", [
    lambda block, g: block.backward(g),
    lambda block, g: type(block).backward(block, g),
    lambda block, g: nn.BasicBlock.backward(block, g),
], ids=["method", "type", "class"])
def test_block_backward_checker_refuses_the_blocks_own_backward(delegate):
    """Delegating to the block's own backward pass would match any comparison with it."""
    with pytest.raises(AssertionError, match="own backward pass"):
        resnet.check_block_backward(delegate)
    block = nn.BasicBlock(2, 2, rng=np.random.default_rng(0))        # restored afterwards
    y = block(np.random.default_rng(1).standard_normal((2, 2, 3, 3)))
    assert block.backward(np.ones_like(y)).shape == (2, 2, 3, 3)


def test_block_backward_checker_wants_parameter_gradients():
    def only_input(block, g):
        """The right input gradient, computed on a copy: the block's parameters get none."""
        return block_backward(copy.deepcopy(block), g)

    with pytest.raises(AssertionError, match="received no gradient"):
        resnet.check_block_backward(only_input)


def parameters(block, layers, num_classes, *, mistake=None):
    """torchvision's ResNet parameter count from the architecture, or a usual mistake."""
    expansion = 1 if block == "basic" else 4
    bn = 0 if mistake == "no_bn" else 2
    total = 3 * 64 * 49 + bn * 64                              # conv1, bn1
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
        stride = 1 if stage == 0 else 2
        out = planes * (1 if mistake == "no_expansion" else expansion)
        for i in range(blocks):
            cin = inplanes if i == 0 else out
            if block == "basic":
                total += cin * planes * 9 + planes * planes * 9 + 2 * bn * planes
            else:
                total += cin * planes + planes * planes * 9 + planes * out + bn * (2 * planes + out)
            projects = i == 0 and (stride != 1 or cin != out)
            if mistake == "stride_only_projection":
                projects = i == 0 and stride != 1
            if projects and mistake != "no_projection":
                total += cin * out + bn * out
        inplanes = out
    total += inplanes * num_classes + (0 if mistake == "no_fc_bias" else num_classes)
    return total


def test_parameters_checker_accepts_a_right_answer():
    resnet.check_resnet_parameters(parameters)


@pytest.mark.parametrize("mistake", ["no_bn", "no_expansion", "no_projection",
                                     "stride_only_projection", "no_fc_bias"])
def test_parameters_checker_rejects_wrong_answers(mistake):
    with pytest.raises(AssertionError):
        resnet.check_resnet_parameters(lambda *a: parameters(*a, mistake=mistake))


def test_published_counts_are_the_twins():
    """The checker's constants for ResNet-101 and -152 are torchvision's layout, counted."""
    from deepglossary.twins import resnet as twins

    for layers, expected in (((3, 4, 23, 3), 44_549_160), ((3, 8, 36, 3), 60_192_808)):
        model = twins.resnet("bottleneck", layers)
        assert sum(p.numel() for p in model.parameters()) == expected
        del model
