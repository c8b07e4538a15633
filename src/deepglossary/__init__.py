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

(This paragraph is kept by the maintainers of ``train``, ``verify`` and ``data``: their
contract goes here.)
"""

from deepglossary.nn.core import is_grad_enabled, no_grad
from deepglossary.random import default_rng, seed

__version__ = "0.1.0"
__all__ = ["default_rng", "is_grad_enabled", "no_grad", "seed", "__version__"]
