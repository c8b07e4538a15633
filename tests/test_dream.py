"""Deep Dream (deepglossary.dream): the resize and the octave sizes, the objective's input
gradient against PyTorch, the normalised step, jitter, octaves, determinism and the errors."""

import subprocess
import sys

import numpy as np
import pytest

from deepglossary import dream as dd
from deepglossary import pretrained
from deepglossary.verify import VerificationError, against_torch


@pytest.fixture(scope="module")
def net32():
    return pretrained.digits_cnn()


@pytest.fixture(scope="module")
def net64():
    return pretrained.digits_cnn(np.float64)


@pytest.fixture(scope="module")
def photo():
    """A smooth grey 'photograph' with edges, 40 x 48, pixels in [0, 1]."""
    r, q = np.mgrid[0:40, 0:48] / 40.0
    image = 0.5 + 0.3 * np.sin(6 * r) * np.cos(5 * q) + 0.15 * (r > 0.5) - 0.1 * (q > 0.7)
    noise = np.random.default_rng(3).uniform(-0.05, 0.05, image.shape)
    return np.clip(image + noise, 0.0, 1.0)


def small(model, record, photo, stage="relu2", **kw):
    settings = dict(steps=4, octaves=2, octave_scale=1.4, jitter=2, seed=0,
                    mean=record.mean, std=record.std)
    return dd.dream(model, photo, stage, **{**settings, **kw})


# -- resize and octaves -----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(7, 9), (20, 31), (13, 17), (5, 40), (1, 1), (26, 34)])
def test_bilinear_resize_matches_torch(shape, dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 3, 13, 17)).astype(dtype)
    theirs = torch.nn.functional.interpolate(torch.tensor(x), size=shape, mode="bilinear",
                                             align_corners=False).numpy()
    ours = dd.bilinear_resize(x, shape)
    assert ours.dtype == x.dtype and ours.shape == (2, 3) + shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12 if dtype == np.float64 else 1e-5)


def test_bilinear_resize_keeps_constants_and_identity():
    x = np.random.default_rng(1).random((9, 11))
    np.testing.assert_allclose(dd.bilinear_resize(x, x.shape), x, atol=1e-15)
    np.testing.assert_allclose(dd.bilinear_resize(np.full((5, 6), 0.3), (17, 4)), 0.3, atol=1e-15)
    with pytest.raises(ValueError, match="H, W"):
        dd.bilinear_resize(np.zeros(5), (3, 3))
    with pytest.raises(ValueError, match="positive"):
        dd.bilinear_resize(np.zeros((5, 5)), (0, 3))
    with pytest.raises(TypeError, match="float"):
        dd.bilinear_resize(np.zeros((5, 5), dtype=int), (3, 3))


def test_octave_shapes():
    shapes = dd.octave_shapes((128, 96), 3, 1.4)
    assert shapes == [(65, 49), (91, 69), (128, 96)]          # 128/1.96, 128/1.4, 128
    assert dd.octave_shapes((30, 20), 1, 2.0) == [(30, 20)]
    with pytest.raises(ValueError, match="below 8"):
        dd.octave_shapes((32, 32), 4, 2.0)                     # 32/8 = 4 pixels
    with pytest.raises(ValueError, match="octaves"):
        dd.octave_shapes((32, 32), 0, 2.0)
    with pytest.raises(ValueError, match="scale"):
        dd.octave_shapes((32, 32), 2, 1.0)


# -- the objective's gradient against torch -----------------------------------------------------
@pytest.mark.parametrize("stage, objective, channel", [
    ("conv1", "square", None), ("bn1", "mean", 3), ("relu1", "square", None),
    ("pool1", "square", 5), ("relu2", "square", None), ("relu3", "mean", None),
    ("relu4", "square", 2), ("logits", "mean", 3), ("logits", "square", None)])
def test_objective_gradient_matches_torch(net64, photo, stage, objective, channel):
    model, record = net64
    target = dd.DreamObjective.at(model, stage, objective, channel, record.mean, record.std)
    assert not target.training                           # batch norm with its running statistics
    report = against_torch(target, dd.torch_objective(target), photo[None, None])
    assert report.ok and report.max_error < 1e-10
    assert {row.quantity for row in report.rows} >= {"output", "grad input"}


def test_objective_gradient_matches_torch_float32(net32, photo):
    model, record = net32
    for stage in ("relu2", "logits"):
        target = dd.DreamObjective.at(model, stage, "mean" if stage == "logits" else "square",
                                      8 if stage == "logits" else None, record.mean, record.std)
        report = against_torch(target, dd.torch_objective(target),
                               photo[None, None].astype(np.float32))
        assert report.max_error < 1e-5


def test_a_wrong_gradient_is_caught(net64, photo):
    """The check can fail: a DreamObjective that forgets the 1/std of the standardisation."""
    model, record = net64

    class Forgetful(dd.DreamObjective):
        def backward(self, grad_output=1.0):
            return super().backward(grad_output) * self.std

    target = Forgetful(model.until("relu2"), "square", None, record.mean, record.std, "relu2")
    target.train(False)
    with pytest.raises(VerificationError):
        against_torch(target, dd.torch_objective(target), photo[None, None])


def test_objective_value_and_gradient_by_hand(net64, photo):
    model, record = net64
    x = photo[None, None]
    target = dd.DreamObjective.at(model, "relu2", "square", None, record.mean, record.std)
    a = model.until("relu2")((x - record.mean) / record.std)
    value, grad = target.gradient(photo)
    assert value == pytest.approx(np.mean(a**2), rel=1e-12)
    # a directional derivative by central differences, along a smooth direction
    direction = np.outer(np.hanning(40), np.hanning(48))
    h = 1e-6
    slope = (target.value(photo + h * direction) - target.value(photo - h * direction)) / (2 * h)
    assert np.sum(grad * direction) == pytest.approx(slope, rel=1e-5)


def test_mean_objective_of_a_linear_stage_ignores_the_image(net64, photo):
    """conv1 has no bias: the mean of its output is linear in the pixels, so its gradient is
    the same for every image (the claim the chapter makes for the 'mean' objective)."""
    model, record = net64
    target = dd.DreamObjective.at(model, "conv1", "mean", None, record.mean, record.std)
    _, g1 = target.gradient(photo)
    _, g2 = target.gradient(np.random.default_rng(5).random(photo.shape))
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)
    square = dd.DreamObjective.at(model, "conv1", "square", None, record.mean, record.std)
    assert not np.allclose(square.gradient(photo)[1], square.gradient(1 - photo)[1])


# -- one step ----------------------------------------------------------------------------------
def test_normalized_step():
    rng = np.random.default_rng(2)
    image = rng.uniform(0.3, 0.7, (12, 10))
    grad = rng.standard_normal((12, 10))
    out = dd.normalized_step(image, grad, 0.01)
    assert np.mean(np.abs(out - image)) == pytest.approx(0.01, rel=1e-6)   # no pixel clipped
    np.testing.assert_allclose(dd.normalized_step(image, 1e-4 * grad, 0.01), out, rtol=1e-5)
    np.testing.assert_allclose(dd.normalized_step(image, 1e5 * grad, 0.01), out, rtol=1e-8)
    assert np.all(np.sign(out - image) == np.sign(grad))                    # ascent, not descent
    clipped = dd.normalized_step(image, grad, 1.0)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    assert np.array_equal(dd.normalized_step(image, np.zeros_like(grad), 0.1), image)
    assert dd.normalized_step(image.astype(np.float32), grad, 0.1).dtype == np.float32


# -- the whole dream -----------------------------------------------------------------------------
@pytest.mark.parametrize("stage", ["conv1", "relu1", "relu2", "relu3", "logits"])
def test_the_objective_increases(net32, photo, stage):
    model, record = net32
    kw = dict(objective="mean", channel=3) if stage == "logits" else {}
    out = small(model, record, photo, stage, jitter=0, octaves=1, steps=8, **kw)
    values = out.objectives[0]
    assert out.after > out.before and values[-1] > values[0]
    assert np.all(np.diff(values) > 0), values                 # every step climbs, at this size
    assert out.image.min() >= 0 and out.image.max() <= 1       # clipped to the pixel range


def test_dream_shapes_octaves_and_jitter(net32, photo):
    model, record = net32
    out = small(model, record, photo, octaves=3, steps=3, jitter=3)
    assert out.shapes == dd.octave_shapes(photo.shape, 3, 1.4) and out.shapes[-1] == photo.shape
    assert [len(v) for v in out.objectives] == [3, 3, 3]
    assert out.image.shape == out.start.shape == photo.shape and out.image.dtype == np.float32
    shifts = np.array(out.shifts)
    assert shifts.shape == (9, 2) and np.abs(shifts).max() <= 3 and np.abs(shifts).max() > 0
    assert len(set(map(tuple, out.shifts))) > 1                # drawn afresh for each step
    still = small(model, record, photo, jitter=0)
    assert set(map(tuple, still.shifts)) == {(0, 0)}
    np.testing.assert_allclose(out.detail, out.image - out.start)


def test_one_jittered_step_by_hand(net64, photo):
    """One step, one octave: roll by the recorded shift, step on the gradient, roll back."""
    model, record = net64
    out = small(model, record, photo, octaves=1, steps=1, jitter=5, seed=4)
    dy, dx = out.shifts[0]
    assert (dy, dx) != (0, 0)
    target = dd.DreamObjective.at(model, "relu2", mean=record.mean, std=record.std)
    rolled = np.roll(photo, (dy, dx), axis=(0, 1))
    _, grad = target.gradient(rolled)
    expected = np.roll(dd.normalized_step(rolled, grad, 0.01), (-dy, -dx), axis=(0, 1))
    np.testing.assert_allclose(out.image, expected, rtol=0, atol=1e-12)
    # rolling is a permutation: the same as stepping on the shifted objective's gradient
    _, unrolled = target.gradient(photo)
    assert not np.allclose(grad, np.roll(unrolled, (dy, dx), axis=(0, 1)))   # max-pooling: not
                                                                             # shift-equivariant


def test_octaves_carry_the_detail_up(net64, photo):
    """Two octaves: the first is a dream of the photograph at half size; the second starts
    from the full-size photograph plus that dream's detail, resized up."""
    model, record = net64
    base = dict(mean=record.mean, std=record.std, jitter=0, octave_scale=2.0)
    one = dd.dream(model, dd.bilinear_resize(photo, (20, 24)), "relu2", steps=3, octaves=1,
                   **base)
    two = dd.dream(model, photo, "relu2", steps=3, octaves=2, **base)
    np.testing.assert_allclose(two.objectives[0], one.objectives[0], rtol=1e-12)
    target = dd.DreamObjective.at(model, "relu2", mean=record.mean, std=record.std)
    carried = np.clip(photo + dd.bilinear_resize(one.detail, photo.shape), 0, 1)
    assert two.objectives[1][0] == pytest.approx(target.value(carried), rel=1e-12)
    assert two.objectives[1][0] > target.value(photo)        # the carried detail already helps


def test_determinism_with_a_seed(net32, photo):
    model, record = net32
    a = small(model, record, photo, seed=7)
    b = small(model, record, photo, seed=7)
    c = small(model, record, photo, seed=8)
    assert np.array_equal(a.image, b.image) and a.shifts == b.shifts
    assert not np.array_equal(a.image, c.image)


def test_the_weights_never_move(net32, photo):
    model, record = net32
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    buffers = {name: b.copy() for name, b in model.named_buffers()}
    small(model, record, photo, progress=True)
    for name, p in model.named_parameters():
        assert np.array_equal(p.data, before[name]) and p.grad is None
    for name, b in model.named_buffers():
        assert np.array_equal(b, buffers[name])


def test_clear_errors(net32, photo):
    model, record = net32
    with pytest.raises(ValueError, match="relu2"):             # lists the stages
        small(model, record, photo, "relu9")
    with pytest.raises(ValueError, match="grey"):
        small(model, record, np.stack([photo] * 3, axis=-1))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        small(model, record, photo[0])
    with pytest.raises(TypeError, match="255"):
        small(model, record, (photo * 255).astype(np.uint8))
    with pytest.raises(TypeError, match="NumPy array"):
        small(model, record, photo.tolist())
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\]"):
        small(model, record, photo * 3)
    with pytest.raises(ValueError, match="NaN"):
        small(model, record, np.where(photo > 0.9, np.nan, photo))
    with pytest.raises(ValueError, match="below 8"):
        small(model, record, photo, octaves=6)
    with pytest.raises(ValueError, match="objective"):
        small(model, record, photo, objective="max")
    with pytest.raises(ValueError, match="channel 40"):
        small(model, record, photo, channel=40)
    with pytest.raises(ValueError, match="jitter"):
        small(model, record, photo, jitter=-1)
    with pytest.raises(ValueError, match="evaluation mode"):
        small(pretrained.digits_cnn_untrained(), record, photo)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        dd.DreamObjective.at(model, "relu2")(photo[None].astype(np.float32))


# -- measuring the detail ------------------------------------------------------------------------
def test_band_energy_and_mean_frequency():
    r, q = np.mgrid[0:64, 0:64]
    checker = (-1.0) ** (r + q)                                # 0.5 cycles/pixel on both axes
    assert dd.band_energy(checker)[-1] == pytest.approx(1.0)
    slow = np.cos(2 * np.pi * 2 * q / 64)                      # 2 cycles over 64 pixels
    assert dd.band_energy(slow)[0] == pytest.approx(1.0)
    wave = np.cos(2 * np.pi * 0.2 * q)                         # not a whole number of cycles
    assert dd.mean_frequency(np.cos(2 * np.pi * 8 * q / 64)) == pytest.approx(0.125)
    assert abs(dd.mean_frequency(wave) - 0.2) < 0.02
    noise = np.random.default_rng(0).standard_normal((32, 48))
    assert dd.band_energy(noise).sum() == pytest.approx(1.0)


def test_importing_does_not_import_torch():
    code = ("import sys, deepglossary.dream, deepglossary.exercises.dream; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
