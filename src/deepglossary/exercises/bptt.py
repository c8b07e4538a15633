"""Checkers for the exercises of the Backpropagation Through Time and Bidirectional RNN
chapters."""

import numpy as np

from deepglossary.exercises import compare, passed


def _scalar_reference(w, u, x, h0, g, k=None):
    """BPTT (truncated to chunks of k steps from the start when k is given) for
    h_t = w h_{t-1} + u x_t with direct gradients g_t = dL/dh_t from the loss at step t."""
    t_len = len(x)
    k = t_len if k is None else k
    hs = np.empty(t_len + 1)
    hs[0] = h0
    for t in range(t_len):
        hs[t + 1] = w * hs[t] + u * x[t]                     # hs[t + 1] is h_t (h_0 = hs[0])
    dw = du = dh0 = 0.0
    for start in range(0, t_len, k):                         # chunks, each on its own
        dh = 0.0
        for t in reversed(range(start, min(start + k, t_len))):
            dh += g[t]                                       # dL/dh_t: output + future
            dw += dh * hs[t]                                 # h_{t-1} multiplies w
            du += dh * x[t]
            dh *= w                                          # dL/dh_{t-1} within the chunk
        if start == 0:
            dh0 = dh                                         # only the first chunk reaches h_0
    return dw, du, dh0


def _scalar_cases(seed):
    rng = np.random.default_rng(seed)
    cases = [(0.5, 1.0, np.array([2.0]), 0.3, np.array([1.0])),                 # T = 1
             (0.0, 1.0, np.array([1.0, -2.0, 0.5]), 1.0, np.array([0.0, 0.0, 1.0])),
             (0.9, 0.5, np.ones(6), 0.0, np.r_[np.zeros(5), 1.0]),             # last step only
             (1.5, -1.0, rng.standard_normal(7), -0.5, np.r_[1.0, np.zeros(6)]),  # first only
             (-0.8, 2.0, rng.standard_normal(5), 0.7, rng.standard_normal(5))]
    for _ in range(5):
        t_len = int(rng.integers(2, 12))
        cases.append((float(rng.uniform(-1.5, 1.5)), float(rng.standard_normal()),
                      rng.standard_normal(t_len), float(rng.standard_normal()),
                      rng.standard_normal(t_len)))
    return cases


def check_scalar_bptt(bptt):
    """``bptt(w, u, x, h0, g)`` returns ``(dw, du, dh0)`` for the scalar linear recurrence
    ``h_t = w h_{t-1} + u x_t``, t = 1..T, started from ``h0``, where ``g[t - 1]`` is the
    gradient that the loss at step t sends into h_t directly (x and g: arrays of T floats).

    Checked against a loop on: T = 1 (a naive answer that uses h_t instead of h_{t-1} in dw
    already fails there), w = 0 (no memory), a loss at the last step only (the gradient must
    travel back through every step), at the first step only, |w| > 1, negative w, and random
    cases; dh0 must include the last factor w (the gradient that reaches the initial state)."""
    cases = _scalar_cases(3)
    for w, u, x, h0, g in cases:
        expected = _scalar_reference(w, u, x, h0, g)
        got = bptt(w, u, x.copy(), h0, g.copy())
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise AssertionError(f"bptt must return a tuple (dw, du, dh0), got {got!r}")
        case = f"w={w:.3g}, u={u:.3g}, h0={h0:.3g}, x={np.round(x, 3)}, g={np.round(g, 3)}"
        for name, a, b in zip(("dw", "du", "dh0"), got, expected):
            compare(name, float(a), b, case=case, rtol=1e-9, atol=1e-12)
    return passed("BPTT for the scalar linear recurrence", len(cases))


def check_truncated_scalar_bptt(bptt):
    """``bptt(w, u, x, h0, g, k)``: as in :func:`check_scalar_bptt`, but truncated as
    ``train.truncated_bptt`` does: the sequence is cut into chunks of k steps counted from the
    start (the last one shorter), the state is carried across a cut but the gradient is not.
    ``dh0`` is then what the first chunk sends into h0. Checked with k = 1, k dividing T, k
    not dividing T (a naive answer that counts the chunks from the end is caught), k = T and
    k > T (both the full gradient)."""
    rng = np.random.default_rng(4)
    cases = []
    for w, u, x, h0, g in _scalar_cases(5):
        for k in (1, 2, 3, len(x), len(x) + 2):
            cases.append((w, u, x, h0, g, k))
    t_len = 7                                                   # k = 3 leaves a chunk of 1
    cases.append((0.9, 1.0, rng.standard_normal(t_len), 0.5, rng.standard_normal(t_len), 3))
    for w, u, x, h0, g, k in cases:
        expected = _scalar_reference(w, u, x, h0, g, k)
        got = bptt(w, u, x.copy(), h0, g.copy(), k)
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise AssertionError(f"bptt must return a tuple (dw, du, dh0), got {got!r}")
        case = (f"k={k}, w={w:.3g}, u={u:.3g}, h0={h0:.3g}, x={np.round(x, 3)}, "
                f"g={np.round(g, 3)}")
        for name, a, b in zip(("dw", "du", "dh0"), got, expected):
            compare(name, float(a), b, case=case, rtol=1e-9, atol=1e-12)
    return passed("truncated BPTT for the scalar linear recurrence", len(cases))


def check_stacked_bidirectional(stacked):
    """``stacked(layers, x, grad_output)`` gets a list of ``(forward_rnn, backward_rnn)`` pairs,
    one pair of unidirectional ``nn.RNN`` layers (time-major, one layer each) per layer of the
    stack, an input x (T, N, D) and an upstream gradient (T, N, 2H) for the top layer's output,
    and returns ``(output, h_n, dx)`` as ``nn.RNN(D, H, num_layers=len(layers),
    bidirectional=True)`` with the same weights would: the top layer's output (T, N, 2H), forward
    direction in the first H columns; h_n (2 num_layers, N, H), layer-major, then direction
    (forward, backward); and dx (T, N, D) the gradient of the input. Layer l > 0 reads the 2H-wide
    output of layer l - 1 (its pair was built with input size 2H). Each layer's backward pass
    must run once: the weight gradients the pairs accumulate are checked too.

    Checked against the package's bidirectional layer with the same weights, with one, two and
    three layers, a single step, T != N and a single sequence. Naive answers caught (the
    package's tests try each): the backward run's output not turned back into time order, its
    gradient not reversed before (or dx not after) its backward pass, the two input gradients
    not added, the batch axis reversed instead of time, h_n in the wrong order (direction-major,
    or backward first), the upper layer reading only the forward half of the one below, the
    gradient of a lower layer taken from the top instead of from the layer above."""
    import re

    from deepglossary import nn

    rng = np.random.default_rng(6)
    cases = [(1, 2, 3, 4, 2), (5, 3, 2, 4, 1), (4, 1, 3, 2, 2), (7, 2, 4, 5, 2), (3, 6, 1, 3, 3)]
    for t_len, n, d, h, depth in cases:
        ref = nn.RNN(d, h, num_layers=depth, bidirectional=True, rng=rng)
        layers = [(nn.RNN(d if level == 0 else 2 * h, h, rng=rng),
                   nn.RNN(d if level == 0 else 2 * h, h, rng=rng)) for level in range(depth)]
        owner = {}
        for name, p in ref.named_parameters():                  # weight_ih_l1_reverse -> ...
            base, layer, reverse = re.fullmatch(r"(\w+?)_l(\d+)(_reverse)?", name).groups()
            target = layers[int(layer)][1 if reverse else 0]
            getattr(target, base + "_l0").data = p.data.copy()
            owner[name] = getattr(target, base + "_l0")
        x = rng.standard_normal((t_len, n, d))
        g = rng.standard_normal((t_len, n, 2 * h))
        out, h_n = ref(x)
        dx, _ = ref.backward(g)
        case = f"T={t_len}, N={n}, D={d}, H={h}, {depth} layer{'s' if depth > 1 else ''}"
        try:
            got = stacked(layers, x.copy(), g.copy())
        except Exception as error:                              # a shape error, for instance
            raise AssertionError(f"your function raised {type(error).__name__}: {error} "
                                 f"({case})") from error
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise AssertionError(f"return a tuple (output, h_n, dx), got {type(got).__name__}")
        for name, a, b in zip(("output", "h_n", "dx"), got, (out, h_n, dx)):
            compare(name, a, b, case=case, rtol=1e-9, atol=1e-12)
        for name, p in ref.named_parameters():
            if owner[name].grad is None:
                raise AssertionError(f"no gradient reached the pair's copy of {name} ({case})")
            compare(f"gradient of {name}", owner[name].grad, p.grad, case=case,
                    rtol=1e-9, atol=1e-12)
    return passed("a bidirectional stack from unidirectional layers", len(cases))
