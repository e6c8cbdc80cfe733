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
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lowerflow.ir.core import Function, Operation, Value
from lowerflow.ir.interp import run_op
from lowerflow.ir.opdef import PURE, TYPE_ONLY, get_op
from lowerflow.passes.manager import FunctionPass, option, register_pass

CONSTANT = "lf.constant"


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
        for op in func.ops:
            op.operands = [folded.get(v, v) for v in op.operands]
            consts = self._fold(op)
            if consts is None:
                new_ops.append(op)
                continue
            for c in consts:
                c.parent = func.body
            new_ops.extend(consts)
            folded.update(zip(op.results, (c.result for c in consts)))
        func.body.ops = new_ops
        return bool(folded)

    def _fold(self, op: Operation) -> list[Operation] | None:
        """Constants replacing `op`, or None when it must stay."""
        if op.name == CONSTANT or op.regions or not op.results or not get_op(op.name).has(PURE):
            return None
        type_only = get_op(op.name).has(TYPE_ONLY)
        if not type_only and not all(v.op is not None and v.op.name == CONSTANT for v in op.operands):
            return None
        types = [v.type for v in op.operands] + [r.type for r in op.results]
        if not all(t.is_static for t in types) or any(r.type.size > self.max_size for r in op.results):
            return None
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values = run_op(op, [_stand_in(v) if type_only else v.op.attributes["value"] for v in op.operands])
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


def _stand_in(v: Value) -> np.ndarray:
    """An array of `v`'s type that allocates nothing: what a shape query reads of its operand."""
    return np.broadcast_to(np.zeros((), v.type.dtype.np_dtype), v.type.shape)
