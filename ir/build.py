"""Creating ops with their result types inferred from the op registry."""
from __future__ import annotations

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.opdef import get_op


def typed(name: str, operands: list[Value], attrs: dict, location: str | None = None) -> Operation:
    """`name(operands)` typed by the op's `infer` rule, not yet in a block (a pass's replacement)."""
    return Operation(name, operands, get_op(name).infer([v.type for v in operands], attrs), attrs,
                     location=location)


def build(block: Block, name: str, operands: list[Value], attrs: dict | None = None,
          location: str | None = None) -> Operation:
    """Append `name(operands)` to `block`, typed by the op's `infer` rule."""
    attrs = dict(attrs or {})
    types = get_op(name).infer([v.type for v in operands], attrs)
    op = block.add(name, operands, types, attrs)
    op.location = location
    return op
