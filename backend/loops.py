"""Loop nests over static shapes, with numpy broadcasting by per-operand strides.

An elementwise kernel walks its iteration shape once; every buffer it touches (an
"access") has its own element strides into that shape, 0 on broadcast dimensions (cf.
numpy's nditer and XLA's elemental IR emitter); the stride rules (size-1 dims dropped,
dims contiguous for every access merged) are `lowerflow.ir.strides`, shared with the
loop level.

Loops are emitted in the form LLVM's loop vectoriser recognises: an i64 phi from
0, `add nuw nsw`, `icmp slt` against a constant trip count, bottom-tested. Trip counts
are compile-time constants > 0 (a size-0 iteration space emits no loop at all), so no
guard branch is needed. A loop body may create blocks of its own (integer pow does):
the latch is wherever the builder ends up.
"""
from __future__ import annotations

from typing import Callable, Sequence

from llvmlite import ir

from lowerflow.backend.lltypes import I64
from lowerflow.ir.strides import broadcast_strides, collapse_dims, merge_dims

__all__ = ["broadcast_strides", "collapse_dims", "merge_dims", "for_range", "advance_offset", "loop_nest"]


def for_range(b: ir.IRBuilder, n: int, body: Callable[[ir.Value], None], name: str = "i") -> None:
    """`for i in range(n): body(i)` for a constant n >= 1; leaves `b` after the loop."""
    if n == 1:
        body(ir.Constant(I64, 0))
        return
    pre = b.block
    loop = b.append_basic_block(f"{name}.loop")
    done = b.append_basic_block(f"{name}.done")
    b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(I64, name)
    i.add_incoming(ir.Constant(I64, 0), pre)
    body(i)
    nxt = b.add(i, ir.Constant(I64, 1), name=f"{name}.next", flags=("nuw", "nsw"))
    i.add_incoming(nxt, b.block)
    b.cbranch(b.icmp_signed("<", nxt, ir.Constant(I64, n)), loop, done)
    b.position_at_end(done)


def advance_offset(b: ir.IRBuilder, base: ir.Value, i: ir.Value, stride: int) -> ir.Value:
    if stride == 0:
        return base  # broadcast: invariant in this loop, LICM hoists the load
    flags = ("nuw", "nsw") if stride > 0 else ("nsw",)  # a negative step is no unsigned add
    step = i if stride == 1 else b.mul(i, ir.Constant(I64, stride), flags=flags)
    if isinstance(base, ir.Constant) and base.constant == 0:
        return step
    return b.add(base, step, flags=flags)


def loop_nest(b: ir.IRBuilder, dims: Sequence[int], strides: Sequence[Sequence[int]],
              body: Callable[[list[ir.Value]], None], bases: list[ir.Value] | None = None,
              name: str = "i") -> None:
    """Run `body(offsets)` for every point of `dims`; `offsets[a]` is access a's element offset,
    `bases[a]` (default 0) plus the sum of index * stride (strides of either sign).

    Zero-size `dims` are the caller's business (nothing to run: emit nothing)."""
    def level(k: int, offsets: list[ir.Value]) -> None:
        if k == len(dims):
            body(offsets)
            return
        for_range(b, dims[k],
                  lambda i: level(k + 1, [advance_offset(b, o, i, st[k]) for o, st in zip(offsets, strides)]),
                  name=f"{name}{k}")

    level(0, bases if bases is not None else [ir.Constant(I64, 0) for _ in strides])
