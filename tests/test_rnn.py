"""RNN, LSTM, GRU and their cells against torch: every configuration, hypothesis over sizes,
central differences, and the errors a user meets."""

import itertools
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.verify import VerificationError, against_torch, gradcheck, torch_twin

KINDS = {  # name: (our class, torch's class, extra arguments)
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {}),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}),
    "gru": (nn.GRU, torch.nn.GRU, {}),
}
CELLS = {
    "rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {}),
    "rnn_relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}),
    "gru": (nn.GRUCell, torch.nn.GRUCell, {}),
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def make(kind, d, h, num_layers=1, dtype=np.float64, rng=0, **flags):
    ours_cls, theirs_cls, extra = KINDS[kind]
    ours = ours_cls(d, h, num_layers, dtype=dtype, rng=rng, **extra, **flags)
    return ours, theirs_cls(d, h, num_layers, **extra, **flags)


def initial_state(kind, rng, shape, dtype):
    h0 = rng.standard_normal(shape).astype(dtype)
    return (h0, rng.standard_normal(shape).astype(dtype)) if kind == "lstm" else h0


CONFIGS = list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (False, True)))


@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,with_state", CONFIGS,
                         ids=["-".join(map(str, c)) for c in CONFIGS])
def test_layer_matches_torch_in_every_configuration(dtype, kind, num_layers, bidirectional,
                                                    batch_first, with_state):
    rng = np.random.default_rng(7)
    t_len, n, d, h = 5, 3, 4, 6
    ours, theirs = make(kind, d, h, num_layers, dtype, rng, bidirectional=bidirectional,
                        batch_first=batch_first)
    x = rng.standard_normal((n, t_len, d) if batch_first else (t_len, n, d)).astype(dtype)
    state_shape = (num_layers * (2 if bidirectional else 1), n, h)
    inputs = (x, initial_state(kind, rng, state_shape, dtype)) if with_state else (x,)
    report = against_torch(ours, theirs, *inputs)
    compared = {row.quantity for row in report.rows}
    outputs = 3 if kind == "lstm" else 2                       # output, h_n (, c_n)
    assert {f"output[{k}]" for k in range(outputs)} <= compared
    if with_state:                                             # x, h0 (, c0) gradients
        assert {f"grad input[{i}]" for i in range(outputs)} <= compared
    else:
        assert "grad input" in compared
    assert {f"grad {name}" for name, _ in ours.named_parameters()} <= compared
    assert len(ours.parameters()) == 4 * num_layers * (2 if bidirectional else 1)


@st.composite
def recurrent_settings(draw):
    return dict(kind=draw(st.sampled_from(sorted(KINDS))), t_len=draw(st.integers(1, 6)),
                n=draw(st.integers(1, 3)), d=draw(st.integers(1, 4)), h=draw(st.integers(1, 5)),
                num_layers=draw(st.integers(1, 2)), bidirectional=draw(st.booleans()),
                batch_first=draw(st.booleans()), bias=draw(st.booleans()),
                with_state=draw(st.booleans()))


@given(s=recurrent_settings(), seed=st.integers(0, 2**31))
def test_layer_matches_torch_over_drawn_sizes(dtype, s, seed):
    rng = np.random.default_rng(seed)
    ours, theirs = make(s["kind"], s["d"], s["h"], s["num_layers"], dtype, rng,
                        bidirectional=s["bidirectional"], batch_first=s["batch_first"],
                        bias=s["bias"])
    shape = ((s["n"], s["t_len"]) if s["batch_first"] else (s["t_len"], s["n"])) + (s["d"],)
    x = rng.standard_normal(shape).astype(dtype)
    state_shape = (s["num_layers"] * (2 if s["bidirectional"] else 1), s["n"], s["h"])
    inputs = (x, initial_state(s["kind"], rng, state_shape, dtype)) if s["with_state"] else (x,)
    against_torch(ours, theirs, *inputs)


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch(dtype, kind, with_state, bias):
    rng = np.random.default_rng(3)
    ours_cls, theirs_cls, extra = CELLS[kind]
    ours = ours_cls(4, 5, bias, dtype=dtype, rng=rng, **extra)
    x = rng.standard_normal((3, 4)).astype(dtype)
    inputs = (x, initial_state(kind, rng, (3, 5), dtype)) if with_state else (x,)
    report = against_torch(ours, theirs_cls(4, 5, bias, **extra), *inputs)
    assert ("grad input[1]" in {r.quantity for r in report.rows}) == with_state


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_central_differences(kind):
    rng = np.random.default_rng(11)
    ours, _ = make(kind, 3, 4, 2, rng=rng, bidirectional=True)
    x = rng.standard_normal((4, 2, 3))
    state = initial_state(kind, rng, (4, 2, 4), np.float64)
    report = gradcheck(ours, x, state)
    assert len(report.rows_on("cpu")) == (3 if kind == "lstm" else 2) + 16
    cell_cls, _, extra = CELLS[kind]
    gradcheck(cell_cls(3, 4, rng=rng, **extra), x[0], initial_state(kind, rng, (2, 4),
                                                                      np.float64))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cell_steps_reproduce_the_layer(kind):
    """The cell run step by step with the layer's weights gives the layer's outputs."""
    rng = np.random.default_rng(5)
    layer, _ = make(kind, 3, 4, rng=rng)
    cell_cls, _, extra = CELLS[kind]
    cell = cell_cls(3, 4, rng=rng, **extra)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data = getattr(layer, name + "_l0").data
    x = rng.standard_normal((6, 2, 3))
    output, _ = layer(x)
    state = None
    for t in range(6):
        state = cell(x[t], state)
        h = state[0] if kind == "lstm" else state
        np.testing.assert_allclose(h, output[t], rtol=1e-13, atol=1e-15)


def test_torch_twins_are_known():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3))
    for ours in (nn.RNN(3, 4, 2, nonlinearity="relu", batch_first=True, bidirectional=True,
                        rng=rng),
                 nn.LSTM(3, 4, batch_first=True, bias=False, rng=rng),
                 nn.GRU(3, 4, 2, batch_first=True, rng=rng)):
        against_torch(ours, torch_twin(ours), x)
    for cell in (nn.RNNCell(3, 4, nonlinearity="relu", rng=rng), nn.LSTMCell(3, 4, rng=rng),
                 nn.GRUCell(3, 4, bias=False, rng=rng)):
        against_torch(cell, torch_twin(cell), x[0])


class _LostStateGradient(nn.LSTM):
    """An LSTM whose backward forgets the gradient flowing into c0."""

    def backward(self, grad_output, grad_h_n=None, grad_c_n=None):
        dx, dh0, dc0 = super().backward(grad_output, grad_h_n, grad_c_n)
        return dx, dh0, np.zeros_like(dc0)


class _IgnoresFinalState(nn.GRU):
    """A GRU whose backward ignores the gradient arriving at h_n."""

    def backward(self, grad_output, grad_h_n=None):
        return super().backward(grad_output)


def test_against_torch_compares_every_output_and_state_gradient():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 2, 3))
    state = (rng.standard_normal((1, 2, 5)), rng.standard_normal((1, 2, 5)))
    with pytest.raises(VerificationError, match=r"grad input\[2\][^\n]*✗"):
        against_torch(_LostStateGradient(3, 5, rng=rng), torch.nn.LSTM(3, 5), x, state)
    with pytest.raises(VerificationError, match=r"grad weight_hh_l0[^\n]*✗"):
        against_torch(_IgnoresFinalState(3, 5, rng=rng), torch.nn.GRU(3, 5), x)
    with pytest.raises(VerificationError, match=r"grad input\[2\][^\n]*✗"):
        gradcheck(_LostStateGradient(3, 5, rng=rng), x[:2], state)     # central differences too


def test_parameters_are_named_shaped_and_initialised_like_torch():
    lstm = nn.LSTM(3, 16, 2, bidirectional=True, rng=0)
    twin = torch.nn.LSTM(3, 16, 2, bidirectional=True)
    assert [(n, p.shape) for n, p in lstm.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in twin.named_parameters()]
    values = np.concatenate([p.data.ravel() for p in lstm.parameters()])
    bound = 1 / np.sqrt(16)
    assert np.abs(values).max() <= bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.05 * bound      # U(-b, b): std b/sqrt(3)
    again = nn.LSTM(3, 16, 2, bidirectional=True, rng=0)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(lstm.parameters(),
                                                               again.parameters()))
    assert len({p.data.tobytes() for p in lstm.parameters()}) == 16   # one stream, not reseeded
    assert nn.GRU(3, 4, dtype=np.float32).weight_hh_l0.dtype == np.float32
    assert repr(nn.RNN(3, 4, 2, nonlinearity="relu", batch_first=True)) == (
        "RNN(3, 4, num_layers=2, nonlinearity='relu', batch_first=True)")


def test_computes_in_the_input_dtype():
    rng = np.random.default_rng(0)
    lstm = nn.LSTM(3, 4, rng=rng)                                      # float64 weights
    out, (h_n, c_n) = lstm(rng.standard_normal((5, 2, 3)).astype(np.float32))
    assert out.dtype == h_n.dtype == c_n.dtype == np.float32
    dx, dh0, dc0 = lstm.backward(np.ones_like(out))
    assert dx.dtype == dh0.dtype == np.float32 and lstm.weight_ih_l0.grad.dtype == np.float64


def test_saturated_gates_stay_finite_and_silent():
    rng = np.random.default_rng(0)
    for layer in (nn.LSTM(3, 4, rng=rng, dtype=np.float32), nn.GRU(3, 4, rng=rng,
                                                                   dtype=np.float32)):
        x = (1e4 * rng.standard_normal((50, 2, 3))).astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("error")                    # an overflow warning would raise
            out, _ = layer(x)
            grads = layer.backward(np.ones_like(out))
        assert np.isfinite(out).all() and all(np.isfinite(g).all() for g in grads)


def test_without_initial_state_the_state_gradient_is_the_zero_states():
    rng = np.random.default_rng(4)
    gru = nn.GRU(3, 4, 2, rng=rng)
    x = rng.standard_normal((5, 2, 3))
    out, h_n = gru(x)
    g, gh = rng.standard_normal(out.shape), rng.standard_normal(h_n.shape)
    dx, dh0 = gru.backward(g, gh)
    out2, h_n2 = gru(x, np.zeros((2, 2, 4)))
    np.testing.assert_array_equal(out, out2)
    dx2, dh02 = gru.backward(g, gh)
    np.testing.assert_array_equal(dh0, dh02)
    assert np.abs(dh0).max() > 0


def test_clear_errors():
    lstm = nn.LSTM(3, 4, 2, batch_first=True)
    with pytest.raises(ValueError, match=r"\(N, T, 3\) \(batch_first=True\), got a 2-D input"):
        lstm(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"\(T, N, 3\) \(batch_first=False\), got shape"):
        nn.GRU(3, 4)(np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match=r"h0 of shape \(2, 2, 4\), got shape \(1, 2, 4\)"):
        lstm(np.zeros((2, 5, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(ValueError, match=r"c0 of shape \(2, 2, 4\)"):
        lstm(np.zeros((2, 5, 3)), (np.zeros((2, 2, 4)), np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"pair hx = \(h0, c0\)"):
        lstm(np.zeros((2, 5, 3)), np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match=r"h0 of shape \(2, 2, 4\)"):
        nn.RNN(3, 4, bidirectional=True)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(TypeError, match="float32 or float64"):
        lstm(np.zeros((2, 5, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.GRU(3, 4)(np.zeros((5, 2, 3), dtype=np.float16))
    with pytest.raises(ValueError, match=r"expects an input of shape \(N, 3\)"):
        nn.LSTMCell(3, 4)(np.zeros(3))
    with pytest.raises(ValueError, match=r"h of shape \(2, 4\)"):
        nn.GRUCell(3, 4)(np.zeros((2, 3)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="num_layers"):
        nn.GRU(3, 4, 1.5)
    with pytest.raises(RuntimeError, match="before forward"):
        nn.LSTM(3, 4).backward(np.zeros((5, 2, 4)))
    out, (h_n, _) = lstm(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"grad_output of the output's shape \(2, 5, 4\)"):
        lstm.backward(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match="gradient of c_n"):
        lstm.backward(out, h_n, np.zeros((2, 4)))
