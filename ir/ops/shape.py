"""Shape ops and generated tensors: TF1's Reshape, ExpandDims, Squeeze, BroadcastTo/Fill,
ZerosLike/OnesLike, Shape/Size/Rank, Range and LinSpace.

Every shape-like argument TF1 passes as a tensor input (Reshape's `shape`, Fill's `dims`,
Range's bounds) is an attribute here: a Session compiles one executable per feed-shape
signature, so such values are known when the graph is lowered (the frontend resolves them
at build time when it can, else when a run signature is lowered: `frontend/shape_values.py`;
cf. XLA's compile-time constant arguments). Reshape, ExpandDims and Squeeze
are views (trait "view"): buffers are C-contiguous, so the new shape over the operand's
bytes is the result. Fill is BroadcastTo of a scalar; BroadcastTo is elementwise (each result
element is its operand's element at the broadcast index), so it fuses into the loop of the
elementwise ops that read it instead of being materialised. "lf.shape", "lf.size" and "lf.rank"
read their operand's type, which is static once a run fixes the feed shapes: `tf.shape(x)`
of a placeholder with unknown dims works, and constant folding makes it a constant.
Build-time errors use the words of TF1's shape functions.
"""
from __future__ import annotations

from math import ceil, prod

import numpy as np

from lowerflow.ir.opdef import ELEMENTWISE, PURE, TYPE_ONLY, VIEW, OpDef, not_differentiable, register
from lowerflow.ir.types import ELEM_TYPES, I32, I64, ElemType, TensorType

_PURE, _VIEW, _QUERY = frozenset({PURE}), frozenset({PURE, VIEW}), frozenset({PURE, TYPE_ONLY})


def shape_str(shape) -> str:
    """A shape as TF1's messages print it: [2,?,3]."""
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def elem_attr(value) -> ElemType:
    """A dtype attribute: an ElemType, or its IR name as parsed text may give it."""
    return ELEM_TYPES[value] if isinstance(value, str) else value


def known_size(shape) -> int | None:
    """The number of elements of `shape`, None while a dim is unknown."""
    return None if None in shape else prod(shape)


# ---- views: Reshape, ExpandDims, Squeeze --------------------------------------------

def reshaped(shape: tuple, target: list[int]) -> tuple:
    """Reshape's result shape: `target` with its -1 resolved (None while `shape` is unknown)."""
    for i, d in enumerate(target):
        if d < -1:
            raise ValueError(f"Size {i} must be non-negative, not {d}")
    if target.count(-1) > 1:
        raise ValueError(f"Cannot infer multiple unknown dimensions in shape {shape_str(target)}")
    known = prod(d for d in target if d != -1)
    n = known_size(shape)
    if -1 not in target:
        if n is not None and n != known:
            raise ValueError(f"Cannot reshape a tensor with {n} elements to shape {shape_str(target)} "
                             f"({known} elements)")
        return tuple(target)
    missing = None
    if n is not None:
        if known == 0:  # TF's kernel leaves 0s out of both products, and checks nothing with an empty input
            if n:
                raise ValueError(f"Cannot reshape a tensor with {n} elements to shape "
                                 f"{shape_str([None if d == -1 else d for d in target])} (0 elements)")
            return tuple(prod(d for d in shape if d) // prod(d for d in target if d > 0) if d == -1 else d
                         for d in target)
        if n % known:
            raise ValueError(f"Dimension size must be evenly divisible by {known} but is {n}")
        missing = n // known
    return tuple(missing if d == -1 else d for d in target)


def expanded(shape: tuple, axis: int) -> tuple:
    """ExpandDims' result shape: a 1 inserted at `axis` in [-rank-1, rank]."""
    rank = len(shape)
    if not -rank - 1 <= axis <= rank:
        raise ValueError(f"Tried to expand dim index {axis} for tensor with {rank} dimensions.")
    axis %= rank + 1
    return shape[:axis] + (1,) + shape[axis:]


def squeezed(shape: tuple, axes: list[int]) -> tuple:
    """Squeeze's result shape: `axes` (every size-1 dim if empty) removed."""
    rank = len(shape)
    if not axes:
        if None in shape:
            raise ValueError(f"Squeezing every size-1 dim needs known dims, got shape {shape_str(shape)}")
        return tuple(d for d in shape if d != 1)
    drop = set()
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"Tried to squeeze dim index {a} for tensor with {rank} dimensions.")
        if shape[a] not in (1, None):
            raise ValueError(f"Can not squeeze dim[{a % rank}], expected a dimension of 1, got {shape[a]}")
        drop.add(a % rank)
    return tuple(d for i, d in enumerate(shape) if i not in drop)


def _view(name: str, tf_names: tuple, attr: str, fn) -> None:
    """A view op: the result shape is `fn(operand shape, attrs[attr])`, the bytes are the operand's."""
    def infer(types, attrs):
        return [types[0].with_shape(fn(types[0].shape, attrs[attr]))]

    def reference(args, attrs):
        return [args[0].reshape(fn(args[0].shape, attrs[attr]))]

    register(OpDef(name, infer, reference, tf_names, _VIEW, (attr,), grad=_reshape_grad))


def _reshape_grad(e, op, grads):
    return [e("lf.reshape_like", grads[0], op.inputs[0])]


_view("lf.reshape", ("Reshape",), "shape", lambda s, target: reshaped(s, list(target)))
_view("lf.expand_dims", ("ExpandDims",), "axis", expanded)
_view("lf.squeeze", ("Squeeze",), "squeeze_dims", lambda s, axes: squeezed(s, list(axes)))


# ---- BroadcastTo/Fill, ZerosLike/OnesLike ---------------------------------------------

def _broadcast_to_infer(types, attrs):
    (x,) = types
    shape = tuple(attrs["shape"])
    if x.rank > len(shape) or any(a not in (None, 1, b) for a, b in zip(reversed(x.shape), reversed(shape))):
        raise ValueError(f"Incompatible shapes: {shape_str(x.shape)} vs. {shape_str(shape)}")
    if any(d < 0 for d in shape):
        raise ValueError(f"Dimensions must be non-negative, got {shape_str(shape)}")
    return [x.with_shape(shape)]


register(OpDef("lf.broadcast_to", _broadcast_to_infer,
               lambda args, attrs: [np.broadcast_to(args[0], tuple(attrs["shape"]))],
               ("BroadcastTo", "Fill"), frozenset({PURE, ELEMENTWISE}), ("shape",),
               grad=lambda e, op, grads: [e("lf.sum_to", grads[0], op.inputs[0])]))
register(OpDef("lf.fill_like", lambda types, attrs: [types[0]],
               lambda args, attrs: [np.full(args[0].shape, attrs["value"], args[0].dtype)],
               ("ZerosLike", "OnesLike"), _QUERY, ("value",), grad=not_differentiable))  # its operand's type only


# ---- Shape, Size, Rank ----------------------------------------------------------------

def _index_type(attrs) -> ElemType:
    out = elem_attr(attrs["out_type"])
    if out not in (I32, I64):
        raise TypeError(f"out_type must be int32 or int64, got {out}")
    return out


register(OpDef("lf.shape", lambda types, attrs: [TensorType((types[0].rank,), _index_type(attrs))],
               lambda args, attrs: [np.array(args[0].shape, _index_type(attrs).np_dtype)],
               ("Shape",), _QUERY, ("out_type",), grad=not_differentiable))
register(OpDef("lf.size", lambda types, attrs: [TensorType((), _index_type(attrs))],
               lambda args, attrs: [np.array(args[0].size, _index_type(attrs).np_dtype)],
               ("Size",), _QUERY, ("out_type",), grad=not_differentiable))
register(OpDef("lf.rank", lambda types, attrs: [TensorType((), I32)],
               lambda args, attrs: [np.array(args[0].ndim, np.int32)], ("Rank",), _QUERY, grad=not_differentiable))


# ---- Range, LinSpace --------------------------------------------------------------------

def range_bounds(attrs) -> tuple:
    """(start, delta, size) of a Range as numpy scalars of its dtype, checked as TF1's kernel."""
    dtype = elem_attr(attrs["dtype"])
    if dtype.kind not in ("float", "int"):
        raise TypeError(f"Range does not support dtype {dtype}")
    start, limit, delta = (dtype.np_dtype.type(attrs[k]) for k in ("start", "limit", "delta"))
    if delta == 0:
        raise ValueError(f"Requires delta != 0: {delta}")
    if delta > 0 and start > limit:
        raise ValueError(f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise ValueError(f"Requires start >= limit when delta < 0: {start}/{limit}")
    if dtype.is_float:
        size = ceil(abs((limit - start) / delta))
    else:
        size = (abs(int(limit) - int(start)) + abs(int(delta)) - 1) // abs(int(delta))
    return start, delta, size


def _range_reference(args, attrs):
    """TF1's kernel adds `delta` to a running value (in the dtype), unlike numpy's arange."""
    start, delta, size = range_bounds(attrs)
    steps = np.full(size, delta, dtype=type(start))
    if size:
        steps[0] = start
    with np.errstate(over="ignore"):
        return [np.add.accumulate(steps, dtype=type(start))]


register(OpDef("lf.range", lambda types, attrs: [TensorType((range_bounds(attrs)[2],), elem_attr(attrs["dtype"]))],
               _range_reference, ("Range",), _PURE, ("start", "limit", "delta", "dtype")))


def linspace_step(attrs) -> tuple:
    """(start, stop, step, num) of a LinSpace as numpy scalars of its float dtype."""
    dtype = elem_attr(attrs["dtype"])
    if not dtype.is_float:
        raise TypeError(f"LinSpace needs a float dtype, got {dtype}")
    num = int(attrs["num"])
    if num <= 0:
        raise ValueError(f"Requires num > 0: {num}")
    start, stop = dtype.np_dtype.type(attrs["start"]), dtype.np_dtype.type(attrs["stop"])
    step = (stop - start) / dtype.np_dtype.type(max(num - 1, 1))
    return start, stop, step, num


def _linspace_reference(args, attrs):
    """start + step * i for i < num - 1, then exactly `stop`, in the dtype (TF1's kernel)."""
    start, stop, step, num = linspace_step(attrs)
    out = start + step * np.arange(num, dtype=type(start))
    out[-1] = stop if num > 1 else start
    return [out]


register(OpDef("lf.linspace", lambda types, attrs: [TensorType((linspace_step(attrs)[3],), elem_attr(attrs["dtype"]))],
               _linspace_reference, ("LinSpace",), _PURE, ("start", "stop", "num", "dtype")))
