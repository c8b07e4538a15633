"""deepglossary.finetune: freezing, the backward that stops at the frozen layers, parameter
groups, a new head, balanced subsets, and the fine-tuning step against torch."""

import math

import numpy as np
import pytest

from deepglossary import finetune as ft
from deepglossary import losses, nn, optim
from deepglossary.pretrained import digits_cnn, digits_cnn_untrained
from deepglossary.verify import VerificationError, optimizer_against_torch


@pytest.fixture
def model():
    m, _ = digits_cnn(dtype=np.float64)
    ft.replace_head(m, 10, rng=0)
    return m.train()


def batch(n=6, seed=0, side=28):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, side, side)), rng.integers(0, 10, n)


def gradients(m, x, y, stop=False):
    loss_fn = losses.CrossEntropy()
    m.zero_grad()
    loss_fn(m(x), y)
    if stop:
        ft.backward_to_trainable(m, loss_fn.backward())
    else:
        m.backward(loss_fn.backward())
    return {name: None if p.grad is None else p.grad.copy() for name, p in m.named_parameters()}


# -- freezing ---------------------------------------------------------------------------------

def test_freeze_marks_parameters_and_keeps_the_mode(model):
    n_all = len(model.parameters())
    assert ft.trainable_parameters(model) == model.parameters() and ft.frozen_names(model) == []
    assert ft.freeze(model.features) is model.features
    assert model.features.training                                   # freeze is not eval()
    assert ft.frozen_names(model) == [n for n, _ in model.named_parameters()
                                      if n.startswith("features.")]
    assert ft.trainable_parameters(model) == [model.fc.weight, model.fc.bias]
    assert not ft.requires_grad(model.features[0].weight) and ft.requires_grad(model.fc.bias)
    ft.unfreeze(model)
    assert len(ft.trainable_parameters(model)) == n_all


def test_freeze_refuses_what_is_not_a_layer(model):
    with pytest.raises(TypeError, match="layer"):
        ft.freeze(model.parameters())
    with pytest.raises(TypeError, match="Parameter"):
        ft.requires_grad(np.zeros(3))


def test_drop_frozen_gradients(model):
    x, y = batch()
    gradients(model, x, y)
    ft.freeze(model.features[0])
    assert ft.drop_frozen_gradients(model) == 1
    assert model.features[0].weight.grad is None and model.features[1].weight.grad is not None


# -- the head and the features ------------------------------------------------------------------

def test_replace_head(model):
    old = model.fc
    head = ft.replace_head(model, 7, rng=1)
    assert model.fc is head and head is not old
    assert head.weight.shape == (7, 64) and head.bias.shape == (7,)
    assert head.weight.dtype == old.weight.dtype == np.float64
    x, _ = batch(3)
    assert model(x).shape == (3, 7)
    m32, _ = digits_cnn()
    assert ft.replace_head(m32, 3, rng=0).weight.dtype == np.float32
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="num_classes"):
            ft.replace_head(model, bad)
    with pytest.raises(TypeError, match="features"):
        ft.replace_head(nn.Sequential(nn.Affine(3, 2)), 2)


def test_features_are_the_pooled_backbone_output_in_eval_mode(model):
    x, _ = batch(7)
    got = ft.features(model, x, batch_size=3)
    assert model.training                                    # the mode is restored
    model.eval()
    with nn.no_grad():
        expected = model.avgpool(model.features(x)).reshape(7, -1)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got.shape == (7, 64)


# -- the backward that stops ----------------------------------------------------------------------

@pytest.mark.parametrize("frozen_up_to", [None, 0, 3, 7, 12, 14])
def test_backward_to_trainable_gives_the_full_backward_gradients(model, frozen_up_to):
    x, y = batch()
    full = gradients(model, x, y)
    if frozen_up_to is not None:
        for layer in list(model.features)[:frozen_up_to + 1]:
            ft.freeze(layer)
    partial = gradients(model, x, y, stop=True)
    lowest_trainable = next((i for i, layer in enumerate(model.features)
                             if any(ft.requires_grad(p) for p in layer.parameters())), None)
    for name, p in model.named_parameters():
        if ft.requires_grad(p):
            np.testing.assert_allclose(partial[name], full[name], rtol=1e-10, atol=1e-14)
        else:
            assert partial[name] is None, f"{name} is frozen below the stop and got a gradient"
    if lowest_trainable is None:
        assert all(partial[n] is None for n in partial if n.startswith("features."))


def test_backward_to_trainable_counts_the_layers(model):
    x, y = batch(4)
    loss_fn = losses.CrossEntropy()
    loss_fn(model(x), y)
    assert ft.backward_to_trainable(model, loss_fn.backward()) == len(model.features)
    ft.freeze(model.features)
    loss_fn(model(x), y)
    assert ft.backward_to_trainable(model, loss_fn.backward()) == 0
    assert model.fc.weight.grad is not None


def test_backward_to_trainable_is_faster_when_frozen(model):
    x, y = batch(16)
    ft.freeze(model.features)
    times = ft.time_backward(model, x, y, repeats=2)
    assert set(times) == {"forward", "full backward", "backward to trainable"}
    assert all(t > 0 for t in times.values())
    # timing is noisy; only a hang-free sanity check: the head's backward is far cheaper
    assert times["backward to trainable"] < times["full backward"]


# -- parameter groups -----------------------------------------------------------------------------

def test_grouped_adam_is_torch_adam_with_groups():
    import torch

    optimizer_against_torch(
        lambda ps: ft.GroupedOptimizer(optim.Adam, [{"params": ps[:1], "lr": 0.01},
                                                    {"params": ps[1:], "betas": (0.8, 0.99)}],
                                       lr=0.1),
        lambda ts: torch.optim.Adam([{"params": ts[:1], "lr": 0.01},
                                     {"params": ts[1:], "betas": (0.8, 0.99)}], lr=0.1),
        steps=50)


def test_grouped_sgd_with_weight_decay_is_torch_sgd_with_groups():
    import torch

    optimizer_against_torch(
        lambda ps: ft.GroupedOptimizer(optim.SGD, [{"params": ps[:1], "weight_decay": 0.1},
                                                   {"params": ps[1:], "lr": 0.5}],
                                       lr=0.05, momentum=0.9),
        lambda ts: torch.optim.SGD([{"params": ts[:1], "weight_decay": 0.1},
                                    {"params": ts[1:], "lr": 0.5}], lr=0.05, momentum=0.9),
        steps=30)


def test_param_groups_list_every_hyperparameter_and_a_change_takes_effect():
    w, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))
    opt = ft.GroupedOptimizer(optim.SGD, [{"params": [w], "lr": 0.1}, {"params": [b]}], lr=1.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0
    assert opt.param_groups[1]["momentum"] == 0.0 and opt.params == [w, b]
    w.grad, b.grad = np.ones(3), np.ones(2)
    opt.step()
    np.testing.assert_allclose(w.data, 0.9)
    np.testing.assert_allclose(b.data, 0.0)
    opt.param_groups[0]["lr"] = 0.5                           # as a schedule would
    opt.step()
    np.testing.assert_allclose(w.data, 0.4)
    opt.param_groups[0]["lr"] = -1.0
    with pytest.raises(ValueError, match="learning rate"):
        opt.step()
    opt.zero_grad()
    assert w.grad is None and b.grad is None


def test_grouped_optimizer_refuses_bad_groups(model):
    p = model.fc.weight
    with pytest.raises(ValueError, match="more than one parameter group"):
        ft.GroupedOptimizer(optim.Adam, [{"params": [p]}, {"params": [p, model.fc.bias]}])
    with pytest.raises(ValueError, match="'params'"):
        ft.GroupedOptimizer(optim.Adam, [{"lr": 0.1}])
    with pytest.raises(ValueError, match="no hyperparameter"):
        ft.GroupedOptimizer(optim.Adam, [{"params": [p], "momentum": 0.9}])
    with pytest.raises(ValueError, match="no hyperparameter"):
        ft.GroupedOptimizer(optim.SGD, [{"params": [p]}], betas=(0.9, 0.9))
    with pytest.raises(TypeError, match="parameter groups"):
        ft.GroupedOptimizer(optim.Adam, model.parameters())
    with pytest.raises(TypeError, match="list of parameter groups"):
        ft.GroupedOptimizer(optim.Adam, model)
    with pytest.raises(TypeError, match="optimizer class"):
        ft.GroupedOptimizer(optim.Adam(model.parameters()), [{"params": [p]}])
    one = ft.GroupedOptimizer(optim.Adam, {"params": [p]}, lr=0.1)    # one dict: one group
    assert len(one.param_groups) == 1 and "GroupedOptimizer(Adam" in repr(one)


# -- data and training ----------------------------------------------------------------------------

def test_balanced_subset_is_balanced_nested_and_seeded():
    labels = np.random.default_rng(0).integers(0, 4, 200)
    small = ft.balanced_subset(labels, 5, seed=3)
    large = ft.balanced_subset(labels, 20, seed=3)
    assert np.array_equal(np.bincount(labels[small]), [5] * 4)
    assert np.array_equal(np.bincount(labels[large]), [20] * 4)
    assert set(small) <= set(large) and np.all(np.diff(large) > 0)
    assert np.array_equal(small, ft.balanced_subset(labels, 5, seed=3))
    assert not np.array_equal(small, ft.balanced_subset(labels, 5, seed=4))
    with pytest.raises(ValueError, match="class"):
        ft.balanced_subset(labels, 1000)
    with pytest.raises(ValueError, match="per_class"):
        ft.balanced_subset(labels, 0)
    with pytest.raises(ValueError, match="integer class labels"):
        ft.balanced_subset(labels.astype(float), 2)


def test_step_batches_run_through_shuffled_epochs():
    batches = ft.step_batches(10, 7, 4, seed=0)
    assert len(batches) == 7 and all(len(b) == 4 for b in batches)
    flat = np.concatenate(batches)
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:20]) == list(range(10))
    assert all(len(b) == 3 for b in ft.step_batches(3, 2, 8))            # capped at n
    with pytest.raises(ValueError):
        ft.step_batches(0, 1, 1)


def test_training_the_head_through_the_frozen_model_equals_training_it_on_cached_features(model):
    """The chapter caches the frozen features: the same losses and head, step for step."""
    x, y = batch(12, seed=1)
    ft.freeze(model.features)
    model.features.eval()
    head = nn.Affine(64, 10, dtype=np.float64)
    head.weight.data[...], head.bias.data[...] = model.fc.weight.data, model.fc.bias.data
    through = ft.train_steps(model, optim.Adam(ft.trainable_parameters(model), lr=0.01), x, y,
                             steps=5, batch_size=4, seed=2)
    cached = ft.features(model, x)
    on_features = ft.train_steps(head, optim.Adam(head.parameters(), lr=0.01), cached, y,
                                 steps=5, batch_size=4, seed=2)
    np.testing.assert_allclose(through, on_features, rtol=1e-10)
    np.testing.assert_allclose(model.fc.weight.data, head.weight.data, rtol=1e-10, atol=1e-14)


def test_binomial_se_and_pca():
    np.testing.assert_allclose(ft.binomial_se(0.5, 100), 0.05)
    np.testing.assert_allclose(ft.binomial_se([0.0, 1.0], 10), [0.0, 0.0])
    with pytest.raises(ValueError):
        ft.binomial_se(1.2, 10)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 5)) * [5.0, 2.0, 1.0, 0.5, 0.1]
    projected, directions, explained = ft.pca(x, 2)
    assert projected.shape == (300, 2) and directions.shape == (2, 5)
    np.testing.assert_allclose(directions @ directions.T, np.eye(2), atol=1e-12)
    assert abs(directions[0, 0]) > 0.99 and abs(directions[1, 1]) > 0.99     # the long axes
    assert explained[0] > explained[1] and explained.sum() <= 1
    np.testing.assert_allclose(projected.var(axis=0, ddof=0),
                               np.linalg.svd(x - x.mean(0), compute_uv=False)[:2] ** 2 / 300)


def test_mcnemar_p_is_the_exact_two_sided_binomial_tail():
    assert ft.mcnemar_p(0, 5) == 2 / 32 and ft.mcnemar_p(5, 0) == 2 / 32
    assert ft.mcnemar_p(1, 9) == 2 * (1 + 10) / 2**10       # P(X <= 1) = (1 + 10) / 2^10
    assert ft.mcnemar_p(7, 7) == 1.0 and ft.mcnemar_p(0, 0) == 1.0
    assert ft.mcnemar_p(40, 60) == ft.mcnemar_p(60, 40) < ft.mcnemar_p(45, 55) < 1
    # far in the tail the normal approximation (z = 98 / sqrt(330) = 5.39) is close
    z = (214 - 116) / np.sqrt(330)
    normal = math.erfc(z / np.sqrt(2))
    assert 0.5 * normal < ft.mcnemar_p(214, 116) < 2 * normal
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="count"):
            ft.mcnemar_p(bad, 3)


def test_paired_comparison_uses_the_discordant_examples():
    a = np.array([True] * 6 + [False] * 2 + [True] * 10 + [False] * 2)
    b = np.array([False] * 6 + [True] * 2 + [True] * 10 + [False] * 2)
    result = ft.paired_comparison(a, b)
    assert (result.a_only, result.b_only) == (6, 2)
    assert result.gap == pytest.approx((6 - 2) / 20)
    d = np.r_[np.ones(6), -np.ones(2), np.zeros(12)]
    assert result.se == pytest.approx(np.sqrt(d.var() / 20))
    assert result.p_value == ft.mcnemar_p(6, 2)
    # the same two accuracies, right on the same examples: the paired SE is far smaller
    rng = np.random.default_rng(0)
    both = rng.random(1000) < 0.7
    a, b = both.copy(), both.copy()
    a[np.flatnonzero(~both)[:20]] = True                     # a: 20 more right than b
    paired = ft.paired_comparison(a, b)
    unpaired = np.hypot(ft.binomial_se(a.mean(), 1000), ft.binomial_se(b.mean(), 1000))
    assert paired.gap == pytest.approx(0.02) and paired.se < unpaired / 3
    assert paired.p_value < 1e-5                              # 20 to 0
    with pytest.raises(ValueError, match="boolean"):
        ft.paired_comparison(a.astype(int), b)
    with pytest.raises(ValueError, match="shape"):
        ft.paired_comparison(a, b[:-1])


# -- against torch ------------------------------------------------------------------------------

def test_fine_tuning_steps_agree_with_torch_frozen_and_with_two_learning_rates(model):
    import torch

    from deepglossary.twins.digits_cnn import digits_cnn as twin

    x, y = batch(8, seed=3)
    ft.freeze(model.features)
    model.features.eval()
    theirs = twin(10)
    theirs.features.requires_grad_(False)
    theirs.features.eval()
    report = ft.fine_tuning_against_torch(
        model, theirs, lambda m: optim.Adam(ft.trainable_parameters(m), lr=1e-2),
        lambda t: torch.optim.Adam([p for p in t.parameters() if p.requires_grad], lr=1e-2),
        x, y, steps=2, batch_size=4)
    assert report.ok and report.max_error < 1e-10

    ours, _ = digits_cnn(dtype=np.float64)
    ft.replace_head(ours, 10, rng=0)
    start = {name: p.data.copy() for name, p in ours.named_parameters()}
    theirs = twin(10)
    report = ft.fine_tuning_against_torch(
        ours.train(), theirs,
        lambda m: ft.GroupedOptimizer(optim.Adam, [{"params": m.features.parameters(),
                                                    "lr": 1e-3},
                                                   {"params": m.fc.parameters()}], lr=1e-2),
        lambda t: torch.optim.Adam([{"params": t.features.parameters(), "lr": 1e-3},
                                    {"params": t.fc.parameters()}], lr=1e-2),
        x, y, steps=2, batch_size=4, devices=["cpu"])
    assert report.ok and {row.device for row in report.rows} == {"cpu"}
    for name, p in theirs.named_parameters():                # trained on a copy: theirs keeps
        np.testing.assert_array_equal(p.detach().numpy(), start[name])     # our start
    assert not np.array_equal(ours.fc.weight.data, start["fc.weight"])


def test_fine_tuning_against_torch_catches_a_difference(model):
    import torch

    from deepglossary.twins.digits_cnn import digits_cnn as twin

    x, y = batch(8, seed=4)
    with pytest.raises(VerificationError):                  # one learning rate differs
        ft.fine_tuning_against_torch(
            model, twin(10),
            lambda m: ft.GroupedOptimizer(optim.Adam, [{"params": m.features.parameters(),
                                                        "lr": 1e-3},
                                                       {"params": m.fc.parameters()}], lr=1e-2),
            lambda t: torch.optim.Adam(t.parameters(), lr=1e-2), x, y, steps=2, batch_size=4)
    ours = digits_cnn_untrained(10, dtype=np.float64)
    ft.freeze(ours.features)
    with pytest.raises(ValueError, match="frozen parameters differ"):
        ft.fine_tuning_against_torch(ours, twin(10), lambda m: optim.Adam(m.parameters()),
                                     lambda t: torch.optim.Adam(t.parameters()), x, y)
    theirs = twin(10)
    theirs.features.requires_grad_(False)
    ours.features.eval()                                    # torch's backbone stays in train
    with pytest.raises(ValueError, match="modes differ"):
        ft.fine_tuning_against_torch(ours, theirs, lambda m: optim.Adam(m.parameters()),
                                     lambda t: torch.optim.Adam(t.parameters()), x, y)


def test_importing_finetune_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, deepglossary.finetune, deepglossary.exercises.finetune; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
