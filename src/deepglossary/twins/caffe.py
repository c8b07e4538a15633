"""The torch twin of a Caffe :class:`~deepglossary.frameworks.caffe.Net` (the LeNet of the
Caffe chapter): the same layers as ``torch.nn`` modules named like the prototxt's layers
(``conv1.weight``, ``ip1.bias``), run on the same named blobs, so that
``verify.against_torch(net.section("data", "ip2"), torch_twin(net, "ip2"), x)`` compares every
parameter's gradient. torch is imported when a function is called, never at import time.
"""

from __future__ import annotations

from deepglossary.verify import torch_module


def torch_twin(net, end: str, start: str = "data"):
    """A ``torch.nn.Module`` computing ``net`` from blob ``start`` to the top of layer ``end``:
    Convolution -> ``nn.Conv2d``, Pooling -> ``nn.MaxPool2d``/``nn.AvgPool2d`` with
    ``ceil_mode=True``, InnerProduct -> ``torch.flatten`` + ``nn.Linear``, ReLU ->
    ``nn.ReLU(inplace=True)`` when Caffe's is in place; a Data layer's ``scale`` multiplies
    the input. Parameters are copied in by
    ``verify.copy_parameters``, by name."""
    torch = torch_module()

    class CaffeTwin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.plan = []                             # (module name, bottom, top, flatten)
            self.scale = 1.0                           # a Data layer's transform_param scale
            for layer in net.layers:
                kind = layer.spec.get("type")
                if kind in ("Data", "Input"):
                    self.scale = layer.scale if start in layer.tops else self.scale
                    continue
                if kind == "Convolution":
                    c = layer.layer
                    module = torch.nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size,
                                             c.stride, c.padding, bias=c.bias is not None)
                elif kind == "Pooling":
                    cls = torch.nn.MaxPool2d if layer.pool == "MAX" else torch.nn.AvgPool2d
                    module = cls(layer.kernel, layer.stride, layer.pad, ceil_mode=True)
                elif kind == "InnerProduct":
                    a = layer.layer
                    module = torch.nn.Linear(a.in_features, a.out_features,
                                             bias=a.bias is not None)
                elif kind == "ReLU":
                    module = (torch.nn.LeakyReLU(layer.slope, inplace=layer.inplace)
                              if layer.slope else torch.nn.ReLU(inplace=layer.inplace))
                else:
                    raise TypeError(f"no torch twin for the Caffe layer type {kind}")
                self.add_module(layer.name, module)
                self.plan.append((layer.name, layer.bottoms[0], layer.tops[0],
                                  kind == "InnerProduct"))
                if layer.name == end:
                    break
            else:
                raise ValueError(f"no layer named {end!r} in the net")

        def forward(self, x):
            blobs = {start: x * self.scale}
            for name, bottom, top, flatten in self.plan:
                h = blobs[bottom]
                blobs[top] = getattr(self, name)(h.flatten(1) if flatten else h)
            return blobs[self.plan[-1][2]]

    return CaffeTwin()


def train_in_torch(net, batches, *, base_lr: float, momentum: float = 0.0,
                   weight_decay: float = 0.0, lr_policy: str = "fixed", gamma: float = 0.0,
                   power: float = 0.0, stepsize: int = 1, rule: str = "torch.optim"):
    """Train the torch twin of ``net`` (data -> the last InnerProduct, then
    ``nn.CrossEntropyLoss``) from ``net``'s current weights on ``batches`` (a list of
    ``{"data": ..., "label": ...}``), one step each, and return its parameters by name (NumPy).

    ``rule="torch.optim"``: ``torch.optim.SGD(momentum, weight_decay)`` with one parameter
    group per Caffe ``lr_mult`` and the policy as a ``LambdaLR``, as one would port a Caffe
    solver. ``rule="caffe"``: Caffe's own update written with torch tensors,
    V = m V + rate lr_mult (g + wd decay_mult W), W -= V.
    """
    torch = torch_module()
    from deepglossary.frameworks.caffe.solver import learning_rate
    from deepglossary.verify import copy_parameters

    last = [layer.name for layer in net.layers if layer.spec.get("type") == "InnerProduct"][-1]
    twin = torch_twin(net, last)
    twin.to(dtype=torch.float64 if net.dtype == "float64" else torch.float32)
    copy_parameters(net.section("data", last), twin)
    named = dict(twin.named_parameters())
    slots = [(named[f"{layer.name}.{kind}"], *layer.mults(i)) for layer in net.layers
             for i, kind in zip(range(len(layer.params)), ("weight", "bias"))]

    def rate(t):
        return learning_rate(t, base_lr, lr_policy, gamma, power, stepsize)

    groups, scheduler = {}, None
    if rule == "torch.optim":
        for p, lr_mult, decay_mult in slots:
            groups.setdefault((lr_mult, decay_mult), []).append(p)
        optimizer = torch.optim.SGD(
            [{"params": ps, "lr": base_lr * lr_mult, "weight_decay": weight_decay * decay_mult}
             for (lr_mult, decay_mult), ps in groups.items()], lr=base_lr, momentum=momentum)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: rate(t) / base_lr)
    elif rule != "caffe":
        raise ValueError(f"rule must be 'torch.optim' or 'caffe', got {rule!r}")
    history = [torch.zeros_like(p) for p, _, _ in slots]
    loss_fn = torch.nn.CrossEntropyLoss()
    for t, batch in enumerate(batches):
        x = torch.as_tensor(batch["data"]).to(next(twin.parameters()).dtype)
        loss = loss_fn(twin(x), torch.as_tensor(batch["label"], dtype=torch.int64))
        twin.zero_grad()
        loss.backward()
        if rule == "torch.optim":
            optimizer.step()
            scheduler.step()
            continue
        with torch.no_grad():
            for (p, lr_mult, decay_mult), v in zip(slots, history):
                v.mul_(momentum).add_(rate(t) * lr_mult * (p.grad + weight_decay * decay_mult * p))
                p.sub_(v)
    return {name: p.detach().cpu().numpy() for name, p in twin.named_parameters()}
