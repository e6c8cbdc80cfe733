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

from lowerflow.ir.opdef import PURE, OpDef, not_differentiable, register
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
