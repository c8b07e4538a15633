"""The Recursive Neural Network chapter's checker accepts right answers and rejects naive
ones; its reference gradients are torch's autograd."""

import numpy as np
import pytest

from deepglossary.exercises import recursive as ex


def right(h_left, h_right, h, grad_h, weight, tensor):
    hid = h.shape[1]
    x = np.concatenate([h_left, h_right], axis=1)
    dz = grad_h * (1 - h ** 2)
    dx = np.einsum("ni,iab,nb->na", dz, tensor + tensor.transpose(0, 2, 1), x) + dz @ weight
    return (dx[:, :hid], dx[:, hid:], dz.T @ x, np.einsum("ni,na,nb->iab", dz, x, x),
            dz.sum(axis=0))


def node_by_node(h_left, h_right, h, grad_h, weight, tensor):
    """One node and one slice at a time, as the derivation writes it: also right."""
    hid = h.shape[1]
    grads = [np.zeros_like(h_left), np.zeros_like(h_right), np.zeros_like(weight),
             np.zeros_like(tensor), np.zeros(hid, dtype=h.dtype)]
    for n in range(len(h)):
        x = np.r_[h_left[n], h_right[n]]
        dz = grad_h[n] * (1 - h[n] * h[n])
        dx = weight.T @ dz
        for i in range(hid):
            dx += dz[i] * (tensor[i] + tensor[i].T) @ x
            grads[3][i] += dz[i] * np.outer(x, x)
        grads[0][n], grads[1][n] = dx[:hid], dx[hid:]
        grads[2] += np.outer(dz, x)
        grads[4] += dz
    return tuple(grads)


def symmetric_slices(h_left, h_right, h, grad_h, weight, tensor):    # 2 V x
    hid = h.shape[1]
    x = np.concatenate([h_left, h_right], axis=1)
    dz = grad_h * (1 - h ** 2)
    dx = np.einsum("ni,iab,nb->na", dz, 2 * tensor, x) + dz @ weight
    return dx[:, :hid], dx[:, hid:], *right(h_left, h_right, h, grad_h, weight, tensor)[2:]


def transposed_slices_only(h_left, h_right, h, grad_h, weight, tensor):    # V^T x
    hid = h.shape[1]
    x = np.concatenate([h_left, h_right], axis=1)
    dz = grad_h * (1 - h ** 2)
    dx = np.einsum("ni,iba,nb->na", dz, tensor, x) + dz @ weight
    return dx[:, :hid], dx[:, hid:], *right(h_left, h_right, h, grad_h, weight, tensor)[2:]


def without_the_affine_term(h_left, h_right, h, grad_h, weight, tensor):
    hid = h.shape[1]
    x = np.concatenate([h_left, h_right], axis=1)
    dz = grad_h * (1 - h ** 2)
    dx = np.einsum("ni,iab,nb->na", dz, tensor + tensor.transpose(0, 2, 1), x)
    return dx[:, :hid], dx[:, hid:], *right(h_left, h_right, h, grad_h, weight, tensor)[2:]


def halves_swapped(*args):
    a, b, *rest = right(*args)
    return (b, a, *rest)


def mean_over_nodes(*args):
    a, b, dw, dv, db = right(*args)
    m = len(args[2])
    return a, b, dw / m, dv / m, db / m


def tensor_per_node(h_left, h_right, h, grad_h, weight, tensor):     # not summed over nodes
    x = np.concatenate([h_left, h_right], axis=1)
    dz = grad_h * (1 - h ** 2)
    a, b, dw, _, db = right(h_left, h_right, h, grad_h, weight, tensor)
    return a, b, dw, np.einsum("ni,na,nb->niab", dz, x, x), db


def tanh_twice(h_left, h_right, h, grad_h, weight, tensor):         # 1 - tanh(h)^2
    return right(h_left, h_right, np.tanh(h), grad_h, weight, tensor)


def no_tanh(h_left, h_right, h, grad_h, weight, tensor):
    return right(h_left, h_right, np.zeros_like(h), grad_h, weight, tensor)


def float64_out(*args):
    return right(*(a.astype(np.float64) for a in args))


def four_values(*args):
    return right(*args)[:4]


def test_the_reference_is_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    m, hid = 3, 2
    h_left, h_right = rng.standard_normal((2, m, hid))
    weight, bias = rng.standard_normal((hid, 2 * hid)), rng.standard_normal(hid)
    tensor = rng.standard_normal((hid, 2 * hid, 2 * hid))
    grad_h = rng.standard_normal((m, hid))
    leaves = [torch.tensor(a, requires_grad=True) for a in (h_left, h_right, weight, tensor, bias)]
    tl, tr, tw, tv, tb = leaves
    x = torch.cat([tl, tr], dim=1)
    h = torch.tanh(torch.einsum("na,iab,nb->ni", x, tv, x) + x @ tw.T + tb)
    h.backward(torch.tensor(grad_h))
    np.testing.assert_allclose(ex.rntn_forward(h_left, h_right, weight, tensor, bias),
                               h.detach().numpy(), rtol=1e-12)
    mine = ex._rntn_reference(h_left, h_right, h.detach().numpy(), grad_h, weight, tensor)
    theirs = [tl.grad, tr.grad, tw.grad, tv.grad, tb.grad]
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12)


def test_rntn_checker_accepts_right_answers(capsys):
    ex.check_rntn_backward(right)
    ex.check_rntn_backward(node_by_node)
    assert capsys.readouterr().out.count("correct on all 5") == 2


@pytest.mark.parametrize("wrong", [symmetric_slices, transposed_slices_only,
                                   without_the_affine_term, halves_swapped, mean_over_nodes,
                                   tensor_per_node, tanh_twice, no_tanh, float64_out,
                                   four_values])
def test_rntn_checker_rejects_naive_answers(wrong):
    with pytest.raises(AssertionError):
        ex.check_rntn_backward(wrong)


def test_rntn_checker_reports_an_exception():
    def broken(*args):
        raise KeyError("oops")

    with pytest.raises(AssertionError, match="raised KeyError"):
        ex.check_rntn_backward(broken)
