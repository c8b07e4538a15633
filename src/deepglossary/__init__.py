"""Deep Learning Glossary, from scratch: the NumPy package the book's chapters share.

The package is NumPy only. PyTorch appears in :mod:`deepglossary.verify` alone, imported
lazily there, so ``import deepglossary`` never imports torch.

The contract: nothing silently wrong
------------------------------------

Every layer, loss, optimizer and the autograd engine either computes the right thing or raises
an exception whose message names the object (``Affine(in_features=3, ...)``, ``SGD``), what it
expected and what it received, and says what to do instead. Which exception:

- ``TypeError``: a wrong *type or dtype*. Layer inputs and parameters must be float32 or
  float64 arrays; integer, boolean, float16, complex and object data are refused, with the
  conversion to make (``x.astype(np.float64)``). An optimizer given a model instead of
  ``model.parameters()``, a single array, parameter-group dicts or anything but Parameters
  refuses it. A hyperparameter of the wrong type (``Softmax(dim=1.5)``) is refused.
- ``ValueError``: a wrong *shape or value*. An input of the wrong shape or an empty one, a
  ``dim`` outside the input's dimensions (numpy's ``AxisError``, a ``ValueError``), NaN or inf
  entries (let them through on purpose with ``nn.nonfinite_allowed()``), an upstream gradient
  whose shape is not the output's (a loss's is one number, shape ``()``), a hyperparameter out
  of range (``BatchNorm(momentum=2)``), an optimizer given an empty list or the same Parameter
  twice.
- ``RuntimeError``: misuse of *state*. ``backward`` before any forward; a layer called twice in
  one forward pass (``Sequential(l, Tanh(), l)``: a layer object stores the inputs of its
  latest call only, so tie the weights of two layers instead, ``l2.weight = l1.weight``); a
  backward whose gradient was computed from the output of an earlier call of a layer that
  has been called again since (a loss computed, the model called again, then ``backward``).
  A forward made only to look at outputs belongs in ``with deepglossary.no_grad():``, where a
  layer stores nothing and is not counted.

What is guaranteed:

- A layer computes in its input's dtype and returns that dtype, float32 or float64, whatever
  its parameters' dtype; statistics that would lose digits in float32 (batch normalization's
  mean and variance) are accumulated in float64. Gradients have their parameter's dtype. In
  the autograd engine a Python number beside a tensor takes the tensor's dtype.
- Backward passes follow PyTorch: parameter gradients *accumulate* into ``Parameter.grad``
  (and into a leaf ``Tensor.grad`` over repeated ``backward`` calls) until ``zero_grad``; a
  parameter shared by two layers (tied weights) is listed once by ``parameters()`` and
  ``named_parameters()``, under its first name, so an optimizer updates it once.
- Outputs are finite whenever inputs are (inputs with NaN or inf are refused, above).
- Defaults, names and formulas are PyTorch's (see each class's docstring for its twin), and
  ``deepglossary.verify`` proves each layer and optimizer against PyTorch in the chapters.

Training loops, verification and data loaders
---------------------------------------------

- Training loops (``train.fit``, ``train.gradient_descent``) check their data once, before the
  first step, because they let NaN and inf through the forward pass to *detect* a diverging
  run: no examples, ``x`` and ``y`` of different lengths, and NaN or inf in ``x``, ``y``,
  ``x_test`` or ``y_test`` raise ``ValueError`` naming the array and the index of the first
  bad entry; so do a non-finite or non-positive learning rate, bad ``epochs``, ``steps`` or
  ``batch_size``, parameters that are not finite before training, and (``fit`` with
  ``evaluate=True``) labels that are not integer class indices of shape (N,). A run
  *diverges* when the loss is not finite or a step leaves a parameter NaN or inf, the last
  step included: training stops there and says so (``History.diverged``; the rest of
  ``gradient_descent``'s history is NaN). A parameter the loss does not use (``grad`` None) is
  left alone, as torch's optimizers do.
- Verification (``verify``) raises :class:`~deepglossary.verify.VerificationError` on any
  mismatch and never only prints one: ``against_torch`` compares values, every gradient and
  dtypes (output and input gradients in the input's dtype, parameter gradients in their
  parameter's), each entry relative to its own rounding error, estimated by a second torch run
  in the other precision, so that a wrong factor on a tiny array (a gradient of inputs of size
  1e-12, a saturated sigmoid's derivative) fails while cancellation in a correct formula
  passes; ``training_against_torch`` raises when the two loss curves differ by more than its
  ``tolerance`` (1e-10 of the loss in float64, 1e-5 in float32), and returns them otherwise.
  Inputs other than float32 and float64 raise ``TypeError``.
- Data loaders (``data``) return what they promise or raise: ``mnist(dtype=...)`` takes a
  floating dtype (images in [0, 1]) or ``np.uint8`` (raw bytes) and refuses any other with
  ``TypeError``; a download tries every mirror in turn, skipping one that is unreachable, has
  a malformed URL or serves a file whose sha256 is wrong, leaves no partial file behind, and
  raises ``ValueError`` (a corrupted file was served) or ``ConnectionError`` (none could be
  reached) listing what each mirror did; damaged IDX files and labels outside 0..9 raise
  ``ValueError``; ``two_moons`` refuses a non-integer ``n`` and a negative or non-finite
  ``noise``.
"""

from deepglossary.nn.core import is_grad_enabled, no_grad
from deepglossary.random import default_rng, seed

__version__ = "0.1.0"
__all__ = ["default_rng", "is_grad_enabled", "no_grad", "seed", "__version__"]
