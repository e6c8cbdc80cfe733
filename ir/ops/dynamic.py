"""Ops whose result shapes depend on operand values (TF1's Where, Unique, DynamicPartition),
and the one native kernel they are computed with, `lf.mask_positions`.

At the tensor level `lf.where`, `lf.unique` and `lf.dynamic_partition` have a `?` leading
dim (`tensor<?x2xi64>`): they print, parse, verify and interpret, and the frontend infers
the graph's partial shapes with them. No step computes them as such: the graph-to-IR
lowering (`frontend/dynamic_lowering.py`) builds each from `lf.mask_positions`, whose
results are static: the positions of the true elements of a bool vector, padded with 0 to
the vector's length, and their count. The data of a value-dependent result therefore
lives in a buffer of its static bound with its run-time extent beside it (cf. XLA's
bounded dynamic dims and dynamic padder).
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.opdef import PURE, VIEW, OpDef, not_differentiable, register
from lowerflow.ir.ops.reduction import reduction_axes
from lowerflow.ir.ops.shape import elem_attr
from lowerflow.ir.types import BOOL, I32, I64, TensorType

_PURE = frozenset({PURE})


def _positions_infer(types, attrs):
    (mask,) = types
    if mask.dtype != BOOL or mask.rank != 1:
        raise TypeError(f"lf.mask_positions takes a bool vector, got {mask}")
    return [TensorType(mask.shape, I64), TensorType((), I64)]


def _positions_reference(args, attrs):
    (mask,) = args
    hits = np.flatnonzero(mask)
    positions = np.zeros(mask.shape, np.int64)
    positions[:hits.size] = hits
    return [positions, np.array(hits.size, np.int64)]


register(OpDef("lf.mask_positions", _positions_infer, _positions_reference, (), _PURE, grad=not_differentiable))


def _where_infer(types, attrs):
    (cond,) = types
    return [TensorType((None, cond.rank), I64)]


register(OpDef("lf.where", _where_infer, lambda args, attrs: [np.argwhere(args[0]).astype(np.int64)],
               ("Where",), _PURE, grad=not_differentiable))


def _unique_infer(types, attrs):
    (x,) = types
    if x.rank != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {x.rank}")
    out = elem_attr(attrs["out_idx"])
    if out not in (I32, I64):
        raise TypeError(f"Value passed to parameter 'out_idx' has DataType {out.np_name} not in list of "
                        "allowed values: int32, int64")
    return [TensorType((None,), x.dtype), TensorType(x.shape, out)]


def unique_reference(x: np.ndarray, out_idx: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """TF1's Unique: values in order of first occurrence; every NaN is its own value."""
    first: dict = {}
    idx = np.empty(x.shape, out_idx)
    values = []
    for i, v in enumerate(x.tolist()):
        key = v if v == v else ("nan", i)
        if key not in first:
            first[key] = len(values)
            values.append(x[i])
        idx[i] = first[key]
    return np.array(values, x.dtype).reshape(-1), idx


register(OpDef("lf.unique", _unique_infer,
               lambda args, attrs: list(unique_reference(args[0], elem_attr(attrs["out_idx"]).np_dtype)),
               ("Unique",), _PURE, ("out_idx",), grad=not_differentiable))


def _partition_infer(types, attrs):
    data, parts = types
    if parts.dtype != I32:
        raise TypeError(f"Input 'partitions' of 'DynamicPartition' Op has type {parts.dtype.np_name} that does "
                        "not match expected type of int32.")
    n = attrs["num_partitions"]
    if type(n) is not int or n < 1:
        raise ValueError(f"num_partitions must be at least 1, got {n!r}")
    head = data.shape[:parts.rank]
    if len(head) != parts.rank or any(a is not None and b is not None and a != b for a, b in zip(head, parts.shape)):
        raise ValueError(f"Shape {list(parts.shape)} of partitions must be a prefix of {list(data.shape)}")
    return [TensorType((None,) + data.shape[parts.rank:], data.dtype)] * n


def _partition_reference(args, attrs):
    data, parts = args
    if parts.size and (parts.min() < 0 or parts.max() >= attrs["num_partitions"]):
        raise ValueError(f"partitions must be in [0, {attrs['num_partitions']})")
    return [data[parts == i] for i in range(attrs["num_partitions"])]


register(OpDef("lf.dynamic_partition", _partition_infer, _partition_reference, ("DynamicPartition",), _PURE,
               ("num_partitions",)))


# ---- sizes with no static bound: run-time dims (frontend/run_dims.py) --------------------
# Each takes `dims`, a tensor<kxi64> computed natively before the step (its shape prelude),
# and has `?` in its result type where those dims go: the runtime allocates the result from
# them, and the kernel's loops load their bounds from `dims` (ir/loop_lowering_run.py).

def _dims_operand(dims: TensorType, k: int | None, name: str) -> int:
    if dims.dtype != I64 or dims.rank != 1 or dims.shape[0] is None or (k is not None and dims.shape[0] != k):
        raise TypeError(f"{name} takes its run-time dims as a static i64 vector"
                        f"{'' if k is None else f' of {k}'}, got {dims}")
    return dims.shape[0]


def _run_range_infer(types, attrs):
    start, delta, dims = types
    _dims_operand(dims, 1, "lf.run_range")
    if start.shape or delta.shape or start.dtype != delta.dtype:
        raise TypeError(f"lf.run_range takes two scalars of one dtype, got {start} and {delta}")
    return [TensorType((None,), start.dtype)]


def _run_range_reference(args, attrs):
    start, delta, dims = args
    steps = np.full(int(dims[0]), delta, dtype=start.dtype)
    if steps.size:
        steps[0] = start
    with np.errstate(over="ignore"):
        return [np.add.accumulate(steps, dtype=start.dtype)]


register(OpDef("lf.run_range", _run_range_infer, _run_range_reference, (), _PURE, grad=not_differentiable))


def _run_one_hot_infer(types, attrs):
    indices, dims = types
    _dims_operand(dims, 1, "lf.run_one_hot")
    if indices.dtype.np_name not in ("uint8", "int32", "int64"):
        raise TypeError(f"lf.run_one_hot takes uint8, int32 or int64 indices, got {indices}")
    axis = attrs["axis"]
    axis = indices.rank if axis == -1 else axis
    return [TensorType(indices.shape[:axis] + (None,) + indices.shape[axis:], elem_attr(attrs["dtype"]))]


def _run_one_hot_reference(args, attrs):
    indices, dims = args
    dtype = elem_attr(attrs["dtype"]).np_dtype
    hot = indices[..., None] == np.arange(int(dims[0]))
    out = np.where(hot, np.asarray(attrs["on_value"]).astype(dtype), np.asarray(attrs["off_value"]).astype(dtype))
    return [np.moveaxis(out, -1, indices.ndim if attrs["axis"] == -1 else attrs["axis"])]


register(OpDef("lf.run_one_hot", _run_one_hot_infer, _run_one_hot_reference, (), _PURE,
               ("on_value", "off_value", "axis", "dtype"), grad=not_differentiable))


def _run_fill_infer(types, attrs):
    value, dims = types
    if value.shape:
        raise TypeError(f"lf.run_fill fills with a scalar, got {value}")
    return [TensorType((None,) * _dims_operand(dims, None, "lf.run_fill"), value.dtype)]


register(OpDef("lf.run_fill", _run_fill_infer,
               lambda args, attrs: [np.full(tuple(int(d) for d in args[1]), args[0], args[0].dtype)],
               (), _PURE, grad=not_differentiable))


def _run_reshape_infer(types, attrs):
    x, dims = types
    return [TensorType((None,) * _dims_operand(dims, None, "lf.run_reshape"), x.dtype)]


register(OpDef("lf.run_reshape", _run_reshape_infer,
               lambda args, attrs: [args[0].reshape(tuple(int(d) for d in args[1]))],
               (), _PURE, grad=not_differentiable))


def _run_tile_infer(types, attrs):
    x, dims = types
    if _dims_operand(dims, None, "lf.run_tile") != x.rank:
        raise TypeError(f"lf.run_tile needs one dim per dim of {x}, got {dims}")
    return [TensorType((None,) * x.rank, x.dtype)]


def _run_tile_reference(args, attrs):
    x, dims = args
    reps = [int(d) // s if s else 0 for d, s in zip(dims, x.shape)]
    return [np.tile(x, reps).reshape(tuple(int(d) for d in dims))]


register(OpDef("lf.run_tile", _run_tile_infer, _run_tile_reference, (), _PURE, grad=not_differentiable))


def _inner(attrs: dict) -> tuple[str, dict]:
    """(the op a run_map or run_reduce applies, that op's own attributes)."""
    return attrs["op"], {k: v for k, v in attrs.items() if k != "op"}


def _run_map_infer(types, attrs):
    from lowerflow.ir.opdef import get_op  # noqa: PLC0415 (the inner op's own rule)

    name, inner = _inner(attrs)
    *operands, dims = types
    _dims_operand(dims, None, "lf.run_map")
    sized = next((t for t in operands if not t.is_static), None)
    if sized is None:
        raise TypeError("lf.run_map needs an operand of run-time dims")
    return [t.with_shape(sized.shape) for t in get_op(name).infer(operands, inner)]


def _run_map_reference(args, attrs):
    from lowerflow.ir.opdef import get_op  # noqa: PLC0415

    name, inner = _inner(attrs)
    return get_op(name).reference(list(args[:-1]), inner)


register(OpDef("lf.run_map", _run_map_infer, _run_map_reference, (), _PURE, grad=not_differentiable))


def _run_reduce_infer(types, attrs):
    from lowerflow.ir.opdef import get_op  # noqa: PLC0415

    name, inner = _inner(attrs)
    x, dims = types
    _dims_operand(dims, None, "lf.run_reduce")
    (out,) = get_op(name).infer([x], inner)
    axes = reduction_axes(inner, x.rank)
    if len({j in axes for j, d in enumerate(x.shape) if d is None}) > 1:
        raise TypeError(f"lf.run_reduce reduces every run-time dim of {x} or none, got axes {list(axes)}")
    return [out]


register(OpDef("lf.run_reduce", _run_reduce_infer, lambda args, attrs: _run_map_reference(args, attrs), (), _PURE,
               grad=not_differentiable))


def _run_static_infer(types, attrs):
    x, dims = types
    _dims_operand(dims, None, "lf.run_static")
    shape = tuple(attrs["shape"])
    if len(shape) != x.rank or any(a is not None and a != b for a, b in zip(x.shape, shape)):
        raise TypeError(f"lf.run_static cannot see {x} as {list(shape)}")
    return [TensorType(shape, x.dtype)]


def _run_static_reference(args, attrs):
    x = args[0]
    if tuple(x.shape) != tuple(attrs["shape"]):
        raise ValueError(f"a run-time-sized value of shape {list(x.shape)} was checked to be {attrs['shape']}")
    return [x]


# A run-time-sized value whose run-time dims the shape prelude checked equal to static ones (a
# matmul's contraction with a static operand): the same buffer, seen with a static type.
register(OpDef("lf.run_static", _run_static_infer, _run_static_reference, (), frozenset({PURE, VIEW}),
               ("shape",), grad=not_differentiable))
