"""Pytrees: nested tuples, lists, dicts and namedtuples of leaves, flattened and rebuilt.

``tree_flatten(tree)`` returns the leaves in order and a ``TreeSpec`` that remembers the
containers; ``tree_unflatten(leaves, spec)`` rebuilds the same containers around new leaves.
Two trees have the same structure when their specs compare equal. ``None`` is an empty
container (it has no leaves), as in PyTorch's ``torch.utils._pytree``; dicts keep their
insertion order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


class TreeSpec:
    """The shape of a pytree: a container kind, its context (dict keys), and child specs."""

    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind, context=None, children: tuple = ()) -> None:
        self.kind = kind  # None for a leaf, else the container's type
        self.context = context
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def __eq__(self, other) -> bool:
        return (isinstance(other, TreeSpec) and self.kind is other.kind
                and self.context == other.context and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, self.children))

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        if self.kind is type(None):
            return "None"
        inner = [repr(c) for c in self.children]
        if self.context is not None and not isinstance(self.context, type):
            inner = [f"{k!r}: {c}" for k, c in zip(self.context, inner)]
        body = ", ".join(inner)
        if issubclass(self.kind, dict):
            return "{" + body + "}" if self.kind is dict else f"{self.kind.__name__}({{{body}}})"
        if self.kind is list:
            return f"[{body}]"
        if self.kind is tuple:
            return f"({body}{',' if len(inner) == 1 else ''})"
        return f"{self.kind.__name__}({body})"


LEAF = TreeSpec(None)


def tree_flatten(tree) -> tuple[list, TreeSpec]:
    """``(leaves, spec)``: every leaf left to right, and the containers around them."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves: list) -> TreeSpec:
    if tree is None:
        return TreeSpec(type(None))
    if isinstance(tree, dict):
        keys = list(tree)
        return TreeSpec(type(tree), keys, tuple(_flatten(tree[k], leaves) for k in keys))
    if _is_namedtuple(tree):
        return TreeSpec(type(tree), type(tree), tuple(_flatten(x, leaves) for x in tree))
    if type(tree) in (tuple, list):
        return TreeSpec(type(tree), None, tuple(_flatten(x, leaves) for x in tree))
    leaves.append(tree)
    return LEAF


def tree_unflatten(leaves, spec: TreeSpec):
    """The tree of structure ``spec`` holding ``leaves`` (as many as the spec has)."""
    leaves = list(leaves)
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"tree_unflatten: the spec {spec!r} holds {spec.num_leaves} leaves, "
                         f"but {len(leaves)} were given.")
    it = iter(leaves)
    return _build(spec, it)


def _build(spec: TreeSpec, it):
    if spec.kind is None:
        return next(it)
    if spec.kind is type(None):
        return None
    children = [_build(c, it) for c in spec.children]
    if issubclass(spec.kind, dict):
        return spec.kind(zip(spec.context, children))
    if spec.context is not None:  # a namedtuple
        return spec.kind(*children)
    return spec.kind(children)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_map(fn: Callable[[Any], Any], tree):
    """The same structure with ``fn`` applied to every leaf."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)
