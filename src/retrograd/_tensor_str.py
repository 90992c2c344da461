"""Render tensors as text exactly the way PyTorch's ``repr``/``str`` does.

Everything here works on plain NumPy arrays plus a PyTorch dtype name, so it has no dependency on
the Tensor class. The layout rules (shared column width, fixed vs. scientific notation, wrapping,
summarisation and the trailing ``dtype=``/``grad_fn=`` notes) follow PyTorch 2.x behaviour,
including its small quirks, because users compare printed output against PyTorch's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["get_printoptions", "set_printoptions", "tensor_repr"]

_NUMPY_DTYPES: dict[str, type] = {
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "bool": np.bool_,
}

# Besides the default float dtype, these dtypes are never spelled out after the values:
# int64 and bool can be recognised from the printed numbers themselves.
_SELF_EVIDENT_DTYPES = frozenset({"int64", "bool"})

_PREFIX = "tensor("


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_options = _PrintOptions()


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Change how tensors print; same arguments and semantics as ``torch.set_printoptions``.

    A ``profile`` ("default", "short" or "full") is applied first and the explicit arguments
    then override it. Like PyTorch, ``sci_mode`` is always reset (to automatic when omitted)
    and an unknown profile name is ignored.
    """
    for name, value in _PROFILES.get(profile, {}).items():
        setattr(_options, name, value)
    explicit = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
                "linewidth": linewidth}
    for name, value in explicit.items():
        if value is not None:
            setattr(_options, name, value)
    _options.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments accepted by :func:`set_printoptions`."""
    return asdict(_options)


def tensor_repr(
    array: np.ndarray,
    dtype_name: str,
    *,
    grad_fn_name: str | None = None,
    requires_grad: bool = False,
    device: str = "cpu",
    default_dtype_name: str = "float32",
    tangent: str | None = None,
) -> str:
    """Return what PyTorch prints for a tensor holding ``array`` with dtype ``dtype_name``.

    ``dtype_name`` is the PyTorch name without ``torch.`` (e.g. "float32"); ``default_dtype_name``
    is the current default float dtype, which decides whether ``dtype=`` is shown.
    """
    values = _as_numpy(array, dtype_name)
    notes = []
    if device != "cpu":
        notes.append(f"device='{_qualified_device(device)}'")
    if values.size == 0:
        # Nothing to infer the dtype from, so only the default float dtype goes unmentioned.
        if values.ndim != 1:
            notes.append(f"size={tuple(values.shape)}")
        if dtype_name != default_dtype_name:
            notes.append(f"dtype=torch.{dtype_name}")
        body = "[]"
    else:
        if not _options.edgeitems:
            # With no edge items shown, the shape is the only information left.
            notes.append(f"size={tuple(values.shape)}")
        if dtype_name != default_dtype_name and dtype_name not in _SELF_EVIDENT_DTYPES:
            notes.append(f"dtype=torch.{dtype_name}")
        body = _render_values(values, indent=len(_PREFIX))
    if grad_fn_name is not None:
        notes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        notes.append("requires_grad=True")
    if tangent is not None:  # a dual tensor's (forward-mode AD)
        notes.append(f"tangent={tangent}")
    return _append_notes(_PREFIX + body, notes, indent=len(_PREFIX))


def _as_numpy(array: Any, dtype_name: str) -> np.ndarray:
    """The values as an ndarray of the NumPy type for ``dtype_name`` (copying only if needed)."""
    try:
        numpy_type = _NUMPY_DTYPES[dtype_name]
    except KeyError:
        raise ValueError(f"cannot print tensors of dtype {dtype_name!r}") from None
    values = np.asarray(array)
    if values.dtype != numpy_type:
        values = values.astype(numpy_type)
    return values


def _qualified_device(device: str) -> str:
    """PyTorch always prints a device index, e.g. "cuda" is shown as "cuda:0"."""
    return device if ":" in device else f"{device}:0"


def _append_notes(text: str, notes: list[str], indent: int) -> str:
    """Close the parenthesis after ``text``, adding ``notes`` and wrapping them past linewidth."""
    pieces = [text]
    # PyTorch counts the last line as two characters longer than it is; keep that for equal output.
    line_length = len(text) - text.rfind("\n") + 1
    for note in notes:
        if line_length + len(note) + 2 > _options.linewidth:
            pieces.append(",\n" + " " * indent + note)
            line_length = indent + len(note)
        else:
            pieces.append(", " + note)
            line_length += len(note) + 2
    pieces.append(")")
    return "".join(pieces)


def _render_values(values: np.ndarray, indent: int) -> str:
    """The bracketed values of a non-empty array, starting at column ``indent``."""
    summarize = values.size > _options.threshold
    shown = _shown_elements(values) if summarize else values
    if values.dtype.kind == "f":
        column = _float_column(shown)
    else:
        column = _exact_column(shown)
    return _render_block(values, indent, summarize, column)


def _shown_elements(values: np.ndarray) -> np.ndarray:
    """The elements a summarised print displays; only these decide the column layout."""
    edge = _options.edgeitems
    for axis, size in enumerate(values.shape):
        if size > 2 * edge:
            kept = np.concatenate((np.arange(edge), np.arange(size - edge, size)))
            values = np.take(values, kept, axis=axis)
    return values


@dataclass(frozen=True)
class _Column:
    """How every element of one tensor is written: a renderer and the shared column width."""

    render: Callable[[Any], str]
    width: int

    def __call__(self, value: Any) -> str:
        return self.render(value).rjust(self.width)


def _exact_column(shown: np.ndarray) -> _Column:
    """Integers and booleans print via ``str``, right-aligned to the widest shown value."""
    width = 1
    if shown.size:
        extremes = (shown.min().item(), shown.max().item())
        width = max(width, *(len(str(value)) for value in extremes))
    return _Column(str, width)


def _float_column(shown: np.ndarray) -> _Column:
    """Pick one notation and column width that fits every displayed float.

    Only finite non-zero values take part: zeros, nan and inf must not force scientific
    notation or decimals on their own.
    """
    flat = shown.ravel()
    informative = flat[np.isfinite(flat) & (flat != 0)]
    if informative.size == 0:
        return _Column(_float_body_renderer(integral=True, scientific=False), 1)

    magnitudes = np.abs(informative).astype(np.float64)
    smallest, largest = float(magnitudes.min()), float(magnitudes.max())
    integral = bool(np.all(informative == np.ceil(informative)))
    if _options.sci_mode is None:
        scientific = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
    else:
        scientific = bool(_options.sci_mode)
    render_body = _float_body_renderer(integral, scientific)

    # A rendering's length only grows with magnitude (and the sign), so the widest one is among
    # the extreme values of each sign; format just those instead of every element.
    positives = informative[informative > 0]
    negatives = informative[informative < 0]
    extremes = [float(part.min()) for part in (positives, negatives) if part.size]
    extremes += [float(part.max()) for part in (positives, negatives) if part.size]
    width = max(1, *(len(render_body(value)) for value in extremes))
    return _Column(render_body, width)


def _float_body_renderer(integral: bool, scientific: bool) -> Callable[[float], str]:
    """Format one float, unpadded, in the chosen notation."""
    precision = _options.precision
    if scientific:
        return lambda value: f"{value:.{precision}e}"
    if integral:
        # "1." rather than "1" so whole-number floats still read as floats; nan/inf stay bare.
        return lambda value: f"{value:.0f}." if math.isfinite(value) else f"{value:.0f}"
    return lambda value: f"{value:.{precision}f}"


def _render_block(block: np.ndarray, indent: int, summarize: bool, column: _Column) -> str:
    """Nested brackets for ``block``; sub-blocks are separated by ndim - 1 line breaks."""
    if block.ndim == 0:
        return column(block.item())
    if block.ndim == 1:
        return _render_row(block, indent, summarize, column)

    edge = _options.edgeitems
    count = block.shape[0]
    if summarize and count > 2 * edge:
        indices = [*range(edge), None, *range(count - edge, count)]
    else:
        indices = list(range(count))
    parts = [
        "..." if i is None else _render_block(block[i], indent + 1, summarize, column)
        for i in indices
    ]
    separator = "," + "\n" * (block.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _render_row(row: np.ndarray, indent: int, summarize: bool, column: _Column) -> str:
    """One 1-D row, wrapped so that a fixed number of elements sits on each line."""
    edge = _options.edgeitems
    if summarize and not edge:
        texts = ["..."]
    elif summarize and row.shape[0] > 2 * edge:
        texts = [column(value) for value in row[:edge].tolist()]
        texts.append(" ...")
        texts += [column(value) for value in row[-edge:].tolist()]
    else:
        texts = [column(value) for value in row.tolist()]

    # Every element counts as the column width plus ", ", however long its text really is.
    element_width = column.width + 2
    per_line = max(1, math.floor((_options.linewidth - indent) / element_width))
    lines = [", ".join(texts[start:start + per_line]) for start in range(0, len(texts), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
