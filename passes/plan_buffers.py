"""`plan-buffers`: decide where every intermediate value lives and record it on the IR
(cf. XLA's BufferAssignment, MLIR's `-buffer-deallocation`/`-promote-buffers-to-stack`).

The analysis is `lowerflow.ir.buffers` (liveness, first-fit reuse of dead temporaries in
one 64-byte aligned arena, returned results written into their output slots, no result
overlapping its own operands). This pass records its result as attributes that print,
parse and verify like any other: `lf.offset = [...]` on each kernel op, one entry per
result (byte offset in the arena, -1 for an output slot), and `lf.arena_size` on
"func.return". The backend uses a recorded plan after checking it still fits the IR, so
this pass belongs last in a pipeline. `lowerflow-opt --print-buffer-plan` prints the plan
as a table. Functions with unknown dims are left unplanned: their sizes are unknown, and
the backend needs static shapes anyway.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.buffers import plan_buffers, record_plan, static_shapes
from lowerflow.ir.core import Function
from lowerflow.passes.manager import FunctionPass, register_pass


@register_pass
@dataclass(frozen=True)
class PlanBuffers(FunctionPass):
    """Assign arena offsets to intermediate values, reusing dead buffers; record them as lf.offset."""

    name: ClassVar[str] = "plan-buffers"
    regions: ClassVar[bool] = False  # the backend plans regions itself, at their op's place

    def run_on_function(self, func: Function) -> bool:
        return static_shapes(func) and record_plan(func, plan_buffers(func))
