"""`cse`: common-subexpression elimination (cf. MLIR's `-cse`, Grappler's
`DedupComputations` in the ArithmeticOptimizer).

Two pure ops compute the same values when they have the same name, the same operands
(in either order for a "commutative" op), equal attributes and the same result types:
the later op's results are replaced by the earlier op's and it is erased. Block order
is topological and operands are rewritten before an op is looked at, so one forward
sweep also merges chains (`exp(a + b)` written twice becomes one `exp` of one `add`).

Attributes are equal when value and kind are: `1` is neither `1.0` nor `true`, floats
compare by their bits (`-0.0` is not `0.0`; a NaN matches itself), numpy arrays by
dtype, shape and bytes. Ops without the "pure" trait (random ops, effects) are never
merged, nor are region ops; each fusion body gets its own sweep (regions are isolated
from above), after a fusion reading one value twice is given one block argument for it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lowerflow.ir.core import Block, Function, Operation, Value, replace_uses
from lowerflow.ir.opdef import COMMUTATIVE, PURE, get_op
from lowerflow.ir.ops.control import IF, WHILE
from lowerflow.ir.types import ElemType, TensorType
from lowerflow.passes.manager import FunctionPass, register_pass


@register_pass
@dataclass(frozen=True)
class CommonSubexpressionElimination(FunctionPass):
    """Merge pure ops that compute the same value, also inside fusion regions."""

    name: ClassVar[str] = "cse"
    regions: ClassVar[bool] = False  # it enters every region itself

    def run_on_function(self, func: Function) -> bool:
        return eliminate_common_subexpressions(func.body)


def eliminate_common_subexpressions(block: Block) -> bool:
    """Erase each pure op of `block` that repeats an earlier one; True if any change."""
    first: dict[tuple, Operation] = {}
    replaced: dict[Value, Value] = {}
    kept: list[Operation] = []
    changed = False
    for op in block.ops:
        op.operands = [replaced.get(v, v) for v in op.operands]
        if op.regions:
            changed |= _merge_duplicate_operands(op, *_captured(op))
        for region in op.regions:
            changed |= eliminate_common_subexpressions(region)
        key = _key(op)
        earlier = first.setdefault(key, op) if key is not None else op
        if earlier is op:
            kept.append(op)
        else:
            replaced.update(zip(op.results, earlier.results))
    block.ops = kept
    return changed or bool(replaced)


def _key(op: Operation) -> tuple | None:
    """What makes two ops interchangeable; None for ops that must never merge."""
    if op.regions or not op.results or not get_op(op.name).has(PURE):
        return None
    operands = tuple(op.operands)
    if get_op(op.name).has(COMMUTATIVE):
        operands = tuple(sorted(operands, key=id))  # either order gives the same key
    attrs = tuple(sorted((k, attr_key(v)) for k, v in op.attributes.items()))
    return op.name, operands, tuple(r.type for r in op.results), attrs


#: Larger dense values are keyed by a 256-bit digest of their bytes, read in place (a
#: 40 MB constant's bytes copied three times cost a third of a second per first run).
_DIGEST_FROM = 4096


def attr_key(value) -> tuple:
    """A hashable key equal for two attribute values exactly when they mean the same."""
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        if data.nbytes <= _DIGEST_FROM:
            return "dense", value.dtype.str, value.shape, data.tobytes()
        return "dense", value.dtype.str, value.shape, hashlib.blake2b(data.data, digest_size=32).digest()
    if isinstance(value, (list, tuple)):
        return "list", tuple(attr_key(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return "bool", bool(value)
    if isinstance(value, (int, np.integer)):
        return "int", int(value)
    if isinstance(value, (float, np.floating)):
        return "float", np.float64(value).tobytes()
    if isinstance(value, (str, ElemType, TensorType)):
        return type(value).__name__, value
    return "object", id(value)  # an unknown kind is only equal to itself


def _captured(op: Operation) -> tuple[int, int]:
    """(the first operand, the first block argument) from which a region op's operands are
    values its regions read, one argument each: all of a fusion's; a control op's captures
    (not an "lf.if"'s predicate, not an "lf.while"'s carried values)."""
    if op.name == IF:
        return 1, 0
    if op.name == WHILE:
        return len(op.results), len(op.results)
    return 0, 0


def _merge_duplicate_operands(op: Operation, first_operand: int, first_arg: int) -> bool:
    """Give a region op one operand (and block argument in each region) per distinct value
    its regions read."""
    keep: dict[Value, int] = {}  # operand -> the position kept for it
    position_of: list[int] = []
    for v in op.operands[first_operand:]:
        position_of.append(keep.setdefault(v, len(keep)))
    if len(keep) == len(position_of):
        return False
    for body in op.regions:
        args = body.args[first_arg:]
        kept = [args[position_of.index(p)] for p in range(len(keep))]
        replace_uses(body, {a: kept[p] for a, p in zip(args, position_of) if a is not kept[p]})
        body.args = body.args[:first_arg] + kept
        for i, a in enumerate(body.args):
            a.index = i
    op.operands = op.operands[:first_operand] + list(keep)
    return True
