"""Where every value of a step function lives: an argument slot, an output slot, a
temporary in the step's arena, or memory a view op points at.

- A result of a kernel op that the function returns is written straight into its output
  slot (the first, if returned twice), so returning it costs no copy.
- Every other kernel result is a temporary at a 64-byte aligned offset of one arena that
  the step allocates on entry and frees on every exit (so the step is reentrant).
  Offsets are reused once a temporary is dead (first fit in op order, cf. XLA's buffer
  assignment / TF's BFC allocator, much simplified). A kernel's results are placed before
  its operands die, so results never overlap operands: that is what makes the kernels'
  `noalias` parameters true.
- Results of view ops (constants, later reshapes) own no memory; a view keeps the
  temporaries it was made from alive as long as it is used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from lowerflow.ir import Function, Operation, Value

ALIGN = 64


def _round_up(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class BufferPlan:
    slot_of: dict[Value, int] = field(default_factory=dict)  # value -> output slot it is written to
    offset_of: dict[Value, int] = field(default_factory=dict)  # temporary -> byte offset in the arena
    arena_size: int = 0


def plan_buffers(func: Function, is_view: Callable[[Operation], bool]) -> BufferPlan:
    plan = BufferPlan()
    ops = func.ops[:-1]
    for j, v in enumerate(func.results):
        if isinstance(v.owner, Operation) and not is_view(v.owner):
            plan.slot_of.setdefault(v, j)

    # roots: the temporaries whose memory a value's bytes live in
    roots: dict[Value, set[Value]] = {}
    last_use: dict[Value, int] = {}
    for i, op in enumerate(ops):
        for v in op.operands:
            for r in roots.get(v, ()):
                last_use[r] = i
        for r in op.results:
            if is_view(op):
                roots[r] = set().union(*(roots.get(v, set()) for v in op.operands))
            elif r not in plan.slot_of:
                roots[r] = {r}
                last_use.setdefault(r, i)
    for v in func.results:  # returned views/temps are copied out at the very end
        for r in roots.get(v, ()):
            last_use[r] = len(ops)

    live: list[tuple[int, int, Value]] = []  # (start, end, temp), sorted by start
    for i, op in enumerate(ops):
        if not is_view(op):
            for r in op.results:
                if r not in plan.slot_of:
                    plan.offset_of[r] = _first_fit(live, _round_up(r.type.nbytes), r)
        live = [t for t in live if last_use[t[2]] > i]
    ends = [off + _round_up(v.type.nbytes) for v, off in plan.offset_of.items()]
    plan.arena_size = max(ends, default=0)
    return plan


def _first_fit(live: list[tuple[int, int, Value]], size: int, value: Value) -> int:
    start = 0
    for s, e, _ in live:
        if s - start >= size:
            break
        start = max(start, e)
    live.append((start, start + size, value))
    live.sort(key=lambda t: t[0])
    return start
