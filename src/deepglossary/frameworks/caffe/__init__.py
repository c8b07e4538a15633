"""Caffe, small: a prototxt parser, a ``Net`` of named blobs, and Caffe's ``SGDSolver``.

    from deepglossary.frameworks import caffe
    net = caffe.Net(caffe.LENET_PROTOTXT, phase="TRAIN", shapes={"data": (1, 28, 28)})
    solver = caffe.SGDSolver.from_prototxt(net, caffe.LENET_SOLVER)
    loss = solver.step({"data": images, "label": labels})     # images: bytes 0..255

Modules: ``prototxt`` (the text format), ``layers`` (Convolution, Pooling, InnerProduct, ReLU,
SoftmaxWithLoss, Accuracy, Caffe's fillers), ``net`` (Net, Blob), ``solver`` (SGDSolver,
learning-rate policies), ``lenet`` (Caffe's MNIST example files).
"""

from deepglossary.frameworks.caffe.layers import LAYERS, caffe_pooled_size, fill
from deepglossary.frameworks.caffe.lenet import LENET_PROTOTXT, LENET_SOLVER
from deepglossary.frameworks.caffe.net import Blob, Net, NetSection
from deepglossary.frameworks.caffe.prototxt import Message, PrototxtError, parse, tokenize
from deepglossary.frameworks.caffe.solver import SGDSolver, learning_rate

__all__ = ["LAYERS", "LENET_PROTOTXT", "LENET_SOLVER", "Blob", "Message", "Net", "NetSection",
           "PrototxtError", "SGDSolver", "caffe_pooled_size", "fill", "learning_rate", "parse",
           "tokenize"]
