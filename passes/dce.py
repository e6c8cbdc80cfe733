"""`dce`: dead code elimination (cf. MLIR's region DCE in `simplifyRegions`, Grappler's
dependency optimizer dropping unused nodes).

A pure op whose results nobody uses is removed; removing it can free its
producers, so one backward sweep over a straight-line block (users always follow
their producers) reaches the fixpoint. Fusions are trimmed too: results nobody
uses leave the fusion (with their "lf.yield" operands), body ops nothing yields
die, block arguments nothing reads leave with their operands, and an empty
fusion goes away. Impure ops stay even when unused: that is `prune`'s decision.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.core import Block, Function, Operation
from lowerflow.ir.opdef import PURE, get_op
from lowerflow.ir.ops.control import IF, is_control
from lowerflow.passes.manager import FunctionPass, register_pass


@register_pass
@dataclass(frozen=True)
class DeadCodeElimination(FunctionPass):
    """Remove pure ops whose results are unused, also inside fusion regions."""

    name: ClassVar[str] = "dce"
    regions: ClassVar[bool] = False  # it enters every region itself

    def run_on_function(self, func: Function) -> bool:
        return eliminate_dead_ops(func.body)


def eliminate_dead_ops(block: Block) -> bool:
    """Remove dead pure ops (and dead parts of fusions) from `block`; True if any change."""
    uses = Counter(v for op in block.ops for v in op.operands)
    kept: list[Operation] = []
    changed = False
    for op in reversed(block.ops):
        if op.regions and is_control(op):
            changed |= _trim_control(op, uses)
        elif op.regions:
            changed |= _trim_fusion(op, uses)
        if not any(uses[r] for r in op.results) and get_op(op.name).has(PURE):
            uses.subtract(op.operands)
            changed = True
            continue
        kept.append(op)
    block.ops = kept[::-1]
    return changed


def _trim_fusion(op: Operation, uses: Counter) -> bool:
    """Drop a fusion's unused results, its dead body ops and its unread arguments."""
    body = op.regions[0]
    live = [i for i, r in enumerate(op.results) if uses[r]]
    changed = len(live) < len(op.results)
    if changed:
        yield_op = body.terminator
        yield_op.operands = [yield_op.operands[i] for i in live]
        op.results = _renumber([op.results[i] for i in live])
    changed |= eliminate_dead_ops(body)
    read = {v for inner in body.ops for v in inner.operands}
    if not all(a in read for a in body.args):
        uses.subtract(v for a, v in zip(body.args, op.operands) if a not in read)
        op.operands = [v for a, v in zip(body.args, op.operands) if a in read]
        body.args = _renumber([a for a in body.args if a in read])
        changed = True
    return changed


def _trim_control(op: Operation, uses: Counter) -> bool:
    """Drop an "lf.if"'s unused results, an "lf.while"'s carried values that nothing but their
    own next value reads, the dead ops of every region and the captures no region reads."""
    changed = _trim_if_results(op, uses) if op.name == IF else _trim_carried(op, uses)
    for block in op.regions:
        changed |= eliminate_dead_ops(block)
    first = 1 if op.name == IF else len(op.results)
    first_arg = 0 if op.name == IF else len(op.results)
    read = [any(any(v is a for inner in b.ops for v in inner.operands) for b in op.regions
                for a in [b.args[first_arg + k]]) for k in range(len(op.operands) - first)]
    if all(read):
        return changed
    uses.subtract(v for v, r in zip(op.operands[first:], read) if not r)
    op.operands = op.operands[:first] + [v for v, r in zip(op.operands[first:], read) if r]
    for b in op.regions:
        b.args = _renumber(b.args[:first_arg] + [a for a, r in zip(b.args[first_arg:], read) if r])
    return True


def _trim_if_results(op: Operation, uses: Counter) -> bool:
    live = [i for i, r in enumerate(op.results) if uses[r]]
    if len(live) == len(op.results):
        return False
    for block in op.regions:
        block.terminator.operands = [block.terminator.operands[i] for i in live]
    op.results = _renumber([op.results[i] for i in live])
    return True


def _trim_carried(op: Operation, uses: Counter) -> bool:
    """Remove carried values one at a time while one is dead: its result is unused, cond does
    not read it, and in the body only its own next value's computation does (that computation
    dies with it)."""
    changed = False
    while True:
        dead = next((i for i in range(len(op.results)) if _carried_dead(op, i, uses)), None)
        if dead is None:
            return changed
        uses.subtract([op.operands[dead]])
        del op.operands[dead]
        body = op.regions[1]
        del body.terminator.operands[dead]
        for b in op.regions:
            del b.args[dead]
            _renumber(b.args)
        op.results = _renumber(op.results[:dead] + op.results[dead + 1:])
        eliminate_dead_ops(body)
        changed = True


def _carried_dead(op: Operation, i: int, uses: Counter) -> bool:
    """Carried value i is dead when its result is unused, cond does not read it, and in the
    body what depends on it (pure ops only) reaches no other next value."""
    cond, body = op.regions
    if uses[op.results[i]] or any(cond.args[i] in inner.operands for inner in cond.ops):
        return False
    tainted = {body.args[i]}
    for inner in body.ops[:-1]:
        if any(v in tainted for v in inner.operands):
            if inner.regions or not get_op(inner.name).has(PURE):
                return False
            tainted.update(inner.results)
    return not any(v in tainted for k, v in enumerate(body.terminator.operands) if k != i)


def _renumber(values: list) -> list:
    for i, v in enumerate(values):
        v.index = i
    return values
