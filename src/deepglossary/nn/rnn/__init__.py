"""Recurrent layers, PyTorch's twins: RNN, LSTM, GRU and their one-step cells.

``kernels`` runs one direction of one layer over a sequence and ``bptt`` back through time,
with the gate products fused (one GEMM over every step and gate for the inputs, one per step
for the recurrence, one for the weight gradients after the loop); ``layers`` stacks
directions and layers; ``cells`` runs the same kernels for one step.

The calling convention mirrors torch's, and backward mirrors forward:

    output, h_n = rnn(x, h0)                    dx, dh0 = rnn.backward(g_output, g_h_n)
    output, (h_n, c_n) = lstm(x, (h0, c0))      dx, dh0, dc0 = lstm.backward(g_output, g_h_n, g_c_n)
    h = cell(x, h)                              dx, dh = cell.backward(g_h)
    h, c = lstm_cell(x, (h, c))                 dx, dh, dc = lstm_cell.backward(g_h, g_c)

A state gradient left out (``None``) means that output was not used. ``dh0`` (and ``dc0``) is
returned also when no initial state was given: the gradient with respect to the zero state.
"""

from deepglossary.nn.rnn.cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from deepglossary.nn.rnn.layers import GRU, LSTM, RNN, RNNBase

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]
