"""retrograd.nn.functional: the functional forms of layers, activations and losses."""

from __future__ import annotations

from ..ops.activation import (elu, gelu, hardtanh, leaky_relu, log_softmax, logsigmoid,  # noqa: F401
                              silu, softmax, softplus)
from ..ops.elementwise import relu, sigmoid, tanh  # noqa: F401
from ..ops.linalg import linear  # noqa: F401
