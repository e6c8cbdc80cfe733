"""Control ops in the step function: "lf.if" as a conditional branch, "lf.while" as a loop of
basic blocks (cf. MLIR's `scf-to-cf` lowering). `CONTROL_LOWERINGS[name](sb, op, where, base)`
emits `op` with the `codegen.StepBuilder` `sb`: `where` maps values to pointers (the op's own
results included), `base` is where the op's regions may put their temporaries in the arena.

Memory. A region's values are planned like a step's (`ir.buffers.plan_block`), at `base`
(regions of one op share it: only one of them runs at a time; nested regions go after their
parent's temporaries); `region_arena_size` is what the arena needs past the step's own plan.
- "lf.if": the taken branch writes what it computes straight into the op's result buffers
  (they are its output slots); a yielded argument or constant is copied there.
- "lf.while": the op's result buffers hold the carried values. They get the initial values,
  then cond reads them; the body computes its next values into temporaries of its own (never
  into the buffers it reads), then they are copied into the carried buffers. A carried value
  the body yields unchanged costs nothing; one that moves to another position goes through
  scratch first, so a rotation of the carried values reads no value already overwritten.
  A carried buffer the body only reads before it yields "lf.update_row" of it (a TensorArray
  write, a per-iteration stack) is updated in place (`_in_place`): the row goes straight into
  the carried buffer, so such a loop moves one row per iteration, not the whole buffer twice.
A bool is one byte: a predicate is loaded and compared with zero.
"""
from __future__ import annotations

from llvmlite import ir

from lowerflow.backend.errors import INDEX_RANGE
from lowerflow.backend.lltypes import I8, I32, I64
from lowerflow.ir import Block, Operation, users
from lowerflow.ir.buffers import BufferPlan, is_view, plan_block, round_up
from lowerflow.ir.ops.control import IF, WHILE, while_parts

def _body_plan(block: Block) -> BufferPlan:
    return plan_block(block, is_view, slots=False)


def _scratch(op: Operation) -> list[int]:
    """The carried positions whose next value is another position's current value."""
    body = op.regions[1]
    args = body.args[:len(op.results)]
    return [i for i, v in enumerate(body.terminator.operands) if v in args and v is not args[i]]


def _in_place(op: Operation) -> dict[Operation, int]:
    """The body's "lf.update_row" ops that may write into carried buffer i, by op: they
    yield at position i the update of body argument i, and every other use of that argument
    is an op before them that is no view (so nothing reads the old buffer afterwards)."""
    body = op.regions[1]
    order = {o: k for k, o in enumerate(body.ops)}
    uses = users(body)
    out = {}
    for i, v in enumerate(body.terminator.operands[:len(op.results)]):
        u, arg = v.op, body.args[i]
        if u is None or u.name != "lf.update_row" or u not in order or u.operands[0] is not arg \
                or arg in u.operands[1:]:
            continue
        if all(o is u or (o in order and order[o] < order[u] and not is_view(o)) for o in uses[arg]):
            out[u] = i
    return out


def _region_plans(op: Operation) -> list[BufferPlan]:
    if op.name == IF:
        return [plan_block(block, is_view) for block in op.regions]
    return [_body_plan(op.regions[0]), _body_plan(op.regions[1])]


def region_arena_size(block: Block) -> int:
    """The arena bytes the control ops of `block` need beyond the block's own plan."""
    need = 0
    for op in block.ops:
        if op.name not in CONTROL_LOWERINGS:
            continue
        for region, plan in zip(op.regions, _region_plans(op)):
            need = max(need, plan.arena_size + region_arena_size(region))
        if op.name == WHILE:
            body = op.regions[1]
            extra = sum(round_up(body.args[i].type.nbytes) for i in _scratch(op))
            need = max(need, _body_plan(body).arena_size + extra)
    return need


def _predicate(sb, ptr: ir.Value) -> ir.Value:
    return sb.b.icmp_unsigned("!=", sb.b.load(ptr, typ=I8), ir.Constant(I8, 0))


def _run_region(sb, block: Block, args: list, plan: BufferPlan, out_ptrs: list, base: int) -> dict:
    """Emit a region's ops with its arguments at `args`; the map of its values' pointers."""
    where = dict(zip(block.args, args))
    sb.emit_ops(block.ops, where, plan, out_ptrs, base)
    return where


def _write_row(sb, op: Operation, dst: ir.Value, where: dict) -> None:
    """Row i of the carried buffer at `dst` := the row ("lf.update_row" in place); an index
    outside [0, rows) fails the step with `INDEX_RANGE`, as the kernel does."""
    b = sb.b
    buffer, index, row = op.operands
    rows = buffer.type.shape[0]
    i = b.load(where[index], typ=ir.IntType(index.type.dtype.bits))
    i = b.sext(i, I64) if index.type.dtype.bits < 64 else i
    bad = b.icmp_unsigned(">=", i, ir.Constant(I64, rows))
    sb.check(b.select(bad, ir.Constant(I32, INDEX_RANGE), ir.Constant(I32, 0)))
    nbytes = row.type.nbytes
    start = b.mul(i, ir.Constant(I64, nbytes), flags=("nsw",))
    sb.copy(b.gep(dst, [start], source_etype=I8, inbounds=True), where[row], nbytes)


def _run_body(sb, body: Block, args: list, plan: BufferPlan, base: int, in_place: dict, carried: list) -> dict:
    """`_run_region` for a loop body whose in-place row writes go into `carried`."""
    where = dict(zip(body.args, args))
    start = 0
    for k, o in enumerate(body.ops):
        if o in in_place:
            sb.emit_ops(body.ops[start:k] + [None], where, plan, [], base)
            where[o.results[0]] = carried[in_place[o]]
            _write_row(sb, o, carried[in_place[o]], where)
            start = k + 1
    sb.emit_ops(body.ops[start:], where, plan, [], base)
    return where


def lower_if(sb, op: Operation, where: dict, base: int) -> None:
    b = sb.b
    outs = [where[r] for r in op.results]
    captures = [where[v] for v in op.operands[1:]]
    then_bb, else_bb = sb.step.append_basic_block("if.then"), sb.step.append_basic_block("if.else")
    done = sb.step.append_basic_block("if.done")
    b.cbranch(_predicate(sb, where[op.operands[0]]), then_bb, else_bb)
    for block, bb in zip(op.regions, (then_bb, else_bb)):
        b.position_at_end(bb)
        plan = plan_block(block, is_view)
        inner = _run_region(sb, block, captures, plan, outs, base)
        for j, v in enumerate(block.terminator.operands):
            if plan.slot_of.get(v) != j:
                sb.copy(outs[j], inner[v], v.type.nbytes)
        b.branch(done)
    b.position_at_end(done)


def lower_while(sb, op: Operation, where: dict, base: int) -> None:
    b = sb.b
    inits, captures = while_parts(op)
    carried = [where[r] for r in op.results]
    for dst, v in zip(carried, inits):
        sb.copy(dst, where[v], v.type.nbytes)
    args = carried + [where[v] for v in captures]
    cond_bb, body_bb = sb.step.append_basic_block("while.cond"), sb.step.append_basic_block("while.body")
    done = sb.step.append_basic_block("while.done")
    b.branch(cond_bb)

    b.position_at_end(cond_bb)
    cond, body = op.regions
    inner = _run_region(sb, cond, args, _body_plan(cond), [], base)
    b.cbranch(_predicate(sb, inner[cond.terminator.operands[0]]), body_bb, done)

    b.position_at_end(body_bb)
    plan = _body_plan(body)
    inner = _run_body(sb, body, args, plan, base, _in_place(op), carried)
    nexts = list(body.terminator.operands)
    staged = {}
    offset = base + plan.arena_size
    for i in _scratch(op):  # read every moved value before any carried buffer is written
        staged[i] = sb.arena_at(offset)
        sb.copy(staged[i], inner[nexts[i]], nexts[i].type.nbytes)
        offset += round_up(nexts[i].type.nbytes)
    for i, (dst, v) in enumerate(zip(carried, nexts)):
        if v is not body.args[i] and inner[v] is not dst:
            sb.copy(dst, staged.get(i, inner[v]), v.type.nbytes)
    b.branch(cond_bb)
    b.position_at_end(done)


CONTROL_LOWERINGS = {IF: lower_if, WHILE: lower_while}
