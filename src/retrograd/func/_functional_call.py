"""``functional_call``: run a module with some parameters and buffers replaced, then restore.

The given tensors take the place of the named parameters and buffers (for the duration of one
call, in the module's own dicts, so a tensor that is not a ``Parameter`` may stand in for one),
and the originals are put back afterwards, also when the call raises. With ``tie_weights``, a
tensor given for one name also replaces every other name under which the module holds the same
tensor (a shared embedding and output weight, say).
"""

from __future__ import annotations

from ..tensor import Tensor

_MISSING = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """``module(*args, **kwargs)`` with the parameters and buffers named in the dict(s)
    replaced by the given tensors."""
    if isinstance(parameter_and_buffer_dicts, dict):
        given = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("functional_call: every element of parameter_and_buffer_dicts must "
                             "be a dict of name -> Tensor.")
        given, repeated = {}, []
        for d in parameter_and_buffer_dicts:
            for k, v in d.items():
                if k in given and k not in repeated:
                    repeated.append(k)
                given[k] = v
        if repeated:
            raise ValueError(f"functional_call: {repeated} appear in more than one dict, so "
                             "which tensor to use is ambiguous; give each name once.")
    else:
        raise ValueError("functional_call: parameter_and_buffer_dicts must be a dict, or a list "
                         f"or tuple of dicts, got {type(parameter_and_buffer_dicts)}.")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)

    named = _named_tensors(module)
    values = _untie(named, given) if tie_weights else dict(given)
    if strict:
        _check_keys(module, named, values)
    originals: dict = {}
    try:
        for name, value in values.items():
            originals[name] = _swap(module, name, value)
        return module(*args, **kwargs)
    finally:
        now = {}
        for name, orig in reversed(list(originals.items())):
            now[name] = _swap(module, name, orig)
        # a forward that reassigned a buffer (x.running_mean = ...) is seen by the caller
        for name in given:
            if name in now and now[name] is not _MISSING:
                given[name] = now[name]


def _named_tensors(module) -> dict:
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _untie(named: dict, given: dict) -> dict:
    """``given`` extended to every name tied (the same tensor) to a given name."""
    names_of: dict = {}
    for name, t in named.items():
        names_of.setdefault(id(t), []).append(name)
    values = dict(given)
    for name in given:
        if name not in named:
            continue
        tied = names_of[id(named[name])]
        if len(tied) < 2:
            continue
        chosen = {id(given[n]) for n in tied if n in given}
        if len(chosen) > 1:
            raise ValueError(f"functional_call got different tensors for the tied names "
                             f"{sorted(tied)} (one tensor in the module); give one of them, or "
                             "pass tie_weights=False.")
        for n in tied:
            values[n] = given[name]
    return values


def _check_keys(module, named: dict, values: dict) -> None:
    unexpected = sorted(set(values) - set(named))
    missing = sorted(set(named) - set(values))
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()} (strict=True "
                           "needs exactly its parameters and buffers):\n\t" + "\n\t".join(errors))


def _swap(module, name: str, value):
    """Put ``value`` under the dotted ``name``; return what was there (``_MISSING`` if none)."""
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"functional_call: the value for {name!r} must be a Tensor, got "
                        f"{type(value).__name__}.")
    *path, attr = name.split(".")
    owner = module
    for part in path:
        sub = owner.__dict__["_modules"].get(part)
        if sub is None:
            raise AttributeError(f"{owner._get_name()} has no submodule `{part}` (in the name "
                                 f"{name!r}).")
        owner = sub
    d = owner.__dict__
    for store in (d["_parameters"], d["_buffers"]):
        if attr in store:
            orig = store[attr]
            if value is _MISSING:
                del store[attr]
            else:
                store[attr] = value
            return orig
    orig = getattr(owner, attr, _MISSING)
    if value is _MISSING:
        if orig is not _MISSING:
            delattr(owner, attr)
    else:
        object.__setattr__(owner, attr, value)
    return orig
