"""Noise-contrastive estimation: the loss (``losses.NCE``, ``losses.NegativeSampling``), the
noise samplers, and a small problem whose exact softmax can be computed (``toy``)."""

from deepglossary.nce import toy
from deepglossary.nce.loss import NCE, NegativeSampling, check_noise
from deepglossary.nce.sampling import NoiseSampler, alias_table, noise_distribution

__all__ = ["NCE", "NegativeSampling", "NoiseSampler", "alias_table", "check_noise",
           "noise_distribution", "toy"]
