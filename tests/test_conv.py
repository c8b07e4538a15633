"""Convolution, pooling and Flatten against torch, over geometries drawn by hypothesis."""

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.nn.im2col import Window, col2im, im2col
from deepglossary.verify import against_torch, gradcheck


@st.composite
def conv_geometries(draw):
    """A Conv2d configuration and an input size that fits it (at least one output position)."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    extent = [d * (kk - 1) + 1 for kk, d in zip(k, dilation)]
    h = draw(st.integers(max(1, extent[0] - 2 * padding[0]), 9))
    w = draw(st.integers(max(1, extent[1] - 2 * padding[1]), 9))
    n = draw(st.integers(1, 3))
    return dict(cin=cin, cout=cout, k=k, stride=stride, dilation=dilation, padding=padding,
                groups=groups, bias=draw(st.booleans()), shape=(n, cin, h, w))


@given(g=conv_geometries(), seed=st.integers(0, 2**31))
def test_conv2d_matches_torch(dtype, g, seed):
    rng = np.random.default_rng(seed)
    kwargs = dict(stride=g["stride"], padding=g["padding"], dilation=g["dilation"],
                  groups=g["groups"], bias=g["bias"])
    ours = nn.Conv2d(g["cin"], g["cout"], g["k"], dtype=dtype, rng=rng, **kwargs)
    theirs = torch.nn.Conv2d(g["cin"], g["cout"], g["k"], **kwargs)
    x = rng.standard_normal(g["shape"]).astype(dtype)
    report = against_torch(ours, theirs, x)
    assert len(report.rows_on("cpu")) == 4 if g["bias"] else 3


@pytest.mark.parametrize("kernel,dilation", [(1, 1), (3, 1), (3, 2), (4, 1), ((2, 5), (2, 1))])
def test_conv2d_same_padding_matches_torch(dtype, kernel, dilation):
    rng = np.random.default_rng(0)
    ours = nn.Conv2d(3, 4, kernel, padding="same", dilation=dilation, dtype=dtype, rng=rng)
    theirs = torch.nn.Conv2d(3, 4, kernel, padding="same", dilation=dilation)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    assert ours(x).shape[2:] == (9, 8)
    against_torch(ours, theirs, x)


def test_depthwise_and_pointwise(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 7, 7)).astype(dtype)
    depthwise = nn.Conv2d(6, 12, 3, padding=1, groups=6, dtype=dtype, rng=rng)
    assert depthwise.weight.shape == (12, 1, 3, 3)
    against_torch(depthwise, torch.nn.Conv2d(6, 12, 3, padding=1, groups=6), x)
    pointwise = nn.Conv2d(6, 4, 1, dtype=dtype, rng=rng)
    against_torch(pointwise, torch.nn.Conv2d(6, 4, 1), x)
    # a 1x1 convolution is an affine map across channels, pixel by pixel
    y = pointwise(x)
    w = pointwise.weight.data[:, :, 0, 0]
    expected = np.einsum("oc,nchw->nohw", w, x) + pointwise.bias.data[:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


@given(n=st.integers(1, 3), cin=st.integers(1, 3), cout=st.integers(1, 3), k=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 2), length=st.integers(4, 12),
       seed=st.integers(0, 2**31))
def test_conv1d_matches_torch(dtype, n, cin, cout, k, stride, padding, length, seed):
    rng = np.random.default_rng(seed)
    ours = nn.Conv1d(cin, cout, k, stride=stride, padding=padding, dtype=dtype, rng=rng)
    against_torch(ours, torch.nn.Conv1d(cin, cout, k, stride=stride, padding=padding),
                  rng.standard_normal((n, cin, length)).astype(dtype))


@st.composite
def pool_geometries(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    h = draw(st.integers(max(1, k[0] - 2 * padding[0]), 9))
    w = draw(st.integers(max(1, k[1] - 2 * padding[1]), 9))
    return dict(k=k, stride=stride, padding=padding,
                shape=(draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w))


def distinct(shape, rng, dtype):
    """Values with no ties (a permutation of a grid), so the arg-max of a window is unique."""
    x = rng.permutation(np.prod(shape)).reshape(shape) / np.prod(shape)
    return (x * 4 - 2).astype(dtype)


@given(g=pool_geometries(), dilation=st.integers(1, 2), seed=st.integers(0, 2**31))
def test_maxpool2d_matches_torch(dtype, g, dilation, seed):
    rng = np.random.default_rng(seed)
    extent = [dilation * (k - 1) + 1 for k in g["k"]]
    assume(all(s + 2 * p >= e for s, p, e in zip(g["shape"][2:], g["padding"], extent)))
    kwargs = dict(stride=g["stride"], padding=g["padding"], dilation=dilation)
    x = distinct(g["shape"], rng, dtype)
    theirs = torch.nn.MaxPool2d(g["k"], **kwargs)
    if torch.isinf(theirs(torch.tensor(x))).any():   # a window of padding only: we refuse it
        with pytest.raises(ValueError, match="only padding"):
            nn.MaxPool2d(g["k"], **kwargs)(x)
        return
    against_torch(nn.MaxPool2d(g["k"], **kwargs), theirs, x)


def test_maxpool2d_ties_go_where_torch_sends_them(dtype):
    x = np.zeros((1, 1, 4, 4), dtype=dtype)          # every window is one big tie
    against_torch(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x)
    against_torch(nn.MaxPool2d(3, stride=1), torch.nn.MaxPool2d(3, stride=1), x)


@given(g=pool_geometries(), include=st.booleans(), seed=st.integers(0, 2**31))
def test_avgpool2d_matches_torch(dtype, g, include, seed):
    rng = np.random.default_rng(seed)
    kwargs = dict(stride=g["stride"], padding=g["padding"], count_include_pad=include)
    against_torch(nn.AvgPool2d(g["k"], **kwargs), torch.nn.AvgPool2d(g["k"], **kwargs),
                  rng.standard_normal(g["shape"]).astype(dtype))


@given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 4), ow=st.integers(1, 4),
       seed=st.integers(0, 2**31))
def test_adaptive_avgpool2d_matches_torch(dtype, h, w, oh, ow, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w)).astype(dtype)
    against_torch(nn.AdaptiveAvgPool2d((oh, ow)), torch.nn.AdaptiveAvgPool2d((oh, ow)), x)


def test_global_average_pooling_is_the_mean(dtype):
    x = np.random.default_rng(2).standard_normal((3, 4, 5, 6)).astype(dtype)
    y = nn.AdaptiveAvgPool2d(1)(x)
    assert y.shape == (3, 4, 1, 1) and y.dtype == dtype
    np.testing.assert_allclose(y[:, :, 0, 0], x.mean(axis=(2, 3)), rtol=1e-6)


@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (2, 3), (1, 2)])
def test_flatten_matches_torch(dtype, start, end):
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(dtype)
    against_torch(nn.Flatten(start, end), torch.nn.Flatten(start, end), x)


def test_a_small_cnn_matches_torch_end_to_end(dtype):
    rng = np.random.default_rng(4)
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, dtype=dtype, rng=rng), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, dtype=dtype, rng=rng), nn.Tanh(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Affine(6, 3, dtype=dtype, rng=rng))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 6, 3), torch.nn.Tanh(),
                                 torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(6, 3))
    report = against_torch(ours, theirs, distinct((2, 1, 8, 8), rng, dtype))
    assert len(report.rows_on("cpu")) == 2 + 6


# -- the shared kernels, proven on their own --------------------------------------------------

@given(g=conv_geometries(), seed=st.integers(0, 2**31))
def test_col2im_is_the_adjoint_of_im2col(g, seed):
    """<im2col(x), c> = <x, col2im(c)> for every x and c: the identity that makes
    scatter-add the backward of gather, checked before any comparison with torch."""
    rng = np.random.default_rng(seed)
    pad = (g["padding"][0], g["padding"][0], g["padding"][1], g["padding"][1])
    window = Window(g["k"], g["stride"], g["dilation"], pad)
    x = rng.standard_normal(g["shape"])
    cols = im2col(x, window)
    assert cols.shape[:2] == g["k"] and cols.shape[2:4] == g["shape"][:2]
    c = rng.standard_normal(cols.shape)
    lhs, rhs = np.sum(cols * c), np.sum(x * col2im(c, x.shape, window))
    assert math.isclose(lhs, rhs, rel_tol=1e-12, abs_tol=1e-12)


def test_gradcheck_conv_and_pools():
    rng = np.random.default_rng(5)
    x = distinct((2, 2, 6, 5), rng, np.float64)
    gradcheck(nn.Conv2d(2, 3, 3, stride=2, padding=1, dilation=1, rng=rng), x)
    gradcheck(nn.Conv2d(2, 4, (2, 3), padding="same", groups=2, rng=rng), x)
    gradcheck(nn.MaxPool2d(2, stride=1), x)
    gradcheck(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), x)
    gradcheck(nn.AdaptiveAvgPool2d((2, 3)), x)


def test_default_initialisation_matches_torch_bounds():
    conv = nn.Conv2d(8, 16, (3, 5), groups=2, rng=np.random.default_rng(6))
    fan_in = 8 // 2 * 3 * 5
    bound = 1 / math.sqrt(fan_in)              # kaiming_uniform_(a=sqrt 5) gives 1/sqrt(fan_in)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.9 * bound   # it fills the range
    theirs = torch.nn.Conv2d(8, 16, (3, 5), groups=2)
    assert abs(theirs.weight.abs().max().item() - bound) < 0.1 * bound


# -- bad input gets a clear error -----------------------------------------------------------

@pytest.mark.parametrize("layer,x,message", [
    (lambda: nn.Conv2d(3, 4, 3), np.zeros((2, 4, 8, 8)),
     r"\(N, 3, H, W\), got shape \(2, 4, 8, 8\)"),
    (lambda: nn.Conv2d(3, 4, 3), np.zeros((3, 8, 8)), r"\(N, 3, H, W\), got shape \(3, 8, 8\)"),
    (lambda: nn.Conv2d(3, 4, 5), np.zeros((1, 3, 4, 4)), r"larger than the padded input \(4, 4\)"),
    (lambda: nn.Conv2d(3, 4, 3, padding=1, dilation=3), np.zeros((1, 3, 4, 4)),
     r"extent \(7, 7\)"),
    (lambda: nn.MaxPool2d(3), np.zeros((1, 1, 2, 2)), r"larger than the padded input"),
    (lambda: nn.AvgPool2d(2), np.zeros((2, 8, 8)), r"\(N, C, H, W\), got shape \(2, 8, 8\)"),
    (lambda: nn.Conv1d(2, 4, 3), np.zeros((1, 3, 8)), r"\(N, 2, L\), got shape \(1, 3, 8\)"),
    (lambda: nn.Conv1d(2, 4, 9), np.zeros((1, 2, 8)), r"larger than the padded input"),
])
def test_bad_input_says_what_was_expected(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer()(x)


@pytest.mark.parametrize("make,message", [
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "divisible by groups"),
    (lambda: nn.Conv2d(3, 4, 0), "kernel_size must be at least 1"),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), "needs stride 1"),
    (lambda: nn.Conv2d(3, 4, 3, padding="full"), "'valid' or 'same'"),
    (lambda: nn.MaxPool2d(2, padding=2), "at most half the kernel"),
])
def test_bad_configuration_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_upstream_gradient_shape_is_refused():
    conv = nn.Conv2d(1, 2, 3)
    y = conv(np.zeros((1, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"\(1, 2, 3, 3\)"):
        conv.backward(np.zeros((1, 2, 3, 4)))
    pool = nn.MaxPool2d(2)
    pool(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"\(1, 1, 2, 2\)"):
        pool.backward(np.zeros((1, 1, 2)))
    assert y.shape == (1, 2, 3, 3)


def test_torch_twin_knows_the_convolutional_layers(dtype):
    from deepglossary.verify import torch_twin

    rng = np.random.default_rng(7)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding="valid", dtype=dtype, rng=rng),
                          nn.ReLU(), nn.MaxPool2d(2, stride=1, padding=1),
                          nn.Conv2d(4, 4, 3, padding="same", groups=2, dtype=dtype, rng=rng),
                          nn.AvgPool2d(2, count_include_pad=False), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Affine(4, 3, dtype=dtype, rng=rng))
    against_torch(model, torch_twin(model), distinct((2, 2, 13, 13), rng, dtype))
    conv1 = nn.Conv1d(3, 2, 3, stride=2, padding=1, dtype=dtype, rng=rng)
    against_torch(conv1, torch_twin(conv1), rng.standard_normal((2, 3, 9)).astype(dtype))
