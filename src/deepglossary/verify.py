"""Proof that a from-scratch layer computes what PyTorch computes: values and gradients.

``against_torch(ours, theirs, *inputs)`` copies our parameters into the torch module by name,
runs both forward passes, backpropagates the *same random* upstream gradient through both
(never ``.sum()``, whose all-ones gradient hides transposed or permuted results), and compares
the output, the gradient of every floating input and the gradient of every parameter, on
every device torch can see (the CPU, and a CUDA GPU when there is one).

The error of each compared array is ``max|ours - torch| / max(max|torch|, 1)``: a norm-wise
relative error, so that entries tiny on the array's own scale do not blow it up, and for an
array whose entries are all below 1 (the scale of the standard normal upstream gradient) the
absolute error. Rounding errors are about machine epsilon times that scale, whatever the
array's own size: 1 - tanh(x)^2 near saturation is a difference of two numbers close to 1,
whose last bits differ between any two correct implementations. Tolerances:
1e-10 in float64, 1e-5 in float32. A mismatch raises :class:`VerificationError` with the whole
report; a match returns the :class:`Report`, which prints as a table in a notebook.

torch is imported inside the functions, never when this module is imported.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
SCALE_FLOOR = 1.0


class VerificationError(AssertionError):
    """Ours and PyTorch disagree beyond tolerance; the message holds the report."""


@dataclass
class Row:
    check: str          # which comparison the row belongs to, e.g. "PReLU vs torch"
    device: str
    dtype: str
    quantity: str
    shape: tuple
    abs_error: float
    rel_error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return bool(self.rel_error <= self.tolerance)


@dataclass
class Report:
    """What was compared, and how far apart the two sides were."""

    title: str
    rows: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def max_error(self) -> float:
        """The largest relative error over every compared array."""
        return max((r.rel_error for r in self.rows), default=0.0)

    def add(self, device, dtype, quantity, ours, theirs) -> Row:
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        tol = TOLERANCE.get(np.dtype(dtype), 1e-5)
        dtype = str(np.dtype(dtype))
        if ours.shape != theirs.shape:
            row = Row(self.title, device, dtype, quantity, ours.shape, np.inf, np.inf, tol)
        else:
            diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
            abs_err = float(diff.max(initial=0.0))
            scale = float(np.abs(theirs.astype(np.float64)).max(initial=0.0))
            rel = abs_err / max(scale, SCALE_FLOOR)
            if np.isnan(abs_err):
                abs_err = rel = np.inf
            row = Row(self.title, device, dtype, quantity, ours.shape, abs_err, rel, tol)
        self.rows.append(row)
        return row

    def __add__(self, other: Report) -> Report:
        return Report(self.title + " + " + other.title, self.rows + other.rows)

    def _columns(self):
        """Column names and each row's cells; a combined report leads with the check."""
        combined = len({r.check for r in self.rows}) > 1
        names = (["check"] if combined else []) + ["device", "dtype", "compared", "shape",
                                                   "max abs error", "relative error",
                                                   "tolerance", "ok"]
        cells = [([r.check] if combined else []) +
                 [r.device, r.dtype, r.quantity, str(r.shape), f"{r.abs_error:.1e}",
                  f"{r.rel_error:.1e}", f"{r.tolerance:.0e}", "✓" if r.ok else "✗"]
                 for r in self.rows]
        return names, cells

    def __str__(self) -> str:
        head = f"{self.title}: {'all match' if self.ok else 'MISMATCH'}"
        head += f" (largest relative error {self.max_error:.1e})"
        names, cells = self._columns()
        widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
        lines = [head, "  ".join(n.ljust(w) for n, w in zip(names, widths))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
        return "\n".join(line.rstrip() for line in lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color = "#2e7d32" if self.ok else "#c62828"
        verdict = "all match" if self.ok else "MISMATCH"
        names, cells = self._columns()
        head = "".join(f"<th>{n}</th>" for n in names)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in cells)
        return (f"<p><b>{html.escape(self.title)}</b>: <span style='color:{color}'><b>"
                f"{verdict}</b></span>, largest relative error {self.max_error:.1e}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def raise_if_mismatch(self) -> Report:
        if not self.ok:
            raise VerificationError("\n" + str(self))
        return self


def devices() -> list[str]:
    """Every device torch can compute on here: ``["cpu"]``, plus ``"cuda"`` when present."""
    import torch

    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    return found


def _torch_dtype(dtype):
    import torch

    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[
        np.dtype(dtype)]


def _upstream(seed: int, shape: tuple) -> np.ndarray:
    """A standard normal upstream gradient from a stream of its own: seeded with ``[seed,
    0x5EED]`` so it never equals an input a test drew with ``default_rng(seed)`` (an upstream
    gradient equal to the input makes ``g^T x`` symmetric and hides a transposed gradient)."""
    return np.random.default_rng([seed, 0x5EED]).standard_normal(shape)


def copy_parameters(ours, theirs, device: str = "cpu") -> None:
    """Copy every parameter and buffer of our layer into the torch module, by name.

    Raises ``ValueError`` when the two do not have the same parameter names and shapes, so
    that a forgotten parameter cannot go unverified.
    """
    import torch

    mine = dict(ours.named_parameters())
    their_params = dict(theirs.named_parameters())
    if set(mine) != set(their_params):
        raise ValueError(f"parameter names differ: ours only "
                         f"{sorted(set(mine) - set(their_params))}, torch only "
                         f"{sorted(set(their_params) - set(mine))}")
    with torch.no_grad():
        for name, p in mine.items():
            t = their_params[name]
            if tuple(t.shape) != p.shape:
                raise ValueError(f"parameter {name}: our shape {p.shape}, torch's {tuple(t.shape)}")
            t.copy_(torch.as_tensor(p.data, device=device))
        their_buffers = dict(theirs.named_buffers())
        for name, b in ours.named_buffers():
            if name in their_buffers:
                their_buffers[name].copy_(torch.as_tensor(np.asarray(b), device=device))


def against_torch(ours, theirs, *inputs, grad_output=None, seed: int = 0,
                  title: str | None = None, tolerance: float | None = None) -> Report:
    """Run ``ours`` (a :class:`~deepglossary.nn.Layer`) and ``theirs`` on the same inputs.

    Args:
        ours: our layer; its parameters are copied into ``theirs`` before the comparison.
        theirs: a ``torch.nn.Module`` with the same parameter names, or a plain function of
            tensors (``torch.sigmoid``) for layers without parameters.
        inputs: NumPy arrays; the first one's dtype (float32 or float64) sets the precision.
        grad_output: the upstream gradient; by default a standard normal array, seeded.
        tolerance: overrides the dtype's default relative tolerance.

    ``ours.backward`` may return one array (the gradient of the first input; the other inputs
    are then treated as constants, e.g. a loss's targets) or a tuple with one entry per input.

    Returns the :class:`Report`; raises :class:`VerificationError` if anything differs.
    """
    import torch

    inputs = [np.asarray(x) for x in inputs]
    dtype = inputs[0].dtype
    title = title or f"{type(ours).__name__} vs torch"
    report = Report(title)
    for device in devices():
        if isinstance(theirs, torch.nn.Module):
            theirs.to(device=device, dtype=_torch_dtype(dtype))
            copy_parameters(ours, theirs, device)
            theirs.train(ours.training)
            theirs.zero_grad(set_to_none=True)
        ours.zero_grad()

        out = ours(*inputs)
        g = grad_output
        if g is None:
            g = _upstream(seed, np.shape(out)).astype(dtype)
        grads = ours.backward(g)
        grads = grads if isinstance(grads, tuple) else (grads,)

        tins = [torch.tensor(x, device=device,
                             requires_grad=bool(i < len(grads) and grads[i] is not None
                                                and np.issubdtype(x.dtype, np.floating)))
                for i, x in enumerate(inputs)]
        tout = theirs(*tins)
        tout.backward(torch.as_tensor(np.asarray(g), device=device))

        def numpy(t):
            return t.detach().cpu().numpy()

        report.add(device, dtype, "output", out, numpy(tout))
        for i, grad in enumerate(grads):
            if grad is not None and tins[i].requires_grad:
                report.add(device, dtype, f"grad input[{i}]" if len(inputs) > 1 else "grad input",
                           grad, numpy(tins[i].grad))
        if isinstance(theirs, torch.nn.Module):
            their_params = dict(theirs.named_parameters())
            for name, p in ours.named_parameters():
                t = their_params[name].grad
                report.add(device, dtype, f"grad {name}", p.grad,
                           np.zeros(p.shape) if t is None else numpy(t))
            their_buffers = dict(theirs.named_buffers())
            for name, b in ours.named_buffers():
                if name in their_buffers:
                    report.add(device, dtype, name, b, numpy(their_buffers[name]))
    if tolerance is not None:
        for row in report.rows:
            row.tolerance = tolerance
    return report.raise_if_mismatch()


def gradcheck(layer, *inputs, eps: float = 1e-6, seed: int = 0, tolerance: float = 1e-6,
              title: str | None = None) -> Report:
    """Check ``layer.backward`` against central differences, in float64.

    With a random upstream gradient ``g`` the scalar ``L = sum(g * layer(x))`` has gradient
    ``layer.backward(g)``; each entry of every input and parameter is nudged by ``±eps`` and
    ``(L(+) - L(-)) / 2 eps`` compared with it. For what torch has no twin of.
    """
    inputs = [np.asarray(x, dtype=np.float64).copy() for x in inputs]
    params = list(layer.named_parameters())
    saved = [(p, p.data) for _, p in params]
    for p, data in saved:
        p.data = data.astype(np.float64)
    try:
        layer.zero_grad()
        out = layer(*inputs)
        g = _upstream(seed, np.shape(out))
        grads = layer.backward(g)
        grads = grads if isinstance(grads, tuple) else (grads,)

        def loss() -> float:
            return float(np.sum(g * layer(*inputs)))

        def numeric(array: np.ndarray) -> np.ndarray:
            num = np.zeros_like(array)
            flat, nflat = array.reshape(-1), num.reshape(-1)
            for i in range(flat.size):
                keep = flat[i]
                flat[i] = keep + eps
                up = loss()
                flat[i] = keep - eps
                down = loss()
                flat[i] = keep
                nflat[i] = (up - down) / (2 * eps)
            return num

        report = Report(title or f"{type(layer).__name__} vs central differences")
        for i, grad in enumerate(grads):
            if grad is not None:
                report.add("cpu", np.float64, f"grad input[{i}]" if len(inputs) > 1
                           else "grad input", grad, numeric(inputs[i]))
        for name, p in params:
            report.add("cpu", np.float64, f"grad {name}", p.grad, numeric(p.data))
        for row in report.rows:
            row.tolerance = tolerance
    finally:
        for p, data in saved:
            p.data = data
    return report.raise_if_mismatch()


@dataclass
class TrainingComparison:
    """Loss of every step of the same training run in ours and in torch, and their times."""

    ours: np.ndarray
    torch: np.ndarray
    ours_seconds: float
    torch_seconds: float
    threads: int

    @property
    def max_difference(self) -> float:
        return float(np.abs(self.ours - self.torch).max())

    def __str__(self) -> str:
        return (f"{len(self.ours)} steps: largest difference between the loss curves "
                f"{self.max_difference:.1e}; ours {self.ours_seconds:.2f} s, torch "
                f"{self.torch_seconds:.2f} s ({self.ours_seconds / self.torch_seconds:.2f}x), "
                f"{self.threads} thread(s) each")


def training_against_torch(ours, theirs, x, y, *, lr: float, batch_size: int, epochs: int = 1,
                           seed: int = 0, threads: int = 1) -> TrainingComparison:
    """Train ``ours`` (with ``losses.CrossEntropy`` and ``optim.SGD``) and ``theirs`` (with
    ``torch.nn.CrossEntropyLoss`` and ``torch.optim.SGD``) from the same initial weights on the
    same minibatches, in ``x``'s dtype, both limited to ``threads`` threads.

    Returns both loss curves and both wall times; the curves should agree to rounding.
    """
    import time

    import torch
    from threadpoolctl import threadpool_limits

    from deepglossary.losses import CrossEntropy
    from deepglossary.optim import SGD
    from deepglossary.train import batches

    theirs.to(dtype=_torch_dtype(x.dtype))
    copy_parameters(ours, theirs)
    plan = [b for _ in range(epochs) for b in batches(len(x), batch_size,
                                                       np.random.default_rng(seed))]
    xt, yt = torch.from_numpy(x), torch.from_numpy(np.asarray(y, dtype=np.int64))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            loss_fn, optimizer, ours_loss = CrossEntropy(), SGD(ours.parameters(), lr=lr), []
            start = time.perf_counter()
            for index in plan:
                optimizer.zero_grad()
                ours_loss.append(loss_fn(ours(x[index]), y[index]))
                ours.backward(loss_fn.backward())
                optimizer.step()
            ours_seconds = time.perf_counter() - start

            t_loss_fn = torch.nn.CrossEntropyLoss()
            t_optimizer, torch_loss = torch.optim.SGD(theirs.parameters(), lr=lr), []
            start = time.perf_counter()
            for index in plan:
                t_optimizer.zero_grad()
                loss = t_loss_fn(theirs(xt[index]), yt[index])
                loss.backward()
                t_optimizer.step()
                torch_loss.append(loss.item())
            torch_seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(before)
    return TrainingComparison(np.array(ours_loss), np.array(torch_loss), ours_seconds,
                              torch_seconds, threads)


def optimizer_against_torch(make_ours, make_theirs, *, shapes=((3, 4), (4,)), steps: int = 100,
                            seed: int = 0, dtype=np.float64, title: str | None = None) -> Report:
    """``steps`` updates of our optimizer and of torch's from the same start on the same
    gradient sequence; compares every parameter after the last step (and after the first).

    ``make_ours(params)`` and ``make_theirs(tensors)`` build the two optimizers, e.g.
    ``lambda ps: optim.Adam(ps, lr=0.1)`` and ``lambda ts: torch.optim.Adam(ts, lr=0.1)``.
    The gradients are drawn once, standard normal, with a per-step scale between 0.1 and 10 so
    that the adaptive methods see their denominators change.
    """
    import torch

    from deepglossary.nn.core import Parameter

    rng = np.random.default_rng([seed, 0x0971])
    start = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    grads = [[(rng.standard_normal(shape) * 10 ** rng.uniform(-1, 1)).astype(dtype)
              for shape in shapes] for _ in range(steps)]
    ours = [Parameter(a.copy()) for a in start]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt, t_opt = make_ours(ours), make_theirs(theirs)
    report = Report(title or f"{type(opt).__name__}, {steps} steps vs torch")
    for k, step_grads in enumerate(grads):
        for p, t, g in zip(ours, theirs, step_grads):
            p.grad = g.copy()
            t.grad = torch.tensor(g.copy())
        opt.step()
        t_opt.step()
        if k in (0, steps - 1):
            for i, (p, t) in enumerate(zip(ours, theirs)):
                report.add("cpu", dtype, f"param {i} after step {k + 1}", p.data,
                           t.detach().numpy())
    return report.raise_if_mismatch()


def torch_twin(layer):
    """A fresh torch module that computes what our ``layer`` computes, with the same parameter
    names, ready for :func:`against_torch` (which copies the parameter values).

    Knows Sequential (and so MLP), Affine and the activations and Dropout; raises ``TypeError``
    for a layer without a one-to-one twin (e.g. BatchNorm, whose twin depends on the input's
    number of dimensions).
    """
    import torch

    from deepglossary import nn

    if isinstance(layer, nn.Sequential):
        return torch.nn.Sequential(*[torch_twin(child) for child in layer])
    if isinstance(layer, nn.Affine):
        return torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    simple = {nn.ReLU: torch.nn.ReLU, nn.Sigmoid: torch.nn.Sigmoid, nn.Tanh: torch.nn.Tanh}
    if type(layer) in simple:
        return simple[type(layer)]()
    if isinstance(layer, nn.LeakyReLU):
        return torch.nn.LeakyReLU(layer.negative_slope)
    if isinstance(layer, nn.Softplus):
        return torch.nn.Softplus(layer.beta, layer.threshold)
    if isinstance(layer, nn.PReLU):
        return torch.nn.PReLU(layer.num_parameters)
    if isinstance(layer, nn.Dropout):
        return torch.nn.Dropout(layer.p)
    raise TypeError(f"no torch twin is known for {type(layer).__name__}; build one by hand")
