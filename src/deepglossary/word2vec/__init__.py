"""word2vec (Mikolov et al. 2013): skip-gram and CBOW with negative sampling, in NumPy.

    from deepglossary.word2vec import train, pretrained
    model = train(corpus.ids, corpus.counts, model="skipgram", dim=100, epochs=5)
    vectors = pretrained()          # the vectors scripts/train_word2vec.py trained and shipped

Modules: ``sampling`` (noise, subsampling, windows), ``loss`` (the loss with its hand-derived
gradients, the :class:`SkipGram` and :class:`CBOW` layers), ``train`` (sparse minibatch SGD),
``pmi`` (the shifted-PMI view), ``pretrained`` (the shipped vectors).
"""

from deepglossary.word2vec.loss import CBOW, SkipGram, negative_sampling
from deepglossary.word2vec.sampling import (
                                            cbow_windows,
                                            draw_negatives,
                                            keep_probability,
                                            noise_distribution,
                                            skipgram_pairs,
                                            subsample,
)
from deepglossary.word2vec.train import Word2Vec, train

__all__ = ["CBOW", "SkipGram", "Word2Vec", "cbow_windows", "draw_negatives", "keep_probability",
           "negative_sampling", "noise_distribution", "skipgram_pairs", "subsample", "train"]
