"""Whole networks assembled from the package's layers, one file a network, and ``summary``,
which lists a network layer by layer with output shapes, parameters and multiply-accumulates."""

from deepglossary.models.alexnet import AlexNet, alexnet, alexnet_digits, alexnet_paper
from deepglossary.models.googlenet import (
    GoogLeNet,
    GoogLeNetOutputs,
    InceptionAux,
    googlenet,
    googlenet_digits,
)
from deepglossary.models.lenet import lenet
from deepglossary.models.mlp import MLP
from deepglossary.models.ntm import NTM
from deepglossary.models.resnet import CifarResNet, ResNet, resnet18, resnet34, resnet50
from deepglossary.models.seq2seq import Seq2Seq
from deepglossary.models.summary import Summary, named_layers, summary
from deepglossary.models.vgg import VGG, vgg11, vgg13, vgg16, vgg16_bn, vgg19, vgg_digits

__all__ = ["MLP", "Summary", "lenet", "named_layers", "summary"]
__all__ += ["AlexNet", "alexnet", "alexnet_digits", "alexnet_paper"]
__all__ += ["CifarResNet", "ResNet", "resnet18", "resnet34", "resnet50"]
__all__ += ["GoogLeNet", "GoogLeNetOutputs", "InceptionAux", "googlenet", "googlenet_digits"]
__all__ += ["VGG", "vgg11", "vgg13", "vgg16", "vgg16_bn", "vgg19", "vgg_digits"]
__all__ += ["Seq2Seq"]
__all__ += ["NTM"]
