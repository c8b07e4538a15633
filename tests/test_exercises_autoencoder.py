"""The Autoencoder chapter's checkers accept right answers and reject the usual slips."""

import numpy as np
import pytest

from deepglossary.exercises import autoencoder as ex


def kl_grad(h, rho, beta, *, per_n=True, with_beta=True, sign=1.0, per_unit_only=False,
            upcast=False, in_place=False):
    """The derivation's formula; the keywords switch on one slip each."""
    mean = h.mean(axis=0)
    per_unit = (beta if with_beta else 1.0) * sign * (-rho / mean + (1 - rho) / (1 - mean))
    if per_n:
        per_unit = per_unit / len(h)
    if per_unit_only:
        return per_unit.astype(h.dtype)
    out = np.broadcast_to(per_unit, h.shape)
    if in_place:
        h[...] = out
        return h
    return out.astype(np.float64 if upcast else h.dtype)


def test_kl_checker_accepts_the_derivation():
    ex.check_kl_sparsity_grad(kl_grad)


@pytest.mark.parametrize("slip", [
    dict(per_n=False),           # forgets the 1/N of the mean
    dict(with_beta=False),       # forgets the weight lambda
    dict(sign=-1.0),             # a sign slip
    dict(per_unit_only=True),    # one number per unit, shape (K,)
    dict(upcast=True),           # float32 in, float64 out
    dict(in_place=True),         # overwrites the caller's code
])
def test_kl_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        ex.check_kl_sparsity_grad(lambda h, rho, beta: kl_grad(h, rho, beta, **slip))


def test_kl_checker_rejects_the_forgotten_log_term():
    def only_first_term(h, rho, beta):
        return np.broadcast_to(beta * (-rho / h.mean(0)) / len(h), h.shape).astype(h.dtype)

    with pytest.raises(AssertionError):
        ex.check_kl_sparsity_grad(only_first_term)


def good_angles(a, b):
    if a.shape[1] < b.shape[1]:
        a, b = b, a
    qa, qb = np.linalg.qr(a)[0], np.linalg.qr(b)[0]
    cos = np.linalg.svd(qa.T @ qb, compute_uv=False)
    sin = np.linalg.svd(qb - qa @ (qa.T @ qb), compute_uv=False)[::-1]
    return np.where(cos**2 >= 0.5, np.arcsin(np.clip(sin, 0, 1)), np.arccos(np.clip(cos, -1, 1)))


def test_angles_checker_accepts_a_right_answer():
    ex.check_principal_angles(good_angles)


def test_angles_checker_rejects_arccos_alone():
    def arccos_only(a, b):
        qa, qb = np.linalg.qr(a)[0], np.linalg.qr(b)[0]
        return np.sort(np.arccos(np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1, 1)))

    with pytest.raises(AssertionError, match="same subspace"):
        ex.check_principal_angles(arccos_only)


def test_angles_checker_rejects_bases_not_orthonormalised():
    def no_qr(a, b):
        a, b = a / np.linalg.norm(a, axis=0), b / np.linalg.norm(b, axis=0)
        return np.sort(np.arccos(np.clip(np.linalg.svd(a.T @ b, compute_uv=False), -1, 1)))

    with pytest.raises(AssertionError):
        ex.check_principal_angles(no_qr)


def test_angles_checker_rejects_descending_order_and_degrees():
    with pytest.raises(AssertionError):
        ex.check_principal_angles(lambda a, b: good_angles(a, b)[::-1])
    with pytest.raises(AssertionError):
        ex.check_principal_angles(lambda a, b: np.degrees(good_angles(a, b)))


def test_angles_checker_rejects_arcsin_only():
    def arcsin_only(a, b):
        if a.shape[1] < b.shape[1]:
            a, b = b, a
        qa, qb = np.linalg.qr(a)[0], np.linalg.qr(b)[0]
        sin = np.linalg.svd(qb - qa @ (qa.T @ qb), compute_uv=False)[::-1]
        return np.arcsin(np.clip(sin, 0, 1))

    with pytest.raises(AssertionError, match="pi/2 - 1e-9"):
        ex.check_principal_angles(arcsin_only)
