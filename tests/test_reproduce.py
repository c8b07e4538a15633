"""deepglossary.reproduce: the Student-t distribution and every interval against scipy.stats,
the coverage of the t-interval by simulation, the runner, and the shipped runs."""

import numpy as np
import pytest
from scipy import stats

from deepglossary import reproduce as rp


@pytest.mark.parametrize("df", [1, 2, 2.5, 4, 9, 30, 1000])
def test_student_t_cdf_and_quantile_match_scipy(df):
    for t in (-40.0, -3.1, -1.0, -0.2, 0.0, 0.3, 1.7, 2.262, 12.0):
        assert rp.student_t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), rel=1e-11, abs=1e-14)
    for q in (0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.995, 0.9999):
        assert rp.student_t_quantile(q, df) == pytest.approx(stats.t.ppf(q, df), rel=1e-10,
                                                              abs=1e-12)


def test_t_quantile_refuses_bad_input():
    for q in (0, 1, 1.5, -0.1, "a"):
        with pytest.raises(ValueError, match="probability"):
            rp.student_t_quantile(q, 3)
    for df in (0, -1, np.inf, np.nan, True):
        with pytest.raises(ValueError, match="degrees of freedom"):
            rp.student_t_quantile(0.9, df)


@pytest.mark.parametrize("n", [2, 3, 5, 10, 40])
def test_t_interval_matches_scipy(n):
    x = np.random.default_rng(n).normal(3.0, 2.0, size=n)
    got = rp.t_interval(x, 0.95)
    low, high = stats.t.interval(0.95, n - 1, loc=x.mean(), scale=stats.sem(x))
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-10)
    assert got.center == pytest.approx(x.mean()) and got.n == n
    assert got.half_width == pytest.approx((high - low) / 2, rel=1e-10)
    got90 = rp.t_interval(x, 0.9)
    assert got90.high - got90.low < got.high - got.low


def test_t_interval_of_curves_is_the_interval_of_each_column():
    x = np.random.default_rng(0).standard_normal((6, 4))
    whole = rp.t_interval(x)
    for j in range(4):
        col = rp.t_interval(x[:, j])
        assert whole.low[j] == pytest.approx(col.low) and whole.high[j] == pytest.approx(col.high)
    assert whole.excludes(10.0).all() and not whole.excludes(whole.center[0])[0]


def test_paired_interval_matches_ttest_rel():
    rng = np.random.default_rng(1)
    a = rng.normal(size=8)
    b = a + rng.normal(0.5, 0.3, size=8)
    got = rp.t_interval(b - a)
    ci = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert (got.low, got.high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert got.excludes(0)


@pytest.mark.parametrize("na,nb", [(5, 5), (3, 9), (10, 4)])
def test_welch_interval_matches_scipy(na, nb):
    rng = np.random.default_rng(na * 10 + nb)
    a, b = rng.normal(1.0, 1.0, size=na), rng.normal(0.0, 3.0, size=nb)
    got = rp.welch_interval(a, b, 0.95)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (got.low, got.high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert got.center == pytest.approx(a.mean() - b.mean())


def test_welch_refuses_two_constant_groups_and_mismatched_shapes():
    with pytest.raises(ValueError, match="constant"):
        rp.welch_interval([1.0, 1.0, 1.0], [2.0, 2.0])
    with pytest.raises(ValueError, match="agree"):
        rp.welch_interval(np.zeros((3, 2)), np.zeros((3, 4)))


def test_bootstrap_interval_matches_scipy_percentile_bootstrap():
    x = np.random.default_rng(2).exponential(size=12)
    got = rp.bootstrap_interval(x, 0.95, n_resamples=40_000, rng=0)
    ref = stats.bootstrap((x,), np.mean, confidence_level=0.95, n_resamples=40_000,
                          method="percentile", rng=np.random.default_rng(1)).confidence_interval
    width = ref.high - ref.low
    assert abs(got.low - ref.low) < 0.03 * width and abs(got.high - ref.high) < 0.03 * width
    again = rp.bootstrap_interval(x, 0.95, n_resamples=40_000, rng=0)
    assert (again.low, again.high) == (got.low, got.high)            # seeded


def test_t_interval_covers_the_true_mean_about_95_percent_of_the_time():
    """5 normal draws, 4,000 times (the columns): the 95% t-interval holds the true mean in
    about 95% of them; z = 1.96 instead of t would cover only about 88%."""
    x = np.random.default_rng(3).normal(2.0, 1.5, size=(5, 4000))
    covered = ~rp.t_interval(x).excludes(2.0)
    assert 0.935 < covered.mean() < 0.965
    boot = ~rp.bootstrap_interval(x[:, :1000], n_resamples=2000, rng=0).excludes(2.0)
    assert boot.mean() < covered.mean()            # the bootstrap is too narrow with 5 seeds


def test_intervals_refuse_bad_samples():
    for bad in ([1.0], [[1.0, 2.0]], [1.0, np.nan, 2.0], [1.0, np.inf], np.zeros((2, 2, 2))):
        for fn in (rp.t_interval, rp.bootstrap_interval):
            with pytest.raises(ValueError, match="samples"):
                fn(bad)
    with pytest.raises(ValueError, match="confidence"):
        rp.t_interval([1.0, 2.0, 3.0], 95)
    with pytest.raises(ValueError, match="n_resamples"):
        rp.bootstrap_interval([1.0, 2.0, 3.0], n_resamples=10)


def test_steps_to_reach():
    steps = np.array([0, 10, 20, 30])
    curves = np.array([[0.1, 0.5, 0.9, 0.95], [0.1, 0.2, 0.3, 0.4], [0.9, 0.1, 0.9, 0.9]])
    np.testing.assert_array_equal(rp.steps_to_reach(steps, curves, 0.9), [20, np.inf, 0])
    assert rp.steps_to_reach(steps, curves[0], 0.5) == 10
    with pytest.raises(ValueError, match="share T"):
        rp.steps_to_reach(steps, curves[:, :3], 0.5)


def test_run_seeds_stacks_each_output():
    out = rp.run_seeds(lambda s: {"a": np.full(3, s), "b": s * 2.0}, seeds=[4, 5])
    np.testing.assert_array_equal(out["a"], [[4, 4, 4], [5, 5, 5]])
    np.testing.assert_array_equal(out["b"], [8.0, 10.0])
    np.testing.assert_array_equal(out["seed"], [4, 5])
    with pytest.raises(ValueError, match="seed"):
        rp.run_seeds(lambda s: {}, seeds=[])


def test_both_networks_of_one_seed_start_from_the_same_weights():
    plain, bn = rp.sigmoid_mlp(False, 3), rp.sigmoid_mlp(True, 3)
    weights = [p.data for n, p in plain.named_parameters()]
    affine_bn = [p.data for n, p in bn.named_parameters()
                 if n.split(".")[0] in {"0", "3", "6", "9"}]
    assert len(weights) == len(affine_bn) == 8
    for w, v in zip(weights, affine_bn):
        np.testing.assert_array_equal(w, v)
    assert not np.array_equal(weights[0], rp.sigmoid_mlp(False, 4).parameters()[0].data)


def test_train_run_is_deterministic_and_records_where_it_says():
    from deepglossary.data import mnist

    data = mnist()
    one = rp.train_run(True, 1.0, 0, data, steps=20, record_every=10)
    two = rp.train_run(True, 1.0, 0, data, steps=20, record_every=10)
    np.testing.assert_array_equal(one["step"], [0, 10, 20])
    for key in one:
        np.testing.assert_array_equal(one[key], two[key])
    assert np.isfinite(one["loss"]).all() and one["loss"].shape == (20,)
    with pytest.raises(ValueError, match="multiple"):
        rp.train_run(True, 1.0, 0, data, steps=25, record_every=10)


def test_shipped_runs_load_match_a_rerun_and_keep_the_stated_quality():
    from deepglossary.data import mnist

    runs = rp.load_icml_runs()
    lr = list(runs["lr"])
    assert runs["accuracy"].shape == (2, len(rp.ICML_RATES), len(rp.ICML_SEEDS),
                                      rp.ICML_STEPS // rp.ICML_RECORD_EVERY + 1)
    # the first 100 steps of one shipped run, rerun: the same numbers
    again = rp.train_run(True, 2.0, 0, mnist(), steps=100, record_every=rp.ICML_RECORD_EVERY)
    i = lr.index(2.0)
    np.testing.assert_allclose(again["accuracy"], runs["accuracy"][1, i, 0, :3], atol=2e-3)
    np.testing.assert_allclose(again["loss"], runs["loss"][1, i, 0, :100], rtol=1e-4)
    final = runs["accuracy"][..., -1]                          # (2, L, S)
    top = lr.index(max(lr))
    assert final[1, top].mean() > 0.85 and final[0, top].mean() < 0.2     # the claim of the chapter


def test_shipped_runs_refuse_an_altered_file(tmp_path):
    bad = tmp_path / "runs.npz"
    bad.write_bytes(rp.icml_runs_path().read_bytes()[:-1] + b"x")
    with pytest.raises(ValueError, match="sha256"):
        rp.load_icml_runs(bad)


def test_the_module_and_its_checker_import_neither_torch_nor_scipy():
    import subprocess
    import sys

    code = ("import sys, deepglossary.reproduce, deepglossary.exercises.icml; "
            "assert 'torch' not in sys.modules, 'torch was imported'; "
            "assert 'scipy' not in sys.modules, 'scipy was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
