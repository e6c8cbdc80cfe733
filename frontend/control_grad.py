"""Gradients of tf.cond and tf.while_loop (cf. TF 2's cond_v2 and while_v2 gradients).

Both are built of the same control ops, so the backward graph lowers natively too:

- The gradient of an If is an If on the same predicate whose branches are the gradients of
  the forward branches (zeros for what a branch does not use).
- The gradient of a While is a backward While that runs the forward loop's iteration count
  down from the last iteration: each iteration takes the gradient of one body step at the
  loop variables that iteration saw, adds it into the captures' gradients and hands the
  loop variables' gradients to the iteration before. The forward values come from stacks
  when the loop has a static `maximum_iterations` (the forward body writes each
  iteration's loop variables into a carried [maximum_iterations, ...] stack, added to the
  op when a gradient is first asked for); without one, the backward iteration replays the
  forward loop from its initial values up to that iteration (quadratic in the count).

A gradient branch reads the forward branch's values directly; the branch lists the forward
branch in its `replays`, and the lowering computes those values again inside the gradient
region (`control_lowering.py`): the forward ops of one iteration or branch run twice, the
intermediate values of the whole loop are never kept, but for two kinds a bounded loop's
body keeps in stacks too, bound in the backward body (`Branch.bound`): its random draws,
which must not be drawn again (dropout in `dynamic_rnn`), and its matrix products, which
are the cost of recomputing an RNN cell (one row copy against a GEMM). Draws anywhere else (a cond's branch, an unbounded
loop, a region nested in the body) are refused with NotImplementedError.
"""
from __future__ import annotations

from lowerflow.frontend import dtypes
from lowerflow.frontend.array_ops import gather, zeros_like
from lowerflow.frontend.control_flow import LOOP_VAR, RANDOM, Branch, _in_branch, cond, while_loop
from lowerflow.frontend.core_ops import constant
from lowerflow.frontend.functional_ops import _stack, _write
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.math_ops import add

def _floating(t: Tensor) -> bool:
    return t.dtype.is_floating


def _step_grads(graph, ys: list[Tensor], grad_ys: list, xs: list[Tensor]) -> list[Tensor]:
    """d(sum ys·grad_ys)/d xs inside the current branch, zeros where unconnected; xs stop
    the walk, so a capture computed from another capture does not count twice."""
    from lowerflow.frontend.gradients import gradients  # it dispatches control ops here

    pairs = [(y, g) for y, g in zip(ys, grad_ys) if g is not None and _floating(y)]
    if not pairs or not xs:
        return [zeros_like(x) for x in xs]
    got = gradients([y for y, _ in pairs], xs, [g for _, g in pairs], stop_gradients=xs)
    return [zeros_like(x) if g is None else g for g, x in zip(got, xs)]


def _nested_ops(branch: Branch) -> list[Operation]:
    """The ops of the regions nested in `branch`'s control ops."""
    inner = [b for op in branch.ops for b in op._attrs.values() if isinstance(b, Branch)]
    return [o for b in inner for o in b.ops + _nested_ops(b)]


def _refuse_draws(op: Operation, ops: list[Operation]) -> None:
    for o in ops:
        if o.type in RANDOM:
            raise NotImplementedError(
                f"lowerflow cannot differentiate {op.type} '{op.name}': its random op '{o.name}' would be drawn "
                "again by the gradient (only the body of a tf.while_loop with a static maximum_iterations keeps "
                "its draws)")


def cond_grad(op: Operation, out_grads: list) -> list:
    """[None for the predicate, the captures' gradients]: an If of the branch gradients."""
    graph = op.graph
    captures = list(op.inputs[1:])
    xs = [c for c in captures if _floating(c)]
    if not xs:
        return [None] * len(op.inputs)

    for key in ("then_branch", "else_branch"):
        _refuse_draws(op, op.ir_attr(key).ops + _nested_ops(op.ir_attr(key)))

    def branch_grad(key: str):
        forward: Branch = op.ir_attr(key)

        def fn():
            graph._ctx.cf.replays[forward] = []
            return _step_grads(graph, forward.outputs, out_grads, xs)
        return fn

    grads = dict(zip(xs, cond(op.inputs[0], branch_grad("then_branch"), branch_grad("else_branch"), name="cond")))
    return [None] + [grads.get(c) for c in captures]


def _user_count(op: Operation) -> int:
    """How many loop variables the While had when built (counter and limit included)."""
    return len(op.ir_attr("cond").loop_vars)


def _static_limit(op: Operation) -> int | None:
    limit = op.inputs[1]
    if limit.op.type != "Const":
        return None
    value = int(limit.op.ir_attr("value"))
    return value if value >= 0 else None


def _draws(body: Branch) -> list[Tensor]:
    return [t for o in body.ops if o.type in RANDOM for t in o.outputs]


KEEP_BYTES = 64 << 20  # the most one kept product's stack may take


def _kept(body: Branch, limit: int) -> list[Tensor]:
    """The body's values the backward loop reads from stacks, not recomputed: its random
    draws (they must not be drawn again), then its matrix products of static shape (an RNN
    cell's GEMM: one row copy per iteration against the GEMM again)."""
    products = [t for o in body.ops if o.type == "MatMul" for t in o.outputs
                if t.shape.is_fully_defined() and limit * t.shape.num_elements() * t.dtype.size <= KEEP_BYTES]
    return _draws(body) + products


def _stacks(op: Operation, limit: int) -> list[Tensor]:
    """The While's stack outputs: row i of stack k is loop variable k as iteration i saw it,
    then one stack per kept value of the body (`_kept`). Made once, by extending the op with
    one carried stack each (so the outputs past the loop variables are the stacks)."""
    graph, body = op.graph, op.ir_attr("body")
    m = _user_count(op)
    if len(op.outputs) > m:
        return op.outputs[m:]
    draws = _kept(body, limit)
    for t in draws:
        if not t.shape.is_fully_defined():
            raise NotImplementedError(f"lowerflow cannot differentiate {op.type} '{op.name}': its random op "
                                      f"'{t.op.name}' has the shape {t.shape}, and keeping its draws needs a "
                                      "static one")
    kept = [*body.loop_vars[2:m], *draws]
    with _in_branch(graph, op._branch), graph.name_scope(op.name + "/stacks"):
        starts = [_stack(t, limit) for t in [*op.inputs[2:m], *draws]]
    with _in_branch(graph, body), graph.name_scope(op.name + "/"):
        for value, start in zip(kept, starts):
            lv = graph.create_op(LOOP_VAR, [], [(start.dtype, start.shape)], {"index": len(body.loop_vars)},
                                 name="Placeholder").outputs[0]
            body.loop_vars.append(lv)
            body.outputs.append(_write(lv, body.loop_vars[0], value))
    n = len(op._outputs)
    op._inputs[n:n] = starts
    op._outputs += [Tensor(op, n + k, s.dtype, s.shape) for k, s in enumerate(starts)]
    return op.outputs[n:]


def while_grad(op: Operation, out_grads: list) -> list:
    """The gradients of a While's initial values and captures: a backward While."""
    graph, body = op.graph, op.ir_attr("body")
    m = _user_count(op)
    inits, captures = list(op.inputs[2:m]), list(op.inputs[len(op.outputs):])
    body_caps = set(body.captures())
    xs = [c for c in captures if _floating(c) and c in body_caps]
    carried = [k for k, t in enumerate(inits) if _floating(t)]
    if not carried and not xs:
        return [None] * len(op.inputs)
    limit = _static_limit(op)
    _refuse_draws(op, _nested_ops(body) + ([] if limit is not None else body.ops))
    stacks = _stacks(op, limit) if limit is not None else None
    n = len(op.outputs)
    draws = _kept(body, limit) if limit is not None else []
    seeds = [out_grads[2 + k] for k in carried]

    def state_at(j: Tensor) -> list[Tensor]:
        if stacks is None:
            return _replay(op, j)
        rows = [gather(s, j) for s in stacks]
        graph._ctx.cf.bound.update(zip(draws, rows[m - 2:]))
        return rows[:m - 2]

    def back_cond(j, gs, accs):
        return j >= 0

    def back_body(j, gs, accs):
        graph._ctx.cf.replays[body] = [j, op.inputs[1], *state_at(j)]
        ys = body.outputs[2:m]
        grad_ys = [None] * len(ys)
        for k, g in zip(carried, gs):
            grad_ys[k] = g
        grads = _step_grads(graph, ys, grad_ys, [body.loop_vars[2 + k] for k in carried] + xs)
        return j - 1, grads[:len(carried)], [add(a, g) for a, g in zip(accs, grads[len(carried):])]

    start = op.outputs[0] - constant(1, dtypes.int32)
    _, gs, accs = while_loop(back_cond, back_body, [start, seeds, [zeros_like(x) for x in xs]], name="while")
    by_init = dict(zip(carried, gs))
    by_capture = dict(zip(xs, accs))
    grads = [None, None] + [by_init.get(k) for k in range(len(inits))]
    grads += [None] * (n - m) + [by_capture.get(c) for c in captures]
    return grads


def _replay(op: Operation, j: Tensor) -> list[Tensor]:
    """The loop variables the forward loop's iteration j saw: its body run j times again."""
    body = op.ir_attr("body")
    m = _user_count(op)
    graph = op.graph

    def again(i, vs):
        graph._ctx.cf.replays[body] = [i, op.inputs[1], *vs]
        return i + 1, list(body.outputs[2:m])

    zero = constant(0, dtypes.int32)
    return while_loop(lambda i, vs: i < j, again, [zero, list(op.inputs[2:m])], name="replay")[1]
