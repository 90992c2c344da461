"""The one registry of public ops: how an op becomes ``retrograd.<name>`` and ``Tensor.<name>``.

Every ops module ends with its table, one ``expose`` call per kind of name::

    expose({"exp": exp, "log": log})                  # torch.exp(x) and x.exp()
    expose({"cat": cat}, method=False)                # torch.cat only
    expose({"__add__": add, "T": ...}, function=False)  # methods, operators, properties

``ops/__init__.py`` installs the methods on ``Tensor`` and ``retrograd/__init__.py`` exports the
functions; nothing else makes an op reachable, and tests/test_registry.py checks that every
name registered here is reachable as PyTorch has it (function, method or both).
"""

from __future__ import annotations

FUNCTIONS: dict = {}  # name -> callable, exported as retrograd.<name>
METHODS: dict = {}  # name -> callable or property, installed as Tensor.<name>


def expose(table: dict, *, function: bool = True, method: bool = True) -> None:
    """Register each ``name: fn`` of ``table`` as a function and/or a Tensor method."""
    for name, fn in table.items():
        if function:
            _add(FUNCTIONS, name, fn, "retrograd")
        if method:
            _add(METHODS, name, fn, "Tensor")


def _add(registry: dict, name: str, fn, owner: str) -> None:
    old = registry.get(name)
    if old is not None and old is not fn:
        raise RuntimeError(f"{owner}.{name} is registered twice ({old!r} and {fn!r}); each "
                           "public name belongs to exactly one op.")
    registry[name] = fn
