"""A module's state dict: its parameters and persistent buffers under dotted names, and
loading them back (``Module`` inherits these methods from ``_ModuleState``)."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

from .. import grad_mode
from ..tensor import Tensor
from .parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it could not match (both empty when all did)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__



class _ModuleState:
    """The state-dict half of ``Module``."""

    # ---- state dict -------------------------------------------------------------------

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict from dotted names to parameters and persistent buffers (detached
        unless ``keep_vars``): what ``load_state_dict`` and ``retrograd.save`` take."""
        if args:  # PyTorch's old positional form: state_dict(destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        for name, t in self._state_items(prefix):
            destination[name] = t if keep_vars else t.detach()
        return destination

    def _state_modules(self, prefix: str = ""):
        """(key prefix, module) for every module, the prefix ending in "." below the root.

        A module reachable by two paths appears under both, as PyTorch saves it twice.
        """
        stack = [(prefix, self)]
        while stack:
            pre, module = stack.pop()
            yield pre, module
            stack.extend(reversed([(f"{pre}{name}.", m) for name, m in module._modules.items()
                                   if m is not None]))

    def _state_items(self, prefix: str = "") -> list:
        """(key, tensor) for every entry of the state dict, in PyTorch's order."""
        return [(key, m.__dict__[store][name])
                for key, (m, store, name) in self._state_owners(prefix).items()]

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy parameters and buffers from ``state_dict`` into this module.

        Every problem (missing keys, unexpected keys, shape mismatches) is reported together in
        one RuntimeError, and nothing is changed when there is one. With ``strict=False``
        missing and unexpected keys are allowed (and returned); shape mismatches still raise.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        owners = self._state_owners()
        missing, mismatched = [], []
        for key, (module, store, name) in owners.items():
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            current = module.__dict__[store][name]
            if not isinstance(value, Tensor):
                mismatched.append(
                    f'While copying the parameter named "{key}", expected torch.Tensor or '
                    f"Tensor-like object from checkpoint but received {type(value)}")
            elif value.shape != current.shape:
                mismatched.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {current.shape}.")
        unexpected = [k for k in state_dict if k not in owners]
        errors = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        errors.extend(mismatched)
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                               + "\n\t".join(errors))
        with grad_mode.no_grad():
            for key, (module, store, name) in owners.items():
                if key in state_dict:
                    module._load_one(store, name, state_dict[key], assign)
        return _IncompatibleKeys(missing, unexpected)

    def _state_owners(self, prefix: str = "") -> dict:
        """state-dict key -> (owning module, store name, member name)."""
        owners = {}
        for pre, m in self._state_modules(prefix):
            for name, p in m._parameters.items():
                if p is not None:
                    owners[pre + name] = (m, "_parameters", name)
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers_set:
                    owners[pre + name] = (m, "_buffers", name)
        return owners

    def _load_one(self, store: str, name: str, value: Tensor, assign: bool) -> None:
        current = self.__dict__[store][name]
        if not assign:
            current.copy_(value)
        elif store == "_parameters":
            self._parameters[name] = Parameter(value.detach(), current.requires_grad)
        else:
            self._buffers[name] = value.detach()
