"""retrograd.func: composable function transforms, PyTorch's ``torch.func`` (functorch) API.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd`` and ``hessian`` transform
functions of tensors (arguments and results may be tuples, lists and dicts of tensors), and
nest: ``grad(grad(f))`` is the second derivative. ``functional_call`` runs a module with its
parameters and buffers replaced by given tensors, so a model can be differentiated as a
function of a dict of parameters. See Note [Levels without wrappers] in _transforms.py.
"""

from ._functional_call import functional_call
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "vjp"]

try:  # vmap lives in _vmap.py (written separately); absent until it lands
    from ._vmap import vmap  # noqa: F401
except ModuleNotFoundError as e:
    if e.name != f"{__name__}._vmap":  # a broken _vmap.py must not pass silently
        raise
else:
    __all__.append("vmap")
