"""The engine's NTM primitives: each backward against central differences and against torch."""

import numpy as np
import pytest
import torch

from deepglossary import autograd as ag
from deepglossary.autograd import Tensor

RNG = np.random.default_rng(0)
N, S, W = 3, 7, 4


def positive(shape):
    return RNG.uniform(0.1, 1.0, shape)


def weighting(shape):
    w = positive(shape)
    return w / w.sum(-1, keepdims=True)


def t_cosine(k, m, eps=1e-8):
    dot = (m * k[:, None, :]).sum(-1)
    return dot / (torch.sqrt((k * k).sum(-1, keepdim=True) + eps**2)
                  * torch.sqrt((m * m).sum(-1) + eps**2))


def t_circconv(w, s):
    half = s.shape[1] // 2
    return sum(s[:, k:k + 1] * torch.roll(w, k - half, dims=1) for k in range(s.shape[1]))


def t_sharpen(w, g):
    u = w ** g
    return u / u.sum(-1, keepdim=True)


# name: (our function, torch function, input arrays)
CASES = {
    "sigmoid": (ag.sigmoid, torch.sigmoid, [RNG.standard_normal((N, S)) * 4]),
    "softplus": (ag.softplus, torch.nn.functional.softplus, [RNG.standard_normal((N, S)) * 4]),
    "getitem": (lambda x: x[:, 1:5:2], lambda x: x[:, 1:5:2], [RNG.standard_normal((N, S))]),
    "getitem repeats": (lambda x: x[:, [0, 2, 2, 5]], lambda x: x[:, [0, 2, 2, 5]],
                        [RNG.standard_normal((N, S))]),
    "concat": (lambda a, b: ag.concat([a, b, a], axis=1), lambda a, b: torch.cat([a, b, a], 1),
               [RNG.standard_normal((N, 2)), RNG.standard_normal((N, 3))]),
    "stack": (lambda a, b: ag.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], 1),
              [RNG.standard_normal((N, S)), RNG.standard_normal((N, S))]),
    "reshape": (lambda x: x.reshape(N, 1, S), lambda x: x.reshape(N, 1, S),
                [RNG.standard_normal((N, S))]),
    "transpose": (lambda x: ag.transpose(x, (2, 0, 1)), lambda x: x.permute(2, 0, 1),
                  [RNG.standard_normal((N, S, W))]),
    "T": (lambda x: x.T, lambda x: x.T, [RNG.standard_normal((N, S))]),
    "roll": (lambda x: ag.roll(x, 2, axis=1), lambda x: torch.roll(x, 2, 1),
             [RNG.standard_normal((N, S))]),
    "bmm": (ag.bmm, torch.bmm, [RNG.standard_normal((N, 1, S)), RNG.standard_normal((N, S, W))]),
    "softmax": (ag.softmax, lambda x: torch.softmax(x, -1), [RNG.standard_normal((N, S)) * 3]),
    "softmax axis 0": (lambda x: ag.softmax(x, axis=0), lambda x: torch.softmax(x, 0),
                       [RNG.standard_normal((N, S))]),
    "cosine_similarity": (ag.cosine_similarity, t_cosine,
                          [RNG.standard_normal((N, W)), RNG.standard_normal((N, S, W))]),
    "circular_convolution": (ag.circular_convolution, t_circconv,
                             [weighting((N, S)), weighting((N, 3))]),
    "circular_convolution K=5": (ag.circular_convolution, t_circconv,
                                 [weighting((N, S)), weighting((N, 5))]),
    "sharpen": (ag.sharpen, t_sharpen, [weighting((N, S)), 1 + positive((N, 1)) * 3]),
}


def upstream(shape, seed=1):
    return np.random.default_rng([seed, 77]).standard_normal(shape)


def ours_with_grads(fn, arrays, dtype=np.float64):
    ts = [Tensor(a.astype(dtype)) for a in arrays]
    out = fn(*ts)
    g = upstream(out.shape).astype(dtype)
    out.backward(g)
    return out, g, [t.grad for t in ts]


@pytest.mark.parametrize("name", CASES)
def test_backward_matches_central_differences(name):
    fn, _, arrays = CASES[name]
    out, g, grads = ours_with_grads(fn, arrays)
    eps = 1e-6
    for a, grad in zip(arrays, grads):
        numeric = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = a.copy(), a.copy()
            plus[idx] += eps
            minus[idx] -= eps
            f = [fn(*[Tensor(p if b is a else b) for b in arrays]).data
                 for p in (plus, minus)]
            numeric[idx] = ((f[0] - f[1]) * g).sum() / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CASES)
def test_forward_and_backward_match_torch(name, dtype):
    fn, tfn, arrays = CASES[name]
    out, g, grads = ours_with_grads(fn, arrays, dtype)
    ts = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    tout = tfn(*ts)
    tout.backward(torch.tensor(g))
    tol = {np.float64: 1e-12, np.float32: 2e-6}[dtype]
    assert out.data.dtype == dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol * 10, atol=tol)
    for grad, t in zip(grads, ts):
        assert grad.dtype == dtype
        np.testing.assert_allclose(grad, t.grad.numpy(), rtol=tol * 100, atol=tol * 10)


def test_sharpen_with_zero_entries_has_finite_gradients():
    w = Tensor(np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]]))
    gamma = Tensor(np.array([[2.0], [1.0]]))
    out = ag.sharpen(w, gamma)
    out.backward(upstream(out.shape))
    assert np.isfinite(w.grad).all() and np.isfinite(gamma.grad).all()
    tw = torch.tensor(w.data, requires_grad=True)
    tg = torch.tensor(gamma.data, requires_grad=True)
    t_sharpen(tw, tg).backward(torch.tensor(upstream(out.shape)))
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(gamma.grad, tg.grad.numpy(), atol=1e-12)


def test_cosine_of_an_all_zero_slot_is_zero_not_nan():
    memory = np.zeros((1, 2, 3))
    memory[0, 1] = [1.0, 2.0, 2.0]
    key, mem = Tensor(np.array([[1.0, 0.0, 0.0]])), Tensor(memory)
    out = ag.cosine_similarity(key, mem)
    np.testing.assert_allclose(out.data, [[0.0, 1 / 3]], atol=1e-12)
    out.backward(np.ones((1, 2)))
    assert np.isfinite(key.grad).all() and np.isfinite(mem.grad).all()


def test_softplus_and_sigmoid_do_not_overflow():
    x = Tensor(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(ag.sigmoid(x).data, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(ag.softplus(x).data, [0.0, np.log(2), 1000.0])


@pytest.mark.parametrize("call, message", [
    (lambda: ag.cosine_similarity(np.ones((2, 3)), np.ones((2, 4, 5))), "key .N, W."),
    (lambda: ag.circular_convolution(np.ones((2, 5)), np.ones((2, 2))), "K odd"),
    (lambda: ag.sharpen(-np.ones((2, 3)), np.ones((2, 1))), "non-negative"),
    (lambda: ag.sharpen(np.ones((2, 3)), np.ones((2, 3))), "gamma .N, 1."),
    (lambda: ag.bmm(np.ones((2, 3, 4)), np.ones((2, 5, 1))), "bmm takes"),
    (lambda: ag.concat([], axis=0), "at least one"),
    (lambda: ag.softmax(np.ones((2, 3)), axis=2), "out of range"),
])
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_old_imports_still_work():
    from deepglossary.autograd import Tensor as T2
    from deepglossary.autograd import unbroadcast

    assert T2 is Tensor and unbroadcast(np.ones((2, 3)), (1, 3)).shape == (1, 3)
