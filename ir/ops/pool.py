"""Max and average pooling over NHWC windows, and their gradients (TF1's MaxPool, AvgPool,
MaxPoolGrad, AvgPoolGrad; cf. TF's `pooling_ops_common.h`).

Attributes as TF's: `ksize` and `strides` ([1, kh, kw, 1], [1, sh, sw, 1]), `padding`
("SAME", "VALID" or "EXPLICIT" with `explicit_paddings`, 8 ints, [before, after] per dim).
SAME pads (total // 2) before and the rest after. A window reads only input elements: the
maximum never sees padding, the average divides by the count of input elements in its window
(TF's SAME average). The maximum is TF's CPU reducer's: it starts from the dtype's lowest
finite value, at the window's first element, and only a strictly greater element (ordered:
NaN never, -inf never) moves it, so a window of NaN or -inf gives the lowest finite value.
MaxPoolGrad recomputes each window's maximum from the original input (its `orig_output`
operand is not read, as on TF's CPU) and gives the window's gradient to that element: the
FIRST maximum in row-major window order (after a ReLU ties are frequent), the first element
when nothing beat the start. (This is TF's float32 kernel; its float64 one starts from the
first element itself, which differs only when that is NaN.) AvgPoolGrad takes the pooled input for its shape only (so it is known per run
signature, as the batch often is), where TF has the shape as an operand. The loop nests are `ir/loop_lowering_pool.py`'s.
"""
from __future__ import annotations

from math import ceil
from typing import NamedTuple

import numpy as np

from lowerflow.ir.opdef import PURE, GradOp, OpDef, not_differentiable, register
from lowerflow.ir.ops.reduction import accumulator_dtype
from lowerflow.ir.types import TensorType

_PURE = frozenset({PURE})
_ATTRS = ("ksize", "strides", "padding")


class Window(NamedTuple):
    """One spatial dim of a pooling: kernel size, stride, padding before, input and output sizes."""

    k: int
    s: int
    pad: int
    size: int
    out: int

    def spans(self) -> list[tuple[int, int, int, int]]:
        """(o0, o1, lo, hi): output positions [o0, o1) whose windows read the input offsets
        o * s + d for d in [lo, hi) (clipped to the input), consecutive positions with the
        same clipping grouped, so every loop has static bounds."""
        out: list[list[int]] = []
        for o in range(self.out):
            lo, hi = max(-self.pad, -o * self.s), min(self.k - self.pad, self.size - o * self.s)
            if out and out[-1][2:] == [lo, hi]:
                out[-1][1] = o + 1
            else:
                out.append([o, o + 1, lo, hi])
        return [tuple(s) for s in out]


def _four(attrs: dict, name: str) -> list[int]:
    v = [int(x) for x in attrs[name]]
    if len(v) != 4:
        raise ValueError(f"Sliding window {name} field must specify 4 dimensions")
    if v[0] != 1 or v[3] != 1:
        raise ValueError(f"Pooling is not yet supported on the batch dimension or depth dimension "
                         f"({name} {v})")
    if min(v) <= 0:
        raise ValueError(f"Sliding window {name} must be positive, got {v}")
    return v


def windows(shape: tuple, attrs: dict) -> tuple[Window, Window]:
    """The (height, width) windows of pooling an NHWC input of `shape` with `attrs`; ValueError
    with TF's wording for bad attributes or a negative output size."""
    ksize, strides, padding = _four(attrs, "ksize"), _four(attrs, "strides"), attrs["padding"]
    if padding not in ("SAME", "VALID", "EXPLICIT"):
        raise ValueError(f"padding must be SAME, VALID or EXPLICIT, got {padding!r}")
    explicit = [int(p) for p in attrs.get("explicit_paddings", [])]
    if padding == "EXPLICIT" and (len(explicit) != 8 or explicit[:2] + explicit[6:] != [0] * 4 or min(explicit) < 0):
        raise ValueError(f"explicit_paddings must be 8 non-negative ints, 0 on the batch and depth "
                         f"dimensions, got {explicit}")
    out = []
    for d in (1, 2):
        k, s, n = ksize[d], strides[d], shape[d]
        if padding == "SAME":
            o = ceil(n / s)
            pad = max((o - 1) * s + k - n, 0) // 2
        else:
            before, after = explicit[2 * d:2 * d + 2] if padding == "EXPLICIT" else (0, 0)
            if max(before, after) >= k:
                raise ValueError(f"explicit padding {before, after} must be smaller than the window ({k})")
            o, pad = (n + before + after - k) // s + 1, before
            if o < 0 or n + before + after < k:
                raise ValueError(f"Computed output size would be negative: {(n + before + after - k) // s + 1} "
                                 f"[input_size: {n}, effective_filter_size: {k}, stride: {s}]")
        out.append(Window(k, s, pad, n, o))
    return out[0], out[1]


def _check_input(t: TensorType, tf_name: str, floats_only: bool) -> None:
    if t.rank != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {t.rank}")
    if t.dtype.is_bool or (floats_only and not t.dtype.is_float):
        raise TypeError(f"Value passed to parameter 'value' has DataType {t.dtype.np_name} not in list of "
                        f"allowed values for '{tf_name}'")


def _out_shape(shape: tuple, attrs: dict) -> tuple:
    if None in shape[1:3]:
        windows((1, 1, 1, 1), {**attrs, "padding": "SAME"})  # the attributes are still checked
        return (shape[0], None, None, shape[3])
    h, w = windows(shape, attrs)
    return (shape[0], h.out, w.out, shape[3])


def _pool_infer(tf_name: str):
    def infer(types, attrs):
        (x,) = types
        _check_input(x, tf_name, tf_name == "AvgPool")
        return [TensorType(_out_shape(x.shape, attrs), x.dtype)]
    return infer


def _each_window(shape: tuple, attrs: dict):
    """(oh, ow, input rows slice, input cols slice) of every output position."""
    h, w = windows(shape, attrs)
    for oh in range(h.out):
        rows = slice(max(oh * h.s - h.pad, 0), min(oh * h.s - h.pad + h.k, h.size))
        for ow in range(w.out):
            yield oh, ow, rows, slice(max(ow * w.s - w.pad, 0), min(ow * w.s - w.pad + w.k, w.size))


def lowest(dtype: np.dtype):
    """Where a window's maximum starts: the lowest finite value of `dtype`."""
    return np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min


def _max_pool_reference(args, attrs):
    (x,) = args
    y = np.empty(_out_shape(x.shape, attrs), x.dtype)
    for oh, ow, rows, cols in _each_window(x.shape, attrs):
        part = x[:, rows, cols, :]
        part = np.where(np.isnan(part), lowest(x.dtype), part) if x.dtype.kind == "f" else part
        y[:, oh, ow, :] = part.max(axis=(1, 2), initial=lowest(x.dtype))
    return [y]


def _avg_pool_reference(args, attrs):
    (x,) = args
    y = np.empty(_out_shape(x.shape, attrs), x.dtype)
    acc = accumulator_dtype(x.dtype)
    for oh, ow, rows, cols in _each_window(x.shape, attrs):
        part = x[:, rows, cols, :]
        count = part.shape[1] * part.shape[2]
        y[:, oh, ow, :] = part.sum(axis=(1, 2), dtype=acc) / acc.type(count)
    return [y]


def _max_pool_grad_infer(types, attrs):
    x, y, g = types
    _check_input(x, "MaxPoolGrad", False)
    want = _out_shape(x.shape, attrs)
    for t, what in ((y, "orig_output"), (g, "grad")):
        if t.dtype != x.dtype or t.rank != 4 or any(a is not None and b is not None and a != b
                                                    for a, b in zip(t.shape, want)):
            raise ValueError(f"MaxPoolGrad: {what} {t} does not match the pooling of {x}")
    return [x]


def first_maximum(window: np.ndarray) -> np.ndarray:
    """Per leading index, the position of the maximum along the last axis as TF's float32
    MaxPoolGrad finds it: from the lowest finite value at position 0, a strictly greater
    element (NaN never) moves it."""
    best = np.full(window.shape[:-1], lowest(window.dtype), window.dtype)
    at = np.zeros(window.shape[:-1], np.int64)
    for j in range(window.shape[-1]):
        wins = window[..., j] > best
        best, at = np.where(wins, window[..., j], best), np.where(wins, j, at)
    return at


def _max_pool_grad_reference(args, attrs):
    x, _, g = args
    dx = np.zeros_like(x)
    n, _, _, c = x.shape
    ni, ci = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for oh, ow, rows, cols in _each_window(x.shape, attrs):
        part = x[:, rows, cols, :]
        width = part.shape[2]
        at = first_maximum(part.reshape(n, -1, c).transpose(0, 2, 1))
        np.add.at(dx, (ni, rows.start + at // width, cols.start + at % width, ci), g[:, oh, ow, :])
    return [dx]


def _avg_pool_grad_infer(types, attrs):
    x, g = types
    _check_input(g, "AvgPoolGrad", True)
    if x.rank != 4:
        raise ValueError(f"AvgPoolGrad: the pooled input must be rank 4, got {x}")
    want = _out_shape(x.shape, attrs)
    if any(a is not None and b is not None and a != b for a, b in zip(g.shape, want)):
        raise ValueError(f"AvgPoolGrad: grad {g} does not match the pooling of {x}")
    return [TensorType(x.shape, g.dtype)]


def _avg_pool_grad_reference(args, attrs):
    x, g = args
    shape = x.shape
    dx = np.zeros(shape, g.dtype)
    for oh, ow, rows, cols in _each_window(shape, attrs):
        count = (rows.stop - rows.start) * (cols.stop - cols.start)
        dx[:, rows, cols, :] += g[:, oh, ow, None, None, :] * g.dtype.type(1.0 / count)
    return [dx]


def _pool_attrs(attrs: dict) -> dict:
    return {k: attrs[k] for k in (*_ATTRS, "explicit_paddings") if k in attrs}


def _max_pool_grad(e, op: GradOp, grads):
    (x,), (y,) = op.inputs, op.outputs
    return [e("lf.max_pool_grad", x, y, grads[0], **_pool_attrs(op.attrs))]


def _avg_pool_grad(e, op: GradOp, grads):
    return [e("lf.avg_pool_grad", op.inputs[0], grads[0], **_pool_attrs(op.attrs))]


def _avg_pool_grad_grad(e, op: GradOp, grads):
    """AvgPoolGrad is linear in its gradient; its adjoint is the average pooling (the pooled
    input is read for its shape only)."""
    return [None, e("lf.avg_pool", grads[0], **_pool_attrs(op.attrs))]


register(OpDef("lf.max_pool", _pool_infer("MaxPool"), _max_pool_reference, ("MaxPool",), _PURE, _ATTRS,
               grad=_max_pool_grad))
register(OpDef("lf.avg_pool", _pool_infer("AvgPool"), _avg_pool_reference, ("AvgPool",), _PURE, _ATTRS,
               grad=_avg_pool_grad))
register(OpDef("lf.max_pool_grad", _max_pool_grad_infer, _max_pool_grad_reference, ("MaxPoolGrad",), _PURE,
               _ATTRS, grad=not_differentiable))
register(OpDef("lf.avg_pool_grad", _avg_pool_grad_infer, _avg_pool_grad_reference, ("AvgPoolGrad",), _PURE,
               _ATTRS, grad=_avg_pool_grad_grad))
