"""The backend's buffer plan: the one the `plan-buffers` pass recorded on the IR (checked
against the IR as it is now), else a fresh one from the same analysis,
`lowerflow.ir.buffers`, where the placement rules are documented.

The codegen and the analysis both know views by their OpDef's "view" trait; how a view
lowers is its `VIEW_LOWERINGS` entry. The table must cover exactly the trait, or a
temporary's memory could be reused while a view of it is still read: a disagreement fails
here, naming the op.
"""
from __future__ import annotations

from collections.abc import Callable

from lowerflow.ir import Function, Operation
from lowerflow.ir.buffers import ALIGN, BufferPlan, buffer_plan, is_view

__all__ = ["ALIGN", "BufferPlan", "plan_buffers"]


def plan_buffers(func: Function, lowered_as_view: Callable[[Operation], bool]) -> BufferPlan:
    """Where each value of `func` lives; `lowered_as_view(op)`: the codegen makes op a view."""
    for op in func.ops[:-1]:
        if lowered_as_view(op) != is_view(op):
            has = "has" if is_view(op) else "lacks"
            raise ValueError(f"op '{op.name}' {has} the 'view' trait but is "
                             f"{'' if lowered_as_view(op) else 'not '}lowered as a view")
    return buffer_plan(func)
