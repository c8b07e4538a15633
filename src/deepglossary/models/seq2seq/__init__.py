"""The encoder-decoder (Seq2Seq) with optional attention: ``model`` (the training forward and
backward), ``encoder`` (the masked run that gives each sequence its own final state) and
``decoding`` (greedy and beam search)."""

from deepglossary.models.seq2seq.decoding import Decoded, beam_search, greedy, length_penalty
from deepglossary.models.seq2seq.model import FromInitialState, Seq2Seq

__all__ = ["Decoded", "FromInitialState", "Seq2Seq", "beam_search", "greedy", "length_penalty"]
