"""Op-table entries for the layers added for issue 8 (activations, pad, ...): each runs through
``nn.functional`` on both libraries, so gradcheck (1st and 2nd order), values, gradients and
node names are compared with torch's."""

from __future__ import annotations

import numpy as np
from optable import OpInfo, away_from, distinct, nonzero, on_points, v

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


def _interp(lib, x, **kw):
    return lib.nn.functional.interpolate(x, **kw)


OPS += [
    OpInfo("conv_transpose2d",
           lambda lib, x, w, *b, **kw: lib.nn.functional.conv_transpose2d(x, w, *b, **kw),
           (v("plain", (2, 3, 4, 4), (3, 2, 3, 3), (2,)),
            v("stride-pad-outpad", (1, 2, 3, 4), (2, 3, 3, 2), (3,), stride=2, padding=1,
              output_padding=1),
            v("groups-dilation", (2, 4, 3, 3), (4, 1, 2, 2), groups=2, dilation=2),
            v("unbatched", (3, 4, 4), (3, 2, 2, 2), grad_fn="SqueezeBackward1")),
           "ConvolutionBackward0"),
    OpInfo("conv_transpose1d",
           lambda lib, x, w, *b, **kw: lib.nn.functional.conv_transpose1d(x, w, *b, **kw),
           (v("plain", (2, 3, 5), (3, 2, 3), (2,)),
            v("stride", (2, 2, 4), (2, 3, 2), stride=3, padding=1, output_padding=2)),
           "ConvolutionBackward0"),
    OpInfo("group_norm", lambda lib, x, *wb, g: lib.nn.functional.group_norm(x, g, *wb),
           (v("affine", (2, 4, 3), (4,), (4,), g=2), v("4d", (2, 6, 2, 3), (6,), (6,), g=3),
            v("no-affine", (3, 4, 5), g=4), v("one-group-2d", (2, 4), g=1)),
           "NativeGroupNormBackward0"),
    OpInfo("instance_norm", lambda lib, x, *wb: lib.nn.functional.instance_norm(
        x, None, None, *wb), (v("3d", (2, 3, 4)), v("affine-4d", (2, 3, 2, 3), (3,), (3,))),
           "ViewBackward0"),
    OpInfo("rms_norm", lambda lib, x, *w, shape, **kw: lib.nn.functional.rms_norm(
        x, shape, *w, **kw), (v("last", (2, 3, 4), (4,), shape=(4,)),
                              v("two-dims-eps", (2, 3, 4), shape=(3, 4), eps=1e-3)),
           "MulBackward0"),
    OpInfo("local_response_norm", lambda lib, x, **kw: lib.nn.functional.local_response_norm(
        x, **kw), (v("3d", (2, 5, 3), size=3), v("4d-even", (2, 4, 2, 3), size=2, alpha=0.1)),
           "DivBackward0"),
    OpInfo("normalize", lambda lib, x, **kw: lib.nn.functional.normalize(x, **kw),
           (v("dim1", (3, 4)), v("p1-dim0", (3, 4), p=1.0, dim=0)), "DivBackward0", nonzero()),
    OpInfo("cosine_similarity",
           lambda lib, x, y, **kw: lib.nn.functional.cosine_similarity(x, y, **kw),
           (v("dim1", (3, 4), (3, 4)), v("broadcast-last", (2, 3, 4), (4,), dim=-1)),
           "SumBackward1"),
    OpInfo("pixel_shuffle", lambda lib, x, r: lib.nn.functional.pixel_shuffle(x, r),
           (v("4d", (2, 8, 2, 3), r=2), v("3d", (9, 2, 2), r=3)), "PixelShuffleBackward0"),
    OpInfo("pixel_unshuffle", lambda lib, x, r: lib.nn.functional.pixel_unshuffle(x, r),
           (v("4d", (2, 2, 4, 6), r=2), v("5d", (1, 2, 1, 3, 3), r=3)),
           "PixelUnshuffleBackward0"),
    OpInfo("interpolate-nearest", _interp,
           (v("2d-scale", (1, 2, 3, 4), scale_factor=2),
            v("2d-size", (1, 2, 3, 5), size=(4, 3), grad_fn="UpsampleNearest2DBackward0"),
            v("1d-frac", (2, 2, 5), scale_factor=1.7, grad_fn="UpsampleNearest1DBackward0"),
            v("3d", (1, 1, 2, 3, 2), size=(3, 4, 5), grad_fn="UpsampleNearest3DBackward0")),
           "UpsampleNearest2DBackward0"),
    OpInfo("interpolate-bilinear", _interp,
           (v("scale", (1, 2, 3, 4), scale_factor=2, mode="bilinear"),
            v("align", (1, 2, 3, 4), size=(5, 7), mode="bilinear", align_corners=True),
            v("down", (2, 1, 6, 5), size=(4, 2), mode="bilinear"),
            v("frac-scale", (1, 1, 3, 4), scale_factor=(1.5, 0.75), mode="bilinear")),
           "UpsampleBilinear2DBackward0"),
    OpInfo("interpolate-linear", _interp,
           (v("scale", (2, 2, 4), scale_factor=3, mode="linear"),
            v("align", (1, 2, 4), size=7, mode="linear", align_corners=True)),
           "UpsampleLinear1DBackward0"),
    OpInfo("interpolate-trilinear", _interp,
           (v("scale", (1, 1, 2, 3, 2), scale_factor=2, mode="trilinear"),),
           "UpsampleTrilinear3DBackward0"),
]

OPS += [
    OpInfo("max_pool1d", lambda lib, x, **kw: lib.nn.functional.max_pool1d(x, **kw),
           (v("k3s2p1", (2, 3, 9), kernel_size=3, stride=2, padding=1),
            v("unbatched-dilated", (3, 8), kernel_size=2, dilation=2)),
           "SqueezeBackward1", distinct()),
    OpInfo("avg_pool1d", lambda lib, x, **kw: lib.nn.functional.avg_pool1d(x, **kw),
           (v("k3s2", (2, 3, 9), kernel_size=3, stride=2),
            v("pad-exclude", (3, 8), kernel_size=3, padding=1, count_include_pad=False)),
           "SqueezeBackward1"),
    OpInfo("adaptive_avg_pool1d", lambda lib, x, n: lib.nn.functional.adaptive_avg_pool1d(x, n),
           (v("10to4", (2, 3, 10), n=4),), "SqueezeBackward1"),
]

OPS += [
    OpInfo("unfold", lambda lib, x, **kw: lib.nn.functional.unfold(x, **kw),
           (v("k2", (2, 3, 4, 5), kernel_size=2),
            v("overlap-all", (1, 2, 5, 6), kernel_size=(3, 2), dilation=(1, 2), padding=1,
              stride=(2, 1)),
            v("unbatched", (2, 3, 3), kernel_size=2)),
           "Im2ColBackward0"),
    OpInfo("fold", lambda lib, x, **kw: lib.nn.functional.fold(x, **kw),
           (v("k2", (2, 12, 12), output_size=(4, 5), kernel_size=2),
            v("overlap", (1, 12, 18), output_size=(5, 6), kernel_size=(3, 2),
              dilation=(1, 2), padding=1, stride=(2, 1)),
            v("unbatched", (8, 6), output_size=(3, 4), kernel_size=2)),
           "Col2ImBackward0"),
]

OPS += [
    OpInfo("adaptive_max_pool2d",
           lambda lib, x, n: lib.nn.functional.adaptive_max_pool2d(x, n),
           (v("overlapping", (2, 3, 5, 7), n=(3, 4)), v("unbatched-none", (2, 4, 5), n=(2, None)),
            v("global", (1, 2, 3, 3), n=1)),
           "AdaptiveMaxPool2DBackward0", distinct()),
    OpInfo("adaptive_max_pool1d",
           lambda lib, x, n: lib.nn.functional.adaptive_max_pool1d(x, n),
           (v("10to4", (2, 3, 10), n=4),), "SqueezeBackward1", distinct()),
]
