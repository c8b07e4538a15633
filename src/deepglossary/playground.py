"""The optimizer playground shared by the optimization chapters: 2-D test surfaces with the
paths that optimizers take across them, and learning curves of the same MNIST network trained
with different optimizers from the same initial weights on the same minibatches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepglossary.nn.core import Parameter


@dataclass
class Surface:
    """A function of two variables with its gradient, a start point and a view window."""

    name: str
    f: callable          # points (..., 2) -> values (...)
    grad: callable       # point (2,) -> gradient (2,)
    start: tuple
    minima: tuple
    xlim: tuple
    ylim: tuple


def _quadratic(p):
    return 0.5 * (p[..., 0] ** 2 + 25 * p[..., 1] ** 2)


def _rosenbrock(p):
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(p):
    x, y = p[..., 0], p[..., 1]
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2
            + (2.625 - x + x * y**3) ** 2)


def _saddle(p):
    x, y = p[..., 0], p[..., 1]
    return x**2 + y**4 / 4 - y**2


SURFACES = {
    "ill-conditioned quadratic": Surface(
        "ill-conditioned quadratic", _quadratic,
        lambda p: np.array([p[0], 25 * p[1]]), (-4.5, 1.5), ((0.0, 0.0),), (-5, 5), (-2, 2)),
    "Rosenbrock": Surface(
        "Rosenbrock", _rosenbrock,
        lambda p: np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2),
                            200 * (p[1] - p[0] ** 2)]),
        (-1.5, 2.0), ((1.0, 1.0),), (-2, 2), (-1, 3)),
    "Beale": Surface(
        "Beale", _beale,
        lambda p: np.array([
            sum(2 * (c - p[0] + p[0] * p[1] ** k) * (p[1] ** k - 1)
                for k, c in ((1, 1.5), (2, 2.25), (3, 2.625))),
            sum(2 * (c - p[0] + p[0] * p[1] ** k) * (k * p[0] * p[1] ** (k - 1))
                for k, c in ((1, 1.5), (2, 2.25), (3, 2.625)))]),
        (1.0, 1.4), ((3.0, 0.5),), (-0.5, 4.5), (-1.5, 2.0)),
    "saddle": Surface(
        "saddle", _saddle,
        lambda p: np.array([2 * p[0], p[1] ** 3 - 2 * p[1]]),
        (1.8, 1e-3), ((0.0, 2**0.5), (0.0, -(2**0.5))), (-2, 2), (-2, 2)),
}


def trajectory(make_optimizer, surface: Surface | str, steps: int = 200, start=None) -> np.ndarray:
    """The points an optimizer visits from ``start``: shape (steps + 1, 2), or fewer rows if
    it diverged (left the window by a factor of 100, or stopped being finite).

    ``make_optimizer(params)`` builds the optimizer for a list of one 2-vector parameter.
    """
    surface = SURFACES[surface] if isinstance(surface, str) else surface
    p = Parameter(np.array(surface.start if start is None else start, dtype=np.float64))
    optimizer = make_optimizer([p])
    path = [p.data.copy()]
    limit = 100 * max(map(abs, surface.xlim + surface.ylim))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            p.grad = surface.grad(p.data)
            optimizer.step()
            if not np.isfinite(p.data).all() or np.abs(p.data).max() > limit:
                break
            path.append(p.data.copy())
    return np.array(path)


def plot_paths(ax, surface: Surface | str, paths: dict, *, levels: int = 30):
    """Log-spaced contours of the surface, its minima (stars), and each path in ``paths``."""
    surface = SURFACES[surface] if isinstance(surface, str) else surface
    gx, gy = np.meshgrid(np.linspace(*surface.xlim, 300), np.linspace(*surface.ylim, 300))
    z = surface.f(np.stack([gx, gy], axis=-1))
    z = np.log(z - z.min() + 1e-3)
    ax.contour(gx, gy, z, levels=levels, cmap="Greys", linewidths=0.6, alpha=0.8)
    for m in surface.minima:
        ax.plot(*m, "*", color="gold", ms=16, mec="k", zorder=5)
    for i, (name, path) in enumerate(paths.items()):
        final = surface.f(path[-1])
        note = "diverged" if len(path) and not _inside(path[-1], surface) else f"f = {final:.2g}"
        ax.plot(path[:, 0], path[:, 1], "-o", ms=2, lw=1.3, color=f"C{i}",
                label=f"{name} ({len(path) - 1} steps, {note})")
    ax.plot(*surface.start, "ko", ms=5)
    ax.set(xlim=surface.xlim, ylim=surface.ylim, title=surface.name)
    ax.legend(fontsize=8, loc="best")
    return ax


def _inside(point, surface: Surface) -> bool:
    return (surface.xlim[0] <= point[0] <= surface.xlim[1]
            and surface.ylim[0] <= point[1] <= surface.ylim[1])


def compare_on_mnist(optimizers: dict, *, sizes=(784, 64, 10), epochs: int = 3,
                     batch_size: int = 64, seed: int = 0, data=None) -> dict:
    """Train the same MLP with each optimizer: identical initial weights (one seed) and the
    identical sequence of minibatches (another). ``optimizers`` maps a name to a function of
    the parameter list. Returns name -> :class:`~deepglossary.train.History`.
    """
    from deepglossary.data import mnist
    from deepglossary.losses import CrossEntropy
    from deepglossary.models import MLP
    from deepglossary.train import fit

    data = data or mnist()
    histories = {}
    for name, make in optimizers.items():
        model = MLP(list(sizes), rng=np.random.default_rng(seed))
        histories[name] = fit(model, CrossEntropy(), make(model.parameters()), data.x_train,
                              data.y_train, epochs=epochs, batch_size=batch_size,
                              x_test=data.x_test, y_test=data.y_test,
                              rng=np.random.default_rng(seed + 1), progress=False)
    return histories


def plot_learning_curves(axes, histories: dict, *, smooth: int = 20):
    """Left: minibatch loss (moving average over ``smooth`` steps); right: test accuracy."""
    ax_loss, ax_acc = axes
    kernel = np.ones(smooth) / smooth
    for i, (name, h) in enumerate(histories.items()):
        loss = np.convolve(h.loss, kernel, mode="valid")
        ax_loss.plot(np.arange(len(loss)) + smooth, loss, color=f"C{i}", label=name)
        ax_acc.plot(range(1, len(h.test_accuracy) + 1), h.test_accuracy, "o-", color=f"C{i}",
                    label=f"{name}: {h.test_accuracy[-1]:.1%}")
    ax_loss.set(xlabel="step", ylabel=f"loss (mean of {smooth} steps)", yscale="log",
                title="MNIST MLP: training loss")
    epochs = max(len(h.test_accuracy) for h in histories.values())
    ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy",
               xticks=range(1, epochs + 1))
    ax_acc.legend(fontsize=8)
    return axes


# -- a loss with a cliff: a one-unit recurrent network run for many steps ------------------
CLIFF_STEPS, CLIFF_START, CLIFF_TARGET = 10, 0.5, 4.0


def cliff_loss(w, b, steps: int = CLIFF_STEPS):
    """(x_T - 4)^2 for the recurrence x_t = w sigmoid(x_{t-1}) + b, x_0 = 0.5: a single
    recurrent unit, after the example of Pascanu, Mikolov and Bengio (2013). Vectorised over
    arrays w, b. For large w the recurrence has two stable states, and a small change of (w, b)
    can switch which one x_T ends near: the loss surface has a cliff."""
    x = np.full(np.broadcast(np.asarray(w), np.asarray(b)).shape, CLIFF_START)
    for _ in range(steps):
        x = w / (1 + np.exp(-x)) + b
    return (x - CLIFF_TARGET) ** 2


def cliff_gradient(p, steps: int = CLIFF_STEPS):
    """The loss and its gradient with respect to (w, b) at ``p``, by backpropagation through
    the ``steps`` time steps with the package's autograd engine."""
    from deepglossary.autograd import Tensor

    w, b, x = Tensor(float(p[0])), Tensor(float(p[1])), Tensor(CLIFF_START)
    for _ in range(steps):
        x = w * (1.0 / (1.0 + (-x).exp())) + b
    loss = (x - CLIFF_TARGET) ** 2
    loss.backward()
    return float(loss.data), np.array([float(w.grad), float(b.grad)])


def cliff_gradients(points, steps: int = CLIFF_STEPS):
    """:func:`cliff_gradient` for many points at once: ``points`` is (n, 2), rows (w, b);
    returns the losses (n,) and the gradients (n, 2), by backpropagation through the
    recurrence written out in NumPy (fast enough for a grid of starts)."""
    points = np.asarray(points, dtype=float)
    w, b = points[:, 0], points[:, 1]
    xs = [np.full(len(points), CLIFF_START)]
    for _ in range(steps):
        xs.append(w / (1 + np.exp(-xs[-1])) + b)
    loss = (xs[-1] - CLIFF_TARGET) ** 2
    upstream, d_w, d_b = 2 * (xs[-1] - CLIFF_TARGET), 0.0, 0.0
    for x_prev in reversed(xs[:-1]):           # x_t = w s(x_{t-1}) + b, from t = steps down
        s = 1 / (1 + np.exp(-x_prev))
        d_w, d_b = d_w + upstream * s, d_b + upstream
        upstream = upstream * w * s * (1 - s)
    return loss, np.stack([d_w, d_b], axis=1)


def step_lengths(make_optimizer, gradients) -> np.ndarray:
    """Feed one scalar parameter the given sequence of gradients and record how far the
    optimizer moves it at each step: the step sizes a method takes on a slope of known shape."""
    theta = Parameter(np.zeros(1))
    optimizer, lengths = make_optimizer([theta]), []
    for g in gradients:
        before = theta.data.copy()
        theta.grad = np.array([float(g)])
        optimizer.step()
        lengths.append(abs(theta.data - before)[0])
    return np.array(lengths)
