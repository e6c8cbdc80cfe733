"""`constant-fold`: evaluate pure ops whose operands are all constants (cf. Grappler's
ConstantFolding, MLIR's `OpFoldResult` folding).

The op's numpy reference (through the interpreter, so results get the op's
declared dtypes) computes the value at compile time and "lf.constant" ops take
its place. Block order is topological, so one forward sweep folds whole constant
subgraphs: a folded constant is already in place when its users are visited.
Results larger than `max-size` elements stay computed at run time, as Grappler
caps folded tensors, so the compiled code does not embed huge literals. Region ops
are left alone, and so are ops with a non-static operand or result: their value
depends on the run, and ops whose reference rejects its constant inputs: the native
code then raises the TF1 run-time error. The old constants are left for `dce`. Shape
queries (trait "type_only") fold from their operands' static types alone.

Control flow: an "lf.if" whose predicate is a constant is replaced by the ops of the region
it takes (then folded in the same sweep), and a control op's small constant captures are
copied into its regions (`sink_constants`), where the pass then runs as in a function.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lowerflow.ir.core import Block, Function, Operation, Value, replace_uses
from lowerflow.ir.interp import run_op
from lowerflow.ir.opdef import PURE, TYPE_ONLY, get_op
from lowerflow.ir.ops.control import IF, is_control, region_operands
from lowerflow.ir.ops.structure import CONSTANT, constant_value
from lowerflow.passes.manager import FunctionPass, option, register_pass


@register_pass
@dataclass(frozen=True)
class ConstantFold(FunctionPass):
    """Replace pure ops with all-constant operands by constants."""

    name: ClassVar[str] = "constant-fold"
    max_size: int = option(1 << 16, "largest result, in elements, that is folded")

    def __post_init__(self):
        if self.max_size < 0:
            raise ValueError(f"max-size must be >= 0, got {self.max_size}")

    def run_on_function(self, func: Function) -> bool:
        folded: dict[Value, Value] = {}  # result of a folded op -> its constant
        new_ops: list[Operation] = []
        todo = list(reversed(func.ops))  # a stack: an inlined branch's ops are folded next
        changed = False
        while todo:
            op = todo.pop()
            op.operands = [folded.get(v, v) for v in op.operands]
            if op.regions and is_control(op):
                changed |= sink_constants(op, self.max_size)
                taken = _taken_branch(op)
                if taken is not None:
                    todo.extend(reversed(_inline(op, taken, func.body, folded)))
                    changed = True
                    continue
            consts = self._fold(op)
            if consts is None:
                new_ops.append(op)
                continue
            for c in consts:
                c.parent = func.body
            new_ops.extend(consts)
            folded.update(zip(op.results, (c.result for c in consts)))
        func.body.ops = new_ops
        return changed or bool(folded)

    def _fold(self, op: Operation) -> list[Operation] | None:
        """Constants replacing `op`, or None when it must stay."""
        if op.name == CONSTANT or op.regions or not op.results or not get_op(op.name).has(PURE):
            return None
        type_only = get_op(op.name).has(TYPE_ONLY)
        if not type_only and any(constant_value(v) is None for v in op.operands):
            return None
        types = [v.type for v in op.operands] + [r.type for r in op.results]
        if not all(t.is_static for t in types) or any(r.type.size > self.max_size for r in op.results):
            return None
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values = run_op(op, [_stand_in(v) if type_only else constant_value(v) for v in op.operands])
            except (ValueError, IndexError, ArithmeticError):
                return None  # bad constant input (an index out of range): the run reports it
        consts = []
        for r, value in zip(op.results, values):
            value = np.array(value, dtype=r.type.dtype.np_dtype)  # owned: the attribute outlives the op
            if value.shape != r.type.shape:
                raise ValueError(f"'{op.name}': reference gave shape {value.shape}, "
                                 f"but its type is {r.type}")
            consts.append(Operation(CONSTANT, (), [r.type], {"value": value}, location=op.location))
        return consts


def _taken_branch(op: Operation) -> Block | None:
    """The region an "lf.if" with a constant predicate runs (None for any other op)."""
    pred = constant_value(op.operands[0]) if op.name == IF else None
    return None if pred is None else op.regions[0 if bool(pred) else 1]


def _inline(op: Operation, block: Block, parent: Block, folded: dict[Value, Value]) -> list[Operation]:
    """The ops of `block` moved out to `parent` in `op`'s place (its arguments replaced by the
    captures they stand for); `op`'s results map to what the block yields."""
    args = dict(zip(block.args, region_operands(op)))
    for inner in block.ops[:-1]:
        inner.operands = [args.get(v, v) for v in inner.operands]
        inner.parent = parent
    folded.update(zip(op.results, (args.get(v, v) for v in block.terminator.operands)))
    return block.ops[:-1]


def sink_constants(op: Operation, max_size: int) -> bool:
    """Give each region of a control op its own copy of the constants it captures (small ones),
    so folding and fusion inside the region see them; the captures go away."""
    first_operand = 1 if op.name == IF else len(op.results)
    first_arg = first_operand - 1 if op.name == IF else first_operand
    sunk = [k for k, v in enumerate(op.operands[first_operand:])
            if constant_value(v) is not None and v.type.size <= max_size]
    if not sunk:
        return False
    for block in op.regions:
        mapping = {}
        for k in sunk:
            const = op.operands[first_operand + k].op
            copy = Operation(CONSTANT, (), [const.result.type], const.attributes, location=const.location)
            copy.parent = block
            block.ops.insert(0, copy)
            mapping[block.args[first_arg + k]] = copy.result
        replace_uses(block, mapping)
        block.args = [a for k, a in enumerate(block.args) if k - first_arg not in sunk]
        for i, a in enumerate(block.args):
            a.index = i
    op.operands = [v for k, v in enumerate(op.operands) if k - first_operand not in sunk]
    return True


def _stand_in(v: Value) -> np.ndarray:
    """An array of `v`'s type that allocates nothing: what a shape query reads of its operand."""
    return np.broadcast_to(np.zeros((), v.type.dtype.np_dtype), v.type.shape)
