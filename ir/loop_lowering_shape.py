"""Shape ops that only move elements as loop nests of loads and stores over strided views
(cf. MLIR's `memref.subview` + `memref.copy`, XLA's copy and transpose emitters, much
simplified).

Every op here is one or more *box copies*: for every point i of a box of loop counts,
`dst[i] = src[i]` (or a constant instead of src), where each side is a "loop.view" of a
kernel buffer with an element offset and one stride per dim:
- Transpose reads with permuted strides; Slice/StridedSlice from the window's first
  element with its steps (a negative step is a negative stride: read backwards);
  BroadcastTo/Fill with stride 0 on broadcast dims.
- Tile splits each dim into (repeat, dim), the repeat read with stride 0.
- ConcatV2/Pack copy each operand into its place along the axis (a view of the result from
  that place's offset), Split/Unpack each piece out of it (Pack's operands and Unpack's
  results are pieces of size 1).
- Pad splits each dim into before/inside/after, up to 3**rank boxes: the constant, the
  operand, or (REFLECT/SYMMETRIC) the operand mirrored with stride -1.
- ZerosLike/OnesLike store the constant over one flat box.
Size-1 dims are dropped and dims contiguous on both sides merged (`strides.merge_dims`), so
copying whole rows is one flat loop (which LLVM turns into memcpy or vector moves); the
innermost loop is `vector` when both sides step by at most one element there. The nests are
serial, as the direct kernels they replace were.

    %0 = "loop.kernel"(%x) ({
    ^bb0(%out: memref<3x2xf32>, %in: memref<4x3xf32>):
      %v = "loop.view"(%in) {offset = 2, shape = [3, 2], strides = [-1, 3]} : ...
      "loop.for"() ({ ^bb0(%i: index):
        "loop.for"() ({ ^bb0(%j: index):
          %e = "loop.load"(%v, %i, %j) ...
          "loop.store"(%e, %out, %i, %j) ...
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from math import prod

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import c_strides, counted, empty_kernel, scalar_constant, view
from lowerflow.ir.ops.array import pad_widths, slice_window, transpose_perm
from lowerflow.ir.ops.loop import LOAD, STORE
from lowerflow.ir.strides import broadcast_strides, merge_dims


@dataclass(frozen=True)
class Side:
    """One side of a box copy: a kernel buffer, the element offset of the box's first point
    and the element stride of each box dim (any sign)."""

    buf: Value
    offset: int
    strides: Sequence[int]


def whole(buf: Value, shape: Sequence[int] | None = None) -> Side:
    """All of `buf`, C-contiguous, seen as `shape` (default: its own)."""
    return Side(buf, 0, c_strides(list(buf.type.shape if shape is None else shape)))


#: the side of a transpose's square tiles (elements): a tile's rows on both sides stay in L1
#: while it is copied, where a plain nest reads one element per cache line from the strided
#: side (16 beat 32, 64 and 128 on a 4096x4096 float32 transpose)
TILE = 16
#: when a transpose is tiled (bytes read): from `TILE_LARGE` on, or from `TILE_CONFLICT` on
#: when the source's stride is a multiple of `CONFLICT_STRIDE` bytes (a power of two: the
#: column walked maps to few cache sets). Measured against the plain nest, float32: 4096x4096
#: 3.2x, 512x512 3.5x, 96x1024 4x, 256x256 2.2x, 784x256 2x, 1000x1000 1.2x and 2000x300
#: 1.15x faster tiled; 700x700 even, 400x400 and 64x784 7% and 17x4099 13% slower (untiled)
TILE_LARGE, TILE_CONFLICT, CONFLICT_STRIDE = 2 << 20, 64 << 10, 512


class Copies:
    """Box copies appended to a kernel's body; the fill constant made once, before its first use."""

    def __init__(self, body: Block):
        self.body = body
        self.fills: dict = {}

    def copy(self, dims: Sequence[int], dst: Side, src: Side | None = None, fill=None) -> None:
        """Copy the box `dims` from `src` to `dst`, or store `fill` (a Python number) at each
        of its points."""
        if prod(dims) == 0:
            return
        sides = [dst] if src is None else [dst, src]
        loops, strides = merge_dims(dims, [s.strides for s in sides])
        if src is None:
            dtype = dst.buf.type.dtype
            if (fill, dtype) not in self.fills:
                self.fills[fill, dtype] = scalar_constant(self.body, fill, dtype)
        for box, box_strides, offsets in _tiled(loops, strides, dst.buf.type.dtype.bits // 8 or 1):
            box, box_strides = merge_dims(box, box_strides)  # a single tile's loop goes
            self._box(box, [Side(s.buf, s.offset + o, st) for s, st, o in zip(sides, box_strides, offsets)], fill)

    def _box(self, loops: list[int], sides: list[Side], fill) -> None:
        """One nest over `loops` (outermost first), a view per side."""
        body = self.body
        views = [view(body, s.buf, loops, s.strides, s.offset) for s in sides]
        block, ivs = body, []
        for k, n in enumerate(loops):
            unit = k == len(loops) - 1 and all(abs(s.strides[k]) <= 1 for s in sides)
            block = counted(block, 0, n, **({"vector": True} if unit else {})).regions[0]
            ivs.append(block.args[0])
        dst = sides[0].buf
        value = self.fills[fill, dst.type.dtype] if len(sides) == 1 else \
            block.add(LOAD, [views[1], *ivs], [dst.type.dtype]).result
        block.add(STORE, [value, views[0], *ivs])
        while block is not body:
            block.add("lf.yield")
            block = block.parent.parent


def _tiled(loops: list[int], strides: list[list[int]], item: int
           ) -> list[tuple[list[int], list[list[int]], list[int]]]:
    """The boxes (loops, strides per side, offset per side) that copy the box `loops` of
    `item`-byte elements: itself, or, for a transpose (the innermost dim unit-stride on the
    destination only, another dim k unit-stride on the source, both at least `TILE` long)
    large enough (`TILE_LARGE`, `TILE_CONFLICT`), its `TILE` x `TILE` tiles, then the strips
    the tiles leave over (innermost remainder, then k's), as plain nests."""
    plain = [(loops, strides, [0] * len(strides))]
    if len(strides) != 2 or len(loops) < 2:
        return plain
    (dst, src), j = strides, len(loops) - 1
    ks = [k for k in range(j) if abs(src[k]) == 1]
    if abs(dst[j]) != 1 or abs(src[j]) <= 1 or not ks or loops[ks[0]] < TILE or loops[j] < TILE:
        return plain
    size = prod(loops) * item
    if size < TILE_LARGE and (size < TILE_CONFLICT or abs(src[j]) * item % CONFLICT_STRIDE):
        return plain
    k, t = ks[0], TILE
    qk, qj = loops[k] // t, loops[j] // t
    others = [d for d in range(j) if d != k]
    boxes = [([loops[d] for d in others] + [qk, qj, t, t],
              [[st[d] for d in others] + [st[k] * t, st[j] * t, st[k], st[j]] for st in strides], [0, 0])]
    if loops[j] % t:
        rest = list(loops)
        rest[k], rest[j] = qk * t, loops[j] % t
        boxes.append((rest, strides, [qj * t * st[j] for st in strides]))
    if loops[k] % t:
        rest = list(loops)
        rest[k] = loops[k] % t
        boxes.append((rest, strides, [qk * t * st[k] for st in strides]))
    return boxes


# ---- one op each -------------------------------------------------------------------------

def _transpose(c: Copies, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    (x,), (out,) = ins, outs
    strides = c_strides(list(x.type.shape))
    perm = transpose_perm(op.attributes, x.type.rank)
    c.copy(out.type.shape, whole(out), Side(x, 0, [strides[p] for p in perm]))


def _slice(c: Copies, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    """Slice and StridedSlice: the window's dims, read from its start with its steps."""
    (x,), (out,) = ins, outs
    w = slice_window(op.name, x.type.shape, op.attributes)
    strides = c_strides(list(x.type.shape))
    src = Side(x, sum(s * k for s, k in zip(w.starts, strides)), [s * k for s, k in zip(w.steps, strides)])
    c.copy(w.sizes, whole(out, w.sizes), src)


def _broadcast_to(c: Copies, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    """BroadcastTo and Fill: numpy broadcasting, stride 0 on the broadcast dims."""
    (x,), (out,) = ins, outs
    c.copy(out.type.shape, whole(out), Side(x, 0, broadcast_strides(x.type.shape, out.type.shape)))


def _fill_like(c: Copies, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    (out,) = outs
    size = prod(out.type.shape)
    c.copy([size], Side(out, 0, [1]), fill=op.attributes["value"])


def _tile(c: Copies, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    """Each dim d as (multiples[d], n_d): the repeat steps over whole copies of the dim."""
    (x,), (out,) = ins, outs
    shape, multiples = x.type.shape, op.attributes["multiples"]
    src, dst = c_strides(list(shape)), c_strides(list(out.type.shape))
    dims = [v for m, n in zip(multiples, shape) for v in (m, n)]
    src_strides = [v for s in src for v in (0, s)]
    dst_strides = [v for s, n in zip(dst, shape) for v in (s * n, s)]
    c.copy(dims, Side(out, 0, dst_strides), Side(x, 0, src_strides))


def _pieces(c: Copies, whole_buf: Value, pieces: list[Value], axis: int, sizes: list[int], join: bool) -> None:
    """Copy each piece into (join) or out of `whole_buf` at its offset along `axis`."""
    strides = c_strides(list(whole_buf.type.shape))
    at = 0
    for piece, n in zip(pieces, sizes):
        dims = list(whole_buf.type.shape)
        dims[axis] = n
        outer, inner = Side(whole_buf, at * strides[axis], strides), whole(piece, dims)
        c.copy(dims, *((outer, inner) if join else (inner, outer)))
        at += n


def _join(c: Copies, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    """ConcatV2 (pieces of their own size) and Pack (pieces of size 1 along the new axis)."""
    (out,) = outs
    axis = op.attributes["axis"] % out.type.rank
    sizes = [1] * len(ins) if op.name == "lf.stack" else [x.type.shape[axis] for x in ins]
    _pieces(c, out, ins, axis, sizes, join=True)


def _split(c: Copies, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    """Split/SplitV (pieces of their own size) and Unpack (pieces of size 1, axis dropped)."""
    x = ins[0]
    axis = op.attributes["axis"] % x.type.rank
    sizes = [1] * len(outs) if op.name == "lf.unstack" else [r.type.shape[axis] for r in outs]
    _pieces(c, x, outs, axis, sizes, join=False)


def _pad_regions(n: int, before: int, after: int, mode: str) -> list[tuple]:
    """(first output index, count, first source index or None for the constant, source step)
    of the before, inside and after regions of one dim."""
    mirror = mode != "CONSTANT"
    shift = 1 if mode == "SYMMETRIC" else 0  # SYMMETRIC repeats the edge element
    return [(0, before, before - shift if mirror else None, -1),
            (before, n, 0, 1),
            (before + n, after, n - 2 + shift if mirror else None, -1)]


def _pad(c: Copies, op: Operation, outs: list[Value], ins: list[Value]) -> None:
    """Pad, PadV2 and MirrorPad: one box per combination of per-dim regions."""
    (x,), (out,) = ins, outs
    attrs, shape = op.attributes, x.type.shape
    src_strides, dst_strides = c_strides(list(shape)), c_strides(list(out.type.shape))
    per_dim = [_pad_regions(n, b, a, attrs["mode"]) for n, (b, a) in zip(shape, pad_widths(shape, attrs))]
    for box in product(*per_dim):
        dims = [count for _, count, _, _ in box]
        dst = Side(out, sum(r[0] * s for r, s in zip(box, dst_strides)), dst_strides)
        if any(r[2] is None for r in box):
            c.copy(dims, dst, fill=attrs["constant_values"])
        else:
            c.copy(dims, dst, Side(x, sum(r[2] * s for r, s in zip(box, src_strides)),
                                   [r[3] * s for r, s in zip(box, src_strides)]))


_BUILDERS = {
    "lf.transpose": _transpose, "lf.slice": _slice, "lf.strided_slice": _slice,
    "lf.broadcast_to": _broadcast_to, "lf.fill_like": _fill_like, "lf.tile": _tile,
    "lf.concat": _join, "lf.stack": _join, "lf.split": _split, "lf.unstack": _split, "lf.pad": _pad,
}
SHAPE_OPS = tuple(_BUILDERS)


def shape_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of a shape op: its box copies (the module docstring)."""
    kernel, outs, ins = empty_kernel(op)
    body = kernel.regions[0]
    _BUILDERS[op.name](Copies(body), op, outs, ins)
    body.add("lf.yield")
    return kernel
