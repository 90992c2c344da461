"""retrograd.nn.functional: the functional forms of layers, activations and losses.

Activations come from ``retrograd.ops`` (with PyTorch's ``inplace`` flags added here), losses
from ``_functional_loss.py`` and the other layers (convolution, pooling, normalisation,
dropout, embedding) from ``_functional_layers.py``.
"""

from __future__ import annotations

from ..ops import activation as _act
from ..ops import unary as _unary
from ..ops.activation import elu as _elu
from ..ops.activation import (  # noqa: F401
    gelu,
    hardtanh,
    log_softmax,
    logsigmoid,
    softmax,
    softplus,
)
from ..ops.inplace import apply_inplace
from ..ops.linalg import linear  # noqa: F401
from ..ops.unary import sigmoid, tanh  # noqa: F401
from ..tensor import Tensor
from ._functional_activation import *  # noqa: F401,F403
from ._functional_attention import *  # noqa: F401,F403
from ._functional_layers import *  # noqa: F401,F403
from ._functional_loss import *  # noqa: F401,F403
from ._functional_loss_more import *  # noqa: F401,F403
from ._functional_more import *  # noqa: F401,F403
from ._functional_pool1d import *  # noqa: F401,F403
from .fold import fold, unfold  # noqa: F401
from .sparse_more import embedding_bag  # noqa: F401


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0) elementwise."""
    return input.relu_() if inplace else _unary.relu(input)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    return input.relu_()


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    if inplace:  # computed from a snapshot of the old values, then written back (and recorded)
        return apply_inplace(input, _act.leaky_relu, negative_slope)
    return _act.leaky_relu(input, negative_slope)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x)."""
    return apply_inplace(input, _act.silu) if inplace else _act.silu(input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return apply_inplace(input, _elu, alpha) if inplace else _elu(input, alpha)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6)."""
    return apply_inplace(input, hardtanh, 0.0, 6.0) if inplace else hardtanh(input, 0.0, 6.0)
