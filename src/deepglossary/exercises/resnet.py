"""Checkers for the exercises of the ResNet chapter."""

from __future__ import annotations

import contextlib

import numpy as np

from deepglossary.exercises import compare, passed


def _blocks():
    """(description, constructor) of the blocks a student's backward pass must handle."""
    from deepglossary import nn
    from deepglossary.nn.residual import projection

    def make(kind, inplanes, planes, stride, down, shortcut=True):
        def build():
            rng = np.random.default_rng(11)
            cls = nn.BasicBlock if kind == "basic" else nn.Bottleneck
            out = planes * cls.expansion
            downsample = {"projection": lambda: projection(inplanes, out, stride, rng=rng),
                          "pad": lambda: nn.PadShortcut(inplanes, out, stride),
                          None: lambda: None}[down]()
            block = cls(inplanes, planes, stride, downsample, shortcut=shortcut, rng=rng)
            for name, p in block.named_parameters():         # batch norms away from 1 and 0
                if p.data.ndim == 1:
                    p.data[:] = rng.uniform(0.5, 1.5, p.shape) if name.endswith("weight") \
                        else rng.uniform(-0.5, 0.5, p.shape)
            return block
        return build

    return [
        ("BasicBlock(4, 4), identity shortcut", make("basic", 4, 4, 1, None)),
        ("BasicBlock(4, 6, stride=2) with a projection (1x1 conv + BN) shortcut: its gradient "
         "goes through downsample.backward", make("basic", 4, 6, 2, "projection")),
        ("BasicBlock(3, 5, stride=2) with a PadShortcut (option A)", make("basic", 3, 5, 2, "pad")),
        ("Bottleneck(8, 2), identity shortcut: three convolutions in the branch",
         make("bottleneck", 8, 2, 1, None)),
        ("Bottleneck(6, 3, stride=2) with a projection", make("bottleneck", 6, 3, 2, "projection")),
        ("BasicBlock(4, 4, shortcut=False): the plain block has no shortcut term",
         make("basic", 4, 4, 1, None, shortcut=False)),
    ]


class _OwnBackwardCalled(AssertionError):
    """The student's function called the block's own backward pass."""


@contextlib.contextmanager
def _own_backward_refused():
    """While the student's function runs, a residual block's own ``backward`` (however it is
    reached: ``block.backward``, ``type(block).backward``, ``nn.BasicBlock.backward``) raises:
    delegating to it would pass any comparison with it without computing anything."""
    from deepglossary.nn import residual

    def refuse(self, grad_output):
        raise _OwnBackwardCalled(
            f"{type(self).__name__}: your function called the block's own backward pass, which "
            "is what it should compute. Call the backward passes of the block's children "
            "(block.relu, the layers named in block._branch, block.downsample) instead")

    original = residual._ResidualBlock.backward
    overridden = {cls: cls.__dict__["backward"]
                  for cls in (residual.BasicBlock, residual.Bottleneck)
                  if "backward" in cls.__dict__}
    residual._ResidualBlock.backward = refuse
    for cls in overridden:
        cls.backward = refuse
    try:
        yield
    finally:
        residual._ResidualBlock.backward = original
        for cls, method in overridden.items():
            cls.backward = method


def check_block_backward(block_backward, cases: int = 6):
    """``block_backward(block, grad_output)`` is the backward pass of a residual block
    (``nn.BasicBlock`` or ``nn.Bottleneck``) that has just run forward: it calls the backward
    passes of the block's children (``block.relu``, the branch ``block._branch`` in reverse,
    ``block.downsample`` when there is one), so that every parameter's gradient accumulates, and
    returns the gradient of the block's input. Checked against the backward pass of an identical
    block on identity, projection and zero-padding shortcuts, basic and bottleneck blocks, and a
    plain block (``block.shortcut`` False): forgetting the shortcut's term, adding the upstream
    gradient before the final ReLU's backward, or skipping ``downsample.backward`` fails, and so
    does delegating to the block's own ``backward``, which is refused while the function runs."""
    rng = np.random.default_rng(12)
    all_cases = _blocks()
    for what, build in all_cases[:cases]:
        reference, student = build(), build()
        x = rng.standard_normal((2, reference.inplanes, 6, 5))
        y = reference(x)
        g = rng.standard_normal(y.shape)
        expected = reference.backward(g)
        student(x)
        try:
            with _own_backward_refused():
                got = block_backward(student, g.copy())
        except _OwnBackwardCalled as err:
            raise AssertionError(f"{what}: {err}") from None
        except ValueError as err:
            raise AssertionError(f"{what}: your function raised ValueError: {err}. Where the "
                                 "shortcut changes the shape, its gradient must go back through "
                                 "block.downsample.backward") from err
        if got is None:
            raise AssertionError(f"{what}: return the gradient of the block's input")
        got = np.asarray(got)
        if got.shape != x.shape:
            raise AssertionError(f"{what}: the input's gradient must have the input's shape "
                                 f"{x.shape}, got {got.shape}")
        worst = np.abs(got - expected).max()
        if worst > 1e-9 * max(np.abs(expected).max(), 1):
            hint = ""
            if student.shortcut and student.downsample is None:
                no_shortcut = got + (y > 0) * g     # what a missing identity term would give
                if np.abs(no_shortcut - expected).max() < 1e-8:
                    hint = (" It looks like the shortcut's term is missing: at the fork "
                            "x -> (branch, shortcut) the two gradients add.")
            raise AssertionError(f"{what}: the input's gradient differs from the block's own "
                                 f"backward by up to {worst:.3g}.{hint}")
        for (name, p), (_, q) in zip(reference.named_parameters(), student.named_parameters()):
            if q.grad is None:
                raise AssertionError(f"{what}: parameter {name} received no gradient: call the "
                                     "backward of every child (they accumulate into .grad)")
            compare(f"gradient of {name}", q.grad, p.grad, case=what, rtol=1e-9, atol=1e-11)
    return passed("block_backward", min(cases, len(all_cases)))


def check_resnet_parameters(count, cases: int = 7):
    """``count(block, layers, num_classes)`` returns the number of learnable numbers of
    torchvision's ``ResNet(block, layers, num_classes)`` (``block`` is ``"basic"`` or
    ``"bottleneck"``, ``layers`` four block counts), from the architecture alone. Checked
    against ResNet-18, -34, -50, -101 and -152 (torchvision's published counts) and against
    our ``models.ResNet`` on small layouts: forgetting the projection shortcuts (1x1
    convolution and batch norm where a stage changes the width or the stride, including
    ResNet-50's first stage, which widens 64 to 256), the batch-norm parameters, the fc bias or
    the expansion of 4 fails."""
    from deepglossary import models, nn

    published = [("basic", (2, 2, 2, 2), 1000, 11_689_512, "ResNet-18"),
                 ("basic", (3, 4, 6, 3), 1000, 21_797_672, "ResNet-34"),
                 ("bottleneck", (3, 4, 6, 3), 1000, 25_557_032, "ResNet-50"),
                 ("bottleneck", (3, 4, 23, 3), 1000, 44_549_160, "ResNet-101"),
                 ("bottleneck", (3, 8, 36, 3), 1000, 60_192_808, "ResNet-152")]
    small = [("basic", (1, 1, 1, 1), 10, None, "basic blocks (1, 1, 1, 1), 10 classes"),
             ("bottleneck", (1, 2, 1, 1), 7, None, "bottleneck blocks (1, 2, 1, 1), 7 classes")]
    all_cases = published + small
    for block, layers, classes, expected, what in all_cases[:cases]:
        if expected is None:
            cls = nn.BasicBlock if block == "basic" else nn.Bottleneck
            model = models.ResNet(cls, layers, num_classes=classes)
            expected = sum(p.size for p in model.parameters())
            del model
        got = count(block, layers, classes)
        if got != expected:
            raise AssertionError(f"{what}: expected {expected:,} parameters, got {got:,} "
                                 f"(off by {got - expected:+,})")
    return passed("resnet parameter count", min(cases, len(all_cases)))
