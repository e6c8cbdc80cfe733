"""Buffer assignment of a step function: where every value lives (cf. XLA's
BufferAssignment, TF's BFC allocator, much simplified).

- A result of a kernel op that the function returns is written straight into its
  output slot (the first, if returned twice), so returning it costs no copy.
- Every other kernel result is a temporary at a 64-byte aligned offset of one arena.
  Offsets are reused once a temporary is dead (first fit in op order), so a later op
  works "in place" of a dead operand's buffer. A kernel's results are placed before
  its operands die, so results never overlap the op's own operands: that is what
  makes the kernels' `noalias` parameters true.
- Results of "view" ops (trait `view`: constants, reshapes) own no memory; a view
  keeps the temporaries it was made from alive as long as it is used.

The analysis is part of the IR so that one algorithm serves the `plan-buffers` pass
and the backend: `record_plan` writes `lf.offset = [...]` on every kernel op (one
entry per result: its byte offset in the arena, or -1 for "written to its output
slot") and `lf.arena_size` on "func.return"; `buffer_plan` reads that back, checked
against the IR as it is now (a pass that ran later may have made it unsound), or
plans afresh when nothing is recorded. Live ranges are op positions in the body;
the return is position len(ops) - 1.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from lowerflow.ir.core import Block, Function, Operation, Value
from lowerflow.ir.opdef import OPS, VIEW
from lowerflow.ir.printer import value_names

ALIGN = 64
OFFSET_ATTR, ARENA_ATTR = "lf.offset", "lf.arena_size"
IN_SLOT = -1  # an `lf.offset` entry for a result written to its output slot

IsView = Callable[[Operation], bool]
_UNBOUNDED = 1 << 62  # the end of the arena's last free range


class StalePlanError(ValueError):
    """The plan recorded on the IR does not fit the IR any more (names the op)."""


def is_view(op: Operation) -> bool:
    """Whether `op`'s results are existing memory (its OpDef has the "view" trait; an op with
    no OpDef is not a view, and whoever lowers it names it)."""
    opdef = OPS.get(op.name)
    return opdef is not None and opdef.has(VIEW)


def round_up(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def static_shapes(func: Function) -> bool:
    """Whether every argument and top-level result has a static shape (sizes are known)."""
    return all(v.type.is_static for v in [*func.args, *(r for op in func.ops for r in op.results)])


@dataclass
class BufferPlan:
    slot_of: dict[Value, int] = field(default_factory=dict)    # value -> output slot it is written to
    offset_of: dict[Value, int] = field(default_factory=dict)  # temporary -> byte offset in the arena
    live: dict[Value, tuple[int, int]] = field(default_factory=dict)  # temporary -> (def, last use)
    arena_size: int = 0


def plan_buffers(func: Function, view: IsView = is_view) -> BufferPlan:
    """A fresh plan for `func` (static shapes): output slots, then first-fit arena offsets."""
    return plan_block(func.body, view)


def plan_block(block: Block, view: IsView = is_view, slots: bool = True) -> BufferPlan:
    """A fresh plan for one block, its terminator's operands taking the place of a function's
    results (a control op's region: its offsets are relative to the region's own part of the
    arena). `slots=False`: every value the block computes is a temporary, even one it yields
    (a loop body's next values must not be written over the values it still reads)."""
    plan = _liveness(block.ops, block.terminator.operands, view, slots)
    _place(block.ops, plan, view, _first_fit)
    return plan


def buffer_plan(func: Function, view: IsView = is_view) -> BufferPlan:
    """The plan recorded on `func` (StalePlanError if it no longer fits), else a fresh one."""
    plan = recorded_plan(func, view)
    return plan if plan is not None else plan_buffers(func, view)


def recorded_plan(func: Function, view: IsView = is_view) -> BufferPlan | None:
    """The plan `record_plan` left on `func`, checked against its ops now; None if none is."""
    kernels = [op for op in func.ops[:-1] if not view(op)]
    if not any(OFFSET_ATTR in op.attributes for op in kernels):
        return None
    plan = _liveness(func.ops, func.results, view)
    recorded: dict[Value, int] = {}
    for op in kernels:
        offsets = op.attributes.get(OFFSET_ATTR)
        if not (isinstance(offsets, list) and len(offsets) == len(op.results)
                and all(type(o) is int for o in offsets)):
            raise StalePlanError(f"'{op.name}' has no {OFFSET_ATTR} list of {len(op.results)} int(s), "
                                 f"but other ops do: run plan-buffers after every pass that changes ops")
        for r, off in zip(op.results, offsets):
            if (off == IN_SLOT) != (r in plan.slot_of):
                where = "its output slot" if r in plan.slot_of else "the arena"
                raise StalePlanError(f"'{op.name}' result #{r.index} belongs in {where}, "
                                     f"but {OFFSET_ATTR} says {off}")
            if off != IN_SLOT:
                recorded[r] = off
    _place(func.ops, plan, view, _checked(recorded))
    size = func.return_op.attributes.get(ARENA_ATTR)
    if type(size) is not int or size < plan.arena_size:
        raise StalePlanError(f"{ARENA_ATTR} = {size!r} on \"func.return\" does not hold the "
                             f"{plan.arena_size} bytes the recorded offsets need")
    plan.arena_size = size
    return plan


def record_plan(func: Function, plan: BufferPlan, view: IsView = is_view) -> bool:
    """Write `plan` on `func` as `lf.` attributes; True if any attribute changed."""
    changed = False
    for op in func.ops[:-1]:
        if not view(op):
            changed |= _set(op, OFFSET_ATTR, [plan.offset_of.get(r, IN_SLOT) for r in op.results])
    return _set(func.return_op, ARENA_ATTR, plan.arena_size) or changed


def plan_table(func: Function, plan: BufferPlan) -> str:
    """The plan as an aligned text table: value, op, bytes, buffer and live range."""
    names = value_names(func)
    rows = [("value", "op", "bytes", "buffer", "live")]
    for op in func.ops[:-1]:
        for r in op.results:
            where, live = "view", "-"
            if r in plan.slot_of:
                where = f"result #{plan.slot_of[r]}"
            elif r in plan.offset_of:
                off = plan.offset_of[r]
                where, live = f"arena [{off}, {off + round_up(r.type.nbytes)})", "{}..{}".format(*plan.live[r])
            rows.append((names[r], op.name, str(r.type.nbytes), where, live))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join([f"@{func.name}: arena {plan.arena_size} bytes", *lines])


def _set(op: Operation, key: str, value) -> bool:
    if op.attributes.get(key) == value:
        return False
    op.attributes[key] = value
    return True


def _liveness(all_ops: list[Operation], results: list[Value], view: IsView, slots: bool = True) -> BufferPlan:
    """Output slots and the live range of every temporary; no offsets yet."""
    plan = BufferPlan()
    ops = all_ops[:-1]
    for j, v in enumerate(results if slots else ()):
        if v.op is not None and not view(v.op):
            plan.slot_of.setdefault(v, j)
    roots: dict[Value, set[Value]] = {}  # the temporaries whose memory a value's bytes live in
    for i, op in enumerate(ops):
        for v in op.operands:
            for r in roots.get(v, ()):
                plan.live[r] = (plan.live[r][0], i)
        for r in op.results:
            if view(op):
                roots[r] = set().union(*(roots.get(v, set()) for v in op.operands))
            elif r not in plan.slot_of:
                roots[r] = {r}
                plan.live[r] = (i, i)
    for v in results:  # returned views/temporaries are copied out at the very end
        for r in roots.get(v, ()):
            plan.live[r] = (plan.live[r][0], len(ops))
    return plan


def _place(ops: list[Operation], plan: BufferPlan, view: IsView, place: Callable[[_Arena, int, Value], int]) -> None:
    """Sweep the ops; `place` gives each new temporary its offset, dead ones free theirs."""
    arena = _Arena()
    dying: dict[int, list[Value]] = {}
    for r, (_, last) in plan.live.items():
        dying.setdefault(last, []).append(r)
    for i, op in enumerate(ops[:-1]):
        if not view(op):
            for r in op.results:
                if r in plan.live:
                    plan.offset_of[r] = place(arena, round_up(r.type.nbytes), r)
        for r in dying.get(i, ()):  # after this op's results are placed: results never overlap operands
            arena.release(r)
    plan.arena_size = max((off + round_up(v.type.nbytes) for v, off in plan.offset_of.items()), default=0)


class _Arena:
    """The arena during the sweep: its free byte ranges (sorted, merged, the last one
    unbounded) and the live temporaries' ranges. First fit and freeing cost the number of
    free ranges, not of live temporaries, so long-lived values keep the sweep linear."""

    def __init__(self):
        self.starts, self.ends = [0], [_UNBOUNDED]  # free ranges [starts[i], ends[i])
        self.taken: dict[Value, tuple[int, int]] = {}

    def first_fit(self, size: int) -> int:
        """The lowest offset with `size` free bytes (0 for nothing, as the old planner did)."""
        return next(s for s, e in zip(self.starts, self.ends) if e - s >= size) if size else 0

    def take(self, value: Value, start: int, size: int) -> Value | None:
        """Occupy [start, start + size) for `value`; if a byte is not free, the live value holding it."""
        if size:
            i = bisect_right(self.starts, start) - 1
            if i < 0 or start + size > self.ends[i]:
                return next(v for v, (s, e) in self.taken.items() if s < start + size and start < e)
            rest = [(a, b) for a, b in ((self.starts[i], start), (start + size, self.ends[i])) if a < b]
            self.starts[i:i + 1] = [a for a, _ in rest]
            self.ends[i:i + 1] = [b for _, b in rest]
        self.taken[value] = (start, start + size)
        return None

    def release(self, value: Value) -> None:
        start, end = self.taken.pop(value)
        if start == end:
            return
        i = bisect_left(self.starts, start)  # the free range after this one (the unbounded one at least)
        joins_prev, joins_next = i > 0 and self.ends[i - 1] == start, self.starts[i] == end
        if joins_prev and joins_next:
            self.ends[i - 1] = self.ends.pop(i)
            del self.starts[i]
        elif joins_prev:
            self.ends[i - 1] = end
        elif joins_next:
            self.starts[i] = start
        else:
            self.starts.insert(i, start)
            self.ends.insert(i, end)


def _first_fit(arena: _Arena, size: int, value: Value) -> int:
    offset = arena.first_fit(size)
    arena.take(value, offset, size)
    return offset


def _checked(recorded: dict[Value, int]) -> Callable[[_Arena, int, Value], int]:
    """A `place` that takes the recorded offset after checking its bytes are free."""
    def place(arena: _Arena, size: int, value: Value) -> int:
        off = recorded[value]
        if off < 0 or off % ALIGN:
            raise StalePlanError(f"'{value.op.name}' result #{value.index}: offset {off} is not a "
                                 f"non-negative multiple of {ALIGN}")
        other = arena.take(value, off, size)
        if other is not None:
            s, e = arena.taken[other]
            raise StalePlanError(f"'{value.op.name}' result #{value.index} at [{off}, {off + size}) "
                                 f"overlaps '{other.op.name}' result #{other.index} at [{s}, {e}), "
                                 f"which is still live")
        return off
    return place
