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
from lowerflow.passes.manager import FunctionPass, register_pass


@register_pass
@dataclass(frozen=True)
class DeadCodeElimination(FunctionPass):
    """Remove pure ops whose results are unused, also inside fusion regions."""

    name: ClassVar[str] = "dce"

    def run_on_function(self, func: Function) -> bool:
        return eliminate_dead_ops(func.body)


def eliminate_dead_ops(block: Block) -> bool:
    """Remove dead pure ops (and dead parts of fusions) from `block`; True if any change."""
    uses = Counter(v for op in block.ops for v in op.operands)
    kept: list[Operation] = []
    changed = False
    for op in reversed(block.ops):
        if op.regions:
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


def _renumber(values: list) -> list:
    for i, v in enumerate(values):
        v.index = i
    return values
