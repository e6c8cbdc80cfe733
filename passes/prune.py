"""`prune`: keep only the ops the function's results need (cf. TF's graph pruning to the
fetches in `DirectSession`/`graph::subgraph::RewriteGraphForExecution`, Grappler's
ModelPruner).

Every top-level op whose results do not reach "func.return" is removed, pure or
not: like TF1 pruning a graph to its fetches, work nobody fetches does not run.
(Variable writes are function results after lowering, so they are kept.) The
function signature is unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.core import Function
from lowerflow.passes.manager import FunctionPass, register_pass


@register_pass
@dataclass(frozen=True)
class Prune(FunctionPass):
    """Remove every op whose results do not reach the function's return."""

    name: ClassVar[str] = "prune"

    def run_on_function(self, func: Function) -> bool:
        live = {func.return_op}
        for op in reversed(func.ops):  # users come after their producers
            if op in live:
                live.update(v.op for v in op.operands if v.op is not None)
        before = len(func.ops)
        func.body.ops = [op for op in func.ops if op in live]
        return len(func.ops) != before
