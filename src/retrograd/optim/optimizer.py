"""Optimizer: the base class that holds parameter groups and per-parameter state.

Note [How optimizers update parameters]
    An update is not part of any graph, so a step works on the parameters' arrays directly:
    NumPy in-place arithmetic on ``p._data`` (one vectorised call per array operation, no Python
    loop over elements), followed by ``p._bump_version()`` so that a graph which saved the old
    values refuses to run backward, exactly as after an in-place op under ``no_grad``.
    Per-parameter state (momentum buffers, running averages, the step count) is kept as
    Tensors in ``self.state[p]`` so that ``state_dict()`` has PyTorch's layout, and is updated
    through the same raw arrays.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import grad_mode
from ..tensor import Tensor, _wrap

__all__ = ["Optimizer", "required"]


class _Required:
    """Marks a hyper-parameter that every parameter group must specify."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return f"retrograd.{type(obj).__name__}"
    return type(obj).__name__


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts that each
    define a parameter group (a ``"params"`` entry plus options overriding ``defaults``).
    Subclasses implement ``step``.
    """

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}; wrap a single tensor in a list: [tensor].")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list; pass model.parameters() of a model that "
                "has parameters, or a non-empty list of tensors.")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with its own options, to be optimized from now on."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list "
                "instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(tensors):
            raise ValueError(
                "all optimizer params should be with/without names. Some param names are missing")
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if p.grad_fn is not None and not p.retains_grad:
                raise ValueError(
                    "can't optimize a non-leaf Tensor (it was produced by "
                    f"{type(p.grad_fn).__name__}); optimize the leaf tensors it was computed "
                    "from, or make it a leaf with .detach().requires_grad_().")
        if len({id(p) for p in tensors}) != len(tensors):
            raise ValueError(
                "optimizer contains a parameter group with duplicate parameters; each tensor "
                "would be updated more than once per step. Pass each parameter once.")
        group = dict(param_group)
        group["params"] = tensors
        if names:
            group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    f"{name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                kind = "with names" if names else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add param "
                    f"group {kind} to the optimizer")
        self.param_groups.append(group)

    # ---- the training-loop API -------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to None, or to zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g._requires_grad = False
                if g._data.flags.writeable:
                    g._data.fill(0)
                else:
                    g._data = np.zeros_like(g._data)
                g._bump_version()

    def step(self, closure: Callable[[], Any] | None = None):
        """Update the parameters once from their ``.grad``; returns ``closure()`` if given."""
        raise NotImplementedError

    @staticmethod
    def _with_grads(group: dict):
        """(parameter, its gradient) for each parameter of ``group`` that has a gradient: what
        every ``step`` loops over."""
        for p in group["params"]:
            grad = p._grad
            if grad is not None:
                yield p, grad

    def _eval_closure(self, closure):
        if closure is None:
            return None
        with grad_mode.enable_grad():
            return closure()

    # ---- state_dict --------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state: ``{"state": {id: {...}}, "param_groups": [{..., "params":
        [ids]}]}``, parameters replaced by integer ids in group order (PyTorch's format)."""
        ids: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                ids.setdefault(id(p), len(ids))
            packed["params"] = [ids[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {ids[id(p)]: s for p, s in self.state.items() if id(p) in ids}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state saved by ``state_dict`` (of an optimizer over the same groups)."""
        if "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(
                "optimizer state_dict must have the keys 'state' and 'param_groups' (got "
                f"{sorted(map(str, state_dict))}); pass the result of optimizer.state_dict().")
        state_dict = copy.deepcopy(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than this optimizer ({len(self.param_groups)})")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(s['params'])} parameters in the "
                    f"state dict but {len(g['params'])} in the optimizer")
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups):
            id_map.update(zip(s["params"], g["params"]))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                p = id_map[key]
                state[p] = {k: _cast_state(p, k, v) for k, v in value.items()}
            else:
                state[key] = value
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(p: Tensor, key: str, value):
    """State tensors follow their parameter's dtype, except the step count (PyTorch's rule)."""
    if isinstance(value, Tensor):
        if key != "step" and p._data.dtype.kind == "f" and value._data.dtype.kind == "f":
            return _wrap(value._data.astype(p._data.dtype, copy=False))
        return value
    if isinstance(value, dict):
        return {k: _cast_state(p, k, v) for k, v in value.items()}
    return value


# ---- helpers the optimizers share -------------------------------------------------------------


def _scalar(value) -> float:
    """A hyper-parameter as a Python float (PyTorch allows a 0-d tensor for ``lr``)."""
    return float(value._data) if isinstance(value, Tensor) else value


def _step_tensor() -> Tensor:
    """The step count, a float32 0-d tensor as in PyTorch's state dicts."""
    return _wrap(np.zeros((), dtype=np.float32))


def _zeros_like(p: Tensor) -> Tensor:
    return _wrap(np.zeros_like(p._data))


def _lerp_(a: np.ndarray, b: np.ndarray, w: float) -> None:
    """a += w * (b - a), in place, computed from the nearer end as PyTorch's lerp is."""
    diff = b - a
    if w < 0.5:
        diff *= w
        a += diff
    else:
        diff *= 1 - w
        np.subtract(b, diff, out=a)


_LABELS = {"lr": "learning rate", "eps": "epsilon value"}  # how the errors name them


def _check_cpu_only_flags(capturable: bool = False, differentiable: bool = False,
                          fused: bool | None = None) -> None:
    """PyTorch's ``capturable`` (CUDA graphs), ``fused`` (device kernels) and ``differentiable``
    (a step recorded by autograd) options: accepted and stored as PyTorch does, but retrograd
    has none of them, so asking for one is a clear error rather than a silent no-op."""
    for name, value in (("capturable", capturable), ("differentiable", differentiable),
                        ("fused", fused)):
        if value:
            raise RuntimeError(f"{name}=True is not supported by retrograd's optimizers (it "
                               "needs a GPU or a recorded optimizer step); leave it unset.")


def _check_hyperparameters(**values) -> None:
    """Raise PyTorch's ValueError for the first value out of range, in the order given: every
    value must be >= 0 (``lr`` may be a 0-d tensor), and each of ``betas`` in [0, 1)."""
    for name, value in values.items():
        if name == "betas":
            for i, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        elif not _scalar(value) >= 0.0:
            label = _LABELS.get(name, f"{name} value")
            raise ValueError(f"Invalid {label}: {value}")


def _step_grad(grad: Tensor, x: np.ndarray, maximize: bool, weight_decay: float) -> np.ndarray:
    """The gradient a step follows: negated when maximizing, plus ``weight_decay * x`` (L2).
    A new array whenever it differs from ``grad``'s own, which the step never writes to."""
    d = -grad._data if maximize else grad._data
    if weight_decay != 0:
        d = d + weight_decay * x
    return d
