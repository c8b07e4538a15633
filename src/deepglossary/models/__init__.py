"""Whole networks assembled from the package's layers, one file a network, and ``summary``,
which lists a network layer by layer with output shapes, parameters and multiply-accumulates."""

from deepglossary.models.lenet import lenet
from deepglossary.models.mlp import MLP
from deepglossary.models.summary import Summary, named_layers, summary

__all__ = ["MLP", "Summary", "lenet", "named_layers", "summary"]
