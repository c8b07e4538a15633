"""The deep belief network: greedy pretraining, the MLP it initialises, its samples."""

import numpy as np
import pytest

from deepglossary import dbn as D
from deepglossary import nn
from deepglossary import rbm as R
from deepglossary.verify import against_torch, torch_twin


def toy(n=200, d=12, seed=0):
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((3, d)) < 0.5).astype(float)
    labels = rng.integers(0, 3, n)
    x = np.abs(prototypes[labels] - (rng.random((n, d)) < 0.05))
    return x, labels


def test_greedy_second_layer_sees_first_layers_probabilities():
    x, _ = toy()
    net = D.DBN((12, 8, 4), rng=0)
    rng = np.random.default_rng(5)
    net.pretrain(x, epochs=3, lr=0.1, rng=rng)
    # replay: the same first RBM, then an RBM trained on its hidden probabilities
    replay = D.DBN((12, 8, 4), rng=0)
    rng = np.random.default_rng(5)
    replay.rbms[0].init_visible_bias(x)
    R.train_rbm(replay.rbms[0], x, epochs=3, lr=0.1, momentum=0.9, weight_decay=2e-4, rng=rng)
    R.train_rbm(replay.rbms[1], replay.rbms[0].hidden_probs(x), epochs=3, lr=0.1, momentum=0.9,
                weight_decay=2e-4, rng=rng)
    for a, b in zip(net.rbms, replay.rbms):
        np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_up_is_the_mlp_hidden_layers():
    x, _ = toy()
    net = D.DBN((12, 8, 4), rng=0).pretrain(x, epochs=2, rng=1)
    mlp = net.to_mlp(3, rng=2)
    hidden = nn.Sequential(*list(mlp)[:-1])
    np.testing.assert_allclose(hidden(x), net.up(x), rtol=1e-12)
    assert [type(layer).__name__ for layer in mlp] == ["Affine", "Sigmoid", "Affine", "Sigmoid",
                                                       "Affine"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fine_tuned_network_against_torch(dtype):
    x, _ = toy()
    net = D.DBN((12, 8, 4), dtype=dtype, rng=0).pretrain(x.astype(dtype), epochs=2, rng=1)
    mlp = net.to_mlp(3, rng=2)
    against_torch(mlp, torch_twin(mlp), x[:9].astype(dtype))


def test_samples_have_the_data_shape_and_are_probabilities():
    x, _ = toy()
    net = D.DBN((12, 8, 4), rng=0).pretrain(x, epochs=5, lr=0.1, rng=1)
    s = net.sample(7, steps=20, rng=3)
    assert s.shape == (7, 12) and (s >= 0).all() and (s <= 1).all()
    np.testing.assert_array_equal(s, net.sample(7, steps=20, rng=3))


def test_pretraining_helps_fine_tuning_on_few_labels_of_a_toy_problem():
    # a sanity check of the plumbing, not of the history: the pretrained features separate
    # the three prototypes, so a linear read-out of them fits with few labels
    x, labels = toy(n=300)
    net = D.DBN((12, 8), rng=0).pretrain(x, epochs=20, lr=0.1, rng=1)
    features = net.up(x)
    means = np.stack([features[labels == c].mean(0) for c in range(3)])
    nearest = np.argmin(((features[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == labels).mean() > 0.9


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="sizes"):
        D.DBN((12,))
    with pytest.raises(ValueError, match="sizes"):
        D.DBN((12, 0))
    net = D.DBN((12, 8, 4), rng=0)
    with pytest.raises(ValueError, match="one per RBM"):
        net.pretrain(np.zeros((5, 12)), epochs=[1, 2, 3])
    with pytest.raises(ValueError, match=r"\(\*, 12\)"):
        net.up(np.zeros((5, 11)))


def tiny_pair(seed=0):
    rng = np.random.default_rng(seed)
    r1 = R.RBM(6, 4, rng=seed, std=1.0)
    r1.visible_bias.data[:] = rng.standard_normal(6)
    r1.hidden_bias.data[:] = rng.standard_normal(4)
    return r1


def test_a_transposed_top_rbm_leaves_the_model_unchanged_and_the_bound_tight():
    r1 = tiny_pair()
    r2 = R.RBM(4, 6, rng=0)
    r2.weight.data = r1.weight.data.T.copy()
    r2.visible_bias.data = r1.hidden_bias.data.copy()
    r2.hidden_bias.data = r1.visible_bias.data.copy()
    x = R.all_states(6)
    single = -r1.free_energy(x) - R.log_partition(r1)
    np.testing.assert_allclose(D.two_layer_log_likelihood(x, r1, r2), single, atol=1e-12)
    np.testing.assert_allclose(D.variational_bound(x, r1, r2), single, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_the_bound_is_below_the_log_likelihood(seed):
    r1 = tiny_pair(seed)
    r2 = R.RBM(4, 3, rng=seed + 10, std=2.0)
    x = R.all_states(6)
    ll = D.two_layer_log_likelihood(x, r1, r2)
    assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-12)
    assert (D.variational_bound(x, r1, r2) <= ll + 1e-12).all()


def test_shipped_dbn_loads_and_reproduces_its_table():
    from deepglossary.data import mnist

    net, record = D.pretrained()
    assert net.sizes == (784, 256, 256)
    digits = mnist(dtype=np.float32)
    x = (digits.x_train > 0.5).astype(np.float32)
    x_test = (digits.x_test > 0.5).astype(np.float32)
    got = D.comparison_run(net, x, digits.y_train, x_test, digits.y_test, labels=100,
                           method="dbn", seed=0)
    assert got == pytest.approx(record["table"]["dbn"]["100"][0], abs=0.0021)
    means = {m: np.mean(record["table"][m]["100"]) for m in D.METHODS}
    assert means["dbn"] > max(means["sigmoid"], means["modern"])
