"""Torch twins of the package's networks, built from ``torch.nn`` layer for layer like
torchvision's definitions (torchvision itself does not import beside the CPU torch the project
uses). Parameter names equal ours, so ``verify.copy_parameters`` loads one into the other.

Every function imports torch when called (through ``verify.torch_module``), never at import
time: importing ``deepglossary`` must not import torch.
"""
