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
- "lf.conv2d_fusion": the same around one "lf.conv2d" (Grappler's _FusedConv2D: bias add,
  relu ...); the kernel applies the epilogue to each block of output rows as soon as the
  block is computed, while it is in cache.
- "lf.row_fusion" (softmax, log-softmax, layer norm: XLA's softmax rewriter, ONNX Runtime's
  fused softmax): every body value is a row value, of the row shape S = (*lead, C) with
  C >= 2, or a row scalar, of shape (*lead, 1); the ops are elementwise ops and reductions
  of row values over the last axis with `keepdims`; the operands broadcast to S row by row
  (`row_access`). The kernel runs row by row, in the phases of `row_schedule`: each phase is
  one loop over the row's C columns, and a reduction's result is known from the next phase
  on. Each row is read from memory once and written once; what a later phase reads again
  stays in cache (or in a row of stack scratch).

The body keeps the ops as they were, so the reference interpreter runs it as it runs any
region, and `fusion_parts` gives the backend the pieces (or says what is malformed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

from lowerflow.ir.core import Operation, Value
from lowerflow.ir.opdef import ELEMENTWISE, PURE, OpDef, get_op, register
from lowerflow.ir.ops.reduction import REDUCERS, reduction_axes
from lowerflow.ir.ops.structure import REGION, isolated_region_verify

REDUCE_FUSION, MATMUL_FUSION, ROW_FUSION = "lf.reduce_fusion", "lf.matmul_fusion", "lf.row_fusion"
CONV_FUSION = "lf.conv2d_fusion"
#: The output fusions by the op at their core.
OUTPUT_FUSIONS = {"lf.matmul": MATMUL_FUSION, "lf.conv2d": CONV_FUSION}
#: The reductions input fusion may end in (ArgMax/ArgMin and the cross entropy are not).
REDUCTIONS = frozenset(REDUCERS)

# Verified as isolated regions; the shape of a body is the backend's to check (`fusion_parts`,
# `row_schedule`), since a pass may leave dead ops in it for `dce` to remove.
for _name in (REDUCE_FUSION, MATMUL_FUSION, ROW_FUSION, CONV_FUSION):
    register(OpDef(_name, lambda types, attrs: [], None, (), frozenset({PURE, REGION}), verify=isolated_region_verify))


def fusion_parts(op: Operation) -> tuple[Operation, list[Operation]]:
    """(the reduction or matmul of a consumer fusion, its elementwise ops in body order);
    ValueError naming the op when the body is not of the shape documented above."""
    (block,) = op.regions
    ops = block.ops[:-1]
    if op.name == REDUCE_FUSION:
        *elementwise, core = ops or [None]
        ok = core is not None and core.name in REDUCTIONS and block.terminator.operands in ([], core.results)
    elif op.name in (MATMUL_FUSION, CONV_FUSION):
        core, *elementwise = ops or [None]
        values = [*block.terminator.operands, *(r for e in elementwise for r in e.results)]
        ok = core is not None and OUTPUT_FUSIONS.get(core.name) == op.name \
            and all(v in block.args for v in core.operands) \
            and all(v.type == core.result.type for v in values)
    else:
        raise ValueError(f"'{op.name}' is not a consumer fusion")
    if not ok or not all(get_op(e.name).has(ELEMENTWISE) and not e.regions for e in elementwise):
        raise ValueError(f"malformed '{op.name}' body: {[o.name for o in ops]}")
    return core, elementwise


def is_row_reduction(op: Operation) -> bool:
    """A reduction of row values that "lf.row_fusion" can run: over the last axis only, kept."""
    x = op.operands[0].type
    return op.name in REDUCTIONS and x.rank >= 1 and op.attributes.get("keepdims", False) \
        and reduction_axes(op.attributes, x.rank) == (x.rank - 1,)


def row_access(shape: tuple, row_shape: tuple) -> tuple[int, int] | None:
    """(row stride, column stride) in elements of a C-contiguous tensor of `shape` read through
    broadcasting as row r, column j of `row_shape` seen as (rows, C): element r*rs + j*cs.
    None when no such pair exists (it broadcasts along some leading dims and not others)."""
    pad = len(row_shape) - len(shape)
    full = (1,) * pad + tuple(shape)
    if pad < 0 or any(n not in (1, m) for n, m in zip(full, row_shape)):
        return None
    lead = [d for d, m in enumerate(row_shape[:-1]) if m != 1]
    cs = int(full[-1] != 1)
    if all(full[d] != 1 for d in lead):
        return full[-1], cs
    if all(full[d] == 1 for d in lead):
        return 0, cs
    return None


@dataclass
class RowPhase:
    """One loop over a row's columns: `scalar_ops` first (once per row), then per column
    `row_ops` in body order and one fold step of each of `reductions`."""

    scalar_ops: list[Operation] = field(default_factory=list)
    row_ops: list[Operation] = field(default_factory=list)
    reductions: list[Operation] = field(default_factory=list)


@dataclass
class RowSchedule:
    """How "lf.row_fusion" runs: the row shape, the phases, and the row values a later phase
    reads (`carried`: they are kept from one phase to the next, in scratch or a result row)."""

    row_shape: tuple[int, ...]
    phases: list[RowPhase]
    carried: list[Value]

    @property
    def rows(self) -> int:
        return prod(self.row_shape[:-1])


def row_schedule(op: Operation) -> RowSchedule:
    """The phases of a row fusion: an op runs in the first phase where its operands are known
    (a block argument from phase 0, a reduction's result one phase after the reduction);
    ValueError naming the op when the body is not of the shape documented above."""
    (block,) = op.regions
    ops = block.ops[:-1]
    reductions = [o for o in ops if o.name in REDUCTIONS]
    row_shape = tuple(reductions[0].operands[0].type.shape) if reductions else ()
    if not _row_body_ok(ops, block.args, row_shape):
        raise ValueError(f"malformed '{op.name}' body: {[o.name for o in ops]}")
    known = dict.fromkeys(block.args, 0)  # value -> the first phase that may read it
    phase_of: dict[Value, int] = {}
    phases: list[RowPhase] = []
    for o in ops:
        p = max((known[v] for v in o.operands), default=0)
        phases += [RowPhase() for _ in range(p + 1 - len(phases))]
        if o.name in REDUCTIONS:
            phases[p].reductions.append(o)
            known[o.result] = p + 1
        else:
            row = tuple(o.result.type.shape) == row_shape
            (phases[p].row_ops if row else phases[p].scalar_ops).append(o)
            known[o.result] = p
            if row:
                phase_of[o.result] = p
    carried = list(dict.fromkeys(v for ph, phase in enumerate(phases) for o in phase.row_ops + phase.reductions
                                 for v in o.operands if phase_of.get(v, ph) < ph))
    return RowSchedule(row_shape, phases, carried)


def _row_body_ok(ops: list[Operation], args: list[Value], row_shape: tuple) -> bool:
    if len(row_shape) < 1 or row_shape[-1] < 2:
        return False
    scalar_shape = (*row_shape[:-1], 1)
    for o in ops:
        if o.regions or len(o.results) != 1:
            return False
        if o.name in REDUCTIONS:
            if not is_row_reduction(o) or tuple(o.operands[0].type.shape) != row_shape:
                return False
        elif not get_op(o.name).has(ELEMENTWISE) or tuple(o.result.type.shape) not in (row_shape, scalar_shape):
            return False
    return all(row_access(tuple(a.type.shape), row_shape) is not None for a in args)
