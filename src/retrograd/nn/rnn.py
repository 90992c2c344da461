"""Recurrent layers: RNN, LSTM and GRU over whole sequences, and their one-step cells.

Parameters, their names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), shapes, gate order
(LSTM: i, f, g, o; GRU: r, z, n), initialisation and the shapes of inputs and outputs are
PyTorch's, so state dicts move between the two libraries unchanged.

The one-step cells (RNNCell, LSTMCell, GRUCell) live in ``rnn_cell.py``.

How a layer runs (one direction of one layer):
    1. the input projection of every time step at once, ``x @ W_ih^T + b``: one matmul;
    2. a loop over time that adds the hidden projection ``h @ W_hh^T`` to the step's slice
       and applies the cell (``ops/nn/rnn_cells.py``: one fused op for the LSTM and GRU updates);
    3. the hidden states of all steps stacked into the output.
Everything is recorded as ordinary ops, so gradients of any order flow through the loop, and a
step costs two graph nodes. A reverse direction walks the same slices backwards; a deeper layer
reads the (dropped-out, in training) output of the one below.

An LSTM in float32 without projections runs each layer and direction as one op instead
(``ops/nn/rnn_fused.py``: ``MkldnnRnnLayerBackward0``, time-major, as PyTorch's CPU build
does there; see ``_fused_layers``): the same three steps on arrays, and backward through time
in one loop with each weight gradient one product over all steps.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ..autograd.function import dual
from ..ops.join import Cat, Stack, Unbind
from ..ops.linalg import linear
from ..ops.nn.rnn_cells import GruCell, LstmCell
from ..ops.nn.rnn_fused import LstmLayer
from ..ops.products import Linear, LinearNoBias
from ..ops.shape import Transpose
from ..ops.unary import Relu, Tanh
from ..tensor import Tensor
from . import functional as F
from ._rnn_packed import run_packed
from .module import Module
from .parameter import Parameter, _check_device, _empty
from .rnn_cell import (
    GRUCell,
    LSTMCell,
    RNNCell,
    RNNCellBase,
    _check_dtype,
    _check_int,
    _check_nonlinearity,
    _reset_uniform,
    _zeros,
)
from .utils.rnn import PackedSequence

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- the recurrence --------------------------------------------------------------------------


def _direction(mode: str, x: Tensor, time_dim: int, weights: tuple, h: Tensor, c: Tensor | None,
               reverse: bool) -> tuple:
    """Run one direction of one layer over the sequence ``x``: (output, last h, last c)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    if mode == "GRU":  # b_hh stays inside the reset gate's product, so it is added per step
        xw = linear(x, w_ih, b_ih)
    else:  # the two biases are simply summed: fold them into the input projection
        xw = linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
    steps = Unbind.apply(xw, time_dim)
    if reverse:
        steps = steps[::-1]
    outs = []
    append = outs.append
    if mode == "LSTM":
        for xw_t in steps:
            h, c = LstmCell.apply(Linear.apply(xw_t, h, w_hh), c)
            if w_hr is not None:
                h = LinearNoBias.apply(h, w_hr)
            append(h)
    elif mode == "GRU":
        for xw_t in steps:
            hw = LinearNoBias.apply(h, w_hh) if b_hh is None else Linear.apply(b_hh, h, w_hh)
            h = GruCell.apply(xw_t, hw, h)
            append(h)
    else:
        act = Tanh if mode == "RNN_TANH" else Relu
        for xw_t in steps:
            h = act.apply(Linear.apply(xw_t, h, w_hh))
            append(h)
    if reverse:
        outs.reverse()
    return Stack.apply(*outs, time_dim), h, c


_FUSED_DTYPES = (np.float32,)  # (the tests add float64 to check the fused op against the loop)


def _fused_layers(module, x: Tensor, h0: Tensor | None, c0: Tensor | None) -> bool:
    """Whether ``module`` runs each layer as one ``LstmLayer`` op (ops/nn/rnn_fused.py): an
    LSTM in float32 without projections, where PyTorch's CPU build runs its fused layer too
    (so the nodes users see agree), and not under forward-mode AD or vmap (whose tangents and
    batched arrays the op-by-op loop carries)."""
    if (module.mode != "LSTM" or module.proj_size or x._data.dtype not in _FUSED_DTYPES
            or dual.level):
        return False
    tensors = [x, *module._flat_weights, h0, c0]
    return all(t is None or t._data.__class__ is np.ndarray for t in tensors)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks
    of inputs and states, and the loop over layers (``mode``: "RNN_TANH", "RNN_RELU", "LSTM"
    or "GRU")."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        _check_device(device)
        name = type(self).__name__
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                f"element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", stacklevel=2)
        for flag, what in ((bias, "bias"), (batch_first, "batch_first"),
                           (bidirectional, "bidirectional")):
            if not isinstance(flag, bool):
                raise TypeError(f"{what} should be of type bool, got: {type(flag).__name__}")
        _check_int(name, input_size, "input_size")
        _check_int(name, hidden_size, "hidden_size")
        _check_int(name, num_layers, "num_layers")
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(
                f"proj_size should be a positive integer or zero to disable projections, got "
                f"{proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be smaller than hidden_size, got proj_size="
                             f"{proj_size} and hidden_size={hidden_size}")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}; expected one of "
                             f"{', '.join(_GATES)}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes["bias_ih"] = shapes["bias_hh"] = (gate_size,)
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, Parameter(_empty(shape, dtype)))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)]."""
        _reset_uniform(self)

    def flatten_parameters(self) -> None:
        """Kept for PyTorch compatibility: weights need no flat buffer here (a no-op)."""

    @property
    def _flat_weights(self) -> list:
        return [self._parameters.get(n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters, one list per layer and direction, in PyTorch's order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- forward ----------------------------------------------------------------------

    def forward(self, input: Tensor, hx=None):  # noqa: A002
        """``input``: (seq, batch, input_size), or (batch, seq, ...) with ``batch_first``, or
        (seq, input_size) unbatched. ``hx``: the initial hidden state (num_layers *
        directions, batch, hidden), for an LSTM a pair (h_0, c_0); zeros when omitted.
        Returns ``(output, h_n)``, for an LSTM ``(output, (h_n, c_n))``."""
        if isinstance(input, PackedSequence):  # each sequence for its own length
            return run_packed(self, input, hx)
        name = self._get_name()
        lstm = self.mode == "LSTM"
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, not {type(input).__name__}")
        ndim = input._data.ndim
        if ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {ndim}D tensor "
                             "instead")
        batched = ndim == 3
        states = self._unpack_hx(name, hx, batched, lstm)
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)  # noqa: A001
            states = [s if s is None else s.unsqueeze(1) for s in states]
        self._check_input(name, input)
        self._check_states(name, input, states, lstm)
        output, h_n, c_n = self._run(input, states[0], states[1] if lstm else None)
        if not batched:
            output = output.squeeze(batch_dim)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def _unpack_hx(self, name: str, hx, batched: bool, lstm: bool) -> list:
        if hx is None:
            return [None, None] if lstm else [None]
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0) of two tensors, got "
                                f"{type(hx).__name__}")
            states = list(hx)
        else:
            states = [hx]
        for s in states:
            if not isinstance(s, Tensor):
                raise TypeError(f"{name}: the initial states must be Tensors, got "
                                f"{type(s).__name__}")
        want = 3 if batched else 2
        if any(s._data.ndim != want for s in states):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            got = ", ".join(f"{s._data.ndim}-D" for s in states)
            which = "hx and cx" if lstm else "hx"
            raise RuntimeError(f"{name}: For {kind} input, {which} should also be {want}-D but "
                               f"got ({got}) tensor" + ("s" if lstm else ""))
        return states

    def _check_input(self, name: str, x: Tensor) -> None:
        _check_dtype(name, x, self._parameters[self._flat_weights_names[0]])
        got = x._data.shape[-1]
        if got != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {got}")

    def _check_states(self, name: str, x: Tensor, states: list, lstm: bool) -> None:
        batch = x._data.shape[0 if self.batch_first else 1]
        layers = self.num_layers * (2 if self.bidirectional else 1)
        sizes = [self.proj_size or self.hidden_size, self.hidden_size]
        for k, s in enumerate(states):
            if s is None:
                continue
            expected = (layers, batch, sizes[k])
            if s._data.shape != expected:
                what = f"hidden[{k}]" if lstm else "hidden"
                raise RuntimeError(f"{name}: Expected {what} size {expected}, got "
                                   f"{list(s._data.shape)}")
            if s._data.dtype != x._data.dtype:
                raise RuntimeError(
                    f"{name}: Input and hidden tensors are not the same dtype, found input "
                    f"tensor with {x.dtype} and hidden tensor with {s.dtype}")

    def _weights(self, k: int) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of layer-direction ``k`` (None where absent)."""
        params = self._parameters
        names = self._all_weights[k]
        w_ih, w_hh = params[names[0]], params[names[1]]
        b_ih = b_hh = w_hr = None
        if self.bias:
            b_ih, b_hh = params[names[2]], params[names[3]]
        if self.proj_size:
            w_hr = params[names[-1]]
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run(self, x: Tensor, h0: Tensor | None, c0: Tensor | None) -> tuple:
        """Every layer and direction over the 3-D input: (output, h_n, c_n or None)."""
        lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        time_dim = 1 if self.batch_first else 0
        if x._data.shape[time_dim] == 0:
            raise RuntimeError(f"{self._get_name()}: Expected sequence length to be larger "
                               f"than 0, got input of shape {list(x._data.shape)} (the "
                               f"sequence is dim {time_dim})")
        batch = x._data.shape[1 - time_dim]
        fused = _fused_layers(self, x, h0, c0)
        if fused and time_dim == 1:  # the fused layers run time-major, as PyTorch's do
            x = Transpose.apply(x, 0, 1)
        if fused:  # one layer's state is h0[k] (SelectBackward0), as PyTorch indexes it
            h0s = None if h0 is None else [h0[k] for k in range(h0._data.shape[0])]
            c0s = None if c0 is None else [c0[k] for k in range(c0._data.shape[0])]
        else:
            h0s = Unbind.apply(h0, 0) if h0 is not None else None
            c0s = Unbind.apply(c0, 0) if c0 is not None else None
        h_zero = c_zero = None
        if h0s is None:
            h_zero = _zeros((batch, self.proj_size or self.hidden_size), x)
        if lstm and c0s is None:
            c_zero = _zeros((batch, self.hidden_size), x)
        hs, cs = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                h = h0s[k] if h0s is not None else h_zero
                c = (c0s[k] if c0s is not None else c_zero) if lstm else None
                if fused:
                    w_ih, w_hh, b_ih, b_hh, _ = self._weights(k)
                    out, h, c = LstmLayer.apply(layer_input, w_ih, w_hh, b_ih, b_hh, h, c,
                                                direction == 1)
                else:
                    out, h, c = _direction(self.mode, layer_input, time_dim, self._weights(k),
                                           h, c, direction == 1)
                outs.append(out)
                hs.append(h)
                cs.append(c)
            layer_input = outs[0] if directions == 1 else Cat.apply(outs[0], outs[1], 2, None)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = Stack.apply(*hs, 0)
        if fused and time_dim == 1:
            layer_input = Transpose.apply(layer_input, 0, 1)
        return layer_input, h_n, (Stack.apply(*cs, 0) if lstm else None)


class RNN(RNNBase):
    """An Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu, with
    ``nonlinearity="relu"``), stacked ``num_layers`` deep.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``.
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        _check_nonlinearity(nonlinearity)
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A long short-term memory layer, stacked ``num_layers`` deep; gates i, f, g, o:
    c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t) (then h_t W_hr^T when ``proj_size`` > 0).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)``; ``forward(input, (h_0, c_0))`` returns
    ``(output, (h_n, c_n))``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """A gated recurrent unit layer, stacked ``num_layers`` deep; gates r, z, n:
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``.
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---- cells: one time step --------------------------------------------------------------------
