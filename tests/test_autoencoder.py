"""The autoencoders: objective and penalties against torch and central differences, the linear
autoencoder against PCA, corruption, training, the shipped 2-D model, and refused input."""

import numpy as np
import pytest
import torch

from deepglossary import autoencoder as ae
from deepglossary import nn
from deepglossary.losses import MSE
from deepglossary.optim import Adam
from deepglossary.train import gradient_descent
from deepglossary.verify import against_torch, copy_parameters, gradcheck, torch_twin


class TorchAutoencoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.encoder, self.decoder = torch_twin(model.encoder), torch_twin(model.decoder)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def torch_kl(h, rho, beta):
    m = h.mean(0)
    return beta * (rho * torch.log(rho / m) + (1 - rho) * torch.log((1 - rho) / (1 - m))).sum()


class TorchObjective(torch.nn.Module):
    def __init__(self, model, reconstruction, penalty):
        super().__init__()
        self.model, self.reconstruction, self.penalty = model, reconstruction, penalty

    def forward(self, x_in, target):
        code = self.model.encoder(x_in)
        out = self.model.decoder(code)
        penalty = 0 if self.penalty is None else self.penalty(code)
        return self.reconstruction(out, target) + penalty


def _sigmoid_code(n, k, rng, spread=2.0):
    return 1 / (1 + np.exp(-(rng.standard_normal((n, k)) * spread + rng.uniform(-3, 3, k))))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["bce+kl", "mse+l1", "bce", "mse+kl"])
def test_objective_matches_torch(dtype, kind):
    rng = np.random.default_rng(3)
    target = rng.random((5, 10)).astype(dtype)
    noisy = ae.corrupt(target, "gaussian", 0.2, rng)
    sigmoid_code = "kl" in kind
    model = ae.undercomplete(10, 4, (7,), activation=nn.Tanh,
                             code_activation=nn.Sigmoid if sigmoid_code else None,
                             dtype=dtype, rng=1)
    if kind.endswith("kl"):
        ours_pen, their_pen = ae.KLSparsity(0.1, 0.7), (lambda h: torch_kl(h, 0.1, 0.7))
    elif kind.endswith("l1"):
        ours_pen, their_pen = ae.L1Sparsity(0.3), (lambda h: 0.3 * h.abs().sum(1).mean())
    else:
        ours_pen = their_pen = None
    rec = "bce" if kind.startswith("bce") else "mse"
    loss = torch.nn.BCEWithLogitsLoss() if rec == "bce" else torch.nn.MSELoss()
    ours = ae.AutoencoderLoss(model, rec, ours_pen)
    theirs = TorchObjective(TorchAutoencoder(model), loss, their_pen)
    report = against_torch(ours, theirs, noisy, target)
    assert report.ok and len(report.rows) >= 2 + 2 * 4


def test_autoencoder_layer_matches_torch():
    rng = np.random.default_rng(0)
    model = ae.undercomplete(9, 3, (6, 5), rng=4)
    report = against_torch(model, TorchAutoencoder(model), rng.standard_normal((4, 9)))
    assert report.ok


@pytest.mark.parametrize("penalty", [ae.KLSparsity(0.05, 1.0), ae.KLSparsity(0.5, 3.0),
                                     ae.KLSparsity(0.9, 0.2), ae.L1Sparsity(0.4)])
def test_penalties_central_differences(penalty):
    rng = np.random.default_rng(1)
    h = _sigmoid_code(6, 4, rng)
    assert gradcheck(penalty, h).ok
    assert gradcheck(ae.AutoencoderLoss(ae.undercomplete(5, 3, (4,), code_activation=nn.Sigmoid,
                                                         rng=2), "bce", penalty),
                     rng.random((3, 5)), rng.random((3, 5))).ok


def test_kl_penalty_matches_torch_near_saturation():
    rng = np.random.default_rng(2)
    h = _sigmoid_code(8, 5, rng, spread=0.5)
    h[:, 0] *= 1e-3                                   # a nearly silent unit: 1/mu is large
    h[:, 1] = 1 - 1e-3 * (1 - h[:, 1])                # a nearly saturated one
    for dtype in (np.float64, np.float32):
        assert against_torch(ae.KLSparsity(0.05, 2.0), lambda t: torch_kl(t, 0.05, 2.0),
                             h.astype(dtype)).ok


def test_kl_penalty_is_zero_at_the_target_and_its_gradient_points_to_it():
    h = np.full((4, 3), 0.2)
    penalty = ae.KLSparsity(0.2, 1.0)
    assert abs(float(penalty(h))) < 1e-15
    assert np.abs(penalty.backward(1.0)).max() < 1e-15
    penalty(np.full((4, 3), 0.5))                     # too active: a positive gradient
    assert (penalty.backward(1.0) > 0).all()


def test_adam_steps_match_torch():
    rng = np.random.default_rng(5)
    model = ae.undercomplete(8, 3, (6,), code_activation=nn.Sigmoid, rng=6)
    their_model = TorchAutoencoder(model).double()
    copy_parameters(model, their_model)
    objective = ae.AutoencoderLoss(model, "bce", ae.KLSparsity(0.1, 0.5))
    their_objective = TorchObjective(their_model, torch.nn.BCEWithLogitsLoss(),
                                     lambda h: torch_kl(h, 0.1, 0.5))
    opt, t_opt = Adam(model.parameters(), lr=0.02), torch.optim.Adam(their_model.parameters(),
                                                                      lr=0.02)
    for _ in range(6):
        batch = rng.random((10, 8))
        noisy = ae.corrupt(batch, "mask", 0.3, rng)
        opt.zero_grad()
        ours_loss = float(objective(noisy, batch))
        objective.backward(1.0)
        opt.step()
        t_opt.zero_grad()
        their_loss = their_objective(torch.from_numpy(noisy), torch.from_numpy(batch))
        their_loss.backward()
        t_opt.step()
        assert abs(ours_loss - their_loss.item()) < 1e-12
    theirs = dict(their_model.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, theirs[name].detach().numpy(), rtol=1e-10, atol=1e-12)


def test_linear_autoencoder_recovers_pca_subspace():
    rng = np.random.default_rng(0)
    scales = np.array([3.0, 2.0, 1.0, 0.5, 0.3, 0.2, 0.1, 0.05])
    x = rng.standard_normal((400, 8)) * scales @ np.linalg.qr(rng.standard_normal((8, 8)))[0]
    x -= x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    var = s**2 / len(x)
    model = ae.linear(8, 3, rng=0)
    model.encoder[0].weight.data[:] = 0
    model.decoder[0].weight.data = 0.01 * rng.standard_normal((8, 3))
    gradient_descent(model, MSE(), x, x, lr=0.3 * 8 / var[0], steps=4000, progress=False)
    angles = ae.principal_angles(model.decoder[0].weight.data, vt[:3].T)
    assert angles.max() < 1e-6
    with np.errstate(all="ignore"):
        error = float(MSE()(model(x), x))
    assert abs(error / (var[3:].sum() / 8) - 1) < 1e-9


def test_principal_angles():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 3))
    assert ae.principal_angles(a, a @ rng.standard_normal((3, 3))).max() < 1e-12
    e = np.eye(5)
    np.testing.assert_allclose(ae.principal_angles(e[:, :2], e[:, 2:4]), [np.pi / 2] * 2)
    t = 0.3
    line = np.array([[np.cos(t)], [np.sin(t)], [0.0]])
    np.testing.assert_allclose(ae.principal_angles(np.eye(3)[:, :1], line), [t], rtol=1e-12)
    np.testing.assert_allclose(ae.principal_angles(line, np.eye(3)[:, :2]), [0.0], atol=1e-15)
    with pytest.raises(ValueError, match="same D"):
        ae.principal_angles(np.ones((3, 2)), np.ones((4, 2)))


def test_corrupt():
    rng = np.random.default_rng(0)
    x = np.ones((500, 400), dtype=np.float32)
    masked = ae.corrupt(x, "mask", 0.3, rng)
    assert masked.dtype == np.float32 and set(np.unique(masked)) <= {0.0, 1.0}
    assert abs((masked == 0).mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / x.size)
    noisy = ae.corrupt(x.astype(np.float64), "gaussian", 0.5, rng)
    assert abs((noisy - 1).std() - 0.5) < 0.01
    assert np.array_equal(ae.corrupt(x, "mask", 0.0, rng), x)
    assert (ae.corrupt(x, "mask", 1.0, rng) == 0).all()
    original = x.copy()
    ae.corrupt(x, "mask", 0.5, rng)
    assert np.array_equal(x, original)                     # a new array
    for kind, level in (("mask", 1.5), ("gaussian", -1.0), ("salt", 0.1)):
        with pytest.raises(ValueError):
            ae.corrupt(x, kind, level, rng)


def test_training_lowers_the_loss_and_is_seeded():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 30)) < 0.3).astype(np.float64)

    def run():
        model = ae.undercomplete(30, 5, (16,), rng=1)
        history = ae.train_autoencoder(model, x, epochs=8, batch_size=32, lr=5e-3, rng=2,
                                       corruption="mask", level=0.2, progress=False)
        return model, history

    (m1, h1), (m2, h2) = run(), run()
    assert np.mean(h1.loss[-7:]) < 0.9 * np.mean(h1.loss[:7])
    assert h1.loss == h2.loss
    for (_, p), (_, q) in zip(m1.named_parameters(), m2.named_parameters()):
        assert np.array_equal(p.data, q.data)


def test_pretrained_2d_loads_and_keeps_its_quality():
    from deepglossary.data import mnist

    model, record = ae.pretrained_2d()
    digits = mnist(dtype=np.float32)
    error = np.mean((ae.reconstruct(model, digits.x_test) - digits.x_test) ** 2)
    assert abs(error - record["test_mse"]) < 1e-6 and error < 0.05
    mean = digits.x_train.mean(axis=0)
    vt = np.linalg.svd(digits.x_train - mean, full_matrices=False)[2][:2]
    pca = np.mean(((digits.x_test - mean) @ vt.T @ vt + mean - digits.x_test) ** 2)
    assert error < 0.9 * pca
    assert model.encode(digits.x_test[:3]).shape == (3, 2)


def test_refused_input():
    model = ae.undercomplete(6, 2, (4,), rng=0)
    with pytest.raises(ValueError, match="target of shape"):
        ae.AutoencoderLoss(model)(np.zeros((3, 6)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="'bce' or 'mse'"):
        ae.AutoencoderLoss(model, "l2")
    with pytest.raises(TypeError, match="Autoencoder"):
        ae.AutoencoderLoss(nn.Affine(3, 3))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ae.KLSparsity()(np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match="saturated"):
        ae.KLSparsity()(np.array([[0.0, 0.5], [0.0, 0.2]]))
    with pytest.raises(ValueError, match="rho"):
        ae.KLSparsity(rho=1.0)
    with pytest.raises(ValueError, match="beta"):
        ae.KLSparsity(beta=-1.0)
    with pytest.raises(ValueError, match="weight"):
        ae.L1Sparsity(-0.1)
    with pytest.raises(TypeError, match="Layer"):
        ae.Autoencoder(lambda x: x, nn.Affine(2, 2))
    with pytest.raises(ValueError, match="code"):
        ae.undercomplete(10, 0)
    with pytest.raises(ValueError, match="epochs"):
        ae.train_autoencoder(model, np.zeros((4, 6)), epochs=0, progress=False)
    with pytest.raises(ValueError, match="shape"):
        model(np.zeros((3, 5)))
    with pytest.raises(TypeError):
        model(np.zeros((3, 6), dtype=np.int64))


def test_importing_the_modules_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, deepglossary.autoencoder, deepglossary.exercises.autoencoder; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
