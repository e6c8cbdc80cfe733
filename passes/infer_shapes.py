"""`infer-shapes`: refine unknown (`?`) dims of result types from the argument types
(cf. TF's ShapeRefiner and Grappler's GraphProperties static inference, the TF MLIR
dialect's `-tf-shape-inference`).

Once a function's argument types were made concrete (a user editing the signature, a
Session knowing the feeds' run shapes), each op's OpDef `infer` runs again, in block
order, on its operands' current types. A result keeps every dim it already knew and
learns the ones inference knows. A fusion's block arguments take its operands' types,
its body is refined the same way and its results take the types "lf.yield" gives
them; a control op's regions likewise (their arguments from the operands they stand for,
the results from the last region's yield: the else branch, or the loop body). The function's result types are those of the values it returns, so they follow.
A contradiction (inference rejects the operands, or infers a dim other than one already
written) is a PassError naming the op: the argument types do not fit the function.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.core import Block, Function, Operation, Value
from lowerflow.ir.opdef import get_op
from lowerflow.ir.ops.control import is_control, region_operands
from lowerflow.ir.types import TensorType
from lowerflow.passes.manager import FunctionPass, PassError, register_pass


@register_pass
@dataclass(frozen=True)
class InferShapes(FunctionPass):
    """Refine unknown dims of result types by re-running each op's shape inference."""

    name: ClassVar[str] = "infer-shapes"
    regions: ClassVar[bool] = False  # it enters every region itself

    def run_on_function(self, func: Function) -> bool:
        return _refine_block(func.body)


def refine(old: TensorType, new: TensorType) -> TensorType:
    """What two types of one value say together; ValueError if they disagree."""
    if old.dtype != new.dtype or old.rank != new.rank or any(
            a is not None and b is not None and a != b for a, b in zip(old.shape, new.shape)):
        raise ValueError(f"inferred {new} contradicts {old}")
    return old.with_shape(b if a is None else a for a, b in zip(old.shape, new.shape))


def _refine_block(block: Block) -> bool:
    changed = False
    for op in block.ops:
        if op.regions:
            for body in op.regions:
                for arg, v in zip(body.args, region_operands(op) if is_control(op) else op.operands):
                    changed |= _retype(op, arg, v.type)
                changed |= _refine_block(body)
            inferred = [v.type for v in op.regions[-1].terminator.operands]
        else:
            try:
                inferred = get_op(op.name).infer([v.type for v in op.operands], op.attributes)
            except (ValueError, TypeError, KeyError, IndexError) as e:
                raise PassError(_where(op) + f"operand types {_types(op.operands)} are invalid: {e}") from None
        for r, t in zip(op.results, inferred):
            changed |= _retype(op, r, t)
    return changed


def _retype(op: Operation, v: Value, inferred: TensorType) -> bool:
    try:
        new = refine(v.type, inferred)
    except ValueError as e:
        raise PassError(_where(op) + str(e)) from None
    changed, v.type = new != v.type, new
    return changed


def _where(op: Operation) -> str:
    return f"'{op.name}'" + (f" at {op.location}" if op.location else "") + ": "


def _types(values: list[Value]) -> str:
    return "(" + ", ".join(str(v.type) for v in values) + ")"
