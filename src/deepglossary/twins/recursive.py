"""The torch twins of ``deepglossary.recursive``: PyTorch has no tree layer, and its idiom is a
recursive Python function with autograd, one node at a time. These are such functions, with
our parameter names, and the comparison of a whole :class:`~deepglossary.recursive.RecursiveNet`
against its twin.

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

import numpy as np

from deepglossary.verify import Report, copy_parameters, devices, torch_module


def torch_dtype(dtype):
    """torch's float32 or float64 for a NumPy dtype; TypeError for any other."""
    torch = torch_module()
    known = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
    if np.dtype(dtype) not in known:
        raise TypeError(f"verification runs in float32 or float64, got {np.dtype(dtype)}")
    return known[np.dtype(dtype)]


def tree_rnn(hidden_size: int):
    """:class:`~deepglossary.recursive.TreeRNN`'s twin: parameters ``weight`` (H, 2H) and
    ``bias`` (H,), and a forward ``(x, children)`` that computes each tree by a recursive
    function from its root, one node at a time, as PyTorch code over trees is usually written.
    A node reached twice is computed once (memoised), so a directed acyclic graph works too."""
    torch = torch_module()

    class TorchTreeRNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.empty(hidden_size, 2 * hidden_size))
            self.bias = torch.nn.Parameter(torch.empty(hidden_size))

        def forward(self, x, children):
            kids = children.tolist()
            n_leaves, done = len(x), {}

            def node(i):
                if i < n_leaves:
                    return x[i]
                if i not in done:
                    left, right = kids[i - n_leaves]
                    done[i] = torch.tanh(self.weight @ torch.cat([node(left), node(right)])
                                         + self.bias)
                return done[i]

            is_child = set(children.reshape(-1).tolist())
            for root in range(n_leaves + len(kids)):                # recurse from each root
                if root not in is_child:
                    node(root)
            return torch.stack([node(i) for i in range(n_leaves + len(kids))])

    return TorchTreeRNN()


def recursive_net(vocab_size: int, hidden_size: int, classes: int, vocab=None):
    """:class:`~deepglossary.recursive.RecursiveNet`'s twin: ``embedding``, ``compose`` (a
    ``Linear(2H, H)``) and ``classifier``, and a forward over :class:`Tree` objects, recursive
    from each root. ``twin(trees)`` returns the roots' logits (N, K) and the list of leaf
    vectors it looked up (leaves tree by tree, left to right), which keep their gradients.
    ``vocab``: token -> id (default ``recursive.TOKEN_ID``)."""
    torch = torch_module()
    if vocab is None:
        from deepglossary.recursive.trees import TOKEN_ID as vocab

    class TorchRecursiveNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(vocab_size, hidden_size)
            self.compose = torch.nn.Linear(2 * hidden_size, hidden_size)
            self.classifier = torch.nn.Linear(hidden_size, classes)

        def encode(self, tree, leaves):
            if tree.is_leaf:                          # the id on the module's device
                leaf = self.embedding(torch.tensor(vocab[tree.token],
                                                   device=self.compose.weight.device))
                leaf.retain_grad()
                leaves.append(leaf)
                return leaf
            pair = torch.cat([self.encode(tree.left, leaves), self.encode(tree.right, leaves)])
            return torch.tanh(self.compose(pair))

        def forward(self, trees):
            leaves = []
            roots = torch.stack([self.encode(tree, leaves) for tree in trees])
            return self.classifier(roots), leaves

    return TorchRecursiveNet()


def model_against_torch(model, batch, *, seed: int = 0, title: str | None = None) -> Report:
    """``model`` (a ``RecursiveNet``) on ``batch`` against :func:`recursive_net` recursing
    over ``batch.trees``, with our parameters copied in, under one random upstream gradient:
    the roots' logits, every parameter's gradient, and the gradient that reached each leaf, on
    every device torch sees, in the model's dtype. Returns a ``verify.Report``; raises
    ``VerificationError`` on a mismatch."""
    torch = torch_module()
    if batch.trees is None:
        raise ValueError("model_against_torch needs a batch made by TreeBatch.from_trees")
    dtype = model.compose.weight.data.dtype
    report = Report(title or f"RecursiveNet ({np.dtype(dtype).name}) vs torch")
    g = np.random.default_rng([seed, 0x5EED]).standard_normal(
        (len(batch), model.classifier.out_features)).astype(dtype)
    model.zero_grad()
    logits = model(batch)                                          # (N, K)
    leaf_grad = model.backward(g)[batch.inorder]                   # leaves in visiting order
    for device in devices():
        twin = model.torch_twin().to(device=device, dtype=torch_dtype(dtype))
        copy_parameters(model, twin, device)
        t_logits, t_leaves = twin(batch.trees)
        t_logits.backward(torch.as_tensor(g, device=device))
        t_leaf_grad = torch.stack([leaf.grad for leaf in t_leaves]).cpu().numpy()
        report.add(device, dtype, "logits", logits, t_logits.detach().cpu().numpy(),
                   expected_dtype=dtype)
        report.add(device, dtype, "grad leaf vectors", leaf_grad, t_leaf_grad,
                   expected_dtype=dtype)
        theirs = dict(twin.named_parameters())
        for name, p in model.named_parameters():
            report.add(device, dtype, f"grad {name}", p.grad,
                       theirs[name].grad.cpu().numpy(), expected_dtype=p.dtype)
    return report.raise_if_mismatch()
