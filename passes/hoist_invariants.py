"""`hoist-invariants`: loop-invariant code motion out of "lf.while" bodies (cf. MLIR's
`-loop-invariant-code-motion`, LLVM's LICM).

A body op computed from the loop's captures only gives the same value every iteration;
it moves before the loop and its results become new captures. Why: `narrow-products`
inside a backward loop splits the captured kernel (`split(dgates @ kernel^T)[h]` becomes
`dgates @ split(kernel)[h]^T`), and that split, a copy of the kernel, would otherwise run
once per iteration instead of once per step.

What moves: a pure op without regions, with at least one operand (constants stay: they
cost nothing and `constant-fold` copies small ones into regions), whose operands are all
captures or results of ops already moved, and all floating-point tensors. The last
condition keeps the rewrite from making a step fail that did not: an op hoisted out of a
loop that runs no iteration runs anyway, and only ops reading an integer (a gather's
index, an integer division) can fail; float ops cannot. Ops are visited in body order,
so a chain of invariant ops moves together. Runs on each region too, so an inner loop's
invariants move into the outer body (and out of it on a later run).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.core import Function, Operation, Value
from lowerflow.ir.opdef import PURE, get_op
from lowerflow.ir.ops.control import WHILE
from lowerflow.ir.types import TensorType
from lowerflow.passes.manager import FunctionPass, register_pass


def _movable(op: Operation, invariant: set[Value]) -> bool:
    return (not op.regions and bool(op.operands) and get_op(op.name).has(PURE)
            and all(v in invariant and isinstance(v.type, TensorType) and v.type.dtype.is_float
                    for v in op.operands))


def _hoist(loop: Operation) -> list[Operation]:
    """Move `loop`'s invariant body ops out; returns them, in order, to go before it."""
    cond, body = loop.regions
    n = len(loop.results)
    outside = dict(zip(body.args[n:], loop.operands[n:]))  # body capture -> value outside
    moved, invariant = [], set(outside)
    for op in body.ops[:-1]:
        if _movable(op, invariant):
            moved.append(op)
            invariant.update(op.results)
    if not moved:
        return []
    replace: dict[Value, Value] = {}
    for op in moved:
        op.operands = [outside.get(v, v) for v in op.operands]
        for r in op.results:
            loop.operands.append(r)
            cond.add_arg(r.type)
            replace[r] = body.add_arg(r.type)
    gone = set(map(id, moved))
    body.ops = [o for o in body.ops if id(o) not in gone]
    for o in body.walk():
        o.operands = [replace.get(v, v) for v in o.operands]
    return moved


@register_pass
@dataclass(frozen=True)
class HoistInvariants(FunctionPass):
    """Move the ops of "lf.while" bodies computed from captures only before the loop."""

    name: ClassVar[str] = "hoist-invariants"

    def run_on_function(self, func: Function) -> bool:
        ops, changed = [], False
        for op in func.body.ops:
            if op.name == WHILE:
                moved = _hoist(op)
                changed |= bool(moved)
                ops.extend(moved)
            ops.append(op)
        for op in ops:
            op.parent = func.body
        func.body.ops = ops
        return changed
