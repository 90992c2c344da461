"""Nested arguments for vmap: the leaves of tuples, lists and dicts, their structure, and
``in_dims`` / ``out_dims`` trees matched against it (an int or None covers a whole subtree)."""

from __future__ import annotations


def _flatten(tree, out: list):
    """Leaves of nested tuples/lists/dicts, and the structure (for messages and rebuilding)."""
    if isinstance(tree, (tuple, list)):
        return (type(tree), [_flatten(x, out) for x in tree])
    if isinstance(tree, dict):
        return (dict, {k: _flatten(v, out) for k, v in tree.items()})
    out.append(tree)
    return None


def _unflatten(spec, leaves):
    it = iter(leaves)

    def build(s):
        if s is None:
            return next(it)
        kind, children = s
        if kind is dict:
            return {k: build(v) for k, v in children.items()}
        items = [build(c) for c in children]
        return kind(items) if kind in (list, tuple) else kind(*items)

    return build(spec)


def _spec_str(spec) -> str:
    if spec is None:
        return "*"
    kind, children = spec
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {_spec_str(v)}" for k, v in children.items()) + "}"
    inner = ", ".join(_spec_str(c) for c in children)
    return f"{kind.__name__}({inner})"


def _broadcast_dims(dims, spec, where: str, func_desc: str, what: str):
    """``dims`` (an int/None, or a tree of them) spread over the leaves of ``spec``."""
    if dims is None or isinstance(dims, int):
        n = []
        _unflatten(spec, _counter(n, spec))
        return [dims] * len(n)
    dim_leaves: list = []
    dim_spec = _flatten(dims, dim_leaves)
    expanded = _expand_prefix(dims, spec)
    if expanded is None:
        raise ValueError(
            f"{func_desc}: {what} is not compatible with the structure of `{where}`. {what} has "
            f"structure {_spec_str(dim_spec)} but {where} has structure {_spec_str(spec)}.")
    return expanded


def _counter(n: list, spec):
    def count(s):
        if s is None:
            n.append(None)
            return
        kind, children = s
        for c in (children.values() if kind is dict else children):
            count(c)
    count(spec)
    return n


def _expand_prefix(dims, spec):
    """Match a tree of dims against ``spec``: an int/None leaf covers a whole subtree."""
    if not isinstance(dims, (tuple, list, dict)):  # a leaf (checked by the caller)
        return [dims] * len(_counter([], spec))
    if spec is None:
        return None
    kind, children = spec
    if kind is dict:
        if not isinstance(dims, dict) or set(dims) != set(children):
            return None
        out = []
        for k in children:
            sub = _expand_prefix(dims[k], children[k])
            if sub is None:
                return None
            out.extend(sub)
        return out
    if not isinstance(dims, (tuple, list)) or len(dims) != len(children):
        return None
    out = []
    for d, c in zip(dims, children):
        sub = _expand_prefix(d, c)
        if sub is None:
            return None
        out.extend(sub)
    return out
