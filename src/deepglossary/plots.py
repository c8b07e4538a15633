"""Plots that several chapters share."""

import numpy as np


def decision_boundary(ax, predict, x, y, *, resolution: int = 200, margin: float = 0.5):
    """Shade where ``predict`` (points (M, 2) -> scores (M,)) is above 0.5; scatter (x, y).

    ``predict`` returns a probability of class 1 for each point of the plane.
    """
    lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    from deepglossary.nn.core import no_grad

    with no_grad():                  # a look at the model, never backpropagated
        p = predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=25, vmin=0, vmax=1)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), aspect="equal")
    return ax
