"""The AlexNet chapter's checkers accept right answers and reject naive ones."""

import numpy as np
import pytest

from deepglossary import models, nn
from deepglossary.exercises import alexnet
from deepglossary.exercises.alexnet import CONV_CASES


def stats_right(size, c_in, c_out, k, s, p, g):
    out = (size + 2 * p - k) // s + 1
    per_output = c_in // g * k * k
    return out, c_out * per_output + c_out, c_out * out * out * per_output


def stats_no_groups(size, c_in, c_out, k, s, p, g):
    return stats_right(size, c_in, c_out, k, s, p, 1)


def stats_no_floor(size, c_in, c_out, k, s, p, g):
    out, params, _ = stats_right(size, c_in, c_out, k, s, p, g)
    out = (size + 2 * p - k) / s + 1
    return out, params, c_out * out * out * (c_in // g) * k * k


def stats_no_bias(size, c_in, c_out, k, s, p, g):
    out, params, macs = stats_right(size, c_in, c_out, k, s, p, g)
    return out, params - c_out, macs


def stats_bias_as_macs(size, c_in, c_out, k, s, p, g):
    out, params, _ = stats_right(size, c_in, c_out, k, s, p, g)
    return out, params, params * out * out


def stats_no_padding(size, c_in, c_out, k, s, p, g):
    return stats_right(size, c_in, c_out, k, s, 0, g) if size >= k else (1, 0, 0)


def test_conv_stats_checker():
    alexnet.check_conv_stats(stats_right)
    for wrong in (stats_no_groups, stats_no_floor, stats_no_bias, stats_bias_as_macs,
                  stats_no_padding, lambda *args: 0):
        with pytest.raises(AssertionError):
            alexnet.check_conv_stats(wrong)


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[-1] for c in CONV_CASES])
def test_conv_cases_agree_with_the_layer_and_summary(case):
    """The checker's reference is the package's Conv2d and models.summary."""
    size, c_in, c_out, k, s, p, g, _ = case
    layer = nn.Conv2d(c_in, c_out, k, stride=s, padding=p, groups=g, dtype=np.float32)
    table = models.summary(nn.Sequential(layer), (1, c_in, size, size))
    out, params, macs = stats_right(*case[:-1])
    assert table.row("0").output_shape == (c_out, out, out)
    assert (table.total_params, table.total_macs) == (params, macs)


def lrn_right(x, size, alpha, beta, k):
    return nn.LocalResponseNorm(size, alpha, beta, k)(x)


def lrn_paper_alpha(x, size, alpha, beta, k):      # alpha on the plain sum
    return nn.LocalResponseNorm(size, alpha * size, beta, k)(x)


def lrn_mirrored(x, size, alpha, beta, k):         # even windows centred the other way
    return nn.LocalResponseNorm(size, alpha, beta, k)(x[:, ::-1])[:, ::-1]


def lrn_rolled(x, size, alpha, beta, k):           # channels wrap around
    energy = sum(np.roll(x * x, shift, axis=1) for shift in range(-((size - 1) // 2),
                                                                   size // 2 + 1))
    return x / (k + alpha / size * energy) ** beta


def lrn_float64(x, size, alpha, beta, k):
    return lrn_right(x.astype(np.float64), size, alpha, beta, k)


def test_lrn_checker():
    alexnet.check_lrn(lrn_right)
    for wrong in (lrn_paper_alpha, lrn_mirrored, lrn_rolled, lrn_float64):
        with pytest.raises(AssertionError):
            alexnet.check_lrn(wrong)
