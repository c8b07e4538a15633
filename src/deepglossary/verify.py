"""Proof that a from-scratch layer computes what PyTorch computes: values and gradients.

``against_torch(ours, theirs, *inputs)`` copies our parameters into the torch module by name,
runs both forward passes, backpropagates the *same random* upstream gradient through both
(never ``.sum()``, whose all-ones gradient hides transposed or permuted results), and compares
the output, the gradient of every floating input and the gradient of every parameter, on
every device torch can see (the CPU, and a CUDA GPU when there is one).

How far apart is too far: two checks, both of which must pass.

* Norm-wise: ``max|ours - torch| / max(max|torch|, 1)`` must stay below 1e-10 in float64 and
  1e-5 in float32 (the *relative error* column). Entries tiny on the array's own scale do not
  blow it up, and rounding errors are about machine epsilon times the scale of the numbers
  an entry is computed from, whatever its own size: 1 - tanh(x)^2 near saturation is a
  difference of two numbers close to 1 whose last bits differ between any two correct
  implementations. The floor 1 is the scale of the standard normal upstream gradient. Alone,
  it is blind on arrays whose entries are all far below 1: a weight gradient doubled on
  inputs of size 1e-12, or a sigmoid's derivative 1.5 times too large at |x| = 30, pass it.
* Entry-wise: both sides run once more in the other precision (float32 for a float64 check,
  float64 for a float32 one; torch on the CPU, ours on a copy of our layer). An entry on which
  each side agrees with itself across the two precisions to 0.1% is well conditioned *in both
  formulas*, and there ours must match torch to 1e-6 of the entry's own size in float64, 1e-3
  in float32 (or to 64 times the two sides' precision errors, scaled by the ratio of the
  machine epsilons when the other precision is the coarser one): coarse, but it catches a
  wrong factor at any scale. An entry either formula computes by cancellation (torch's
  1 - sigmoid(30) is 0 in float32; an ELU derivative written e^x = expm1(x) + 1 loses every
  digit near x = -37) is left to the norm-wise check, as everything is when a second run is
  impossible (a layer that cannot be copied, a function holding float64 constants).

The output and the gradient of each input must also have that input's dtype, as torch's do,
and each parameter's gradient its parameter's: a float32 layer that computes in float64 fails
even when its values are right. A mismatch raises :class:`VerificationError` with the whole
report; a match returns the :class:`Report`, which prints as a table in a notebook.

torch is imported inside the functions, never when this module is imported.
"""

from __future__ import annotations

import contextlib
import copy
import html
from dataclasses import dataclass, field

import numpy as np

TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
SCALE_FLOOR = 1.0
# the entry-wise check (see the module's docstring)
ENTRYWISE_TOLERANCE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3}
# float32 on a GPU: cuDNN and cuBLAS choose blocked, Winograd or FFT algorithms and sum in other
# orders (a recurrent weight's gradient over every step in one product), so torch's own float32
# result there is further from the exact one than on the CPU. Measured on an H200 (TF32 off):
# up to 6.4e-5 for a 5x5 convolution's weight gradient, 1.6e-5 for cuDNN's LSTM and GRU; the
# same comparisons on the CPU stay under 1e-6. float64 keeps its tolerance on every device.
GPU_FLOAT32_TOLERANCE = 2e-4
ROUNDING_MARGIN = 64.0    # how many of the other precision's errors two results may differ by
CONDITIONED = 1e-3        # the other precision agrees to this fraction: a well-conditioned entry


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
    problem: str = ""   # a failure that is not a number, e.g. "dtype float64, expected float32"

    @property
    def ok(self) -> bool:
        return bool(not self.problem and self.rel_error <= self.tolerance)


@dataclass
class Report:
    """What was compared, and how far apart the two sides were."""

    title: str
    rows: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def rows_on(self, device: str = "cpu") -> list[Row]:
        """The rows of one device (the same comparisons repeat on each device torch sees)."""
        return [r for r in self.rows if r.device == device]

    @property
    def max_error(self) -> float:
        """The largest relative error over every compared array."""
        return max((r.rel_error for r in self.rows), default=0.0)

    def add(self, device, dtype, quantity, ours, theirs, *, expected_dtype=None,
            other_precision=None, ours_other_precision=None,
            tolerance: float | None = None) -> Row:
        """Compare ``ours`` with ``theirs`` (torch's result in ``dtype``) and append the row.

        ``expected_dtype``: the dtype ``ours`` must have (refused otherwise).
        ``other_precision``, ``ours_other_precision``: torch's and our result computed in the
        other precision; with them the well-conditioned entries are also compared one by one
        (see the module's docstring).
        ``tolerance``: overrides the norm-wise tolerance (and loosens the entry-wise one to
        it, when larger).
        """
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        tol = TOLERANCE.get(np.dtype(dtype), 1e-5) if tolerance is None else tolerance
        entrywise_tol = max(ENTRYWISE_TOLERANCE.get(np.dtype(dtype), 1e-3), tol)
        np_dtype, dtype = np.dtype(dtype), str(np.dtype(dtype))
        problem = ""
        if expected_dtype is not None and ours.dtype != np.dtype(expected_dtype):
            problem = f"dtype {ours.dtype}, expected {np.dtype(expected_dtype)}"
        if ours.shape != theirs.shape:
            row = Row(self.title, device, dtype, quantity, ours.shape, np.inf, np.inf, tol,
                      problem or f"shape {ours.shape}, expected {theirs.shape}")
        else:
            t = theirs.astype(np.float64, copy=False)          # no copies of big arrays
            with np.errstate(invalid="ignore", over="ignore"):
                diff = np.asarray(ours.astype(np.float64, copy=False) - t)   # 0-d too
                np.abs(diff, out=diff)
            abs_err = float(diff.max(initial=0.0))
            scale = max(float(t.max(initial=0.0)), -float(t.min(initial=0.0))) if t.size else 0.0
            rel = abs_err / max(scale, SCALE_FLOOR)
            if np.isnan(abs_err) or np.isnan(rel):
                abs_err = rel = np.inf
            elif not problem and other_precision is not None:
                worst = _entrywise_error(diff, t, np_dtype, other_precision,
                                         ours.astype(np.float64, copy=False), ours_other_precision)
                if worst > entrywise_tol:
                    problem = (f"entry-wise relative error {worst:.1e} > {entrywise_tol:.0e}")
            row = Row(self.title, device, dtype, quantity, ours.shape, abs_err, rel, tol, problem)
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
                  f"{r.rel_error:.1e}", f"{r.tolerance:.0e}",
                  "✓" if r.ok else ("✗ " + r.problem).rstrip()]
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


def _entrywise_error(diff, t, dtype: np.dtype, other, ours, ours_other=None) -> float:
    """The largest ``|ours - torch| / |torch|`` over the entries both formulas compute well
    conditioned, counting only errors beyond the allowance for rounding (see the module's
    docstring); 0 when no entry is well conditioned."""
    other = np.asarray(other)
    if other.shape != t.shape or not np.issubdtype(other.dtype, np.floating):
        return 0.0
    eps, other_eps = np.finfo(dtype).eps, np.finfo(other.dtype).eps
    if ours_other is not None:
        ours_other = np.asarray(ours_other)
        if ours_other.shape != t.shape or not np.issubdtype(ours_other.dtype, np.inexact):
            return 0.0
    scale = eps / other_eps if other_eps > eps else 1.0
    flat = [a.reshape(-1) for a in (diff, t, other, ours)]
    flat.append(None if ours_other is None else ours_other.reshape(-1))
    worst = 0.0
    chunk = 1 << 20                           # a million entries at a time: big gradients
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):   # stay in cache
        for start in range(0, max(t.size, 1), chunk):
            diff_c, t_c, other_c, ours_c, ours_other_c = (
                None if a is None else a[start:start + chunk] for a in flat)
            size = np.abs(t_c)
            d = np.abs(t_c - other_c)                     # torch's change with the precision
            d_ours = (np.zeros_like(d) if ours_other_c is None      # ... and ours
                      else np.abs(ours_c - ours_other_c))
            conditioned = (d < CONDITIONED * size) & (d_ours < CONDITIONED * size)
            rounding = (d + d_ours) * scale
            excess = np.where(diff_c > ROUNDING_MARGIN * rounding, diff_c, 0.0) / size
            worst = max(worst, float(excess[conditioned].max(initial=0.0)))  # False: 0, NaN
    return worst


def torch_module():
    """PyTorch, imported on first use. The package reaches torch only through this module, so
    that ``import deepglossary`` (and every module but this one) stays NumPy only; an exercise
    checker that runs the student's torch code calls this."""
    import torch

    return torch


def devices() -> list[str]:
    """Every device torch can compute on here: ``["cpu"]``, plus ``"cuda"`` when present."""
    import torch

    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    return found


@contextlib.contextmanager
def full_float32():
    """TF32 off while torch computes a reference: on an Ampere or later GPU, cuDNN convolutions
    (and matrix products, where a user turned it on) in float32 otherwise round their inputs to
    10 mantissa bits, an error of about 1e-3 that would fail a float32 check for torch's sake,
    not ours. The settings are restored afterwards; on the CPU this changes nothing."""
    import torch

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


_devices = devices              # against_torch's argument ``devices`` shadows the function


def _torch_dtype(dtype):
    import torch

    known = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
    if np.dtype(dtype) not in known:
        raise TypeError(f"verification runs in float32 or float64, got inputs of dtype "
                        f"{np.dtype(dtype)}; convert them first, e.g. x.astype(np.float64)")
    return known[np.dtype(dtype)]


def _as_array(x):
    """An input as an ndarray; None (an optional argument left out, e.g. a mask) stays None
    and is passed as None to both sides."""
    return None if x is None else np.asarray(x)


def _cast(x, dtype):
    """A floating input cast to ``dtype``; other inputs (masks, ids, None) unchanged."""
    if x is not None and np.issubdtype(x.dtype, np.floating):
        return x.astype(dtype)
    return x


def _tensor(torch, x, device, requires_grad: bool):
    """An input as a torch tensor (None stays None)."""
    if x is None:
        return None
    if np.issubdtype(x.dtype, np.integer):                  # ids of any width: torch's long
        x = x.astype(np.int64)
    return torch.tensor(x, device=device, requires_grad=requires_grad)


def _leaves(tree) -> list:
    """The arrays of a nested tuple, depth first (only tuples nest: an LSTM's
    ``(output, (h_n, c_n))``)."""
    if isinstance(tree, tuple):
        return [leaf for branch in tree for leaf in _leaves(branch)]
    return [tree]


def _nested(fn, tree):
    """``tree`` with ``fn`` applied to each leaf, the tuples kept (what a layer is called on)."""
    if isinstance(tree, tuple):
        return tuple(_nested(fn, branch) for branch in tree)
    return fn(tree)


def _run_torch(theirs, inputs, wants_grad, g, device):
    """Forward and backward of ``theirs`` (a module already holding our parameters, or a
    function): the outputs, the gradients of the inputs in ``wants_grad`` and of every
    parameter (zeros when torch leaves one None), and every buffer, as NumPy arrays.
    ``inputs`` may hold tuples (an LSTM's ``(h0, c0)``); ``wants_grad`` and ``g`` (one upstream
    gradient per output) are flat, one entry per leaf, depth first."""
    import torch

    def numpy(t):
        return t.detach().cpu().numpy()

    wants = iter(wants_grad)
    tins = [_nested(lambda x: _tensor(torch, x, device, bool(next(wants))),
                    x) for x in inputs]
    with full_float32():
        touts = _leaves(theirs(*tins))
        pairs = [(t, torch.as_tensor(np.asarray(gk), device=device, dtype=t.dtype))
                 for t, gk in zip(touts, g) if t.requires_grad]
        torch.autograd.backward([t for t, _ in pairs], [gk for _, gk in pairs])
    found = {("output", k): numpy(t) for k, t in enumerate(touts)}
    for i, t in enumerate(_leaves(tuple(tins))):
        if t is not None and t.requires_grad:
            found[("input", i)] = numpy(t.grad)
    if isinstance(theirs, torch.nn.Module):
        for name, p in theirs.named_parameters():
            found[("param", name)] = np.zeros(tuple(p.shape)) if p.grad is None else numpy(p.grad)
        for name, b in theirs.named_buffers():
            found[("buffer", name)] = numpy(b)
    return found


def _ours_in_other_precision(layer, inputs, g, dtype) -> dict:
    """Our layer (a copy) run forward and backward on the inputs cast to the other precision,
    for the entry-wise check; empty when that is impossible."""
    other = np.float32 if np.dtype(dtype) == np.float64 else np.float64
    try:
        with np.errstate(all="ignore"):    # float32 may overflow where float64 did not
            cast = [_nested(lambda x: _cast(x, other), x) for x in inputs]
            g = [np.asarray(gk).astype(other) for gk in g]
            layer.zero_grad()
            found = {("output", k): np.asarray(o) for k, o in enumerate(_leaves(layer(*cast)))}
            grads = layer.backward(*g)
        grads = grads if isinstance(grads, tuple) else (grads,)
        for i, grad in enumerate(grads[:len(_leaves(tuple(inputs)))]):
            if grad is not None:
                found[("input", i)] = np.asarray(grad)
        for name, p in layer.named_parameters():
            found[("param", name)] = np.zeros(p.shape) if p.grad is None else p.grad
        for name, b in layer.named_buffers():
            found[("buffer", name)] = np.asarray(b)
    except Exception:        # e.g. a layer that refuses the other precision: no estimate
        return {}
    return found


def _other_precision(snapshot, inputs, wants_grad, g, dtype) -> dict:
    """The same torch run on the CPU in the other precision (float32 for float64, and back),
    for the entry-wise check; empty when it cannot be run in that precision."""
    import torch

    other = np.float32 if np.dtype(dtype) == np.float64 else np.float64
    try:
        with np.errstate(over="ignore"):
            cast = [_nested(lambda x: _cast(x, other), x) for x in inputs]
            g = [np.asarray(gk).astype(other) for gk in g]
        if isinstance(snapshot, torch.nn.Module):
            snapshot.to(device="cpu", dtype=_torch_dtype(other))
        with torch.random.fork_rng(devices=[]):     # leave torch's random stream as it was
            found = _run_torch(snapshot, cast, wants_grad, g, "cpu")
    except Exception:        # e.g. a function holding float64 constants: no estimate then
        return {}
    if found[("output", 0)].dtype != np.dtype(other):
        return {}            # torch promoted it back to the checked precision: no estimate
    return found


def _upstream(seed: int, shape: tuple, index: int = 0) -> np.ndarray:
    """A standard normal upstream gradient from a stream of its own: seeded with ``[seed,
    0x5EED]`` so it never equals an input a test drew with ``default_rng(seed)`` (an upstream
    gradient equal to the input makes ``g^T x`` symmetric and hides a transposed gradient).
    ``index``: which output of a layer with several (each gets a stream of its own)."""
    return np.random.default_rng([seed, 0x5EED] + ([index] if index else [])
                                 ).standard_normal(shape)


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


def _precision(ours, leaves) -> np.dtype:
    """The dtype a comparison runs in: the first floating input's, or, where every input is
    integer or boolean (an embedding's token ids), the dtype of the layer's first parameter."""
    for x in leaves:
        if x is not None and np.issubdtype(x.dtype, np.floating):
            return x.dtype
    params = list(ours.parameters()) if hasattr(ours, "parameters") else []
    if not params:
        raise TypeError("against_torch needs a floating-point input, or a layer with "
                        "parameters, to take its precision from; got only "
                        + ", ".join(str(None if x is None else x.dtype) for x in leaves))
    return params[0].data.dtype


def against_torch(ours, theirs, *inputs, grad_output=None, seed: int = 0,
                  title: str | None = None, tolerance: float | None = None,
                  entrywise: bool = True, devices: list[str] | None = None) -> Report:
    """Run ``ours`` (a :class:`~deepglossary.nn.Layer`) and ``theirs`` on the same inputs.

    Args:
        ours: our layer; its parameters are copied into ``theirs`` before the comparison.
        theirs: a ``torch.nn.Module`` with the same parameter names, or a plain function of
            tensors (``torch.sigmoid``) for layers without parameters.
        inputs: NumPy arrays; the first floating one's dtype (float32 or float64) sets the
            precision, or, when no input is floating (an embedding's ids), the dtype of the
            layer's first parameter. Boolean and integer arrays (masks, ids) get no gradient;
            None (an optional argument left out before a later one) is passed as None to both
            sides.
        grad_output: the upstream gradient; by default a standard normal array, seeded.
        tolerance: overrides the dtype's default relative tolerance.
        entrywise: with ``False``, skip the second run in the other precision and with it the
            entry-wise comparison (only the norm-wise one remains): for full-size networks in
            float64, where that run would double the cost and the norm-wise tolerance, 1e-10,
            is already strict.
        devices: where torch runs (default: every device it sees, see :func:`devices`). A
            twin that draws random numbers of its own (torch's dropout masks, reseeded to match
            ours) can only match on the device whose generator drew them: ``["cpu"]``.

    ``ours.backward`` may return one array (the gradient of the first input; the other inputs
    are then treated as constants, e.g. a loss's targets) or a tuple with one entry per input.

    Tuples, as torch's recurrent layers take and return them: an input may be a tuple of
    arrays (an LSTM's ``(h0, c0)``), passed as a tuple to both sides, and the output may be a
    nested tuple (``(output, (h_n, c_n))``). Every array of the output is then compared and
    gets an upstream gradient of its own; ``ours.backward`` receives them flat, one argument
    per array in depth-first order (``backward(g_output, g_h_n, g_c_n)``), and returns the
    gradients flat in the inputs' depth-first order (``(dx, dh0, dc0)``; entries past the
    last input are ignored). ``grad_output`` is then a flat tuple too.

    Besides the values, the dtypes are compared: the output must have the precision's
    dtype, each input's gradient that input's, each parameter's gradient its parameter's.
    Torch also runs once more in the other precision, so that the well-conditioned entries
    are compared one by one as well (see the module's docstring).

    Returns the :class:`Report`; raises :class:`VerificationError` if anything differs.
    """
    import torch

    if not inputs:
        raise TypeError("against_torch needs at least one input array")
    inputs = [_nested(_as_array, x) for x in inputs]
    leaves = _leaves(tuple(inputs))                              # the arrays, depth first
    dtype = _precision(ours, leaves)
    _torch_dtype(dtype)                                          # float32 or float64 only
    title = title or f"{type(ours).__name__} vs torch"
    report = Report(title)
    other = mine = None if entrywise else {}
    for device in (_devices() if devices is None else devices):
        snapshot = ours_snapshot = None
        if isinstance(theirs, torch.nn.Module):
            theirs.to(device=device, dtype=_torch_dtype(dtype))
            copy_parameters(ours, theirs, device)
            theirs.train(ours.training)
            theirs.zero_grad(set_to_none=True)
            if other is None:
                try:
                    snapshot = copy.deepcopy(theirs)             # before its buffers move
                except Exception:                                # cannot be copied: no estimate
                    other = {}
        ours.zero_grad()
        if other is None:
            try:
                ours_snapshot = copy.deepcopy(ours)              # its state before this call
            except Exception:
                ours_snapshot = None

        outs = _leaves(ours(*inputs))
        g = grad_output
        if g is None:
            g = tuple(_upstream(seed, np.shape(o), k).astype(dtype) for k, o in enumerate(outs))
        g = _leaves(g)
        grads = ours.backward(*g)
        grads = grads if isinstance(grads, tuple) else (grads,)
        wants = [bool(i < len(grads) and grads[i] is not None
                      and x is not None and np.issubdtype(x.dtype, np.floating))
                 for i, x in enumerate(leaves)]

        found = _run_torch(theirs, inputs, wants, g, device)
        if other is None:
            other = _other_precision(snapshot if isinstance(theirs, torch.nn.Module) else theirs,
                                     inputs, wants, g, dtype)
            mine = ({} if ours_snapshot is None
                    else _ours_in_other_precision(ours_snapshot, inputs, g, dtype))
            if not mine:
                other = {}                          # both sides or no entry-wise check

        def add(quantity, ours_value, key, expected, device=device, found=found, other=other,
                mine=mine):
            report.add(device, dtype, quantity, ours_value, found[key], expected_dtype=expected,
                       other_precision=other.get(key) if key in mine else None,
                       ours_other_precision=mine.get(key),
                       tolerance=tolerance if tolerance is not None or device == "cpu"
                       or np.dtype(dtype) != np.float32 else GPU_FLOAT32_TOLERANCE)

        for k, o in enumerate(outs):
            add(f"output[{k}]" if len(outs) > 1 else "output", o, ("output", k), dtype)
        for i, grad in enumerate(grads[:len(leaves)]):
            if grad is not None and wants[i]:
                add(f"grad input[{i}]" if len(leaves) > 1 else "grad input", grad, ("input", i),
                    leaves[i].dtype)
        if isinstance(theirs, torch.nn.Module):
            for name, p in ours.named_parameters():
                if p.grad is None:
                    p_grad = np.zeros(p.shape, dtype=p.dtype)    # torch's None is zeros too
                else:
                    p_grad = p.grad
                add(f"grad {name}", p_grad, ("param", name), p.dtype)
            for name, b in ours.named_buffers():
                if ("buffer", name) in found:
                    add(name, b, ("buffer", name), None)
    return report.raise_if_mismatch()


def _float64_copy(x) -> np.ndarray | None:
    """A float64 copy of an input for :func:`gradcheck`; boolean and integer inputs (masks,
    token ids) are copied as they are, and get no gradient; None stays None."""
    if x is None:
        return None
    if isinstance(x, np.ndarray) and (x.dtype == np.bool_ or np.issubdtype(x.dtype, np.integer)):
        return x.copy()
    return np.asarray(x, dtype=np.float64).copy()


def gradcheck(layer, *inputs, eps: float = 1e-6, seed: int = 0, tolerance: float = 1e-6,
              title: str | None = None) -> Report:
    """Check ``layer.backward`` against central differences, in float64.

    With a random upstream gradient ``g`` the scalar ``L = sum(g * layer(x))`` has gradient
    ``layer.backward(g)``; each entry of every input and parameter is nudged by ``±eps`` and
    ``(L(+) - L(-)) / 2 eps`` compared with it. For what torch has no twin of. Tuples of
    inputs and outputs are handled as in :func:`against_torch` (L sums over every output).
    Boolean and integer inputs (masks, token ids) are passed unchanged and not differentiated.
    """
    inputs = [_nested(_float64_copy, x) for x in inputs]
    leaves = _leaves(tuple(inputs))
    params = list(layer.named_parameters())
    saved = [(p, p.data) for _, p in params]
    for p, data in saved:
        p.data = data.astype(np.float64)
    try:
        layer.zero_grad()
        g = [_upstream(seed, np.shape(o), k) for k, o in enumerate(_leaves(layer(*inputs)))]
        grads = layer.backward(*g)
        grads = grads if isinstance(grads, tuple) else (grads,)

        def loss() -> float:
            return float(sum(np.sum(gk * o) for gk, o in zip(g, _leaves(layer(*inputs)))))

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
        for i, grad in enumerate(grads[:len(leaves)]):
            if grad is not None and leaves[i] is not None and leaves[i].dtype == np.float64:
                report.add("cpu", np.float64, f"grad input[{i}]" if len(leaves) > 1
                           else "grad input", grad, numeric(leaves[i]))
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
    tolerance: float = np.nan    # the largest relative_difference accepted

    @property
    def max_difference(self) -> float:
        """Largest absolute difference between the two loss curves (inf if one is not finite
        or they differ in length)."""
        if self.ours.shape != self.torch.shape:
            return np.inf
        with np.errstate(invalid="ignore"):
            diff = float(np.abs(self.ours - self.torch).max(initial=0.0))
        return np.inf if np.isnan(diff) else diff

    @property
    def relative_difference(self) -> float:
        """``max_difference`` over the scale of the losses, ``max(max|torch loss|, 1e-3)``."""
        scale = float(np.abs(self.torch).max(initial=0.0)) if self.torch.size else 0.0
        return self.max_difference / max(scale, 1e-3) if np.isfinite(scale) else np.inf

    @property
    def ok(self) -> bool:
        return bool(self.relative_difference <= self.tolerance)

    def __str__(self) -> str:
        ratio = self.ours_seconds / self.torch_seconds if self.torch_seconds else np.inf
        return (f"{len(self.ours)} steps: largest difference between the loss curves "
                f"{self.max_difference:.1e} ({self.relative_difference:.1e} of the loss, "
                f"tolerance {self.tolerance:.0e}: {'match' if self.ok else 'MISMATCH'}); "
                f"ours {self.ours_seconds:.2f} s, torch {self.torch_seconds:.2f} s "
                f"({ratio:.2f}x), {self.threads} thread(s) each")


def training_against_torch(ours, theirs, x, y, *, lr: float, batch_size: int, epochs: int = 1,
                           seed: int = 0, threads: int = 1,
                           tolerance: float | None = None) -> TrainingComparison:
    """Train ``ours`` (with ``losses.CrossEntropy`` and ``optim.SGD``) and ``theirs`` (with
    ``torch.nn.CrossEntropyLoss`` and ``torch.optim.SGD``) from the same initial weights on the
    same minibatches, in ``x``'s dtype, both limited to ``threads`` threads.

    Returns both loss curves and both wall times. Raises :class:`VerificationError` when the
    curves differ by more than ``tolerance`` relative to the scale of the loss (default 1e-10
    in float64, 1e-5 in float32), or when either is not finite.
    """
    x = np.asarray(x)
    tdtype = _torch_dtype(x.dtype)
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),):
        raise ValueError(f"training_against_torch expects integer class labels of shape "
                         f"({len(x)},), got dtype {y.dtype} and shape {y.shape}")
    if tolerance is None:
        tolerance = TOLERANCE[np.dtype(x.dtype)]
    import time

    import torch
    from threadpoolctl import threadpool_limits

    from deepglossary.losses import CrossEntropy
    from deepglossary.optim import SGD
    from deepglossary.train import batches

    theirs.to(dtype=tdtype)
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
    comparison = TrainingComparison(np.array(ours_loss, dtype=np.float64),
                                    np.array(torch_loss, dtype=np.float64), ours_seconds,
                                    torch_seconds, threads, float(tolerance))
    if not comparison.ok:
        raise VerificationError(f"training {type(ours).__name__} differs from torch: "
                                f"{comparison}")
    return comparison


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


def _twins(torch, nn) -> dict:
    """Our layer class -> a function building its torch twin from our layer's settings."""
    return {
        nn.Affine: lambda m: torch.nn.Linear(m.in_features, m.out_features,
                                             bias=m.bias is not None),
        nn.ReLU: lambda m: torch.nn.ReLU(),
        nn.Sigmoid: lambda m: torch.nn.Sigmoid(),
        nn.Tanh: lambda m: torch.nn.Tanh(),
        nn.LeakyReLU: lambda m: torch.nn.LeakyReLU(m.negative_slope),
        nn.Softplus: lambda m: torch.nn.Softplus(m.beta, m.threshold),
        nn.PReLU: lambda m: torch.nn.PReLU(m.num_parameters),
        nn.Dropout: lambda m: torch.nn.Dropout(m.p),
        nn.Conv2d: lambda m: torch.nn.Conv2d(
            m.in_channels, m.out_channels, m.kernel_size, stride=m.stride,
            padding=m.padding, dilation=m.dilation, groups=m.groups, bias=m.bias is not None),
        nn.Conv1d: lambda m: torch.nn.Conv1d(
            m.in_channels, m.out_channels, m.kernel_size[1], stride=m.stride[1],
            padding=m.padding if isinstance(m.padding, str) else m.padding[1],
            dilation=m.dilation[1], groups=m.groups, bias=m.bias is not None),
        nn.MaxPool2d: lambda m: torch.nn.MaxPool2d(m.kernel_size, m.stride, m.padding,
                                                   m.dilation, ceil_mode=m.ceil_mode),
        nn.AvgPool2d: lambda m: torch.nn.AvgPool2d(m.kernel_size, m.stride, m.padding,
                                                   ceil_mode=m.ceil_mode,
                                                   count_include_pad=m.count_include_pad),
        nn.AdaptiveAvgPool2d: lambda m: torch.nn.AdaptiveAvgPool2d(m.output_size),
        nn.Flatten: lambda m: torch.nn.Flatten(m.start_dim, m.end_dim),
        nn.LocalResponseNorm: lambda m: torch.nn.LocalResponseNorm(m.size, m.alpha, m.beta, m.k),
        nn.RNN: lambda m: torch.nn.RNN(
            m.input_size, m.hidden_size, m.num_layers, nonlinearity=m.nonlinearity, bias=m.bias,
            batch_first=m.batch_first, bidirectional=m.bidirectional),
        nn.LSTM: lambda m: torch.nn.LSTM(
            m.input_size, m.hidden_size, m.num_layers, bias=m.bias, batch_first=m.batch_first,
            bidirectional=m.bidirectional),
        nn.GRU: lambda m: torch.nn.GRU(
            m.input_size, m.hidden_size, m.num_layers, bias=m.bias, batch_first=m.batch_first,
            bidirectional=m.bidirectional),
        nn.RNNCell: lambda m: torch.nn.RNNCell(m.input_size, m.hidden_size, m.bias,
                                               m.nonlinearity),
        nn.LSTMCell: lambda m: torch.nn.LSTMCell(m.input_size, m.hidden_size, m.bias),
        nn.GRUCell: lambda m: torch.nn.GRUCell(m.input_size, m.hidden_size, m.bias),
        nn.Embedding: lambda m: torch.nn.Embedding(m.num_embeddings, m.embedding_dim,
                                                   padding_idx=m.padding_idx),
    }


def torch_twin(layer):
    """A fresh torch module that computes what our ``layer`` computes, with the same parameter
    names, ready for :func:`against_torch` (which copies the parameter values).

    Knows Sequential (and so MLP and the small CNNs), Affine, the activations, Dropout, the
    convolutions, the poolings, Flatten and the recurrent layers and cells (one table,
    ``_twins``); raises ``TypeError`` for a
    layer without a one-to-one twin (e.g. BatchNorm, whose twin depends on the input's number
    of dimensions).
    """
    import torch

    from deepglossary import nn

    if isinstance(layer, nn.Sequential):
        return torch.nn.Sequential(*[torch_twin(child) for child in layer])
    table = _twins(torch, nn)
    build = next((table[cls] for cls in type(layer).__mro__ if cls in table), None)
    if build is None:
        raise TypeError(f"no torch twin is known for {type(layer).__name__}; build one by hand")
    return build(layer)
