"""Pruning: zero out entries of a module's parameters through a mask, as ``torch.nn.utils.prune``.

Pruning ``module.weight`` moves the parameter to ``weight_orig``, stores the mask as the buffer
``weight_mask``, and makes ``module.weight`` the plain tensor ``weight_mask * weight_orig``,
recomputed by a forward pre-hook before each forward (so gradients reach only the kept
entries of ``weight_orig``). Pruning the same tensor again combines the masks in a
``PruningContainer``: the new method only looks at what is still unpruned (single entries for
an unstructured method, whole channels for a structured one). ``remove`` makes the pruning
permanent: ``weight`` becomes a parameter again, holding the masked values.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

import numpy as np

from ... import grad_mode
from ...creation import ones_like, rand, rand_like, zeros_like
from ...tensor import Tensor
from .convert_parameters import parameters_to_vector

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
           "PruningContainer", "RandomStructured", "RandomUnstructured", "custom_from_mask",
           "global_unstructured", "identity", "is_pruned", "l1_unstructured", "ln_structured",
           "random_structured", "random_unstructured", "remove"]


# ---- how many entries an ``amount`` means ---------------------------------------------------


def _check_amount(amount) -> None:
    ok = (isinstance(amount, numbers.Integral) and amount >= 0) or \
        (isinstance(amount, numbers.Real) and not isinstance(amount, numbers.Integral)
         and 0.0 <= float(amount) <= 1.0)
    if not ok:
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _count(amount, size: int) -> int:
    """The number of entries (or channels) to prune out of ``size``."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                             f"to prune={size}")
        return int(amount)
    return int(round(amount * size))


def _check_dim(t: Tensor, dim: int) -> None:
    if not -t.dim() <= dim < t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


# ---- the methods ---------------------------------------------------------------------------


class BasePruningMethod(ABC):
    """A way of choosing a mask. Subclasses give ``compute_mask(t, default_mask)`` and
    ``PRUNING_TYPE`` ('unstructured', 'structured' or 'global')."""

    _tensor_name: str

    def __call__(self, module, inputs) -> None:
        # the forward pre-hook: the masked tensor from the current original and mask
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask for ``t`` (1 keeps an entry, 0 prunes it), given the mask so far."""

    def apply_mask(self, module) -> Tensor:
        """``mask * original`` of the tensor this method prunes, in the original's dtype."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)``, combined with any
        pruning already applied to it; returns the method (or the container) now in use."""
        old = _method_of(module, name)
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:
            hook_key, old_method = old
            container = old_method if isinstance(old_method, PruningContainer) \
                else PruningContainer(old_method)
            del module._forward_pre_hooks[hook_key]
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        scores = orig if importance_scores is None else importance_scores
        if scores.shape != orig.shape:
            raise ValueError(f"importance_scores should have the same shape as parameter "
                             f"{name} of {module}")
        if old is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            with grad_mode.no_grad():
                mask = method.compute_mask(scores.detach(), default_mask=default_mask)
        except Exception:
            if old is None:  # leave the module as it was
                module.register_parameter(name, module._parameters.pop(name + "_orig"))
            raise
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` with this method's mask applied (the module is left alone)."""
        scores = t if importance_scores is None else importance_scores
        default_mask = ones_like(t) if default_mask is None else default_mask
        with grad_mode.no_grad():
            mask = self.compute_mask(scores.detach(), default_mask=default_mask)
        return t * mask

    def remove(self, module) -> None:
        """Make the pruning permanent: ``<name>`` is a parameter again, with masked values."""
        if self._tensor_name + "_orig" not in module._parameters:
            raise ValueError(f"Parameter '{self._tensor_name}' of module {module} has to be "
                             "pruned before pruning can be removed")
        with grad_mode.no_grad():
            weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters.pop(self._tensor_name + "_orig")
        orig.data = weight.detach()
        del module._buffers[self._tensor_name + "_mask"]
        module.register_parameter(self._tensor_name, orig)


def _method_of(module, name: str):
    """(hook key, method) of the pruning hook on ``module.<name>``, or None."""
    found = [(k, h) for k, h in module._forward_pre_hooks.items()
             if isinstance(h, BasePruningMethod) and h._tensor_name == name]
    if len(found) > 1:
        raise RuntimeError(f"more than one pruning hook on parameter {name} of {module}")
    return found[0] if found else None


class PruningContainer(BasePruningMethod):
    """The history of the pruning methods applied to one tensor; their masks combine."""

    def __init__(self, *methods) -> None:
        self._pruning_methods: tuple = ()
        if len(methods) == 1 and not isinstance(methods[0], BasePruningMethod):
            methods = tuple(methods[0])
        for m in methods:
            self.add_pruning_method(m)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is None:
            return
        if not self._pruning_methods:
            self._tensor_name = method._tensor_name
        elif method._tensor_name != self._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask, computed on what the earlier ones left unpruned."""
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        kind = method.PRUNING_TYPE
        if kind == "unstructured":
            where = mask == 1
            partial = method.compute_mask(t[where], default_mask=mask[where])
            out = mask.clone()
            out[where] = partial.to(dtype=out.dtype)
            return out
        if kind == "structured":
            dim = method.dim if method.dim >= 0 else method.dim + t.dim()
            _check_dim(t, dim)
            other = tuple(d for d in range(t.dim()) if d != dim)
            alive = mask.sum(dim=other) != 0 if other else mask != 0
            index = [slice(None)] * t.dim()
            index[dim] = np.flatnonzero(alive.numpy())
            index = tuple(index)
            partial = method.compute_mask(t[index], default_mask=mask[index])
            out = mask.clone()
            out[index] = partial.to(dtype=out.dtype)
            return out
        if kind == "global":
            return method.compute_mask(t, default_mask=mask)
        raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")


class Identity(BasePruningMethod):
    """Prunes nothing (the mask stays all ones)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):  # noqa: D102
        return super().apply(module, name)


def _zero_flat(mask: Tensor, positions: Tensor) -> Tensor:
    flat = mask.reshape(-1).clone()
    flat[positions] = 0
    return flat.reshape(mask.shape)


class _UnstructuredByScore(BasePruningMethod):
    """Prunes ``amount`` of the entries (a fraction, or a count): those with the lowest
    ``scores``."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _check_amount(amount)
        self.amount = amount

    def scores(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, t, default_mask):
        k = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if k:
            lowest = self.scores(t).reshape(-1).topk(k, largest=False).indices
            mask = _zero_flat(mask, lowest)
        return mask


class RandomUnstructured(_UnstructuredByScore):
    """Prunes ``amount`` of the entries (a fraction, or a count) chosen at random."""

    def scores(self, t: Tensor) -> Tensor:
        return rand_like(t)

    @classmethod
    def apply(cls, module, name, amount):  # noqa: D102
        return super().apply(module, name, amount=amount)


class L1Unstructured(_UnstructuredByScore):
    """Prunes ``amount`` of the entries with the smallest absolute values."""

    def scores(self, t: Tensor) -> Tensor:
        return t.abs()

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):  # noqa: D102
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _keep_channels(t: Tensor, dim: int, keep: Tensor, default_mask: Tensor) -> Tensor:
    mask = zeros_like(t)
    index = [slice(None)] * t.dim()
    index[dim] = keep
    mask[tuple(index)] = 1
    return mask * default_mask


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` of the channels along ``dim`` chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        _check_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _count(self.amount, size)
        if not k:
            return default_mask
        keep = rand(size).topk(size - k).indices
        return _keep_channels(t, self.dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):  # noqa: D102
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes ``amount`` of the channels along ``dim`` with the smallest L``n`` norms."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        _check_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _count(self.amount, size)
        if not k:
            return default_mask
        dim = self.dim % t.dim()
        other = tuple(d for d in range(t.dim()) if d != dim)
        norms = t.norm(p=self.n, dim=other) if other else t.abs()
        keep = norms.topk(size - k, largest=True).indices
        return _keep_channels(t, dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):  # noqa: D102
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where a given mask is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise ValueError(f"the mask has shape {tuple(self.mask.shape)} but the tensor "
                             f"{tuple(default_mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):  # noqa: D102
        return super().apply(module, name, mask=mask)


# ---- the functions ---------------------------------------------------------------------------


def identity(module, name: str):
    """Set up pruning of ``module.<name>`` with an all-ones mask; returns the module."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name: str, mask: Tensor):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune the given ``(module, name)`` pairs as one vector: ``pruning_method(**kwargs)``
    (an unstructured method) picks the entries to prune across all of them."""
    parameters = list(parameters)
    scores = importance_scores or {}
    if not isinstance(scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be a dict mapping "
                        "(module, name) to a tensor")
    with grad_mode.no_grad():
        relevant = parameters_to_vector([scores.get((m, n), getattr(m, n)).detach()
                                         for m, n in parameters])
        default = parameters_to_vector([
            getattr(m, n + "_mask", None) if hasattr(m, n + "_mask")
            else ones_like(getattr(m, n)) for m, n in parameters])
        container = PruningContainer()
        container._tensor_name = "temp"
        method = pruning_method(**kwargs)
        method._tensor_name = "temp"
        if method.PRUNING_TYPE != "unstructured":
            raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the '
                            f"`pruning_method`. Found method {pruning_method} of type "
                            f"{method.PRUNING_TYPE}")
        container.add_pruning_method(method)
        final = container.compute_mask(relevant, default)
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        n = param.numel()
        custom_from_mask(module, name, final[start:start + n].reshape(param.shape))
        start += n


def remove(module, name: str):
    """Make the pruning of ``module.<name>`` permanent and drop its hook; returns the module."""
    found = _method_of(module, name)
    if found is None:
        raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before "
                         "pruning can be removed")
    key, method = found
    method.remove(module)
    del module._forward_pre_hooks[key]
    return module


def is_pruned(module) -> bool:
    """Whether ``module`` or any of its submodules has a pruning hook."""
    return any(isinstance(h, BasePruningMethod) for m in module.modules()
               for h in m._forward_pre_hooks.values())
