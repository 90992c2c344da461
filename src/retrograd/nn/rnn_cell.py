"""Recurrent cells: one time step of an Elman RNN, an LSTM or a GRU (RNNCell, LSTMCell,
GRUCell), and the checks and initialisation that the sequence layers in ``rnn.py`` share.

A cell's parameters (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``), gate order and
initialisation are PyTorch's. A step is the input projection, the hidden projection added to
it in one fused matmul, and the cell's update (``ops/nn/rnn_cells.py`` for the LSTM and GRU).
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.nn.rnn_cells import GruCell, LstmCell, check_cell_args
from ..ops.products import Linear, LinearNoBias
from ..ops.unary import Relu, Tanh
from ..tensor import Tensor, _wrap
from . import init
from .module import Module
from .parameter import Parameter, _check_device, _empty

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "RNNCellBase"]


def _zeros(shape: tuple, like: Tensor) -> Tensor:
    return _wrap(np.zeros(shape, dtype=like._data.dtype))


def _check_int(name: str, value, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{what} must be greater than zero, got {value} (in {name})")


def _check_nonlinearity(nonlinearity) -> None:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(
            f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")


def _check_dtype(name: str, x: Tensor, w: Tensor) -> None:
    """The input must have the weights' dtype (no implicit casts, as in PyTorch)."""
    if x._data.dtype != w._data.dtype:
        raise ValueError(
            f"{name}: input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). "
            f"Convert input: input.to({w.dtype}), or convert model: model.to({x.dtype})")


def _reset_uniform(module: Module) -> None:
    """Every weight and bias uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)]."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (chunks * hidden, input), ``weight_hh`` (chunks *
    hidden, hidden) and optional ``bias_ih``, ``bias_hh``, uniform in ±1/sqrt(hidden_size)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        name = type(self).__name__
        _check_int(name, input_size, "input_size")
        _check_int(name, hidden_size, "hidden_size")
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_empty((num_chunks * hidden_size, input_size), dtype))
        self.weight_hh = Parameter(_empty((num_chunks * hidden_size, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(_empty((num_chunks * hidden_size,), dtype))
            self.bias_hh = Parameter(_empty((num_chunks * hidden_size,), dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)]."""
        _reset_uniform(self)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _prepare(self, input: Tensor, states: list) -> tuple:  # noqa: A002
        """Check the input and states, add the batch dim to unbatched ones, make missing
        states zeros: (input, states, batched)."""
        name = self._get_name()
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, not {type(input).__name__}")
        ndim = input._data.ndim
        if ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {ndim}D instead")
        batched = ndim == 2
        labels = ["hidden"] if len(states) == 1 else [f"hx[{k}]" for k in range(len(states))]
        for s, label in zip(states, labels):
            if s is None:
                continue
            if not isinstance(s, Tensor):
                raise TypeError(f"{name}: {label} must be a Tensor, not {type(s).__name__}")
            if s._data.ndim != ndim:
                raise ValueError(f"{name}: Expected {label} to be {ndim}D like the input "
                                 f"({'batched' if batched else 'unbatched'}), got "
                                 f"{s._data.ndim}D instead")
        if not batched:
            input = input.unsqueeze(0)  # noqa: A001
            states = [s if s is None else s.unsqueeze(0) for s in states]
        _check_dtype(name, input, self._parameters["weight_ih"])
        zero = None
        filled = []
        for s in states:
            if s is None:
                if zero is None:
                    zero = _zeros((input._data.shape[0], self.hidden_size), input)
                s = zero
            filled.append(s)
        check_cell_args(name, input, tuple(filled), self.input_size, self.hidden_size)
        return input, filled, batched

    def _input_projection(self, input: Tensor) -> Tensor:  # noqa: A002
        """x @ W_ih^T + b_ih + b_hh (both biases, when the cell adds them outside any gate)."""
        params = self._parameters
        b_ih, b_hh = params["bias_ih"], params["bias_hh"]
        if b_ih is None:
            return LinearNoBias.apply(input, params["weight_ih"])
        return Linear.apply(b_ih + b_hh, input, params["weight_ih"])


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    ``RNNCell(input_size, hidden_size, bias=True, nonlinearity="tanh")``; ``forward(input,
    hx=None)`` returns h'.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        _check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, [hx])
        pre = Linear.apply(self._input_projection(x), h, self._parameters["weight_hh"])
        h = (Tanh if self.nonlinearity == "tanh" else Relu).apply(pre)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: gates i, f, g, o; c' = f * c + i * g, h' = o * tanh(c').

    ``forward(input, (h, c)=None)`` returns ``(h', c')``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None) -> tuple:  # noqa: A002
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) of two tensors, got "
                            f"{type(hx).__name__}")
        x, (h, c), batched = self._prepare(input, [None, None] if hx is None else list(hx))
        gates = Linear.apply(self._input_projection(x), h, self._parameters["weight_hh"])
        h, c = LstmCell.apply(gates, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h.

    ``forward(input, hx=None)`` returns h'.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, [hx])
        params = self._parameters
        b_ih, b_hh = params["bias_ih"], params["bias_hh"]
        if b_ih is None:
            gx = LinearNoBias.apply(x, params["weight_ih"])
            gh = LinearNoBias.apply(h, params["weight_hh"])
        else:
            gx = Linear.apply(b_ih, x, params["weight_ih"])
            gh = Linear.apply(b_hh, h, params["weight_hh"])
        h = GruCell.apply(gx, gh, h)
        return h if batched else h.squeeze(0)
