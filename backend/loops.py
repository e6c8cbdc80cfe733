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

__all__ = ["broadcast_strides", "collapse_dims", "merge_dims", "for_range", "counted_loop", "advance_offset",
           "loop_nest"]


def for_range(b: ir.IRBuilder, n: int, body: Callable, name: str = "i",
              carried: Sequence[ir.Value] | None = None) -> list[ir.Value] | None:
    """`for i in range(n): body(i)` for a constant n >= 1; leaves `b` after the loop. With
    `carried` (initial values, n >= 0), `carried = body(i, carried)`, the values kept in
    phis; returns the last ones (the initial ones when n is 0)."""
    if carried is not None and n == 0:
        return list(carried)
    if n == 1:  # no loop: the body once, at index 0
        return body(ir.Constant(I64, 0)) if carried is None else body(ir.Constant(I64, 0), list(carried))
    return _loop(b, ir.Constant(I64, 0), ir.Constant(I64, n), 1, body, name, carried, guarded=False)


def counted_loop(b: ir.IRBuilder, lo: ir.Value, hi: ir.Value, body: Callable,
                 step: int = 1, name: str = "i", carried: Sequence[ir.Value] | None = None) -> list[ir.Value] | None:
    """`for i in range(lo, hi, step): body(i)` for runtime i64 bounds (guarded, then
    bottom-tested: the form the vectoriser wants); leaves `b` after the loop. With `carried`,
    `carried = body(i, carried)` as `for_range`; returns the last values (the initial ones
    when it runs no iteration)."""
    return _loop(b, lo, hi, step, body, name, carried, guarded=True)


def _loop(b: ir.IRBuilder, lo: ir.Value, hi: ir.Value, step: int, body: Callable, name: str,
          carried: Sequence[ir.Value] | None, guarded: bool) -> list[ir.Value] | None:
    """The one loop shape of the backend: an i64 phi from `lo`, `add nuw nsw` of `step`,
    bottom-tested against `hi` (`guarded`: entered only when lo < hi), carried values in
    phis beside the index. A body may create blocks of its own: the latch is wherever the
    builder ends up."""
    pre = b.block
    loop = b.append_basic_block(f"{name}.loop")
    done = b.append_basic_block(f"{name}.done")
    if guarded:
        b.cbranch(b.icmp_signed("<", lo, hi), loop, done)
    else:
        b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(I64, name)
    i.add_incoming(lo, pre)
    if carried is None:
        body(i)
        phis, new = [], []
    else:
        phis = [b.phi(v.type, f"{name}.acc") for v in carried]
        new = body(i, phis)
    nxt = b.add(i, ir.Constant(I64, step), name=f"{name}.next", flags=("nuw", "nsw"))
    latch = b.block
    i.add_incoming(nxt, latch)
    for phi, start, value in zip(phis, carried or (), new):
        phi.add_incoming(start, pre)
        phi.add_incoming(value, latch)
    b.cbranch(b.icmp_signed("<", nxt, hi), loop, done)
    b.position_at_end(done)
    if carried is None or not guarded:
        return None if carried is None else new
    last = []
    for start, value in zip(carried, new):  # the initial values when the guard skipped the loop
        phi = b.phi(start.type, f"{name}.last")
        phi.add_incoming(start, pre)
        phi.add_incoming(value, latch)
        last.append(phi)
    return last


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
