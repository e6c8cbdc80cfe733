"""Array ops that compute indices or values: GatherV2, lf.update_row, UnsortedSegmentSum, OneHot, Range, LinSpace and the shape
queries Shape/Size/Rank (semantics: `lowerflow/ir/ops/array.py` and `shape.py`).

- Gather first checks every index in one flag-or loop (an index outside [0, dim) fails the
  step with `INDEX_RANGE`, TF1's CPU kernel raises InvalidArgumentError), then copies, per
  outer index and index, one contiguous inner slice; it reads through a clamped index, so a
  bad index never reads out of bounds.
- OneHot walks (outer, depth, inner) with the index read at stride 0 along depth and a third
  "access" whose offset is the depth position itself.
- Range adds `delta` to a running value as TF1's kernel does; LinSpace computes
  start + step * i (no FMA contraction, so it rounds like the numpy reference).
- Shape/Size/Rank store the operand's static dims, known once the run fixes the feed shapes.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from llvmlite import ir

from lowerflow.backend.errors import INDEX_RANGE, PARTLY_FILLED
from lowerflow.backend.kernels import KERNEL_LOWERINGS, KernelCtx
from lowerflow.backend.kernels_reduce import constant, fold_range
from lowerflow.backend.kernels import Buffer
from lowerflow.backend.lltypes import I64, load_elem, mem_type, reg_type, store_elem
from lowerflow.backend.loops import for_range, loop_nest
from lowerflow.ir import ElemType, Operation
from lowerflow.ir.ops.array import one_hot_axis
from lowerflow.ir.ops.shape import linspace_step, range_bounds


@dataclass
class Side:
    """One side of a flat copy: a buffer, the element offset of its first element (an int or
    an i64 computed at run time) and the element stride of each dim."""

    buf: Buffer
    base: int | ir.Value
    strides: list[int]


def copy_box(kc: KernelCtx, dims: list[int], dst: Side, src: Side) -> None:
    """Copy the box `dims` from `src` to `dst` (elements as their memory type)."""
    if prod(dims) == 0:
        return
    mt, b = mem_type(dst.buf.type.dtype), kc.b

    def body(offsets: list[ir.Value]) -> None:
        value = b.load(b.gep(src.buf.ptr, [offsets[1]], source_etype=mt, inbounds=True), typ=mt)
        b.store(value, b.gep(dst.buf.ptr, [offsets[0]], source_etype=mt, inbounds=True))

    bases = [ir.Constant(I64, s.base) if isinstance(s.base, int) else s.base for s in (dst, src)]
    loop_nest(b, dims, [dst.strides, src.strides], body, bases, name="c")



def as_index(b: ir.IRBuilder, value: ir.Value, dtype: ElemType) -> ir.Value:
    """An integer index widened to i64 (sign-extended unless unsigned)."""
    if dtype.bits == 64:
        return value
    return b.sext(value, I64) if dtype.is_signed else b.zext(value, I64)


def lower_gather(kc: KernelCtx, op: Operation) -> None:
    (params, indices), (out,) = kc.operands, kc.results
    shape = params.type.shape
    axis = op.attributes["axis"] % len(shape)
    outer, n, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1:])
    count, b = indices.type.size, kc.b
    if count == 0:
        return

    def index(j: ir.Value) -> ir.Value:
        return as_index(b, load_elem(b, indices.ptr, j, indices.type.dtype), indices.type.dtype)

    limit = ir.Constant(I64, n)
    for_range(b, count, lambda j: kc.error_if(b, b.icmp_unsigned(">=", index(j), limit), INDEX_RANGE), name="check")
    if n == 0 or outer * inner == 0:
        return

    def row(o: ir.Value, j: ir.Value) -> None:
        k = index(j)
        safe = b.select(b.icmp_unsigned("<", k, limit), k, ir.Constant(I64, 0))
        src = b.mul(b.add(b.mul(o, limit, flags=("nsw",)), safe, flags=("nsw",)), ir.Constant(I64, inner), flags=("nsw",))
        dst = b.mul(b.add(b.mul(o, ir.Constant(I64, count), flags=("nsw",)), j, flags=("nsw",)),
                    ir.Constant(I64, inner), flags=("nsw",))
        copy_box(kc, [inner], Side(out, dst, [1]), Side(params, src, [1]))

    for_range(b, outer, lambda o: for_range(b, count, lambda j: row(o, j), name="j"), name="o")


def lower_update_row(kc: KernelCtx, op: Operation) -> None:
    """Copy the buffer, then the row over row i; an index outside [0, rows) fails the step
    with `INDEX_RANGE`, and the row goes nowhere then (its offset is clamped to row 0)."""
    (buffer, index, row), (out,) = kc.operands, kc.results
    b, rows, inner = kc.b, buffer.type.shape[0], prod(buffer.type.shape[1:])
    zero, limit = ir.Constant(I64, 0), ir.Constant(I64, rows)
    copy_box(kc, [buffer.type.size], Side(out, zero, [1]), Side(buffer, zero, [1]))
    i = as_index(b, load_elem(b, index.ptr, zero, index.type.dtype), index.type.dtype)
    bad = b.icmp_unsigned(">=", i, limit)
    kc.error_if(b, bad, INDEX_RANGE)
    if rows and inner:
        start = b.mul(b.select(bad, zero, i), ir.Constant(I64, inner), flags=("nsw",))
        copy_box(kc, [inner], Side(out, start, [1]), Side(row, zero, [1]))


def lower_full_rows(kc: KernelCtx, op: Operation) -> None:
    """Copy the buffer; a size other than its row count fails the step with `PARTLY_FILLED`."""
    (buffer, size), (out,) = kc.operands, kc.results
    b, zero = kc.b, ir.Constant(I64, 0)
    copy_box(kc, [buffer.type.size], Side(out, zero, [1]), Side(buffer, zero, [1]))
    n = as_index(b, load_elem(b, size.ptr, zero, size.type.dtype), size.type.dtype)
    kc.error_if(b, b.icmp_signed("!=", n, ir.Constant(I64, buffer.type.shape[0])), PARTLY_FILLED)


def lower_unsorted_segment_sum(kc: KernelCtx, op: Operation) -> None:
    """Zero the result, then add each row of `data` into the row its id names: a negative id
    drops its row, an id at or past num_segments fails the step, as TF's CPU kernel; the check
    is branch-free (the loops run on), so the add writes only rows with ids in range."""
    (data, ids), (out,) = kc.operands, kc.results
    b, dtype, count = kc.b, out.type.dtype, ids.type.size
    n, inner = op.attributes["num_segments"], prod(data.type.shape[ids.type.rank:])
    if out.type.size:
        for_range(b, out.type.size, lambda i: store_elem(b, constant(dtype, 0), out.ptr, i, dtype), name="zero")
    if count == 0 or inner == 0:
        return

    def index(j: ir.Value) -> ir.Value:
        return as_index(b, load_elem(b, ids.ptr, j, ids.type.dtype), ids.type.dtype)

    limit = ir.Constant(I64, n)
    for_range(b, count, lambda j: kc.error_if(b, b.icmp_signed(">=", index(j), limit), INDEX_RANGE), name="check")

    def row(j: ir.Value) -> None:
        k = index(j)
        keep = b.icmp_unsigned("<", k, limit)  # a negative id compares as huge: dropped too
        dst = b.mul(b.select(keep, k, ir.Constant(I64, 0)), ir.Constant(I64, inner), flags=("nsw",))
        src = b.mul(j, ir.Constant(I64, inner), flags=("nsw",))

        def add(i: ir.Value) -> None:
            at = b.add(dst, i, flags=("nsw",))
            old = load_elem(b, out.ptr, at, dtype)
            value = load_elem(b, data.ptr, b.add(src, i, flags=("nsw",)), dtype)
            total = b.fadd(old, value) if dtype.is_float else b.add(old, value)
            store_elem(b, b.select(keep, total, old), out.ptr, at, dtype)

        for_range(b, inner, add, name="k")

    for_range(b, count, row, name="j")


def lower_one_hot(kc: KernelCtx, op: Operation) -> None:
    (indices,), (out,) = kc.operands, kc.results
    attrs, dtype = op.attributes, out.type.dtype
    axis = one_hot_axis(attrs, indices.type.rank)
    outer, inner, depth = prod(indices.type.shape[:axis]), prod(indices.type.shape[axis:]), attrs["depth"]
    if out.type.size == 0:
        return
    on, off = constant(dtype, attrs["on_value"]), constant(dtype, attrs["off_value"])
    b = kc.b

    def body(offsets: list[ir.Value]) -> None:
        at, at_out, k = offsets
        i = as_index(b, load_elem(b, indices.ptr, at, indices.type.dtype), indices.type.dtype)
        store_elem(b, b.select(b.icmp_signed("==", i, k), on, off), out.ptr, at_out, dtype)

    strides = [[inner, 0, 1], [depth * inner, inner, 1], [0, 1, 0]]  # indices, result, depth position
    loop_nest(b, [outer, depth, inner], strides, body, name="c")


def lower_range(kc: KernelCtx, op: Operation) -> None:
    out = kc.results[0]
    dtype = out.type.dtype
    start, delta, size = range_bounds(op.attributes)
    b, step = kc.b, constant(dtype, delta)

    def body(i: ir.Value, accs: list[ir.Value]) -> list[ir.Value]:
        store_elem(b, accs[0], out.ptr, i, dtype)
        return [(b.fadd if dtype.is_float else b.add)(accs[0], step)]

    if size:
        fold_range(b, size, [constant(dtype, start)], body)


def lower_linspace(kc: KernelCtx, op: Operation) -> None:
    out = kc.results[0]
    dtype = out.type.dtype
    start, stop, step, num = linspace_step(op.attributes)
    b, ft = kc.b, reg_type(dtype)

    def body(i: ir.Value) -> None:
        value = b.fadd(constant(dtype, start), b.fmul(constant(dtype, step), b.sitofp(i, ft)))
        store_elem(b, value, out.ptr, i, dtype)

    if num > 1:
        for_range(b, num - 1, body)
    store_elem(b, constant(dtype, stop if num > 1 else start), out.ptr, ir.Constant(I64, num - 1), dtype)


def lower_shape_query(kc: KernelCtx, op: Operation) -> None:
    """Shape, Size, Rank: the operand's static shape as constants."""
    x, out = kc.operands[0].type, kc.results[0]
    values = {"lf.shape": x.shape, "lf.size": [x.size], "lf.rank": [x.rank]}[op.name]
    for i, v in enumerate(values):
        store_elem(kc.b, constant(out.type.dtype, v), out.ptr, ir.Constant(I64, i), out.type.dtype)


KERNEL_LOWERINGS.update({
    "lf.gather": lower_gather, "lf.update_row": lower_update_row, "lf.full_rows": lower_full_rows, "lf.unsorted_segment_sum": lower_unsorted_segment_sum, "lf.one_hot": lower_one_hot, "lf.range": lower_range,
    "lf.linspace": lower_linspace, "lf.shape": lower_shape_query, "lf.size": lower_shape_query,
    "lf.rank": lower_shape_query,
})
