"""Structural ops: constants, identity, the fused-kernel container and terminators.

"lf.fusion" holds one block whose arguments are the fusion's operands and whose
"lf.yield" gives its results; the reference interpreter runs the body, the
backend turns it into one loop nest.
"""
from __future__ import annotations

from lowerflow.ir.opdef import ELEMENTWISE, PURE, VIEW, OpDef, register
from lowerflow.ir.types import TensorType, elem_type_of

REGION = "region"
TERMINATOR = "terminator"
#: A region op whose body also reads the values of the blocks around it (a loop's body uses
#: the kernel's buffers and the outer loops' indices); regions are isolated from above otherwise.
SCOPED = "scoped"
#: A region op that is control flow (if, while): its regions are pieces of the program,
#: functions of its captures, that function passes transform like the function around them.
CONTROL = "control"


def isolated_region_verify(op) -> None:
    """The verify hook of a fusion-like region op: its block's arguments are its operands
    and its yield gives its results (the body sees nothing else: isolated from above)."""
    (block,) = op.regions
    if [v.type for v in block.args] != [v.type for v in op.operands]:
        raise TypeError("region arguments do not match operands")
    if [v.type for v in block.terminator.operands] != [r.type for r in op.results]:
        raise TypeError("yield types do not match results")


CONSTANT = "lf.constant"


def constant_value(v):
    """The value of `v` when an "lf.constant" defines it, else None: the one way passes ask
    whether a value is a known constant."""
    op = v.op
    return op.attributes["value"] if op is not None and op.name == CONSTANT else None


def _constant_infer(types, attrs):
    value = attrs["value"]
    return [TensorType(value.shape, elem_type_of(value.dtype))]


register(OpDef(CONSTANT, _constant_infer, lambda args, attrs: [attrs["value"]],
               ("Const",), frozenset({PURE, VIEW}), ("value",)))
register(OpDef("lf.identity", lambda types, attrs: [types[0]], lambda args, attrs: [args[0].copy()],
               ("Identity", "StopGradient"), frozenset({PURE, ELEMENTWISE}),
               grad=lambda e, op, grads: grads))
register(OpDef("lf.fusion", lambda types, attrs: [], None, (), frozenset({PURE, REGION}),
               verify=isolated_region_verify))
register(OpDef("lf.yield", lambda types, attrs: [], None, (), frozenset({TERMINATOR})))
register(OpDef("func.return", lambda types, attrs: [], None, (), frozenset({TERMINATOR})))
