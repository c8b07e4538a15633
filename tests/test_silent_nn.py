"""Issue 19, "Nothing silently wrong": layers, losses, optimizers and autograd either compute the
right thing or refuse with a clear error. Each test here failed before its fix."""

import re

import numpy as np
import pytest
import torch

import deepglossary
from deepglossary import nn, optim
from deepglossary.autograd import Tensor
from deepglossary.losses import MSE, NLL, BCEWithLogits, CrossEntropy

rng = np.random.default_rng(19)


# -- 1. tied weights ----------------------------------------------------------------------------
def tied_pair():
    l1, l2 = nn.Affine(4, 4, rng=np.random.default_rng(0)), nn.Affine(4, 4)
    l2.weight = l1.weight
    return nn.Sequential(l1, nn.Tanh(), l2)


def test_tied_parameter_is_listed_once_under_its_first_name_as_torch():
    model = tied_pair()
    t1, t2 = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)
    t2.weight = t1.weight
    theirs = torch.nn.Sequential(t1, torch.nn.Tanh(), t2)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(model.parameters()) == 3
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4


def test_tied_parameter_gets_one_sgd_update_as_in_torch():
    model = tied_pair()
    t1, t2 = torch.nn.Linear(4, 4, dtype=torch.float64), torch.nn.Linear(4, 4, dtype=torch.float64)
    t2.weight = t1.weight
    theirs = torch.nn.Sequential(t1, torch.nn.Tanh(), t2)
    with torch.no_grad():
        for (_, p), (_, t) in zip(model.named_parameters(), theirs.named_parameters()):
            t.copy_(torch.tensor(p.data))
    x, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    opt, t_opt = optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    model(x)
    model.backward(g)
    opt.step()
    theirs(torch.tensor(x)).backward(torch.tensor(g))
    t_opt.step()
    np.testing.assert_allclose(model[0].weight.data, t1.weight.detach().numpy(), atol=1e-12)
    assert model[2].weight is model[0].weight


def test_optimizer_refuses_the_same_parameter_twice():
    p = nn.Parameter(np.zeros(3))
    with pytest.raises(ValueError, match="same Parameter twice, at positions 0 and 1"):
        optim.SGD([p, p], lr=0.1)
    model = tied_pair()
    with pytest.raises(ValueError, match="twice"):
        optim.Adam(p for _, p in model.named_parameters(remove_duplicate=False))
    with pytest.raises(ValueError, match="twice"):
        optim.clip_grad_norm([p, p], 1.0)


# -- 2. a model instead of its parameters --------------------------------------------------------
OPTIMIZERS = [optim.SGD, optim.Adagrad, optim.Adadelta, optim.RMSprop, optim.Adam, optim.AdamW]


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_optimizer_refuses_a_model(cls):
    model = nn.Sequential(nn.Affine(3, 2))
    with pytest.raises(TypeError, match=r"model\.parameters\(\)"):
        cls(model, lr=0.1)
    with pytest.raises(TypeError, match=r"model\.parameters\(\)"):
        cls(nn.Affine(3, 2), lr=0.1)


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), nn.Parameter(np.zeros(3)), 3.0,
                                 [{"params": []}], [np.zeros(3)]])
def test_optimizer_refuses_what_is_not_parameters(bad):
    with pytest.raises(TypeError, match=r"model\.parameters\(\)"):
        optim.SGD(bad, lr=0.1)


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_optimizer_refuses_an_empty_parameter_list(cls):
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([], lr=0.1)


def test_clipping_refuses_a_model_and_takes_a_single_parameter():
    model = nn.Sequential(nn.Affine(3, 2))
    with pytest.raises(TypeError, match=r"model\.parameters\(\)"):
        optim.clip_grad_norm(model, 1.0)
    with pytest.raises(TypeError, match=r"model\.parameters\(\)"):
        optim.clip_grad_value(model, 1.0)
    p = nn.Parameter(np.zeros(3))
    p.grad = np.array([3.0, 4.0, 0.0])
    assert optim.clip_grad_norm(p, 1.0) == pytest.approx(5.0)


# -- 3. float32 batch norm on data with a large mean ---------------------------------------------
def exact_batch_norm(x):
    x64 = x.astype(np.float64)
    return (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + 1e-5), 0.9 + 0.1 * x64.var(0, ddof=1)


@pytest.mark.parametrize("mean, std, shape", [(1e4, 0.01, (65536, 3)), (1000.0, 1.0, (65536, 8)),
                                              (0.0, 1.0, (256, 4)), (5.0, 3.0, (64, 3, 7))])
def test_float32_batch_norm_is_as_accurate_as_torch(mean, std, shape):
    x = (mean + std * np.random.default_rng(0).standard_normal(shape)).astype(np.float32)
    ours = nn.BatchNorm(shape[1], dtype=np.float32)
    theirs = torch.nn.BatchNorm1d(shape[1])
    y = ours(x)
    y_torch = theirs(torch.tensor(x)).detach().numpy()
    assert y.dtype == np.float32 and ours.running_var.dtype == np.float32
    moved = np.moveaxis(x, 1, -1).reshape(-1, shape[1])             # (N L, C)
    exact, running_var = exact_batch_norm(moved)
    exact = np.moveaxis(exact.reshape(np.moveaxis(x, 1, -1).shape), -1, 1)
    err_ours, err_torch = np.abs(y - exact).max(), np.abs(y_torch - exact).max()
    assert err_ours <= max(err_torch, 1e-6), (err_ours, err_torch)
    var_ours = np.abs(ours.running_var / running_var - 1).max()
    var_torch = np.abs(theirs.running_var.numpy() / running_var - 1).max()
    assert var_ours <= max(var_torch, 1e-6), (var_ours, var_torch)


def test_float32_batch_norm_with_large_mean_is_close_to_exact():
    x = (1e4 + 0.01 * np.random.default_rng(1).standard_normal((65536, 3))).astype(np.float32)
    layer = nn.BatchNorm(3, dtype=np.float32)
    exact, running_var = exact_batch_norm(x)
    assert np.abs(layer(x) - exact).max() < 1e-5
    np.testing.assert_allclose(layer.running_var, running_var, rtol=1e-6)


def test_batch_norm_momentum_none_is_torchs_cumulative_average():
    ours, theirs = nn.BatchNorm(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None,
                                                                          dtype=torch.float64)
    for i in range(4):
        x = rng.standard_normal((10, 3)) * (i + 1) + i
        ours(x)
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    assert ours.num_batches_tracked == int(theirs.num_batches_tracked) == 4


@pytest.mark.parametrize("momentum, error", [("0.1", TypeError), (1.5, ValueError),
                                             (-0.1, ValueError)])
def test_batch_norm_refuses_a_bad_momentum(momentum, error):
    with pytest.raises(error, match="BatchNorm: momentum"):
        nn.BatchNorm(3, momentum=momentum)


# -- 4. a layer object is used once per forward pass ---------------------------------------------
def test_a_layer_called_twice_in_one_forward_pass_is_refused():
    layer = nn.Affine(3, 3)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    with pytest.raises(RuntimeError, match="called twice in one forward pass.*tie their weights"):
        model(rng.standard_normal((4, 3)))
    act = nn.ReLU()
    with pytest.raises(RuntimeError, match="ReLU was called twice"):
        nn.Sequential(nn.Affine(3, 3), act, nn.Affine(3, 3), act)(rng.standard_normal((4, 3)))
    with deepglossary.no_grad():                      # evaluation only: nothing stored, allowed
        model(rng.standard_normal((4, 3)))
    nn.Sequential(layer, nn.Tanh())(rng.standard_normal((4, 3)))    # the model is usable again


def test_two_layers_with_tied_weights_give_torchs_gradient():
    model = tied_pair()
    t1, t2 = torch.nn.Linear(4, 4, dtype=torch.float64), torch.nn.Linear(4, 4, dtype=torch.float64)
    t2.weight = t1.weight
    with torch.no_grad():
        t1.weight.copy_(torch.tensor(model[0].weight.data))
        t1.bias.copy_(torch.tensor(model[0].bias.data))
        t2.bias.copy_(torch.tensor(model[2].bias.data))
    x, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    model(x)
    model.backward(g)
    torch.nn.Sequential(t1, torch.nn.Tanh(), t2)(torch.tensor(x)).backward(torch.tensor(g))
    np.testing.assert_allclose(model[0].weight.grad, t1.weight.grad.numpy(), atol=1e-12)


def loss_and_model():
    model = nn.Sequential(nn.Affine(3, 4, rng=np.random.default_rng(0)), nn.Tanh(),
                          nn.Affine(4, 2, rng=np.random.default_rng(1)))
    return model, MSE()


def test_a_forward_between_the_loss_and_backward_is_refused():
    model, loss_fn = loss_and_model()
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 2))
    loss_fn(model(x1), y)
    model(x2)                                                   # e.g. to print a prediction
    with pytest.raises(RuntimeError, match="called again since.*no_grad"):
        model.backward(loss_fn.backward())
    # a chain of layers called one by one: the stale one is caught too
    l1, act = nn.Affine(3, 4), nn.Tanh()
    loss_fn(act(l1(x1)), rng.standard_normal((5, 4)))
    l1(x2)
    with pytest.raises(RuntimeError, match="Affine.backward"):
        l1.backward(act.backward(loss_fn.backward()))


def test_a_forward_under_no_grad_between_the_loss_and_backward_is_harmless():
    model, loss_fn = loss_and_model()
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 2))
    loss_fn(model(x1), y)
    model.backward(loss_fn.backward())
    expected = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    loss_fn(model(x1), y)
    with deepglossary.no_grad():
        assert not deepglossary.is_grad_enabled()
        model(x2)
    model.backward(loss_fn.backward())
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_array_equal(p.grad, e)


def test_ordinary_usage_keeps_working():
    model, loss_fn = loss_and_model()
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    model(rng.standard_normal((7, 3)))                 # a forward to display something, first
    loss_fn(model(x), y)
    grad = loss_fn.backward()
    model(x[:2])                                       # looked at after the backward of the loss
    model.zero_grad()
    loss_fn(model(x), y)
    model.backward(loss_fn.backward())
    model.backward(loss_fn.backward())                 # twice: the gradients add up
    assert grad.shape == (5, 2)
    layer = nn.Sigmoid()                               # one forward, several backwards (Jacobian)
    layer(np.zeros(3))
    rows = [layer.backward(e) for e in np.eye(3)]
    np.testing.assert_allclose(np.diag(np.stack(rows)), 0.25)


def test_no_grad_stores_nothing():
    layer = nn.Affine(3, 2)
    with deepglossary.no_grad():
        layer(np.ones((1, 3)))
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2)))
    layer(np.ones((4, 3)))
    with deepglossary.no_grad():
        layer(np.ones((2, 3)))
    assert layer.backward(np.ones((4, 2))).shape == (4, 3)     # the stored call is the (4, 3) one


# -- 5. autograd ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [lambda t: t * 2.0, lambda t: 2.0 * t, lambda t: t + 1.0,
                                lambda t: t - 1.0, lambda t: 1.0 - t, lambda t: t / 2.0,
                                lambda t: 2.0 / t, lambda t: -t, lambda t: t.mean(),
                                lambda t: t**2, lambda t: t * np.float64(3.0)])
def test_autograd_keeps_float32(op):
    x = Tensor(np.full(3, 1.5, dtype=np.float32))
    out = op(x)
    assert out.data.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_autograd_leaf_backward_twice_accumulates_as_torch():
    x = Tensor(3.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0
    t = torch.tensor(3.0, requires_grad=True)
    t.backward()
    t.backward()
    assert float(t.grad) == 2.0


def test_autograd_power_zero_has_zero_derivative_at_zero():
    x = Tensor(np.array([0.0, 2.0]))
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_autograd_mean_over_a_tuple_of_axes_matches_torch():
    a = rng.standard_normal((2, 3, 4))
    g = rng.standard_normal(3)
    x, t = Tensor(a), torch.tensor(a, requires_grad=True)
    out = x.mean(axis=(0, 2))
    out.backward(g)
    t_out = t.mean(dim=(0, 2))
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)
    assert Tensor(a).mean(axis=-1).shape == (2, 3)


# -- 6. wrongly shaped upstream gradients --------------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
def test_dropout_backward_refuses_a_wrongly_shaped_gradient(training):
    layer = nn.Dropout(0.5, rng=np.random.default_rng(0)).train(training)
    layer(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"Dropout.backward.*\(4, 3\).*\(1, 3\)"):
        layer.backward(np.ones((1, 3)))


@pytest.mark.parametrize("loss, inputs", [
    (MSE, (np.ones((4, 2)), np.zeros((4, 2)))),
    (BCEWithLogits, (np.ones((4, 2)), np.zeros((4, 2)))),
    (CrossEntropy, (np.ones((4, 3)), np.array([0, 1, 2, 0]))),
    (NLL, (-np.ones((4, 3)), np.array([0, 1, 2, 0])))])
def test_loss_backward_refuses_a_non_scalar_gradient(loss, inputs):
    fn = loss()
    fn(*inputs)
    with pytest.raises(ValueError, match=rf"{loss.__name__}.backward.*\(\).*\(4,\)"):
        fn.backward(np.ones(4))
    assert fn.backward(2.0).shape == inputs[0].shape


# -- 7. errors that say what to do ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.bool_, np.complex128])
@pytest.mark.parametrize("make", [lambda: nn.Affine(3, 2), nn.ReLU, nn.Softmax,
                                  lambda: nn.BatchNorm(3), nn.Dropout])
def test_dtypes_other_than_float32_and_float64_are_refused(dtype, make):
    layer = make()
    message = rf"float32 or float64, got dtype {np.dtype(dtype)}.*astype"
    with pytest.raises(TypeError, match=message):
        layer(np.ones((4, 3), dtype=dtype))


def test_softmax_dim_out_of_range_names_the_layer():
    with pytest.raises(ValueError, match=r"Softmax\(dim=5\).*shape \(3, 4\).*\[-2, 1\]"):
        nn.Softmax(dim=5)(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"LogSoftmax\(dim=-3\)"):
        nn.LogSoftmax(dim=-3)(np.ones((3, 4)))
    with pytest.raises(TypeError, match="Softmax: dim must be an integer"):
        nn.Softmax(dim=1.0)


@pytest.mark.parametrize("make", [nn.Softmax, nn.ReLU, lambda: nn.BatchNorm(0 + 1), MSE])
def test_an_empty_input_is_refused_naming_the_layer(make):
    layer = make()
    x = np.ones((4, 0))
    with pytest.raises(ValueError, match=r"expects a non-empty input, got shape \(4, 0\)"):
        layer(x, x) if isinstance(layer, MSE) else layer(x)


def test_parameter_refuses_integers_and_float16_and_keeps_floats():
    with pytest.raises(TypeError, match=r"Parameter expects data of a floating-point dtype.*int"):
        nn.Parameter([1, 2])
    with pytest.raises(TypeError, match="float16.*astype"):
        nn.Parameter(np.ones(2, dtype=np.float16))
    assert nn.Parameter([1.0, 2.0]).dtype == np.float64
    assert nn.Parameter(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert nn.Parameter(0.5).shape == ()


def test_dropout_probability_errors_name_the_layer():
    with pytest.raises(ValueError, match="Dropout: probability p"):
        nn.Dropout(1.5)
    with pytest.raises(TypeError, match="Dropout: p must be a number"):
        nn.Dropout("0.5")


# -- 8. the contract, written once ----------------------------------------------------------------
def test_the_package_docstring_states_the_contract():
    doc = deepglossary.__doc__
    for word in ("TypeError", "ValueError", "RuntimeError", "no_grad", "dtype",
                 "Training loops, verification and data loaders"):
        assert word in doc


def test_an_int_seed_is_a_generator_everywhere():
    """rng=0 used to reach the layer as the int 0 and fail at the first draw."""
    from deepglossary import nn as dnn
    from deepglossary.random import default_rng

    layer = dnn.Dropout(0.5, rng=0)
    a = layer(np.ones((4, 5)))
    b = dnn.Dropout(0.5, rng=0)(np.ones((4, 5)))
    np.testing.assert_array_equal(a, b)
    assert isinstance(default_rng(3), np.random.Generator)
    with pytest.raises(TypeError, match="numpy Generator, an int seed or None"):
        default_rng("seed")


# -- 9. the sweep's findings (tests/test_sweep.py), extremes and bad hyperparameters -------------
@pytest.mark.parametrize("dtype, big", [(np.float64, 1e308), (np.float32, 3e38)])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_near_the_float_limit_is_the_exact_value_not_nan(dtype, big, smoothing):
    """z - max z overflows to -inf for z = [big, -big]: 0 * -inf was NaN; torch gives 0 (and
    inf with smoothing, where the exact loss eps/2 * 2 big is finite)."""
    with np.errstate(all="raise"):
        loss = CrossEntropy(smoothing)(np.array([[big, -big]], dtype=dtype), np.array([0]))
    assert loss == pytest.approx(smoothing / 2 * 2 * big, rel=1e-6)
    three = CrossEntropy(smoothing)
    exact = three(np.array([[big, -big, 0]], dtype=dtype), np.array([2]))   # -(q . logp)
    assert exact == pytest.approx((1 - smoothing + smoothing / 3) * big
                                  + smoothing / 3 * 2 * big, rel=1e-6)
    assert np.isfinite(three.backward()).all()
    against = CrossEntropy(smoothing)(np.array([[3.0, -1.0, 0.5]], dtype=dtype), np.array([1]))
    expected = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)(
        torch.tensor([[3.0, -1.0, 0.5]], dtype=getattr(torch, np.dtype(dtype).name)),
        torch.tensor([1])).item()
    assert against == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e160), (np.float64, 1.7e308),
                                        (np.float32, 1e20), (np.float32, 3e38)])
def test_batch_norm_normalises_a_batch_whose_variance_overflows(dtype, big):
    layer = nn.BatchNorm(1, dtype=dtype)
    y = layer(np.array([[big], [-big], [big]], dtype=dtype))
    np.testing.assert_allclose(y[:, 0], np.array([1, -2, 1]) / np.sqrt(2), rtol=1e-5)
    assert y.dtype == dtype
    with pytest.raises(ValueError, match="running_var is not finite"):   # never 0 silently
        layer.eval()(np.ones((2, 1), dtype=dtype))


def test_batch_norm_is_unchanged_for_ordinary_data():
    """The rescaling by 2^-e only starts past 2^504 (float64) / 2^56 (float32)."""
    for dtype in (np.float64, np.float32):
        x = (rng.standard_normal((6, 3)) * 1e3 + 1e4).astype(dtype)
        ours, theirs = nn.BatchNorm(3, dtype=dtype), torch.nn.BatchNorm1d(3)
        theirs = theirs.to(getattr(torch, np.dtype(dtype).name))
        np.testing.assert_allclose(ours(x), theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5)


@pytest.mark.parametrize("make, argument", [
    (lambda v: nn.LeakyReLU(v), "negative_slope"), (lambda v: nn.PReLU(init=v), "init"),
    (lambda v: nn.Softplus(beta=v), "beta"), (lambda v: nn.Softplus(threshold=v), "threshold")])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_activations_refuse_non_finite_hyperparameters_by_name(make, argument, value):
    with pytest.raises(ValueError, match=f"{argument} must be a finite number"):
        make(value)
    with pytest.raises(TypeError, match=argument):
        make("0.5")


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr=np.inf), "learning rate"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=np.inf), "momentum"),
    (lambda ps: optim.SGD(ps, lr=0.1, dampening=-np.inf), "dampening"),
    (lambda ps: optim.Adagrad(ps, lr_decay=np.nan), "lr_decay"),
    (lambda ps: optim.Adam(ps, eps=np.inf), "epsilon"),
    (lambda ps: optim.RMSprop(ps, weight_decay=np.inf), "weight_decay"),
    (lambda ps: optim.RMSprop(ps, alpha=1.5), r"alpha value: 1.5 \(it must lie in \[0, 1\]"),
    (lambda ps: optim.Adadelta(ps, rho=1.0 + 1e-13), "rho"),
])
def test_optimizers_refuse_non_finite_and_out_of_range_hyperparameters(make, message):
    with pytest.raises(ValueError, match=f"Invalid {message}"):
        make([nn.Parameter(np.ones(2))])


def test_optimizers_keep_torchs_accepted_edges():
    p = [nn.Parameter(np.ones(2))]
    optim.RMSprop(p, alpha=1.0), optim.RMSprop(p, alpha=0.0), optim.Adadelta(p, rho=1.0)
    optim.SGD(p, lr=0.0, momentum=0.9, dampening=1.5)          # torch accepts any dampening
    with pytest.raises(TypeError, match="learning rate"):
        optim.SGD(p, lr="0.1")


@pytest.mark.parametrize("shape", [(1, 4), (4,), (), (3, 4, 1)])
def test_step_names_the_parameter_whose_gradient_has_the_wrong_shape(shape):
    good, bad = nn.Parameter(np.ones(2)), nn.Parameter(np.ones((3, 4)))
    good.grad, bad.grad = np.ones(2), np.ones(shape)
    opt = optim.Adam([good, bad], lr=0.1)
    with pytest.raises(ValueError, match=re.escape(f"parameter 1 has shape {shape}, but the "
                                                   "parameter has shape (3, 4)")):
        opt.step()
    np.testing.assert_array_equal(good.data, np.ones(2))     # nothing moved before the error
    bad.grad = np.ones((3, 4), dtype=complex)
    with pytest.raises(TypeError, match="parameter 1"):
        opt.step()


@pytest.mark.parametrize("bound", [-1.0, np.nan])
def test_clipping_refuses_a_negative_or_nan_bound(bound):
    p = nn.Parameter(np.ones(3))
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match="max_norm must be a non-negative number"):
        optim.clip_grad_norm([p], bound)
    with pytest.raises(ValueError, match="clip_value must be a non-negative number"):
        optim.clip_grad_value([p], bound)
    np.testing.assert_array_equal(p.grad, np.ones(3))
    assert optim.clip_grad_norm([p], np.inf) == pytest.approx(np.sqrt(3))   # inf: no clipping


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0])
def test_clip_grad_norm_of_huge_finite_gradients_is_not_inf(norm_type):
    """The naive sum of squares of 1e200 overflows, the coefficient became 0 and every gradient
    was silently zeroed; torch (on the gradients / 1e200) gives the same direction."""
    grads = [np.array([1e200, -3e200, 2e199]), np.array([[5e200]])]
    ours = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad, t.grad = g.copy(), torch.tensor(g / 1e200)
    total = optim.clip_grad_norm(ours, 1.0, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type).item() * 1e200
    assert total == pytest.approx(expected, rel=1e-12)
    for p, g in zip(ours, grads):               # scaled by max_norm / total, as torch
        np.testing.assert_allclose(p.grad, g / total, rtol=1e-12)


@pytest.mark.parametrize("data", [np.array([None, 1.0], dtype=object), np.array(["1", "2"]),
                                  np.array([1 + 2j]), [[1.0], [1.0, 2.0]]])
def test_autograd_refuses_what_is_not_real_numbers(data):
    with pytest.raises(TypeError, match="real numbers"):
        Tensor(data)
    with pytest.raises(TypeError, match="real numbers"):
        Tensor(np.ones(2)) * np.array(None)


def test_autograd_keeps_integers_and_bools_as_float64():
    assert Tensor([1, 2]).data.dtype == np.float64 and Tensor(True).data.dtype == np.float64


def test_autograd_mean_of_nothing_is_a_value_error():
    with pytest.raises(ValueError, match="empty"):
        Tensor(np.ones((0, 3))).mean(axis=0)
    assert Tensor(np.ones((0, 3))).mean(axis=1).shape == (0,)    # an empty mean of 3 each


@pytest.mark.parametrize("make, message", [
    (lambda: Tensor(np.array([-1.0, 2.0])).log(), "log of a negative number"),
    (lambda: Tensor(np.array([-2.0])) ** 0.5, "negative base"),
    (lambda: Tensor(np.array([np.nan, 2.0])), "NaN"),
    (lambda: Tensor(np.array([np.inf])) * 0.0, r"0 \* inf"),
    (lambda: Tensor(np.array([np.inf])) - np.inf, "inf - inf"),
])
def test_autograd_refuses_nan_naming_the_operation(make, message):
    with np.errstate(all="ignore"), pytest.raises(ValueError, match=message):
        make()


def test_autograd_refuses_a_nan_gradient_naming_the_operation():
    x = Tensor(np.array([0.0, 4.0]))
    y = (x ** 0.5) * 0.0                     # forward finite; backward 0 * inf = NaN
    with np.errstate(all="ignore"), pytest.raises(ValueError, match=r"backward of \*\*0.5"):
        y.backward(np.ones(2))
    with pytest.raises(ValueError, match="upstream gradient holds NaN"):
        (Tensor(np.ones(2)) * 2.0).backward(np.array([np.nan, 1.0]))
    with np.errstate(divide="ignore"):
        assert Tensor(np.array([0.0])).log().data[0] == -np.inf    # -inf: a value, not NaN


@pytest.mark.parametrize("make", [nn.Tanh, lambda: nn.LeakyReLU(0.1),
                                  lambda: nn.PReLU(3, dtype=np.float32),
                                  lambda: nn.BatchNorm(3, dtype=np.float32)])
def test_a_float64_upstream_gradient_is_cast_to_a_float32_layers_dtype(make):
    """torch casts a float64 gradient flowing into a float32 graph; so do these layers."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
    g = np.linspace(-1, 1, 6).reshape(2, 3)
    layer, twin = make(), make()
    layer(x), twin(x)
    gx = layer.backward(g)
    assert gx.dtype == np.float32
    np.testing.assert_array_equal(gx, twin.backward(g.astype(np.float32)))
    with pytest.raises(ValueError, match="overflows"):
        layer.backward(np.full((2, 3), 1e39))
    with pytest.raises(TypeError, match="real numbers"):
        layer.backward(np.ones((2, 3), dtype=complex))


@pytest.mark.parametrize("dtype, x", [(np.float64, 800.0), (np.float32, 95.0)])
def test_softplus_with_a_large_threshold_does_not_overflow(dtype, x):
    """With threshold 1000, e^(beta x) overflowed below the threshold: inf output (torch too)
    and a NaN derivative (inf / inf)."""
    layer = nn.Softplus(threshold=1000.0)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        y = layer(np.array([x, -x, 5.0], dtype=dtype))
        g = layer.backward(np.ones(3, dtype=dtype))
    tiny = np.exp(-x)                        # softplus(-x) and its slope: e^-x, 0 in float64
    np.testing.assert_allclose(y, [x, tiny, np.log1p(np.exp(5.0))], rtol=1e-6, atol=1e-44)
    np.testing.assert_allclose(g, [1.0, tiny, 1 / (1 + np.exp(-5.0))], rtol=1e-6, atol=1e-44)
    assert y.dtype == g.dtype == dtype
