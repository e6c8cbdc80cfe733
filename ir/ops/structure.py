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


def _constant_infer(types, attrs):
    value = attrs["value"]
    return [TensorType(value.shape, elem_type_of(value.dtype))]


register(OpDef("lf.constant", _constant_infer, lambda args, attrs: [attrs["value"]],
               ("Const",), frozenset({PURE, VIEW}), ("value",)))
register(OpDef("lf.identity", lambda types, attrs: [types[0]], lambda args, attrs: [args[0].copy()],
               ("Identity", "StopGradient"), frozenset({PURE, ELEMENTWISE}),
               grad=lambda e, op, grads: grads))
register(OpDef("lf.fusion", lambda types, attrs: [], None, (), frozenset({PURE, REGION})))
register(OpDef("lf.yield", lambda types, attrs: [], None, (), frozenset({TERMINATOR})))
register(OpDef("func.return", lambda types, attrs: [], None, (), frozenset({TERMINATOR})))
