"""Ops whose result takes its shape from another operand, `like`: the plumbing of gradients
(cf. TF's BroadcastGradientArgs + Sum + Reshape, and StridedSliceGrad).

A gradient must undo a broadcast, a reduction, a reshape or a slice whose shapes may be
unknown while the graph is built (`[None, 10] + [10]`); they are known once a run signature
fixes the fed shapes. So these ops take the tensor whose shape they need as their last
operand (its values are never read) and `expand` into ordinary ops (reductions, reshapes,
broadcasts, pads) when the graph is lowered to IR for one signature. Their `reference`
gives the same meaning for the interpreter, and each has its own gradient rule, so
gradients of gradients work.

- `lf.sum_to(a, like)`: `a` summed down to `like`'s shape (numpy broadcasting undone).
- `lf.broadcast_like(a, like){axes}`: `a` broadcast up to `like`'s shape, after size-1 dims
  are put back at `axes` (the reduced axes of a reduction without keepdims; absent: none).
- `lf.reshape_like(a, like)`: `a`'s elements in `like`'s shape.
- `lf.split_like(g, *likes){axis}`: `g` split along `axis` into pieces of the `likes`' shapes.
- `lf.segment_sum_like(data, ids, like)`: `lf.unsorted_segment_sum` into `like`'s leading dim
  of segments (gather's gradient when the gathered dim is unknown at build time).
- `lf.slice_grad(g, like){op, ...}`: zeros of `like`'s shape with `g` at the elements that
  the slice `op` (`lf.slice` or `lf.strided_slice`, its attributes alongside) reads.
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.opdef import PURE, GradOp, OpDef, register
from lowerflow.ir.ops.array import slice_window
from lowerflow.ir.types import TensorType

_PURE = frozenset({PURE})


def _like_type(types, attrs) -> list[TensorType]:
    return [types[-1].with_dtype(types[0].dtype)]


def sum_axes(shape: tuple, target: tuple) -> list[int]:
    """The axes of `shape` that broadcasting to `shape` from `target` created or stretched."""
    lead = len(shape) - len(target)
    return list(range(lead)) + [lead + i for i, (a, t) in enumerate(zip(shape[lead:], target)) if t == 1 and a != 1]


def _sum_to_reference(args, attrs):
    a, like = args
    return [np.sum(a, axis=tuple(sum_axes(a.shape, like.shape)), dtype=a.dtype).reshape(like.shape)]


def _sum_to_expand(build, operands, attrs):
    a, like = operands
    axes = sum_axes(a.type.shape, like.type.shape)
    if axes:
        a = build("lf.reduce_sum", [a], {"axes": axes, "keepdims": False})[0]
    if a.type.shape != like.type.shape:
        a = build("lf.reshape", [a], {"shape": list(like.type.shape)})[0]
    return [a]


register(OpDef("lf.sum_to", _like_type, _sum_to_reference, ("LfSumTo",), _PURE,
               grad=lambda e, op, grads: [e("lf.broadcast_like", grads[0], op.inputs[0]), None],
               expand=_sum_to_expand))


def kept_shape(shape: tuple, like_shape: tuple, axes) -> tuple:
    """`shape` with size-1 dims put back at the (normalised) reduced `axes` of `like_shape`."""
    if axes is None:
        return shape
    rank = len(like_shape)
    kept = {a % rank for a in axes}
    dims = iter(shape)
    return tuple(1 if i in kept else next(dims) for i in range(rank))


def _broadcast_like_reference(args, attrs):
    a, like = args
    return [np.broadcast_to(a.reshape(kept_shape(a.shape, like.shape, attrs.get("axes"))), like.shape).copy()]


def _broadcast_like_expand(build, operands, attrs):
    a, like = operands
    shape = kept_shape(a.type.shape, like.type.shape, attrs.get("axes"))
    if shape != a.type.shape:
        a = build("lf.reshape", [a], {"shape": list(shape)})[0]
    if shape != like.type.shape:
        a = build("lf.broadcast_to", [a], {"shape": list(like.type.shape)})[0]
    return [a]


def _broadcast_like_grad(e, op: GradOp, grads):
    a, g = op.inputs[0], grads[0]
    axes = op.attrs.get("axes")
    if axes is not None:
        g = e("lf.reduce_sum", g, axes=list(axes), keepdims=False)
    return [e("lf.sum_to", g, a), None]


register(OpDef("lf.broadcast_like", _like_type, _broadcast_like_reference, ("LfBroadcastLike",), _PURE,
               grad=_broadcast_like_grad, expand=_broadcast_like_expand))


def _reshape_like_expand(build, operands, attrs):
    a, like = operands
    if a.type.shape == like.type.shape:
        return [a]
    return build("lf.reshape", [a], {"shape": list(like.type.shape)})


register(OpDef("lf.reshape_like", _like_type,
               lambda args, attrs: [args[0].reshape(args[1].shape)], ("LfReshapeLike",), _PURE,
               grad=lambda e, op, grads: [e("lf.reshape_like", grads[0], op.inputs[0]), None],
               expand=_reshape_like_expand))


def _segment_sum_like_expand(build, operands, attrs):
    data, ids, like = operands
    return build("lf.unsorted_segment_sum", [data, ids], {"num_segments": like.type.shape[0]})


def _segment_sum_like_reference(args, attrs):
    data, ids, like = args
    out = np.zeros((like.shape[0],) + data.shape[ids.ndim:], data.dtype)
    keep = ids.reshape(-1) >= 0
    np.add.at(out, ids.reshape(-1)[keep], data.reshape((ids.size,) + data.shape[ids.ndim:])[keep])
    return [out]


def _segment_sum_like_type(types, attrs) -> list[TensorType]:
    data, ids, like = types
    return [TensorType(like.shape[:1] + data.shape[ids.rank:], data.dtype)]


register(OpDef("lf.segment_sum_like", _segment_sum_like_type, _segment_sum_like_reference, ("LfSegmentSumLike",),
               _PURE, expand=_segment_sum_like_expand,
               grad=lambda e, op, grads: [e("lf.gather", grads[0], e("lf.max", op.inputs[1], e.const(0, op.inputs[1])),
                                            axis=0), None, None]))

def _forward_attrs(attrs: dict) -> dict:
    return {k: v for k, v in attrs.items() if k != "op"}


def _slice_grad_reference(args, attrs):
    g, like = args
    w = slice_window(attrs["op"], like.shape, _forward_attrs(attrs))
    out = np.zeros(like.shape, g.dtype)
    index = np.ix_(*[start + step * np.arange(size) for start, step, size in zip(w.starts, w.steps, w.sizes)])
    out[index] = g.reshape(w.sizes)
    return [out]


def _slice_grad_expand(build, operands, attrs):
    """Pads around `g`: per dim a reversal for a negative step, zeros between the elements
    for a step above 1 (a new axis padded, then merged), then the zeros before and after."""
    g, like = operands
    shape = like.type.shape
    w = slice_window(attrs["op"], shape, _forward_attrs(attrs))
    if 0 in w.sizes:
        return build("lf.fill_like", [like], {"value": 0})
    cur = list(w.sizes)
    if tuple(cur) != g.type.shape:
        g = build("lf.reshape", [g], {"shape": cur})[0]
    widths = []
    for d, (start, step, size) in enumerate(zip(w.starts, w.steps, w.sizes)):
        if step < 0:
            g = _reverse(build, g, d)
            start, step = start + step * (size - 1), -step
        if step > 1:
            g = build("lf.reshape", [g], {"shape": cur[:d + 1] + [1] + cur[d + 1:]})[0]
            pads = [[0, 0]] * (d + 1) + [[0, step - 1]] + [[0, 0]] * (len(cur) - d - 1)
            g = build("lf.pad", [g], {"paddings": pads, "mode": "CONSTANT", "constant_values": 0})[0]
            cur[d] = min(size * step, shape[d] - start)
            g = build("lf.reshape", [g], {"shape": cur[:d] + [size * step] + cur[d + 1:]})[0]
            if cur[d] != size * step:
                g = build("lf.slice", [g], {"begin": [0] * len(cur), "size": list(cur)})[0]  # cur changes later
        widths.append([start, shape[d] - start - cur[d]])
    if any(a or b for a, b in widths):
        g = build("lf.pad", [g], {"paddings": widths, "mode": "CONSTANT", "constant_values": 0})[0]
    return [g]


def _reverse(build, g, d: int):
    rank = g.type.rank
    strides = [1] * rank
    strides[d] = -1
    every = (1 << rank) - 1
    return build("lf.strided_slice", [g], {"begin": [0] * rank, "end": [0] * rank, "strides": strides,
                                           "begin_mask": every, "end_mask": every})[0]


register(OpDef("lf.slice_grad", _like_type, _slice_grad_reference, ("LfSliceGrad",), _PURE, ("op",),
               grad=lambda e, op, grads: [e(op.attrs["op"], grads[0], **_forward_attrs(op.attrs)), None],
               expand=_slice_grad_expand))


def _split_like_reference(args, attrs):
    g, likes = args[0], args[1:]
    ends = np.cumsum([x.shape[attrs["axis"]] for x in likes])
    return np.split(g, ends[:-1], attrs["axis"])


def _split_like_expand(build, operands, attrs):
    g, likes = operands[0], operands[1:]
    axis = attrs["axis"] % g.type.rank
    sizes = [x.type.shape[axis] for x in likes]
    return build("lf.split", [g], {"axis": axis, "num_split": len(sizes), "size_splits": sizes})


register(OpDef("lf.split_like", lambda types, attrs: [t.with_dtype(types[0].dtype) for t in types[1:]],
               _split_like_reference, ("LfSplitLike",), _PURE, ("axis",),
               grad=lambda e, op, grads: [e("lf.concat", *grads, axis=op.attrs["axis"])] + [None] * (len(op.inputs) - 1),
               expand=_split_like_expand))
