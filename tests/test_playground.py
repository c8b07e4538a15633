"""The optimizer playground: surface gradients, trajectories, divergence, MNIST comparison."""

import numpy as np
import pytest

from deepglossary import optim
from deepglossary import playground as pg


@pytest.mark.parametrize("name", list(pg.SURFACES))
def test_surface_gradients_match_central_differences(name):
    surface = pg.SURFACES[name]
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = np.array([rng.uniform(*surface.xlim), rng.uniform(*surface.ylim)])
        eps = 1e-6
        numeric = np.array([(surface.f(p + e) - surface.f(p - e)) / (2 * eps)
                            for e in np.eye(2) * eps])
        np.testing.assert_allclose(surface.grad(p), numeric, rtol=1e-5, atol=1e-5)
    for m in surface.minima:   # the minima are stationary points
        np.testing.assert_allclose(surface.grad(np.array(m)), 0, atol=1e-12)


def test_trajectory_converges_and_detects_divergence():
    path = pg.trajectory(lambda ps: optim.SGD(ps, lr=0.07), "ill-conditioned quadratic", 300)
    assert path.shape == (301, 2) and np.abs(path[-1]).max() < 1e-6
    diverged = pg.trajectory(lambda ps: optim.SGD(ps, lr=0.1), "ill-conditioned quadratic", 300)
    assert len(diverged) < 301   # 25 * 0.1 > 2: the steep direction blows up


def test_compare_on_mnist_uses_identical_starts_and_batches():
    histories = pg.compare_on_mnist({"a": lambda p: optim.SGD(p, lr=0.1),
                                     "b": lambda p: optim.SGD(p, lr=0.1)}, epochs=1)
    assert histories["a"].loss == histories["b"].loss
    assert len(histories["a"].test_accuracy) == 1


def test_cliff_gradient_matches_the_grid_function():
    for p in ([6.0, -3.0], [2.0, 0.5], [7.0, -3.6]):
        loss, grad = pg.cliff_gradient(np.array(p))
        assert loss == pytest.approx(float(pg.cliff_loss(*p)), rel=1e-12)
        eps = 1e-7
        point = np.array(p)
        numeric = [(pg.cliff_loss(*(point + e)) - pg.cliff_loss(*(point - e))) / (2 * eps)
                   for e in np.eye(2) * eps]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_step_lengths_of_sgd_are_lr_times_gradient():
    lengths = pg.step_lengths(lambda ps: optim.SGD(ps, lr=0.1), [1.0, -2.0, 0.5])
    np.testing.assert_allclose(lengths, [0.1, 0.2, 0.05])
