"""The Recursive Neural Network chapter's checker accepts right answers and rejects naive
ones."""

import numpy as np
import pytest

from deepglossary.exercises import recursive as ex


def right(h_left, h_right, h, grad_h, weight):
    hid = h.shape[1]
    dz = grad_h * (1 - h ** 2)
    pair = np.concatenate([h_left, h_right], axis=1)
    d_pair = dz @ weight
    return d_pair[:, :hid], d_pair[:, hid:], dz.T @ pair, dz.sum(axis=0)


def node_by_node(h_left, h_right, h, grad_h, weight):
    """One node at a time, entry by entry of the chain rule: also right."""
    hid = h.shape[1]
    grads = [np.zeros_like(h_left), np.zeros_like(h_right), np.zeros_like(weight),
             np.zeros(hid, dtype=h.dtype)]
    for i in range(len(h)):
        dz = grad_h[i] * (1 - h[i] * h[i])
        grads[0][i] = weight[:, :hid].T @ dz
        grads[1][i] = weight[:, hid:].T @ dz
        grads[2] += np.outer(dz, np.r_[h_left[i], h_right[i]])
        grads[3] += dz
    return tuple(grads)


def halves_swapped(h_left, h_right, h, grad_h, weight):
    a, b, dw, db = right(h_left, h_right, h, grad_h, weight)
    return b, a, dw, db


def transposed_half(h_left, h_right, h, grad_h, weight):
    hid = h.shape[1]
    dz = grad_h * (1 - h ** 2)
    dw = dz.T @ np.concatenate([h_left, h_right], axis=1)
    return dz @ weight[:, :hid].T, dz @ weight[:, hid:].T, dw, dz.sum(axis=0)


def mean_over_nodes(h_left, h_right, h, grad_h, weight):
    a, b, dw, db = right(h_left, h_right, h, grad_h, weight)
    return a, b, dw / len(h), db / len(h)


def tanh_twice(h_left, h_right, h, grad_h, weight):            # 1 - tanh(h)^2
    return right(h_left, h_right, np.tanh(h), grad_h, weight)


def no_tanh(h_left, h_right, h, grad_h, weight):
    hid = h.shape[1]
    pair = np.concatenate([h_left, h_right], axis=1)
    d_pair = grad_h @ weight
    return d_pair[:, :hid], d_pair[:, hid:], grad_h.T @ pair, grad_h.sum(axis=0)


def float64_out(h_left, h_right, h, grad_h, weight):
    return right(*(a.astype(np.float64) for a in (h_left, h_right, h, grad_h, weight)))


def weight_from_children_only(h_left, h_right, h, grad_h, weight):   # forgets the right half
    a, b, dw, db = right(h_left, h_right, h, grad_h, weight)
    dw = dw.copy()
    dw[:, h.shape[1]:] = 0
    return a, b, dw, db


def three_values(h_left, h_right, h, grad_h, weight):
    return right(h_left, h_right, h, grad_h, weight)[:3]


def test_node_backward_checker():
    ex.check_node_backward(right)
    ex.check_node_backward(node_by_node)
    for wrong in (halves_swapped, transposed_half, mean_over_nodes, tanh_twice, no_tanh,
                  float64_out, weight_from_children_only, three_values):
        with pytest.raises(AssertionError):
            ex.check_node_backward(wrong)
