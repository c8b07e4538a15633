"""A multilayer perceptron."""

from deepglossary import nn


class MLP(nn.Sequential):
    """A multilayer perceptron: affine layers with an activation between each pair.

    ``MLP([784, 128, 10])`` is ``Sequential(Affine(784, 128), ReLU(), Affine(128, 10))``; the
    last layer has no activation, so the output is a vector of logits. Parameter names are
    those of the equivalent ``torch.nn.Sequential`` ("0.weight", "2.bias", ...).
    """

    def __init__(self, sizes, activation=nn.ReLU, dtype=None, rng=None):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        kwargs = {} if dtype is None else {"dtype": dtype}
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Affine(n_in, n_out, rng=rng, **kwargs))
            if i < len(sizes) - 2:
                layers.append(activation())
        super().__init__(*layers)
        self.sizes = sizes
