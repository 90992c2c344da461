"""Op-table entries for in-place ops meeting views (issue 7): views whose base changed after
they were taken (their history is rebuilt: AsStridedBackward0), in-place writes into expanded
and empty views, and in-place ops that save their output."""

from __future__ import annotations

from optable import OpInfo, away_from, v

# A view taken from h = x * 1, then an in-place op on h or on a sibling view: name -> (the
# view, the write, the shapes of the values written)
STALE_VIEWS = {
    "relu_-base": (lambda h: h[1:], lambda h: h.relu_(), ()),
    "mul_-base-view": (lambda h: h.view(-1), lambda h, y: h.mul_(y), ((3, 4),)),
    "mul_-sibling": (lambda h: h[1:3], lambda h, y: h[0:2].mul_(y), ((2, 4),)),
    "exp_-base-view-of-view": (lambda h: h.t()[1:], lambda h: h.exp_(), ()),
    "add_-select-of-sibling": (lambda h: h[:, 2], lambda h, y: h[:, 1:].add_(y), ((3, 3),)),
}


def _stale_view(lib, x, *values, case):
    make_view, write, _ = STALE_VIEWS[case]
    h = x * 1
    view = make_view(h)
    write(h, *values)
    return view


def _write_expanded(lib, x, y):
    h = x * 1
    h.expand(1, 4).mul_(y)
    return h


def _write_empty(lib, x):
    h = x * 1
    h[2:2].mul_(2)
    return h


OPS = [
    OpInfo("stale-view", _stale_view,
           tuple(v(name, (3, 4), *shapes, case=name)
                 for name, (_, _, shapes) in STALE_VIEWS.items()),
           "AsStridedBackward0", domain=away_from(0.0)),
    OpInfo("inplace-into-expand", _write_expanded, (v("1x4", (4,), (4,)),), "CopySlices"),
    OpInfo("inplace-into-empty-slice", _write_empty, (v("4", (4,)),), "CopySlices"),
    OpInfo("inplace-saves-output", lambda lib, x: (x * 1).exp_(), (v("exp_", (3,)),),
           "ExpBackward0"),
]
