"""Shape and array ops that only move elements, as views and box copies (cf. XLA's copy and
transpose emitters, much simplified).

Reshape, ExpandDims and Squeeze are views: the operand's pointer is the result. Every other
op here is one or more *box copies*, `dst[dst_base + sum(i_k * dst_k)] = src[src_base +
sum(i_k * src_k)]` for every point i of a box of loop counts (or a constant instead of src):
- Transpose reads with permuted strides; Slice/StridedSlice with an offset and scaled
  strides (negative steps read backwards); BroadcastTo/Fill with stride 0 on broadcast dims.
- Tile splits each dim into (repeat, dim), the repeat read with stride 0.
- ConcatV2/Pack copy each operand into its place along the axis, Split/Unpack each piece
  out of it (Pack's operands and Unpack's results are pieces of size 1).
- Pad splits each dim into before/inside/after, up to 3**rank boxes: the constant, the
  operand, or (REFLECT/SYMMETRIC) the operand mirrored with stride -1.
- ZerosLike/OnesLike fill one flat box with the constant.
Size-1 dims are dropped and dims that are contiguous on both sides merged, so copying whole
rows is one flat loop (which LLVM turns into memcpy or vector moves). Elements move as their
memory type (a bool is its byte). Offsets may step backwards, so their arithmetic carries
only `nsw` (`loops.loop_nest` also asserts `nuw`, true only for non-negative strides).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from math import prod

from llvmlite import ir

from lowerflow.backend.kernels import KERNEL_LOWERINGS, VIEW_LOWERINGS, Buffer, KernelCtx
from lowerflow.backend.kernels_reduce import contiguous_strides
from lowerflow.backend.lltypes import I64, mem_type
from lowerflow.backend.loops import broadcast_strides, loop_nest, merge_dims
from lowerflow.ir import OPS
from lowerflow.ir.opdef import VIEW
from lowerflow.ir import ElemType, Operation
from lowerflow.ir.ops.array import pad_widths, slice_window, transpose_perm


@dataclass
class Side:
    """One side of a box copy: a buffer, the element offset of the box's first point (an int
    or an i64 computed at run time) and the element stride of each box dim."""

    buf: Buffer
    base: int | ir.Value
    strides: Sequence[int]


def i64(value: int | ir.Value) -> ir.Value:
    return ir.Constant(I64, value) if isinstance(value, int) else value


def memory_constant(dtype: ElemType, value) -> ir.Constant:
    """`value` as one element of `dtype` in memory (a bool is a byte)."""
    return ir.Constant(mem_type(dtype), float(value) if dtype.is_float else int(value))


def copy_box(kc: KernelCtx, dims: Sequence[int], dst: Side, src: Side | None = None,
             fill: ir.Constant | None = None) -> None:
    """Copy the box `dims` from `src` to `dst`, or store `fill` at each of its points."""
    if prod(dims) == 0:
        return
    sides = [dst] if src is None else [dst, src]
    loops, strides = merge_dims(dims, [s.strides for s in sides])
    mt = mem_type(dst.buf.type.dtype)
    b = kc.b

    def body(offsets: list[ir.Value]) -> None:
        value = fill if src is None else b.load(b.gep(src.buf.ptr, [offsets[1]], source_etype=mt, inbounds=True), typ=mt)
        b.store(value, b.gep(dst.buf.ptr, [offsets[0]], source_etype=mt, inbounds=True))

    loop_nest(b, loops, strides, body, [i64(s.base) for s in sides], name="c")


def whole(buf: Buffer, shape: Sequence[int] | None = None) -> Side:
    """All of `buf`, C-contiguous, seen as `shape` (default: its own)."""
    return Side(buf, 0, contiguous_strides(buf.type.shape if shape is None else shape))


# ---- one op each -------------------------------------------------------------------------

def lower_transpose(kc: KernelCtx, op: Operation) -> None:
    (x,), (out,) = kc.operands, kc.results
    strides = contiguous_strides(x.type.shape)
    perm = transpose_perm(op.attributes, x.type.rank)
    copy_box(kc, out.type.shape, whole(out), Side(x, 0, [strides[p] for p in perm]))


def lower_slice(kc: KernelCtx, op: Operation) -> None:
    """Slice and StridedSlice: the window's dims, read from its start with its steps."""
    (x,), (out,) = kc.operands, kc.results
    w = slice_window(op.name, x.type.shape, op.attributes)
    strides = contiguous_strides(x.type.shape)
    src = Side(x, sum(s * k for s, k in zip(w.starts, strides)), [s * k for s, k in zip(w.steps, strides)])
    copy_box(kc, w.sizes, whole(out, w.sizes), src)


def lower_broadcast_to(kc: KernelCtx, op: Operation) -> None:
    """BroadcastTo and Fill: numpy broadcasting, stride 0 on the broadcast dims."""
    (x,), (out,) = kc.operands, kc.results
    copy_box(kc, out.type.shape, whole(out), Side(x, 0, broadcast_strides(x.type.shape, out.type.shape)))


def lower_fill_like(kc: KernelCtx, op: Operation) -> None:
    out = kc.results[0]
    copy_box(kc, [out.type.size], Side(out, 0, [1]), fill=memory_constant(out.type.dtype, op.attributes["value"]))


def lower_tile(kc: KernelCtx, op: Operation) -> None:
    """Each dim d as (multiples[d], n_d): the repeat steps over whole copies of the dim."""
    (x,), (out,) = kc.operands, kc.results
    shape, multiples = x.type.shape, op.attributes["multiples"]
    src, dst = contiguous_strides(shape), contiguous_strides(out.type.shape)
    dims = [v for m, n in zip(multiples, shape) for v in (m, n)]
    src_strides = [v for s in src for v in (0, s)]
    dst_strides = [v for s, n in zip(dst, shape) for v in (s * n, s)]
    copy_box(kc, dims, Side(out, 0, dst_strides), Side(x, 0, src_strides))


def _pieces(kc: KernelCtx, whole_buf: Buffer, pieces: list[Buffer], axis: int, sizes: list[int], join: bool) -> None:
    """Copy each piece into (join) or out of `whole_buf` at its offset along `axis`."""
    strides = contiguous_strides(whole_buf.type.shape)
    at = 0
    for piece, n in zip(pieces, sizes):
        dims = list(whole_buf.type.shape)
        dims[axis] = n
        outer, inner = Side(whole_buf, at * strides[axis], strides), whole(piece, dims)
        copy_box(kc, dims, *((outer, inner) if join else (inner, outer)))
        at += n


def lower_join(kc: KernelCtx, op: Operation) -> None:
    """ConcatV2 (pieces of their own size) and Pack (pieces of size 1 along the new axis)."""
    out = kc.results[0]
    axis = op.attributes["axis"] % out.type.rank
    sizes = [1] * len(kc.operands) if op.name == "lf.stack" else [x.type.shape[axis] for x in kc.operands]
    _pieces(kc, out, kc.operands, axis, sizes, join=True)


def lower_split(kc: KernelCtx, op: Operation) -> None:
    """Split/SplitV (pieces of their own size) and Unpack (pieces of size 1, axis dropped)."""
    x = kc.operands[0]
    axis = op.attributes["axis"] % x.type.rank
    sizes = [1] * len(kc.results) if op.name == "lf.unstack" else [r.type.shape[axis] for r in kc.results]
    _pieces(kc, x, kc.results, axis, sizes, join=False)


def _pad_regions(n: int, before: int, after: int, mode: str) -> list[tuple]:
    """(first output index, count, first source index or None for the constant, source step)
    of the before, inside and after regions of one dim."""
    mirror = mode != "CONSTANT"
    shift = 1 if mode == "SYMMETRIC" else 0  # SYMMETRIC repeats the edge element
    return [(0, before, before - shift if mirror else None, -1),
            (before, n, 0, 1),
            (before + n, after, n - 2 + shift if mirror else None, -1)]


def lower_pad(kc: KernelCtx, op: Operation) -> None:
    """Pad, PadV2 and MirrorPad: one box per combination of per-dim regions."""
    (x,), (out,) = kc.operands, kc.results
    attrs, shape = op.attributes, x.type.shape
    src_strides, dst_strides = contiguous_strides(shape), contiguous_strides(out.type.shape)
    value = memory_constant(out.type.dtype, attrs["constant_values"])
    per_dim = [_pad_regions(n, b, a, attrs["mode"]) for n, (b, a) in zip(shape, pad_widths(shape, attrs))]
    for box in product(*per_dim):
        dims = [count for _, count, _, _ in box]
        dst = Side(out, sum(r[0] * s for r, s in zip(box, dst_strides)), dst_strides)
        if any(r[2] is None for r in box):
            copy_box(kc, dims, dst, fill=value)
        else:
            src = Side(x, sum(r[2] * s for r, s in zip(box, src_strides)),
                       [r[3] * s for r, s in zip(box, src_strides)])
            copy_box(kc, dims, dst, src)


def _same_pointer(module: ir.Module, b: ir.IRBuilder, op: Operation, ptrs: list) -> list:
    return [ptrs[0]]


#: every other op with the "view" trait (reshape, expand_dims, squeeze) is its operand's memory
#: seen with another shape: the trait says which ops are views, this table how they lower
for _name in [n for n, d in OPS.items() if d.has(VIEW) and n not in VIEW_LOWERINGS]:
    VIEW_LOWERINGS[_name] = _same_pointer
KERNEL_LOWERINGS.update({
    "lf.transpose": lower_transpose, "lf.slice": lower_slice, "lf.strided_slice": lower_slice,
    "lf.broadcast_to": lower_broadcast_to, "lf.fill_like": lower_fill_like, "lf.tile": lower_tile,
    "lf.concat": lower_join, "lf.stack": lower_join, "lf.split": lower_split, "lf.unstack": lower_split,
    "lf.pad": lower_pad,
})
