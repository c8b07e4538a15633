"""The torch twin of :class:`deepglossary.models.NTM`: the same equations of Graves, Wayne and
Danihelka (2014), written with ``torch.nn.LSTMCell``, ``torch.nn.Linear``, ``torch.roll`` and
torch's autograd, the way a PyTorch implementation would write them. Parameter names equal
ours, so ``verify.copy_parameters`` loads one into the other.

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

from deepglossary.models.ntm import MEMORY_INIT
from deepglossary.verify import torch_module

EPS = 1e-8      # the norms are sqrt(|v|^2 + EPS^2), as ours


def ntm_twin(model):
    """A fresh torch module computing what our NTM ``model`` computes, in its dtype (values
    not copied: ``verify.copy_parameters``). ``forward(x)``: x (N, T, input_size) -> logits
    (N, T, output_size); the last call's weightings are kept in ``.weightings`` (read, write)."""
    torch = torch_module()
    F = torch.nn.functional
    H, S, W, R = model.hidden_size, model.memory_slots, model.memory_width, model.num_reads
    fan = model.input_size + R * W

    def address(head, memory, w_prev):
        k = head[:, :W]
        beta = F.softplus(head[:, W:W + 1])
        g = torch.sigmoid(head[:, W + 1:W + 2])
        s = torch.softmax(head[:, W + 2:W + 5], dim=-1)
        gamma = 1 + F.softplus(head[:, W + 5:W + 6])
        dot = (memory * k[:, None, :]).sum(-1)                              # (N, S)
        norms = (torch.sqrt((k * k).sum(-1, keepdim=True) + EPS**2)
                 * torch.sqrt((memory * memory).sum(-1) + EPS**2))
        w = torch.softmax(beta * dot / norms, dim=-1)
        w = g * w + (1 - g) * w_prev
        w = sum(s[:, i:i + 1] * torch.roll(w, i - 1, dims=1) for i in range(3))
        w = w ** gamma
        return w / w.sum(-1, keepdim=True)

    class TorchNTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if model.controller_kind == "lstm":
                self.controller = torch.nn.LSTMCell(fan, H)
            else:
                self.controller = torch.nn.Linear(fan, H)
            self.read_heads = torch.nn.Linear(H, R * (W + 6))
            self.write_head = torch.nn.Linear(H, 3 * W + 6)
            self.output = torch.nn.Linear(H + R * W, model.output_size)

        def forward(self, x):
            n, steps, _ = x.shape
            opts = {"dtype": x.dtype, "device": x.device}
            h = torch.zeros(n, H, **opts)
            c = torch.zeros(n, H, **opts)
            memory = torch.full((n, S, W), MEMORY_INIT, **opts)
            focus = torch.zeros(n, S, **opts)
            focus[:, 0] = 1
            w_write, w_read = focus, [focus] * R
            reads = torch.zeros(n, R * W, **opts)
            outs, self.weightings = [], ([], [])
            for t in range(steps):
                inp = torch.cat([x[:, t], reads], dim=1)
                if model.controller_kind == "lstm":
                    h, c = self.controller(inp, (h, c))
                else:
                    h = torch.tanh(self.controller(inp))
                wh = self.write_head(h)
                w_write = address(wh[:, :W + 6], memory, w_write)
                erase = torch.sigmoid(wh[:, W + 6:2 * W + 6])
                add = torch.tanh(wh[:, 2 * W + 6:])
                memory = (memory * (1 - w_write[:, :, None] * erase[:, None, :])
                          + w_write[:, :, None] * add[:, None, :])
                rh = self.read_heads(h)
                w_read = [address(rh[:, j * (W + 6):(j + 1) * (W + 6)], memory, w_read[j])
                          for j in range(R)]
                reads = torch.cat([torch.einsum("ns,nsw->nw", w, memory) for w in w_read], 1)
                outs.append(self.output(torch.cat([h, reads], dim=1)))
                self.weightings[0].append(w_read)
                self.weightings[1].append(w_write)
            return torch.stack(outs, dim=1)

    return TorchNTM().to({"float64": torch.float64, "float32": torch.float32}[str(model.dtype)])
