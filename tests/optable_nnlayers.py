"""Op-table entries for the layers added for issue 8 (activations, pad, ...): each runs through
``nn.functional`` on both libraries, so gradcheck (1st and 2nd order), values, gradients and
node names are compared with torch's."""

from __future__ import annotations

import numpy as np
from optable import OpInfo, away_from, nonzero, on_points, v

F2x3 = (v("2x3", (2, 3)), v("0d", ()))


def _f(name):
    return lambda lib, *xs, **kw: getattr(lib.nn.functional, name)(*xs, **kw)


def _act(name, grad_fn, domain=None, kinks=None, variants=F2x3, **options) -> OpInfo:
    variants = list(variants)
    if options:
        label = "-".join(f"{k}={val}" for k, val in options.items())
        variants.append(v(label, (2, 3), **options))
    return OpInfo(name, _f(name), tuple(variants), grad_fn, domain, kinks=kinks)


def _wide_away(*points, margin=0.2):
    """Uniform in [-5, 5] (both sides of hardswish's kinks) but ``margin`` from each point."""
    def domain(rng, shapes):
        out = []
        for s in shapes:
            x = rng.uniform(-5.0, 5.0, s)
            for p in points:
                x = np.where(np.abs(x - p) < margin, p + np.copysign(margin + 0.1, x - p), x)
            out.append(np.asarray(x, dtype=np.float64))
        return out

    return domain


def _pad_variants(nd):
    shape = (2, 3) + (4, 5, 3)[:nd]
    pads = (1, 2, 2, 0, 1, 1)[: 2 * nd]
    crop = (-1, 2, 0, -1, 1, 0)[: 2 * nd]
    return (v(f"{nd}d", shape, pad=pads), v(f"{nd}d-crop", shape, pad=crop),
            v(f"{nd}d-unbatched", shape[1:], pad=pads))


OPS = [
    _act("hardswish", "HardswishBackward0", _wide_away(-3.0, 3.0), on_points(-3.0, 0.0, 3.0)),
    _act("hardsigmoid", "HardsigmoidBackward0", _wide_away(-3.0, 3.0),
         on_points(-3.0, 0.0, 3.0)),
    _act("mish", "MishBackward0"),
    _act("hardshrink", "HardshrinkBackward0", away_from(-0.5, 0.5), on_points(-0.5, 0.0, 0.5),
         lambd=0.3),
    _act("softshrink", "SoftshrinkBackward0", away_from(-0.5, 0.5), on_points(-0.5, 0.0, 0.5),
         lambd=1.0),
    OpInfo("threshold", lambda lib, x, **kw: lib.nn.functional.threshold(x, 0.5, -2.0, **kw),
           F2x3, "ThresholdBackward0", away_from(0.5), kinks=on_points(0.0, 0.5, 1.0)),
    _act("selu", "EluBackward0", nonzero(), on_points(-1.0, 0.0, 1.0)),
    _act("celu", "CeluBackward0", nonzero(), on_points(-1.0, 0.0, 1.0), alpha=0.5),
    OpInfo("glu", _f("glu"), (v("last", (2, 4)), v("dim0", (4, 3), dim=0),
                              v("dim1-3d", (2, 6, 3), dim=1)), "GluBackward0"),
    OpInfo("prelu", _f("prelu"),
           (v("channels", (2, 3, 4), (3,)), v("shared", (2, 3), (1,)), v("1d", (3,), (1,)),
            v("0d", (), (1,))),
           "PreluKernelBackward0", nonzero(), kinks=on_points(-1.0, 0.0, 1.0)),
    OpInfo("rrelu-eval", lambda lib, x: lib.nn.functional.rrelu(x, 0.1, 0.3), F2x3,
           "RreluWithNoiseBackward0", nonzero(), kinks=on_points(-1.0, 0.0, 1.0)),
    _act("softsign", "DivBackward0", nonzero()),
    _act("tanhshrink", "SubBackward0"),
    OpInfo("softmin", lambda lib, x, **kw: lib.nn.functional.softmin(x, **kw),
           (v("dim1", (2, 3), dim=1), v("dim0", (3, 2, 2), dim=0)), "SoftmaxBackward0"),
    OpInfo("pad-constant", lambda lib, x, **kw: lib.nn.functional.pad(x, **kw),
           (v("last", (2, 3), pad=(1, 2)), v("two-value", (2, 3, 4), pad=(1, 0, 2, 1), value=1.5),
            v("crop", (3, 4), pad=(-1, 2, 1, -2)), v("all-dims", (2, 3), pad=(1, 1, 0, 2)),
            v("nothing", (2, 3), pad=())),
           "ConstantPadNdBackward0"),
]
for _nd in (1, 2, 3):
    OPS += [
        OpInfo(f"pad-reflect-{_nd}d", lambda lib, x, pad: lib.nn.functional.pad(x, pad, "reflect"),
               _pad_variants(_nd), f"ReflectionPad{_nd}DBackward0"),
        OpInfo(f"pad-replicate-{_nd}d",
               lambda lib, x, pad: lib.nn.functional.pad(x, pad, mode="replicate"),
               _pad_variants(_nd), f"ReplicationPad{_nd}DBackward0"),
        OpInfo(f"pad-circular-{_nd}d",
               lambda lib, x, pad: lib.nn.functional.pad(x, pad, mode="circular"),
               _pad_variants(_nd), "CopySlices"),
    ]
