"""retrograd: define-by-run reverse-mode automatic differentiation on NumPy, with PyTorch's API.

    import retrograd as torch
    x = torch.ones(2, 2, requires_grad=True)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward()
    print(x.grad)          # tensor([[4.5000, 4.5000], [4.5000, 4.5000]])

Reading order: tensor.py, autograd/function.py, ops/elementwise.py, autograd/engine.py.
"""

from . import autograd, cuda, nn, ops  # noqa: F401  (importing ops binds the Tensor methods)
from ._default_device import get_default_device, set_default_device
from ._tensor_str import get_printoptions, set_printoptions
from ._threads import (
    get_num_interop_threads,
    get_num_threads,
    set_num_interop_threads,
    set_num_threads,
)
from ._types import Size, device
from .creation import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    Generator,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    initial_seed,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool,  # noqa: A004 - PyTorch's name
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
)
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .tensor import Tensor

globals().update(ops.FUNCTIONS)  # torch.add, torch.sum, ...: see ops/_registry.py

__version__ = "0.1.0"

float = float32  # noqa: A001 - PyTorch's aliases
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16


# Modules that hold the implementation, not API: importing them binds their names here, but
# ``dir(retrograd)`` lists what users call (PyTorch's names), not how the package is laid out.
_INTERNAL_MODULES = frozenset({"backend", "creation", "dtypes", "grad_mode", "ops", "tensor"})


def __dir__() -> list:
    return sorted(name for name in globals()
                  if not name.startswith("_") and name not in _INTERNAL_MODULES)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> int:
    return x.numel()

from . import (  # noqa: E402, F401  (above nn)
    accelerator,
    datasets,
    debug,
    distributed,
    distributions,
    func,
    linalg,
    onnx,
    optim,
    utils,
)
from .autograd.anomaly_mode import (  # noqa: E402
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from .serialization import load, save  # noqa: E402
from .utils.dlpack import from_dlpack  # noqa: E402
from .viz import explain  # noqa: E402  (retrograd.viz: drawings of the graph, explain(loss))
