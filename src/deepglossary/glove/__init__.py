"""GloVe: word vectors fitted to the logarithm of a word-word co-occurrence matrix.

    counts = cooccurrence(ids, vocab_size, window=10)     # X_ij, 1/distance weighted, sparse
    model = GloVe(vocab_size, 50, dtype=np.float32, rng=0)
    losses = train_glove(model, counts, epochs=20, lr=0.05, rng=0)
    vectors = model.vectors()                             # W + W~, (V, d)

The objective (Pennington, Socher and Manning 2014) over the nonzero entries of X:

    J = sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,  f(x) = min(1, (x / x_max)^alpha)

with the gradients derived by hand in :meth:`GloVe.backward` and AdaGrad as the optimizer
(``optim.Adagrad`` over the four parameters, accumulator starting at 0: a row a minibatch does
not touch gets a zero gradient, and AdaGrad leaves such a row and its accumulator exactly as
they were, so the dense update equals a sparse update of the touched rows only). This is
AdaGrad on summed minibatches; the reference C code updates after every pair and starts its
accumulator at 1, so its early steps are not the same.

NumPy only; the torch twin of the objective is ``deepglossary.twins.glove``.
"""

from deepglossary.glove.counts import Cooccurrence, context_counts, cooccurrence
from deepglossary.glove.objective import GloVe, weighting
from deepglossary.glove.pretrained import WEIGHTS, WEIGHTS_SHA256, WordVectors, pretrained
from deepglossary.glove.train import train_glove

__all__ = ["Cooccurrence", "GloVe", "WEIGHTS", "WEIGHTS_SHA256", "WordVectors", "context_counts",
           "cooccurrence", "pretrained", "train_glove", "weighting"]
