"""Reproducing a paper's claim in miniature: seeds, confidence intervals and a runner.

One training run is one draw from a distribution: the seed picks the initial weights and
the order of the minibatches, and the result moves with it. A claim such as "A reaches 90%
in fewer steps than B" is a claim about the *mean* over seeds, so it is stated with an
interval that says how well the seeds measured that mean.

    runs = run_seeds(lambda s: train_run(True, 1.0, s, data), seeds=range(10))
    accuracy = t_interval(runs["accuracy"][:, -1])          # mean over seeds, 95% interval
    gain = welch_interval(with_bn, without_bn)               # a difference of two means
    accuracy.excludes(0.5)                                    # True: the interval misses 0.5

Everything is NumPy; the Student-t quantile is computed here (regularised incomplete beta
function, then bisection), and the tests compare every interval with ``scipy.stats``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

# ---------------------------------------------------------------------------------------------
# The Student-t distribution


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz method)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)),            # even step
                          -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):  # odd step
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1
    (``scipy.special.betainc``)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):          # the fraction converges fast on this side
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def _check_df(df) -> float:
    if isinstance(df, bool) or not isinstance(df, int | float | np.integer | np.floating) \
            or not (df > 0 and np.isfinite(df)):
        raise ValueError(f"degrees of freedom must be a positive finite number, got {df!r}")
    return float(df)


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom (``scipy.stats.t.cdf``).

    For t >= 0: 1 - I_{df / (df + t^2)}(df / 2, 1 / 2) / 2, and by symmetry for t < 0.
    Scalars in, a float out."""
    df = _check_df(df)
    t = float(t)
    if np.isnan(t):
        raise ValueError("student_t_cdf: t is NaN")
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t)) if np.isfinite(t) else 0.0
    return 1.0 - tail if t >= 0 else tail


def student_t_quantile(q: float, df: float) -> float:
    """The t with P(T <= t) = q (``scipy.stats.t.ppf``), by bisection on ``student_t_cdf``
    to about 1e-12 relative. ``q`` in (0, 1), ``df`` > 0."""
    df = _check_df(df)
    if not (isinstance(q, int | float | np.integer | np.floating) and 0 < q < 1):
        raise ValueError(f"student_t_quantile: q must be a probability in (0, 1), got {q!r}")
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -student_t_quantile(1.0 - q, df)
    hi = 1.0
    while student_t_cdf(hi, df) < q:          # bracket: [0, hi] holds the quantile
        hi *= 2.0
    lo = 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if student_t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


# ---------------------------------------------------------------------------------------------
# Confidence intervals


@dataclass
class Interval:
    """A confidence interval for a mean (or a difference of means): ``center`` (the estimate),
    ``low``, ``high``, each a float or an array of shape (T,) for T quantities at once (a
    curve's T points), ``confidence`` (0.95 for a 95% interval) and ``n`` (the seeds)."""

    center: np.ndarray | float
    low: np.ndarray | float
    high: np.ndarray | float
    confidence: float
    n: int
    method: str

    @property
    def half_width(self):
        """Half the length of the interval, (high - low) / 2."""
        return (np.asarray(self.high) - np.asarray(self.low)) / 2

    def excludes(self, value: float = 0.0):
        """Whether ``value`` lies outside the interval (elementwise for arrays)."""
        out = (np.asarray(self.low) > value) | (np.asarray(self.high) < value)
        return bool(out) if np.ndim(out) == 0 else out

    def __str__(self) -> str:
        if np.ndim(self.center):
            return f"{self.method} {self.confidence:.0%} intervals of {np.size(self.center)} means"
        return (f"{self.center:.4g} [{self.low:.4g}, {self.high:.4g}] "
                f"({self.confidence:.0%} {self.method}, n={self.n})")


def _samples(samples, who: str, minimum: int = 2) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"{who}: samples must have shape (n,) or (n, T) (one row per seed), "
                         f"got shape {x.shape}")
    if len(x) < minimum:
        raise ValueError(f"{who}: needs at least {minimum} samples (seeds) along axis 0, "
                         f"got {len(x)}")
    if not np.isfinite(x).all():
        raise ValueError(f"{who}: samples must be finite (a run that never reached the "
                         f"target has inf steps: give it a value or leave it out)")
    return x


def _confidence(confidence) -> float:
    if not (isinstance(confidence, float | np.floating) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a float in (0, 1), e.g. 0.95, got {confidence!r}")
    return float(confidence)


def _scalar(a):
    return float(a) if np.ndim(a) == 0 else a


def t_interval(samples, confidence: float = 0.95) -> Interval:
    """The Student-t confidence interval for the mean of ``samples``.

    ``samples``: (n,) values, one per seed, or (n, T) for T quantities at once (an interval at
    every point of a curve). With mean m, sample standard deviation s (ddof 1) and
    t = ``student_t_quantile((1 + confidence) / 2, n - 1)``, the interval is m -+ t s / sqrt(n).
    It assumes the n values are independent draws from one normal distribution (roughly normal
    suffices for the mean). ``scipy.stats.t.interval(confidence, n - 1, m, s / sqrt(n))``.
    A paired difference (same seeds for both arms) is ``t_interval(a - b)``.
    """
    x, confidence = _samples(samples, "t_interval"), _confidence(confidence)
    n = len(x)
    mean = x.mean(axis=0)                                      # (T,) or ()
    sem = x.std(axis=0, ddof=1) / np.sqrt(n)                   # standard error of the mean
    t = student_t_quantile((1 + confidence) / 2, n - 1)
    return Interval(_scalar(mean), _scalar(mean - t * sem), _scalar(mean + t * sem),
                    confidence, n, "t-interval")


def welch_interval(a, b, confidence: float = 0.95) -> Interval:
    """Confidence interval for mean(a) - mean(b) of two independent groups with possibly
    different variances (Welch): standard error se = sqrt(s_a^2 / n_a + s_b^2 / n_b) and
    Welch-Satterthwaite degrees of freedom se^4 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1)).

    ``a``: (n_a,), ``b``: (n_b,) (or (n_a, T), (n_b, T)). ``scipy.stats.ttest_ind(a, b,
    equal_var=False).confidence_interval(confidence)``. Raises ``ValueError`` when both groups
    have zero variance (no interval can be formed)."""
    a, b = _samples(a, "welch_interval (a)"), _samples(b, "welch_interval (b)")
    confidence = _confidence(confidence)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"welch_interval: a {a.shape} and b {b.shape} must agree after axis 0")
    va, vb = a.var(axis=0, ddof=1) / len(a), b.var(axis=0, ddof=1) / len(b)
    if np.any(va + vb == 0):
        raise ValueError("welch_interval: both groups are constant; the interval is undefined")
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    t = np.vectorize(lambda d: student_t_quantile((1 + confidence) / 2, d))(df)
    diff = a.mean(axis=0) - b.mean(axis=0)
    return Interval(_scalar(diff), _scalar(diff - t * se), _scalar(diff + t * se), confidence,
                    len(a) + len(b), "Welch t-interval")


def bootstrap_interval(samples, confidence: float = 0.95, n_resamples: int = 10_000,
                       rng=None) -> Interval:
    """The percentile bootstrap interval for the mean: resample the n seeds with replacement
    ``n_resamples`` times, take each resample's mean, and report the (1 - c)/2 and (1 + c)/2
    quantiles of those means. No normality assumption, but with few seeds it is too narrow
    (it cannot see values it was not given). ``samples``: (n,) or (n, T).
    ``scipy.stats.bootstrap((x,), np.mean, method="percentile")``."""
    x, confidence = _samples(samples, "bootstrap_interval"), _confidence(confidence)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer) \
            or n_resamples < 100:
        raise ValueError(f"n_resamples must be an integer >= 100, got {n_resamples!r}")
    rng = np.random.default_rng(rng)
    n = len(x)
    index = rng.integers(0, n, size=(n_resamples, n))          # (B, n) resampled seeds
    means = x[index].mean(axis=1)                               # (B,) or (B, T)
    alpha = (1 - confidence) / 2
    low, high = np.percentile(means, [100 * alpha, 100 * (1 - alpha)], axis=0)
    return Interval(_scalar(x.mean(axis=0)), _scalar(low), _scalar(high), confidence, n,
                    "percentile bootstrap")


def steps_to_reach(steps, curves, target: float) -> np.ndarray:
    """The first recorded step at which each curve reaches ``target`` (>=), inf if never.

    ``steps``: (T,) recorded steps, increasing; ``curves``: (T,) or (n, T) (one row per seed).
    Returns a float, or (n,) floats."""
    steps, curves = np.asarray(steps), np.asarray(curves, dtype=np.float64)
    if steps.ndim != 1 or curves.shape[-1] != len(steps):
        raise ValueError(f"steps_to_reach: steps (T,) and curves (..., T) must share T, got "
                         f"{steps.shape} and {curves.shape}")
    hit = curves >= target                                      # (n, T)
    first = np.where(hit.any(axis=-1), steps[hit.argmax(axis=-1)], np.inf)
    return _scalar(first.astype(np.float64))


def run_seeds(run, seeds, *, progress: bool = False) -> dict:
    """Call ``run(seed)`` for each seed and stack what it returns.

    ``run(seed)`` returns a dict of arrays with the same shapes for every seed; the result has
    one more leading axis (len(seeds), ...), plus ``"seed"`` (len(seeds),)."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run_seeds: give at least one seed")
    results = [run(s) for s in tqdm(seeds, disable=not progress, desc="seeds", leave=False)]
    keys = results[0].keys()
    return {"seed": np.array(seeds)} | {k: np.stack([np.asarray(r[k]) for r in results])
                                        for k in keys}


# ---------------------------------------------------------------------------------------------
# The miniature of Ioffe and Szegedy's MNIST experiment (ICML 2015, Section 4.1)


def sigmoid_mlp(batch_norm: bool, seed: int, *, width: int = 100, depth: int = 3,
                dtype=np.float32):
    """The network of Ioffe and Szegedy's MNIST experiment: ``depth`` hidden layers of
    ``width`` sigmoid units, a 10-way affine output; with ``batch_norm`` a ``BatchNorm`` between
    each hidden affine layer and its sigmoid. Weights N(0, 1 / n_in), biases 0, drawn from
    ``np.random.default_rng(seed)`` in the same order with and without batch normalization, so
    that the two networks of one seed start from the same weights.

    Input (N, 784) -> logits (N, 10). The torch twin is ``torch.nn.Sequential`` of ``Linear``,
    ``BatchNorm1d``, ``Sigmoid`` at the same indices."""
    from deepglossary import init, nn

    rng = np.random.default_rng(seed)
    layers, n_in = [], 784
    for _ in range(depth):
        affine = nn.Affine(n_in, width, rng=rng, dtype=dtype)
        init.normal_(affine.weight, 0.0, 1 / np.sqrt(n_in), rng=rng)
        affine.bias.data[:] = 0
        layers += [affine] + ([nn.BatchNorm(width, dtype=dtype)] if batch_norm else [])
        layers.append(nn.Sigmoid())
        n_in = width
    return nn.Sequential(*layers, nn.Affine(n_in, 10, rng=rng, dtype=dtype))


def batch_seed(seed: int) -> int:
    """The seed of the minibatch order of run ``seed`` (a stream apart from the weights')."""
    return 10_000 + int(seed)


def train_run(batch_norm: bool, lr: float, seed: int, data, *, steps: int = 1000,
              record_every: int = 50, batch_size: int = 60, dtype=np.float32) -> dict:
    """Train ``sigmoid_mlp(batch_norm, seed)`` with plain SGD at ``lr`` for ``steps`` minibatch
    steps of ``batch_size`` on ``data`` (``deepglossary.data.mnist()``), the minibatches drawn
    from ``np.random.default_rng(batch_seed(seed))`` epoch after epoch.

    Returns ``{"loss": (steps,) training loss of each step (NaN after a divergence),
    "step": (k,) the recorded steps 0, record_every, ..., steps, "accuracy": (k,) test accuracy
    there}`` (k = steps / record_every + 1). The same call always gives the same numbers."""
    from deepglossary.losses import CrossEntropy
    from deepglossary.nn.core import nonfinite_allowed
    from deepglossary.optim import SGD
    from deepglossary.train import accuracy, batches

    if steps % record_every:
        raise ValueError(f"steps ({steps}) must be a multiple of record_every ({record_every})")
    x, y = data.x_train.astype(dtype), data.y_train
    x_test, y_test = data.x_test.astype(dtype), data.y_test
    model = sigmoid_mlp(batch_norm, seed, dtype=dtype)
    loss_fn, optimizer = CrossEntropy(), SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(batch_seed(seed))
    losses, recorded, accuracies, step, diverged = np.full(steps, np.nan), [], [], 0, False
    while step < steps:
        for index in batches(len(x), batch_size, rng):
            if step % record_every == 0:
                recorded.append(step)
                accuracies.append(accuracy(model, x_test, y_test))   # diverged: NaN argmax
            if step == steps:
                break
            if not diverged:
                optimizer.zero_grad()
                with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
                    loss = loss_fn(model(x[index]), y[index])
                    diverged = not np.isfinite(loss)
                    if not diverged:
                        model.backward(loss_fn.backward())
                        optimizer.step()
                        losses[step] = loss
                        diverged = not all(np.isfinite(p.data).all() for p in model.parameters())
            step += 1
    if step % record_every == 0 and recorded[-1] != step:       # the last point, at `steps`
        recorded.append(step)
        accuracies.append(accuracy(model, x_test, y_test))   # diverged: NaN argmax
    return {"loss": losses, "step": np.array(recorded), "accuracy": np.array(accuracies)}


# The shipped runs: scripts/reproduce_icml.py trains them, the ICML chapter reads them.
ICML_RATES = (0.5, 2.0, 8.0, 20.0)      # SGD learning rates
ICML_SEEDS = tuple(range(10))           # weights and minibatch order, see train_run
ICML_STEPS, ICML_RECORD_EVERY = 1000, 50
ICML_RUNS_SHA256 = "6462b2314bf663eed66f7268734e888de93187f786fc3ea79407623890bfde7d"


def icml_runs_path():
    import pathlib

    return pathlib.Path(__file__).parent / "data" / "icml_batchnorm_runs.npz"


def load_icml_runs(path=None) -> dict:
    """The shipped per-seed runs of the batch-normalization miniature, checked by sha256.

    Returns ``{"lr": (L,), "seed": (S,), "step": (K,), "accuracy": (2, L, S, K) test accuracy,
    "loss": (2, L, S, ICML_STEPS) training loss (float32), "seconds": (2, L, S)}``; axis 0 is
    batch normalization off (0) and on (1). Made by ``scripts/reproduce_icml.py``."""
    from deepglossary.data.files import checked_file

    path = checked_file(path, icml_runs_path(), ICML_RUNS_SHA256,
                        made_by="scripts/reproduce_icml.py")
    with np.load(path) as f:
        return {k: f[k] for k in f.files}
