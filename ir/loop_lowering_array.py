"""Array ops that compute indices or values as loop nests (cf. XLA's gather/scatter emitters,
TF1's CPU kernels): GatherV2, "lf.update_row", "lf.full_rows", UnsortedSegmentSum, OneHot,
Range, LinSpace and the shape queries Shape/Size/Rank (semantics: `ir/ops/array.py` and
`ir/ops/shape.py`).

- Gather first checks every index in one loop ("loop.check" {error = "index_range"} for an
  index outside [0, dim): TF1's CPU kernel raises InvalidArgumentError), then copies, per
  outer index and index, one contiguous inner slice (a `vector` loop). It reads through the
  index kept in bounds by a select (a bad index reads row 0), so no load leaves the buffer:
  the native check only sets the step's status, and the loops run on.

      loop.for j: "loop.check"(indices[j] as ui64 >= dim)
      loop.for o, j: k = to_index(ok ? indices[j] : 0); loop.for i {vector}: out[o, j, i] = params[o, k, i]

  Indices are compared as ui64 (a negative one wraps to a huge value), one compare per index.
- "lf.update_row" copies the buffer, checks the index (as gather) and copies the row over row
  i; "lf.full_rows" copies the buffer and checks its size ("partly_filled").
- UnsortedSegmentSum zeroes the result, checks every id (at or past num_segments fails the
  step, as TF's CPU kernel; a negative id drops its row), then adds each row of `data` into
  the row its id names with a select that keeps the old value for a dropped row (branch-free,
  so the inner loop vectorises).
- OneHot compares each index (widened to i64) with the depth position: (outer, depth, inner)
  loops, the index loaded once per row when the depth dim is last.
- Range adds `delta` to a running value carried by the loop, as TF1's kernel does; LinSpace
  computes start + step * i ("loop.scalar" {contract = false}: no FMA, so it rounds like the
  numpy reference and TF's kernel), then stores `stop` exactly.
- Shape/Size/Rank store the operand's static dims, known once the run fixes the feed shapes.
- "lf.mask_positions" (the count pass of every value-dependent shape, `ir/ops/dynamic.py`)
  carries the count through one loop that stores position i at slot count and adds the mask
  bit (branch-free: the slot is at most i, and a later true element overwrites what a false
  one left), then zeroes the slots from the count on, so that the padding is an index the
  gathers reading through the positions may use.

      loop.for i, carrying c: positions[to_index(c)] = i; yield c + mask[i]
      loop.for i: positions[i] = i < c ? positions[i] : 0;  count[] = c
"""
from __future__ import annotations

from math import prod

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import c_strides, counted, empty_kernel, scalar_constant, view
from lowerflow.ir.loop_lowering_shape import Copies, whole
from lowerflow.ir.ops.array import one_hot_axis
from lowerflow.ir.ops.loop import CHECK, CONST_INDEX, INDEX_CAST, LOAD, SCALAR, STORE, TO_INDEX
from lowerflow.ir.ops.shape import linspace_step, range_bounds
from lowerflow.ir.types import BOOL, I64, INDEX, U64, ElemType

ARRAY_OPS = ("lf.gather", "lf.update_row", "lf.full_rows", "lf.unsorted_segment_sum", "lf.one_hot",
             "lf.range", "lf.linspace", "lf.shape", "lf.size", "lf.rank", "lf.mask_positions")


def array_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of an array op (the nests the module docstring describes)."""
    kernel, outs, ins = empty_kernel(op)
    body = kernel.regions[0]
    _BUILDERS[op.name](body, op, outs, ins)
    body.add("lf.yield")
    return kernel


def _s(block: Block, name: str, operands: list[Value], t: ElemType, **attrs) -> Value:
    return block.add(SCALAR, operands, [t], {"op": name, **attrs}).result


def _cast(block: Block, v: Value, t: ElemType) -> Value:
    return v if v.type == t else _s(block, "lf.cast", [v], t, to=t)


def _loop(block: Block, n: int, **hints) -> Block:
    """The body of a new "loop.for" over [0, n) in `block` (the caller yields)."""
    return counted(block, 0, n, **hints).regions[0]


def _end(*blocks: Block) -> None:
    for block in blocks:
        block.add("lf.yield")


def _flat(body: Block, buf: Value) -> Value:
    return view(body, buf, [prod(buf.type.shape)], [1])


def _copy(body: Block, dst: Value, src: Value) -> None:
    """dst := src, both of one size: one flat box copy (`loop_lowering_shape.Copies`)."""
    n = [prod(src.type.shape)]
    Copies(body).copy(n, whole(dst, n), whole(src, n))


def _bounds(body: Block, rows: int) -> tuple[Value, Value]:
    """The ui64 constants (0, rows) an index is checked and clamped with (in the kernel's block)."""
    return scalar_constant(body, 0, U64), scalar_constant(body, rows, U64)


def _row_index(block: Block, index: Value, bounds: tuple[Value, Value]) -> tuple[Value, Value]:
    """(index outside [0, rows), the index as ui64): a negative index wraps to a huge one."""
    wide = _cast(block, index, U64)
    return _s(block, "lf.ge", [wide, bounds[1]], BOOL), wide


def _safe_index(block: Block, bad: Value, wide: Value, bounds: tuple[Value, Value]) -> Value:
    """The index of a row to read or write: 0 for a bad one (so no access leaves the buffer)."""
    return block.add(TO_INDEX, [_s(block, "lf.select", [bad, bounds[0], wide], U64)], [INDEX]).result


def _dims(*sizes: int) -> list[int]:
    """The loops' sizes without the size-1 ones."""
    return [n for n in sizes if n != 1]


def _gather(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    params, indices = ins
    shape = params.type.shape
    axis = op.attributes["axis"] % len(shape)
    outer, n, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1:])
    count = prod(indices.type.shape)
    if count == 0:
        return
    ids, bounds = _flat(body, indices), _bounds(body, n)
    check = _loop(body, count)
    bad, _ = _row_index(check, check.add(LOAD, [ids, check.args[0]], [ids.type.dtype]).result, bounds)
    check.add(CHECK, [bad], [], {"error": "index_range"})
    _end(check)
    if n == 0 or outer * inner == 0:
        return
    o_dims, i_dims = _dims(outer), _dims(inner)
    src = view(body, params, [*o_dims, n, *i_dims], c_strides([*o_dims, n, *i_dims]))
    dst = view(body, outs[0], [*o_dims, count, *i_dims], c_strides([*o_dims, count, *i_dims]))
    block = _loop(body, outer) if o_dims else body
    o = [block.args[0]] if o_dims else []
    row = _loop(block, count)
    j = row.args[0]
    bad, wide = _row_index(row, row.add(LOAD, [ids, j], [ids.type.dtype]).result, bounds)
    k = _safe_index(row, bad, wide, bounds)
    at = _loop(row, inner, vector=True) if i_dims else row
    i = [at.args[0]] if i_dims else []
    at.add(STORE, [at.add(LOAD, [src, *o, k, *i], [src.type.dtype]).result, dst, *o, j, *i])
    _end(*([at] if i_dims else []), row, *([block] if o_dims else []))


def _update_row(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    buffer, index, row = ins
    rows, inner = buffer.type.shape[0], prod(buffer.type.shape[1:])
    _copy(body, outs[0], buffer)
    bounds = _bounds(body, rows)
    bad, wide = _row_index(body, body.add(LOAD, [index], [index.type.dtype]).result, bounds)
    body.add(CHECK, [bad], [], {"error": "index_range"})
    if rows and inner:
        k = _safe_index(body, bad, wide, bounds)
        dst, src = view(body, outs[0], [rows, inner], [inner, 1]), _flat(body, row)
        at = _loop(body, inner, vector=True)
        at.add(STORE, [at.add(LOAD, [src, at.args[0]], [src.type.dtype]).result, dst, k, at.args[0]])
        _end(at)


def _full_rows(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    buffer, size = ins
    _copy(body, outs[0], buffer)
    n = body.add(LOAD, [size], [size.type.dtype]).result
    rows = scalar_constant(body, buffer.type.shape[0], size.type.dtype)
    body.add(CHECK, [_s(body, "lf.ne", [n, rows], BOOL)], [], {"error": "partly_filled"})


def _segment_sum(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    data, ids = ins
    out, dtype = outs[0], outs[0].type.dtype
    n, count = op.attributes["num_segments"], prod(ids.type.shape)
    inner = prod(data.type.shape[ids.type.rank:])
    if prod(out.type.shape):
        flat, zero = _flat(body, out), scalar_constant(body, 0, dtype)
        at = _loop(body, prod(out.type.shape), vector=True)
        at.add(STORE, [zero, flat, at.args[0]])
        _end(at)
    if count == 0 or inner == 0:
        return
    flat_ids, bounds, limit = _flat(body, ids), _bounds(body, n), scalar_constant(body, n, I64)
    check = _loop(body, count)
    id64 = _cast(check, check.add(LOAD, [flat_ids, check.args[0]], [ids.type.dtype]).result, I64)
    check.add(CHECK, [_s(check, "lf.ge", [id64, limit], BOOL)], [], {"error": "index_range"})
    _end(check)
    rows_in, rows_out = view(body, data, [count, inner], [inner, 1]), view(body, out, [n, inner], [inner, 1])
    row = _loop(body, count)
    j = row.args[0]
    dropped, wide = _row_index(row, row.add(LOAD, [flat_ids, j], [ids.type.dtype]).result, bounds)
    k = _safe_index(row, dropped, wide, bounds)
    at = _loop(row, inner, vector=True)
    i = at.args[0]
    old = at.add(LOAD, [rows_out, k, i], [dtype]).result
    total = _s(at, "lf.add", [old, at.add(LOAD, [rows_in, j, i], [dtype]).result], dtype)
    at.add(STORE, [_s(at, "lf.select", [dropped, old, total], dtype), rows_out, k, i])
    _end(at, row)


def _one_hot(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    (indices,), out, attrs = ins, outs[0], op.attributes
    axis = one_hot_axis(attrs, indices.type.rank)
    outer, inner, depth = prod(indices.type.shape[:axis]), prod(indices.type.shape[axis:]), attrs["depth"]
    if prod(out.type.shape) == 0:
        return
    dtype, label = out.type.dtype, indices.type.dtype
    on, off = scalar_constant(body, attrs["on_value"], dtype), scalar_constant(body, attrs["off_value"], dtype)
    o_dims, i_dims = _dims(outer), _dims(inner)
    ids = view(body, indices, [*o_dims, *i_dims], c_strides([*o_dims, *i_dims]))
    res = view(body, out, [*o_dims, depth, *i_dims], c_strides([*o_dims, depth, *i_dims]))
    block = _loop(body, outer) if o_dims else body
    o = [block.args[0]] if o_dims else []

    def store(at: Block, index: Value, d: Value, i: list[Value]) -> None:
        hot = _s(at, "lf.eq", [index, at.add(INDEX_CAST, [d], [I64], {"type": I64}).result], BOOL)
        at.add(STORE, [_s(at, "lf.select", [hot, on, off], dtype), res, *o, d, *i])

    if i_dims:  # the depth dim in the middle: the index read per (outer, inner) point
        hot = _loop(block, depth)
        at = _loop(hot, inner, vector=True)
        index = _cast(at, at.add(LOAD, [ids, *o, at.args[0]], [label]).result, I64)
        store(at, index, hot.args[0], [at.args[0]])
        _end(at, hot)
    else:  # depth last: one index per row
        index = _cast(block, block.add(LOAD, [ids, *o], [label]).result, I64)
        at = _loop(block, depth, vector=True)
        store(at, index, at.args[0], [])
        _end(at)
    if o_dims:
        _end(block)


def _range(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    out, dtype = outs[0], outs[0].type.dtype
    start, delta, size = range_bounds(op.attributes)
    if size:
        step = scalar_constant(body, delta, dtype)
        loop = counted(body, 0, size, [scalar_constant(body, start, dtype)])
        at = loop.regions[0]
        at.add(STORE, [at.args[1], out, at.args[0]])
        at.add("lf.yield", [_s(at, "lf.add", [at.args[1], step], dtype)])


def _linspace(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    out, dtype = outs[0], outs[0].type.dtype
    start, stop, step, num = linspace_step(op.attributes)
    first = scalar_constant(body, start, dtype)
    if num > 1:
        delta = scalar_constant(body, step, dtype)
        at = _loop(body, num - 1, vector=True)
        i = _s(at, "lf.cast", [at.add(INDEX_CAST, [at.args[0]], [I64], {"type": I64}).result], dtype, to=dtype)
        at.add(STORE, [_s(at, "lf.add", [first, _s(at, "lf.mul", [delta, i], dtype, contract=False)], dtype,
                          contract=False), out, at.args[0]])
        _end(at)
    last = body.add(CONST_INDEX, [], [INDEX], {"value": num - 1}).result
    body.add(STORE, [scalar_constant(body, stop, dtype) if num > 1 else first, out, last])


def _shape_query(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    """Shape, Size, Rank: the operand's static shape as constants."""
    x, out = op.operands[0].type, outs[0]
    values = {"lf.shape": x.shape, "lf.size": [x.size], "lf.rank": [x.rank]}[op.name]
    for k, v in enumerate(values):
        at = [body.add(CONST_INDEX, [], [INDEX], {"value": k}).result] if out.type.rank else []
        body.add(STORE, [scalar_constant(body, v, out.type.dtype), out, *at])


def _mask_positions(body: Block, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    (mask,), (positions, count) = ins, outs
    n, zero = mask.type.shape[0], scalar_constant(body, 0, I64)
    total = zero
    if n:
        loop = counted(body, 0, n, [zero])
        at = loop.regions[0]
        i, c = at.args
        slot = at.add(TO_INDEX, [c], [INDEX]).result
        at.add(STORE, [at.add(INDEX_CAST, [i], [I64], {"type": I64}).result, positions, slot])
        bit = _cast(at, at.add(LOAD, [mask, i], [BOOL]).result, I64)
        at.add("lf.yield", [_s(at, "lf.add", [c, bit], I64)])
        total = loop.results[0]
        pad = _loop(body, n)
        j = pad.args[0]
        kept = _s(pad, "lf.lt", [pad.add(INDEX_CAST, [j], [I64], {"type": I64}).result, total], BOOL)
        old = pad.add(LOAD, [positions, j], [I64]).result
        pad.add(STORE, [_s(pad, "lf.select", [kept, old, zero], I64), positions, j])
        _end(pad)
    body.add(STORE, [total, count])


_BUILDERS = {"lf.gather": _gather, "lf.update_row": _update_row, "lf.full_rows": _full_rows,
             "lf.unsorted_segment_sum": _segment_sum, "lf.one_hot": _one_hot, "lf.range": _range,
             "lf.linspace": _linspace, "lf.shape": _shape_query, "lf.size": _shape_query, "lf.rank": _shape_query,
             "lf.mask_positions": _mask_positions}
