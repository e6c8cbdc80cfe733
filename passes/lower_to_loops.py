"""`lower-to-loops`: elementwise tensor ops and "lf.fusion" regions become "loop.kernel" loop
nests over buffers (`lowerflow.ir.loop_lowering`, where the nest is described; cf. MLIR Toy's
`-lower-to-affine`).

Each lowered op keeps its operands, results and recorded buffer plan, so the pass runs after
`plan-buffers`, last in a pipeline; ops of other families stay tensor ops beside the kernels
(a function may mix the two levels while families move over). The backend lowers whatever
reaches it unlowered with the same code, so the default pipeline leaves this pass out: it is
here to print, test and transform the loop level (`lowerflow-opt -p ...,lower-to-loops`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.core import Function
from lowerflow.ir.loop_lowering import lower_op, lowerable
from lowerflow.passes.manager import FunctionPass, register_pass


@register_pass
@dataclass(frozen=True)
class LowerToLoops(FunctionPass):
    """Lower elementwise ops and lf.fusion regions to loop.kernel loop nests over buffers."""

    name: ClassVar[str] = "lower-to-loops"

    def run_on_function(self, func: Function) -> bool:
        changed = False
        for i, op in enumerate(func.ops[:-1]):
            if lowerable(op):
                kernel = lower_op(op)
                kernel.results = op.results  # the same Values: their users need no rewrite
                for r in kernel.results:
                    r.owner = kernel
                kernel.parent, func.body.ops[i] = func.body, kernel
                changed = True
        return changed
