"""Recursive neural networks: one network applied at every node of a tree, from the leaves up.

    trees = expressions(500, depth=3, rng=0)            # parse trees of "(3 max (7 min 2))"
    batch = TreeBatch.from_trees(trees)                  # every node numbered, level by level
    model = RecursiveNet(len(VOCAB), 32, 10)             # embedding, composition, classifier
    logits = model(batch)                                # (N, 10): one row per tree's root
    loss = CrossEntropy()(logits, batch.root_labels)
    model.backward(...)                                  # backpropagation through structure
    fit_trees(model, batch, epochs=10)                   # minibatches by TreeBatch.select

A node's vector is ``h = tanh(W [h_left; h_right] + b)`` (Pollack 1990; Goller & Kuechler
1996; Socher et al. 2011); a leaf's is its token's embedding. ``TreeRNN`` computes every node
of a whole batch of trees with one matrix product per *level* (all nodes of one height, across
the batch), and its backward pass goes down the same levels.

Modules: ``trees`` (the trees, the expressions, other shapes over the same leaves), ``batch``
(numbering the nodes of a batch by level), ``layers`` (``TreeRNN``, ``RecursiveNet``; the
embedding is ``nn.Embedding``), ``check`` (central differences), ``train`` (training loops and
the baselines' inputs). The torch twins are in ``deepglossary.twins.recursive``.
"""

from deepglossary.nn.embedding import Embedding
from deepglossary.recursive.batch import TreeBatch, check_children, levels
from deepglossary.recursive.check import gradcheck_model
from deepglossary.recursive.layers import RecursiveNet, TreeRNN
from deepglossary.recursive.train import (
    accuracy_by_depth,
    fit_sequences,
    fit_trees,
    leaf_counts,
    predict_sequences,
    prefix_one_hot,
)
from deepglossary.recursive.trees import (
    OPS,
    STRUCTURES,
    TOKEN_ID,
    VOCAB,
    Tree,
    balanced,
    expression,
    expressions,
    left_chain,
    prefix,
    random_expression,
    restructure,
    right_chain,
)
from deepglossary.twins.recursive import model_against_torch
from deepglossary.twins.recursive import tree_rnn as torch_tree_rnn

__all__ = ["OPS", "STRUCTURES", "TOKEN_ID", "VOCAB", "Embedding", "RecursiveNet", "Tree",
           "TreeBatch", "TreeRNN", "accuracy_by_depth", "balanced", "check_children",
           "expression", "expressions", "fit_sequences", "fit_trees", "gradcheck_model",
           "leaf_counts", "left_chain", "levels", "model_against_torch", "predict_sequences",
           "prefix", "prefix_one_hot", "random_expression", "restructure", "right_chain",
           "torch_tree_rnn"]
