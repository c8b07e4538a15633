"""Attention: additive and multiplicative score layers, scaled dot-product attention and
multi-head attention, with hand-written backward passes."""

from deepglossary.nn.attention.multihead import MultiheadAttention
from deepglossary.nn.attention.scores import (
    AdditiveAttention,
    MultiplicativeAttention,
    ScoreAttention,
)
from deepglossary.nn.attention.sdpa import (
    ScaledDotProductAttention,
    scaled_dot_product_attention,
    sdpa_backward,
    sdpa_forward,
)

__all__ = ["AdditiveAttention", "MultiheadAttention", "MultiplicativeAttention",
           "ScaledDotProductAttention", "ScoreAttention", "scaled_dot_product_attention",
           "sdpa_backward", "sdpa_forward"]
