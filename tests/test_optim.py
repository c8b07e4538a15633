"""Every optimizer and every option: 100 steps against torch.optim, with hypothesis drawing
the hyperparameters; gradient clipping against torch.nn.utils; bad hyperparameters refused."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepglossary import optim
from deepglossary.nn import Parameter
from deepglossary.verify import optimizer_against_torch

lrs = st.sampled_from([1e-3, 1e-2, 0.1, 0.5])
decays = st.sampled_from([0.0, 1e-3, 0.1])
unit = st.floats(0.0, 0.99)


def same(name, **kwargs):
    """Our optimizer and torch's, built with the same keyword arguments."""
    return (lambda ps: getattr(optim, name)(ps, **kwargs),
            lambda ts: getattr(torch.optim, name)(ts, **kwargs))


def check(name, seed, **kwargs):
    report = optimizer_against_torch(*same(name, **kwargs), seed=seed)
    assert report.max_error < 1e-10 and len(report.rows_on("cpu")) == 4


@settings(max_examples=25)
@given(lr=lrs, momentum=st.sampled_from([0.0, 0.5, 0.9]), dampening=st.sampled_from([0.0, 0.3]),
       weight_decay=decays, nesterov=st.booleans(), seed=st.integers(0, 1000))
def test_sgd(lr, momentum, dampening, weight_decay, nesterov, seed):
    if nesterov and (momentum == 0 or dampening != 0):
        nesterov = False
    check("SGD", seed, lr=lr, momentum=momentum, dampening=dampening,
          weight_decay=weight_decay, nesterov=nesterov)


@settings(max_examples=20)
@given(lr=lrs, lr_decay=decays, weight_decay=decays, initial=st.sampled_from([0.0, 0.1, 1.0]),
       eps=st.sampled_from([1e-10, 1e-6]), seed=st.integers(0, 1000))
def test_adagrad(lr, lr_decay, weight_decay, initial, eps, seed):
    check("Adagrad", seed, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
          initial_accumulator_value=initial, eps=eps)


@settings(max_examples=20)
@given(lr=st.sampled_from([0.1, 1.0]), rho=st.sampled_from([0.0, 0.5, 0.9, 0.95, 1.0]),
       eps=st.sampled_from([1e-6, 1e-3]), weight_decay=decays, seed=st.integers(0, 1000))
def test_adadelta(lr, rho, eps, weight_decay, seed):
    check("Adadelta", seed, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)


@settings(max_examples=25)
@given(lr=lrs, alpha=st.sampled_from([0.0, 0.9, 0.99]), eps=st.sampled_from([1e-8, 1e-3]),
       weight_decay=decays, momentum=st.sampled_from([0.0, 0.9]), centered=st.booleans(),
       seed=st.integers(0, 1000))
def test_rmsprop(lr, alpha, eps, weight_decay, momentum, centered, seed):
    if centered and alpha == 0.0:   # variance g^2 - g^2 = 0: both sides divide rounding by eps
        alpha = 0.5
    check("RMSprop", seed, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
          momentum=momentum, centered=centered)


@settings(max_examples=25)
# beta2 = 0 (no averaging) makes Adam a sign descent whose 100-step path amplifies rounding.
@given(lr=lrs, beta1=st.sampled_from([0.0, 0.5, 0.9]), beta2=st.sampled_from([0.5, 0.9, 0.999]),
       eps=st.sampled_from([1e-8, 1e-3]), weight_decay=decays, amsgrad=st.booleans(),
       decoupled=st.booleans(), seed=st.integers(0, 1000))
def test_adam_and_adamw(lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled, seed):
    check("AdamW" if decoupled else "Adam", seed, lr=lr, betas=(beta1, beta2), eps=eps,
          weight_decay=weight_decay, amsgrad=amsgrad)


def test_float32_parameters_stay_float32():
    report = optimizer_against_torch(*same("Adam", lr=0.01), dtype=np.float32)
    assert report.max_error < 1e-5


def grads_pair(seed, shapes=((3, 4), (5,), (2, 2))):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) * 3 for s in shapes]
    ours = [Parameter(np.zeros(s)) for s in shapes]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p, t, a in zip(ours, theirs, arrays):
        p.grad, t.grad = a.copy(), torch.tensor(a)
    return ours, theirs


@given(max_norm=st.sampled_from([0.1, 1.0, 5.0, 1e3]),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]), seed=st.integers(0, 1000))
def test_clip_grad_norm_matches_torch(max_norm, norm_type, seed):
    ours, theirs = grads_pair(seed)
    total = optim.clip_grad_norm(ours, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total == pytest.approx(t_total.item(), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


@given(clip=st.sampled_from([0.01, 0.5, 2.0, 100.0]), seed=st.integers(0, 1000))
def test_clip_grad_value_matches_torch(clip, seed):
    ours, theirs = grads_pair(seed)
    optim.clip_grad_value(ours, clip)
    torch.nn.utils.clip_grad_value_(theirs, clip)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


BAD = [
    ("SGD", dict(lr=-0.1), "learning rate"),
    ("SGD", dict(lr=0.1, momentum=-1), "momentum"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov"),
    ("Adagrad", dict(eps=0.0), "epsilon"),
    ("Adagrad", dict(lr_decay=-1), "lr_decay"),
    ("Adadelta", dict(rho=1.5), "rho"),
    ("Adadelta", dict(eps=-1e-6), "epsilon"),
    ("RMSprop", dict(alpha=-0.1), "alpha"),
    ("Adam", dict(betas=(1.0, 0.999)), "beta parameter at index 0"),
    ("Adam", dict(betas=(0.9, -0.1)), "beta parameter at index 1"),
    ("Adam", dict(eps=0.0), "epsilon"),
    ("AdamW", dict(weight_decay=-1), "weight_decay"),
]


@pytest.mark.parametrize("name,kwargs,message", BAD, ids=[f"{b[0]}-{b[2]}" for b in BAD])
def test_bad_hyperparameters_are_refused(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([Parameter(np.zeros(2))], **kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW"])
def test_empty_parameter_list_is_refused(name):
    with pytest.raises(ValueError, match="empty parameter list"):
        getattr(optim, name)([])


def test_parameters_without_gradient_are_skipped():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.data, np.ones(2))
    assert not np.allclose(a.data, 1.0) and not opt.state[1]
