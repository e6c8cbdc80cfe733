"""2-D convolution as three ops: TF1's Conv2D ("lf.conv2d") and its two gradients,
Conv2DBackpropInput ("lf.conv2d_backprop_input") and Conv2DBackpropFilter
("lf.conv2d_backprop_filter").

Layouts are fixed, NHWC input and HWIO filter [kh, kw, cin, cout] (the frontend puts NCHW
between transposes); the padding is explicit (the frontend resolves SAME and VALID into
it). The attributes are TF's, in NHWC order: `strides` and `dilations` [1, h, w, 1],
`explicit_paddings` [0, 0, top, bottom, left, right, 0, 0], so a Conv2D exports as TF's with
padding "EXPLICIT". An output element is

    y[n, oy, ox, co] = sum over ky, kx, ci of
        x[n, oy*sh + ky*dh - top, ox*sw + kx*dw - left, ci] * f[ky, kx, ci, co]

with x zero outside its bounds. The input gradient takes the forward input only for its
shape (TF's `input_sizes`, known here per run signature), the filter gradient takes its
shape as the attribute `filter_sizes`.
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.opdef import PURE, GradOp, OpDef, register
from lowerflow.ir.ops.reduction import accumulator_dtype
from lowerflow.ir.types import TensorType

GEOMETRY = ("strides", "dilations", "explicit_paddings")


def geometry(attrs: dict) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """(strides [h, w], dilations [h, w], pads [(top, bottom), (left, right)]) of the attributes."""
    s, d, p = (list(attrs[k]) for k in GEOMETRY)
    return [s[1], s[2]], [d[1], d[2]], [(p[2], p[3]), (p[4], p[5])]


def _check_geometry(attrs: dict) -> None:
    s, d, p = (list(attrs[k]) for k in GEOMETRY)
    if len(s) != 4 or len(d) != 4 or len(p) != 8:
        raise ValueError(f"conv2d wants 4 strides, 4 dilations and 8 explicit paddings, got {s}, {d}, {p}")
    if (s[0], s[3], d[0], d[3]) != (1, 1, 1, 1) or any(p[:2] + p[6:]):
        raise ValueError("Current implementation does not yet support strides, dilations or paddings "
                         "in the batch and depth dimensions.")
    if min(s[1], s[2], d[1], d[2]) < 1 or min(p) < 0:
        raise ValueError(f"conv2d's strides and dilations must be positive and its paddings not negative, "
                         f"got {s}, {d}, {p}")


def output_sizes(sizes, kernel, attrs: dict) -> list:
    """[oh, ow] of a convolution of spatial `sizes` with a `kernel` [kh, kw] (None stays None)."""
    strides, dilations, pads = geometry(attrs)
    out = []
    for n, k, s, d, (before, after) in zip(sizes, kernel, strides, dilations, pads):
        if n is None:
            out.append(None)
            continue
        span = (k - 1) * d + 1
        o = (n + before + after - span) // s + 1
        if o <= 0:
            raise ValueError(f"Computed output size would be negative: {o} [input: {n + before + after}, "
                             f"effective filter: {span}, stride: {s}]")
        out.append(o)
    return out


def _float(t: TensorType, what: str) -> None:
    if t.dtype.kind != "float":
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.np_name} not in list of "
                        "allowed values: float16, float32, float64")


def _check(x: TensorType, f_shape, dtype_of: list[TensorType], attrs: dict) -> None:
    _check_geometry(attrs)
    for t, what in dtype_of:
        _float(t, what)
        if t.dtype != x.dtype:
            raise TypeError(f"Input '{what}' of 'Conv2D' Op has type {t.dtype.np_name} that does not match "
                            f"type {x.dtype.np_name} of argument 'input'.")
    if x.rank != 4 or len(f_shape) != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {x.rank if x.rank != 4 else len(f_shape)}")
    if x.shape[3] is not None and x.shape[3] != f_shape[2]:
        raise ValueError(f"Depth of input ({x.shape[3]}) is not a multiple of input depth of filter ({f_shape[2]})")


def _infer_forward(types, attrs):
    x, f = types
    _float(x, "input")
    _check(x, f.shape, [(f, "filter")], attrs)
    oh, ow = output_sizes(x.shape[1:3], f.shape[:2], attrs)
    return [TensorType((x.shape[0], oh, ow, f.shape[3]), x.dtype)]


def _infer_input_grad(types, attrs):
    x, f, dy = types
    _float(x, "input")
    _check(x, f.shape, [(f, "filter"), (dy, "out_backprop")], attrs)
    expected = (x.shape[0], *output_sizes(x.shape[1:3], f.shape[:2], attrs), f.shape[3])
    _check_dy(dy, expected)
    return [x]


def _infer_filter_grad(types, attrs):
    x, dy = types
    sizes = tuple(int(v) for v in attrs["filter_sizes"])
    _float(x, "input")
    _check(x, sizes, [(dy, "out_backprop")], attrs)
    _check_dy(dy, (x.shape[0], *output_sizes(x.shape[1:3], sizes[:2], attrs), sizes[3]))
    return [TensorType(sizes, x.dtype)]


def _check_dy(dy: TensorType, expected: tuple) -> None:
    if dy.rank != 4 or any(a is not None and b is not None and a != b for a, b in zip(dy.shape, expected)):
        raise ValueError(f"Conv2D's out_backprop has shape {list(dy.shape)}, expected {list(expected)}")


def _patches(x: np.ndarray, kernel, attrs: dict, out) -> tuple:
    """(the zero-padded input, one (rows, cols) slice pair per kernel offset)."""
    strides, dilations, pads = geometry(attrs)
    xp = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    taps = []
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            y0, x0 = ky * dilations[0], kx * dilations[1]
            taps.append((ky, kx, slice(y0, y0 + (out[0] - 1) * strides[0] + 1, strides[0]),
                         slice(x0, x0 + (out[1] - 1) * strides[1] + 1, strides[1])))
    return xp, taps


def _acc(*arrays):
    acc = accumulator_dtype(arrays[0].dtype)  # float16 accumulates in float32
    return [a.astype(acc, copy=False) for a in arrays]


def _reference_forward(args, attrs):
    x, f = _acc(*args)
    out = output_sizes(x.shape[1:3], f.shape[:2], attrs)
    xp, taps = _patches(x, f.shape[:2], attrs, out)
    y = np.zeros((x.shape[0], *out, f.shape[3]), x.dtype)
    for ky, kx, rows, cols in taps:
        y += np.tensordot(xp[:, rows, cols, :], f[ky, kx], 1)
    return [y.astype(args[0].dtype)]


def _reference_input_grad(args, attrs):
    x, f, dy = _acc(*args)
    (top, _), (left, _) = geometry(attrs)[2]
    xp, taps = _patches(np.zeros_like(x), f.shape[:2], attrs, dy.shape[1:3])
    for ky, kx, rows, cols in taps:
        xp[:, rows, cols, :] += np.tensordot(dy, f[ky, kx], ([3], [1]))
    return [xp[:, top:top + x.shape[1], left:left + x.shape[2]].astype(args[0].dtype)]


def _reference_filter_grad(args, attrs):
    x, dy = _acc(*args)
    sizes = [int(v) for v in attrs["filter_sizes"]]
    xp, taps = _patches(x, sizes[:2], attrs, dy.shape[1:3])
    df = np.zeros(sizes, x.dtype)
    for ky, kx, rows, cols in taps:
        df[ky, kx] = np.tensordot(xp[:, rows, cols, :], dy, ([0, 1, 2], [0, 1, 2]))
    return [df.astype(args[0].dtype)]


def _geometry_of(op: GradOp) -> dict:
    return {k: op.attrs[k] for k in GEOMETRY}


def _grad_forward(e, op: GradOp, grads):
    """TF's _Conv2DGrad: the two backprop ops at the forward's geometry."""
    (x, f), g = op.inputs, grads[0]
    attrs = _geometry_of(op)
    return [e("lf.conv2d_backprop_input", x, f, g, **attrs),
            e("lf.conv2d_backprop_filter", x, g, filter_sizes=list(e.shape(f)), **attrs)]


def _grad_input_grad(e, op: GradOp, grads):
    """TF's _Conv2DBackpropInputGrad: the input gradient is linear in the filter and in
    out_backprop; `x` only gives the shape."""
    (_, f, dy), g = op.inputs, grads[0]
    attrs = _geometry_of(op)
    return [None, e("lf.conv2d_backprop_filter", g, dy, filter_sizes=list(e.shape(f)), **attrs),
            e("lf.conv2d", g, f, **attrs)]


def _grad_filter_grad(e, op: GradOp, grads):
    """TF's _Conv2DBackpropFilterGrad: the filter gradient is bilinear in the input and
    out_backprop, so the input's gradient is the input gradient taking `g` as the filter, and
    out_backprop's the convolution of the input by `g`."""
    (x, dy), g = op.inputs, grads[0]
    attrs = _geometry_of(op)
    return [e("lf.conv2d_backprop_input", x, g, dy, **attrs), e("lf.conv2d", x, g, **attrs)]


register(OpDef("lf.conv2d", _infer_forward, _reference_forward, ("Conv2D",), frozenset({PURE}), GEOMETRY,
               grad=_grad_forward))
register(OpDef("lf.conv2d_backprop_input", _infer_input_grad, _reference_input_grad, ("Conv2DBackpropInput",),
               frozenset({PURE}), GEOMETRY, grad=_grad_input_grad))
register(OpDef("lf.conv2d_backprop_filter", _infer_filter_grad, _reference_filter_grad,
               ("Conv2DBackpropFilter",), frozenset({PURE}), (*GEOMETRY, "filter_sizes"), grad=_grad_filter_grad))
