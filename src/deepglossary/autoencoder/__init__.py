"""Autoencoders: an encoder squeezes x into a code h, a decoder rebuilds x from h.

Built from the package's layers (``nn.Affine``, activations, ``nn.Sequential``); the
reconstruction is scored by ``losses.BCEWithLogits`` (pixels in [0, 1], the decoder outputs
logits) or ``losses.MSE``. Three kinds:

* undercomplete: the code is smaller than the input (:func:`undercomplete`, :func:`linear`);
* denoising: the encoder sees a corrupted input, the loss compares with the clean one
  (:func:`corrupt`, ``train_autoencoder(..., corruption="mask", level=0.5)``);
* sparse: a penalty on the code, :class:`L1Sparsity` or :class:`KLSparsity`, whose gradients
  are derived by hand.

:class:`AutoencoderLoss` adds the penalty to the reconstruction loss and runs the whole
backward pass, so that one ``against_torch`` call checks every parameter of a training step.

Modules: ``model`` (:class:`Autoencoder`, :func:`undercomplete`, :func:`linear`,
:func:`reconstruct`), ``penalties`` (:class:`L1Sparsity`, :class:`KLSparsity`), ``objective``
(:class:`AutoencoderLoss`, :func:`corrupt`), ``training`` (:func:`train_autoencoder`),
``subspace`` (:func:`principal_angles`), ``pretrained`` (:func:`pretrained_2d`).
"""

from deepglossary.autoencoder.model import Autoencoder, linear, reconstruct, undercomplete
from deepglossary.autoencoder.objective import AutoencoderLoss, corrupt
from deepglossary.autoencoder.penalties import KLSparsity, L1Sparsity
from deepglossary.autoencoder.pretrained import WEIGHTS_2D, WEIGHTS_2D_SHA256, pretrained_2d
from deepglossary.autoencoder.subspace import principal_angles
from deepglossary.autoencoder.training import TrainingRun, train_autoencoder

__all__ = ["WEIGHTS_2D", "WEIGHTS_2D_SHA256", "Autoencoder", "AutoencoderLoss", "KLSparsity",
           "L1Sparsity", "TrainingRun", "corrupt", "linear", "pretrained_2d",
           "principal_angles", "reconstruct", "train_autoencoder", "undercomplete"]
