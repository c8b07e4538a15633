"""The RBM: free energy, conditionals, the exact gradient against autograd, CD-k's bias."""

import numpy as np
import pytest

from deepglossary import rbm as R
from deepglossary.verify import against_torch


def tiny(seed=0, n_visible=6, n_hidden=4, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    m = R.RBM(n_visible, n_hidden, rng=seed, std=scale, dtype=dtype)
    m.visible_bias.data[:] = rng.standard_normal(n_visible)
    m.hidden_bias.data[:] = rng.standard_normal(n_hidden)
    data = (rng.random((10, n_visible)) < 0.4).astype(dtype)
    return m, data


def torch_free_energy_module(m):
    import torch

    class FreeEnergy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(m.n_hidden, m.n_visible))
            self.visible_bias = torch.nn.Parameter(torch.zeros(m.n_visible))
            self.hidden_bias = torch.nn.Parameter(torch.zeros(m.n_hidden))

        def forward(self, v):
            return -(v @ self.visible_bias) - torch.nn.functional.softplus(
                v @ self.weight.T + self.hidden_bias).sum(-1)

    return FreeEnergy()


def test_all_states_counts_in_binary():
    s = R.all_states(3)
    assert s.shape == (8, 3) and s[5].tolist() == [1, 0, 1]
    assert len({tuple(r) for r in R.all_states(6)}) == 64


def test_free_energy_is_log_sum_over_hidden_states():
    m, data = tiny()
    hidden = R.all_states(m.n_hidden)
    energies = np.stack([m.energy(data, np.repeat(h[None], len(data), 0)) for h in hidden], 1)
    direct = -np.log(np.exp(-energies).sum(axis=1))
    np.testing.assert_allclose(m.free_energy(data), direct, rtol=1e-12)


def test_log_partition_over_either_layer():
    m, _ = tiny(n_visible=6, n_hidden=4)
    via_v = np.log(np.exp(-m.free_energy(R.all_states(6))).sum())
    via_h = np.log(np.exp(-m.hidden_free_energy(R.all_states(4))).sum())
    np.testing.assert_allclose(R.log_partition(m), via_v, rtol=1e-12)
    np.testing.assert_allclose(via_h, via_v, rtol=1e-12)


def test_conditionals_are_the_joint_normalised():
    m, data = tiny()
    v = data[:1]
    hidden = R.all_states(m.n_hidden)
    e = m.energy(np.repeat(v, len(hidden), 0), hidden)
    p_h = np.exp(-e) / np.exp(-e).sum()                          # p(h | v) over all h
    np.testing.assert_allclose(p_h @ hidden, m.hidden_probs(v)[0], rtol=1e-12)
    h = hidden[5:6]
    visible = R.all_states(m.n_visible)
    e = m.energy(visible, np.repeat(h, len(visible), 0))
    p_v = np.exp(-e) / np.exp(-e).sum()
    np.testing.assert_allclose(p_v @ visible, m.visible_probs(h)[0], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_free_energy_layer_against_torch(dtype):
    m, data = tiny(dtype=dtype)
    v = np.random.default_rng(3).random((7, 6)).astype(dtype)      # probabilities too
    against_torch(m, torch_free_energy_module(m), v)


def test_exact_gradient_against_autograd_of_the_enumerated_likelihood():
    import torch

    m, data = tiny()
    grads = R.exact_gradient(m, data)
    t = {name: torch.tensor(p.data, requires_grad=True) for name, p in m.named_parameters()}

    def free_energy(v):
        v = torch.as_tensor(v)
        return -(v @ t["visible_bias"]) - torch.nn.functional.softplus(
            v @ t["weight"].T + t["hidden_bias"]).sum(-1)

    nll = free_energy(data).mean() + torch.logsumexp(-free_energy(R.all_states(6)), 0)
    nll.backward()
    for name in t:
        np.testing.assert_allclose(grads[name], t[name].grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(-nll.item(), R.log_likelihood(m, data), rtol=1e-12)


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_cd_approaches_the_exact_gradient_and_cd1_is_biased():
    m, data = tiny(scale=1.5)
    exact = R.exact_gradient(m, data)["weight"]
    many = np.repeat(data, 4000, axis=0)                           # 40,000 chains
    cd1 = R.RBM.contrastive_divergence(m, many, 1, rng=1)[0]["weight"]
    cd50 = R.RBM.contrastive_divergence(m, many, 50, rng=1)[0]["weight"]
    # chains' noise: about 1/sqrt(40,000) relative; CD-1's bias is far above it
    assert relative_error(cd50, exact) < 0.03
    assert relative_error(cd1, exact) > 5 * relative_error(cd50, exact)
    assert relative_error(cd1, exact) > 0.1


def test_cd_with_one_step_equals_two_phases_by_hand():
    m, data = tiny()
    grads, negatives = m.contrastive_divergence(data, 1, rng=7)
    ph_data, ph_neg = m.hidden_probs(data), m.hidden_probs(negatives)
    expected = -(ph_data.T @ data) / len(data) + (ph_neg.T @ negatives) / len(negatives)
    np.testing.assert_allclose(grads["weight"], expected, rtol=1e-12)
    assert set(np.unique(negatives)) <= {0.0, 1.0}


def test_persistent_chains_continue():
    m, data = tiny()
    run = R.train_rbm(m, data, epochs=2, batch_size=5, lr=0.05, persistent=True, rng=0)
    assert run.chains.shape == (5, 6) and len(run.reconstruction) == 2


def test_training_raises_the_exact_likelihood():
    rng = np.random.default_rng(0)
    prototypes = (rng.random((2, 8)) < 0.5).astype(float)
    data = np.abs(prototypes[rng.integers(0, 2, 200)] - (rng.random((200, 8)) < 0.05))
    for persistent in (False, True):
        m = R.RBM(8, 4, rng=1).init_visible_bias(data)
        before = R.log_likelihood(m, data)
        R.train_rbm(m, data, epochs=30, batch_size=20, lr=0.1, momentum=0.5,
                    weight_decay=1e-4, persistent=persistent, rng=2)
        assert R.log_likelihood(m, data) > before + 0.5


def test_training_is_deterministic_with_a_seed():
    _, data = tiny()
    a, b = R.RBM(6, 4, rng=0), R.RBM(6, 4, rng=0)
    for m in (a, b):
        R.train_rbm(m, data, epochs=3, batch_size=4, k=2, rng=5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_bad_inputs_raise_clear_errors():
    m, data = tiny()
    with pytest.raises(ValueError, match=r"\(\*, 6\)"):
        m.free_energy(np.zeros((3, 5)))
    with pytest.raises(TypeError, match="float"):
        m.free_energy(np.zeros((3, 6), dtype=int))
    with pytest.raises(ValueError, match="n_hidden"):
        R.RBM(6, 0)
    with pytest.raises(ValueError, match="steps"):
        m.gibbs(data, 0, rng=0)
    with pytest.raises(ValueError, match="more than 20"):
        R.exact_gradient(R.RBM(21, 2), np.zeros((1, 21)))
    with pytest.raises(ValueError, match="same number of rows"):
        m.energy(data, np.zeros((3, 4)))
    with pytest.raises(TypeError, match="rng"):
        m.gibbs(data, 1, rng="seed")


def test_shipped_rbms_load_and_keep_their_quality():
    from deepglossary.data import mnist

    models, record = R.pretrained()
    x_test = (mnist(dtype=np.float32).x_test > 0.5).astype(np.float32)
    assert models["cd1"].reconstruction_error(x_test) < 0.025
    assert models["cd1"].reconstruction_error(x_test) < models["pcd"].reconstruction_error(x_test)
    bas = R.bars_and_stripes(3)
    for name, curve in record["curves"].items():
        assert R.log_likelihood(models[f"bas-{name}"], bas) == pytest.approx(curve[-1], abs=1e-9)
    assert record["curves"]["exact"][-1] > record["curves"]["cd1"][-1]


def test_bars_and_stripes():
    x = R.bars_and_stripes(3)
    assert x.shape == (14, 9)
    images = x.reshape(-1, 3, 3)
    assert all((im == im[:1]).all() or (im == im[:, :1]).all() for im in images)


def test_importing_the_rbm_modules_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, deepglossary.rbm, deepglossary.dbn, deepglossary.exercises.rbm; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
