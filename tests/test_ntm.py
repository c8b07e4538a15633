"""The Neural Turing Machine: against its torch twin, against central differences, one step
and whole sequences; the copy task's data, loss and training loop."""

import numpy as np
import pytest
import torch

from deepglossary import nn
from deepglossary.autograd import Tensor
from deepglossary.models import NTM
from deepglossary.ntm_tasks import (
    LSTMCopier,
    bit_errors,
    copy_batch,
    copy_loss,
    errors_by_length,
    train_copy,
)
from deepglossary.twins.ntm import ntm_twin
from deepglossary.verify import against_torch, gradcheck


def small(controller="lstm", dtype=np.float64, reads=1, seed=0):
    return NTM(5, 4, hidden_size=7, memory_slots=6, memory_width=3, num_reads=reads,
               controller=controller, dtype=dtype, rng=seed)


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
@pytest.mark.parametrize("reads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_whole_sequence_matches_torch(controller, reads, dtype):
    model = small(controller, dtype, reads)
    x = np.random.default_rng(1).standard_normal((3, 6, 5)).astype(dtype)
    report = against_torch(model, ntm_twin(model), x)
    names = {row.quantity for row in report.rows}
    assert {f"grad {n}" for n, _ in model.named_parameters()} <= names
    assert "grad input" in names


def test_one_step_matches_torch():
    """A sequence of length one is one step of the machine: compared on its own."""
    model = small()
    x = np.random.default_rng(2).standard_normal((4, 1, 5))
    against_torch(model, ntm_twin(model), x)


def test_weightings_match_torch():
    model = small(reads=2)
    x = np.random.default_rng(3).standard_normal((2, 5, 5))
    twin = ntm_twin(model)
    from deepglossary.verify import copy_parameters

    copy_parameters(model, twin)
    model(x)
    with torch.no_grad():
        twin(torch.tensor(x))
    reads = np.stack([np.stack([w.numpy() for w in step], 0) for step in twin.weightings[0]],
                     axis=-2)                                       # (R, N, T, S)
    writes = np.stack([w.numpy() for w in twin.weightings[1]], axis=-2)
    np.testing.assert_allclose(model.history["read"], reads, atol=1e-12)
    np.testing.assert_allclose(model.history["write"], writes, atol=1e-12)
    assert np.allclose(model.history["write"].sum(-1), 1)          # each weighting sums to 1
    assert model.history["read_gate"].shape == (2, 2, 5)              # (R, N, T)
    assert ((model.history["read_gate"] > 0) & (model.history["read_gate"] < 1)).all()
    assert (model.history["read_strength"] >= 0).all()


def test_gradients_match_central_differences():
    model = NTM(3, 2, hidden_size=3, memory_slots=4, memory_width=2, rng=0)
    x = np.random.default_rng(4).standard_normal((2, 3, 3))
    gradcheck(model, x, tolerance=1e-6)


def test_step_by_step_equals_forward():
    model = small()
    x = np.random.default_rng(5).standard_normal((2, 4, 5))
    whole = model(x)
    p = {name: Tensor(q.data) for name, q in model.named_parameters()}
    state, outs = model.initial_state(2), []
    for t in range(4):
        logits, state, _ = model.step(Tensor(x[:, t]), state, p)
        outs.append(logits.data)
    np.testing.assert_allclose(np.stack(outs, 1), whole, atol=1e-14)


def test_float32_stays_float32():
    model = small(dtype=np.float32)
    x = np.ones((2, 3, 5), np.float32)
    y = model(x)
    assert y.dtype == np.float32
    assert model.backward(np.ones_like(y)).dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_no_grad_stores_nothing():
    model = small()
    with nn.no_grad():
        model(np.ones((1, 2, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.ones((1, 2, 4)))


@pytest.mark.parametrize("kwargs, message", [
    ({"memory_slots": 0}, "memory_slots"),
    ({"controller": "gru"}, "controller"),
    ({"hidden_size": 2.5}, "hidden_size"),
])
def test_bad_configuration_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NTM(5, 4, **kwargs)


def test_bad_input_is_refused():
    model = small()
    with pytest.raises(ValueError, match=r"\(N, T, 5\)"):
        model(np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"\(N, T, 5\)"):
        model(np.ones((2, 3, 6)))
    with pytest.raises(TypeError, match="float64"):
        model(np.ones((2, 3, 5), np.float32))
    model(np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match="grad_output"):
        model.backward(np.ones((2, 3, 5)))


# -- the copy task -----------------------------------------------------------------------
def test_copy_batch_layout():
    b = copy_batch(4, 3, bits=5, rng=0)
    assert b.x.shape == (4, 7, 6) and b.y.shape == (4, 7, 5)
    np.testing.assert_array_equal(b.y[:, 4:], b.x[:, :3, :5])      # the answer is the input
    assert (b.x[:, 3, 5] == 1).all() and b.x[:, :3, 5].sum() == 0 and b.x[:, 4:].sum() == 0
    np.testing.assert_array_equal(b.mask, [False] * 4 + [True] * 3)
    with pytest.raises(ValueError, match="length"):
        copy_batch(4, 0)


def test_copy_loss_matches_torch_and_its_gradient():
    b = copy_batch(3, 4, bits=5, rng=1, dtype=np.float64)
    z = np.random.default_rng(2).standard_normal(b.y.shape) * 3
    loss, grad = copy_loss(z, b)
    tz = torch.tensor(z, requires_grad=True)
    m = torch.tensor(b.mask)
    tl = torch.nn.functional.binary_cross_entropy_with_logits(
        tz[:, m], torch.tensor(b.y)[:, m], reduction="sum") / (3 * 4)
    tl.backward()
    assert abs(loss - tl.item()) < 1e-12
    np.testing.assert_allclose(grad, tz.grad.numpy(), atol=1e-14)
    with pytest.raises(ValueError, match="shape"):
        copy_loss(z[:, :-1], b)


def test_bit_errors_count_wrong_bits():
    class Perfect(nn.Layer):
        def forward(self, x):
            y = np.zeros(x.shape[:2] + (5,))
            L = (x.shape[1] - 1) // 2
            y[:, L + 1:] = x[:, :L, :5] * 2 - 1
            return y

        def parameters(self):
            return [nn.Parameter(np.zeros(1))]

    b = copy_batch(6, 3, bits=5, rng=0, dtype=np.float64)
    assert (bit_errors(Perfect(), b) == 0).all()
    flipped = bit_errors(lambda x: -Perfect()(x), b)
    assert (flipped == 15).all()                                   # every scored bit wrong
    assert set(errors_by_length(Perfect(), [1, 4], bits=5)) == {1, 4}


@pytest.mark.parametrize("make", [
    lambda: NTM(9, 8, hidden_size=16, memory_slots=8, memory_width=6, dtype=np.float32, rng=0),
    lambda: LSTMCopier(9, 8, hidden_size=16, rng=0),
])
def test_training_lowers_the_loss(make):
    model = make()
    run = train_copy(model, steps=60, max_length=2, batch_size=16, lr=1e-2, seed=0,
                     progress=False)
    assert len(run.losses) == 60 and run.seconds > 0
    assert np.mean(run.losses[-10:]) < 0.9 * np.mean(run.losses[:10])


def test_train_copy_refuses_bad_settings():
    model = small(dtype=np.float32)
    with pytest.raises(ValueError, match="optimizer"):
        train_copy(model, steps=1, max_length=2, optimizer="sgd", progress=False)
    with pytest.raises(ValueError, match="min_length"):
        train_copy(model, steps=1, max_length=2, min_length=3, progress=False)


# -- the shipped weights -----------------------------------------------------------------
def test_shipped_ntm_copies_and_generalises():
    from deepglossary.pretrained import ntm_copy

    model, record = ntm_copy("ntm")
    assert record.max_length == 10 and record.steps == len(record.losses)
    errors = errors_by_length(model, [1, 5, 10, 20, 30], n=16, seed=3)
    assert max(errors[L] for L in (1, 5, 10)) < 0.1          # wrong bits per sequence
    assert errors[20] < 0.5 and errors[30] < 2.0             # lengths never trained on
    assert all(v == 0 for v in record.train_errors.values())


def test_shipped_lstm_baseline_fails_beyond_short_lengths():
    from deepglossary.pretrained import ntm_copy

    model, record = ntm_copy("lstm")
    errors = errors_by_length(model, [2, 10, 20], n=16, seed=3)
    assert errors[2] < 0.5 and errors[10] > 10 and errors[20] > 0.25 * 160


def test_shipped_weights_are_checked(tmp_path):
    from deepglossary.data.mnist import sha256
    from deepglossary.pretrained import NTM_WEIGHTS, ntm_copy

    damaged = tmp_path / "ntm.npz"
    damaged.write_bytes(NTM_WEIGHTS.read_bytes()[:-1] + b"x")
    with pytest.raises(ValueError, match="sha256"):
        ntm_copy("ntm", path=damaged)
    with pytest.raises(ValueError, match="which"):
        ntm_copy("gru")
    with pytest.raises(ValueError, match="not the 'lstm'"):
        ntm_copy("lstm", path=NTM_WEIGHTS, expected_sha256=sha256(NTM_WEIGHTS))
