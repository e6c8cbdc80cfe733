"""Consumer fusions: region ops whose body joins elementwise ops to one op that has its own
loop nest (cf. XLA's fusion kinds: "lf.fusion" is kLoop, these are kInput and kOutput).

- "lf.reduce_fusion" (XLA's input fusion): elementwise ops, then exactly one reduction
  (`REDUCTIONS`) of the last of them, whose result is the one value yielded (if used). The kernel
  computes every element the reduction reads in registers, so the reduced tensor is never
  stored.
- "lf.matmul_fusion" (an output fusion; cuBLASLt calls it an epilogue): one "lf.matmul" of
  two block arguments, then elementwise ops with the matmul's result type that read it
  (bias add, relu, ...); every value yielded is one of those. The kernel writes the product
  into a result buffer and applies the epilogue there in place, so the product needs no
  buffer of its own.

The body keeps the ops as they were, so the reference interpreter runs it as it runs any
region, and `fusion_parts` gives the backend the pieces (or says what is malformed).
"""
from __future__ import annotations

from lowerflow.ir.core import Operation
from lowerflow.ir.opdef import ELEMENTWISE, PURE, OpDef, get_op, register
from lowerflow.ir.ops.reduction import REDUCERS
from lowerflow.ir.ops.structure import REGION

REDUCE_FUSION, MATMUL_FUSION = "lf.reduce_fusion", "lf.matmul_fusion"
#: The reductions input fusion may end in (ArgMax/ArgMin and the cross entropy are not).
REDUCTIONS = frozenset(REDUCERS)

register(OpDef(REDUCE_FUSION, lambda types, attrs: [], None, (), frozenset({PURE, REGION})))
register(OpDef(MATMUL_FUSION, lambda types, attrs: [], None, (), frozenset({PURE, REGION})))


def fusion_parts(op: Operation) -> tuple[Operation, list[Operation]]:
    """(the reduction or matmul of a consumer fusion, its elementwise ops in body order);
    ValueError naming the op when the body is not of the shape documented above."""
    (block,) = op.regions
    ops = block.ops[:-1]
    if op.name == REDUCE_FUSION:
        *elementwise, core = ops or [None]
        ok = core is not None and core.name in REDUCTIONS and block.terminator.operands in ([], core.results)
    elif op.name == MATMUL_FUSION:
        core, *elementwise = ops or [None]
        values = [*block.terminator.operands, *(r for e in elementwise for r in e.results)]
        ok = core is not None and core.name == "lf.matmul" and all(v in block.args for v in core.operands) \
            and all(v.type == core.result.type for v in values)
    else:
        raise ValueError(f"'{op.name}' is not a consumer fusion")
    if not ok or not all(get_op(e.name).has(ELEMENTWISE) and not e.regions for e in elementwise):
        raise ValueError(f"malformed '{op.name}' body: {[o.name for o in ops]}")
    return core, elementwise
