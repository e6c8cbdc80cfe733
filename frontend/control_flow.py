"""`tf.cond`, `tf.case` and `tf.while_loop` as single graph ops with branches (cf. TF2's
functional `StatelessIf`/`StatelessWhile` ops, which `tf.compat.v1` builds in graph mode, and
MLIR's `scf.if`/`scf.while`, what they lower to: `control_lowering.py`).

A branch function (a cond's true_fn or false_fn, a loop's cond or body) runs with the graph's
control-flow context set to a `Branch`: every op created meanwhile belongs to it, in the
same graph under the op's name scope (`cond/mul`, `while/add`), as TF1 names them. The
tensors a branch reads from outside (its captures) become inputs of the If/While op, so a
run's slice includes them; the branch's own ops are lowered only as the op's regions, never
at the top level. A loop's cond and body see the loop variables as `LOOP_VAR` ops of their
own. As in TF 2, the While op also carries a loop counter and `maximum_iterations` (the
first two outputs), and every output is read through an Identity: `cond/Identity:0`,
`while/Identity_2:0` are the names users see.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable

from lowerflow.frontend import dtypes, nest
from lowerflow.frontend.core_ops import constant, convert_to_tensor, identity, stop_gradient
from lowerflow.frontend.graph import Graph, Operation, Tensor
from lowerflow.frontend.math_ops import less, logical_and
from lowerflow.frontend.op_builder import graph_of
from lowerflow.frontend.tensor_shape import TensorShape, as_shape

LOOP_VAR = "_LoopVar"
IF_TYPES, WHILE_TYPES = ("If", "StatelessIf"), ("While", "StatelessWhile")
RANDOM = ("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt")
_STATEFUL = ("Assign", "AssignAdd", "AssignSub", *RANDOM)


class Branch:
    """The ops one branch function created, its flat outputs and (loops) its loop variables.

    `replays` maps another branch to the tensors of this one that stand for its loop
    variables (none for a cond's branch): a gradient branch reads the forward branch's
    values, which exist only inside the forward op, so the lowering computes the forward
    ops it reads again here (`control_lowering.py`), and what they capture is captured here.
    `bound` maps a replayed tensor to one of this branch that gives its value instead of
    computing it again (a random draw the forward loop kept).
    """

    def __init__(self, parent: "Branch | None"):
        self.parent = parent
        self.ops: list[Operation] = []
        self.outputs: list[Tensor] = []
        self.loop_vars: list[Tensor] = []
        self.replays: dict[Branch, list[Tensor]] = {}
        self.bound: dict[Tensor, Tensor] = {}

    def owns(self, op: Operation) -> bool:
        """Whether `op` was created in this branch (or a branch nested in it)."""
        b = op._branch
        while b is not None and b is not self:
            b = b.parent
        return b is self

    def captures(self) -> list[Tensor]:
        """The outside tensors this branch reads, in first-use order; a replayed branch's
        values stand for what that branch captures."""
        reads = [t for op in self.ops for t in op.inputs] + self.outputs
        replayed = {b: [c for c in b.captures() if not self.owns(c.op)] for b in self.replays}
        return list(dict.fromkeys(c for t in reads if not self.owns(t.op) for c in self._outside(t, replayed)))

    def _outside(self, t: Tensor, replayed: dict) -> list[Tensor]:
        if t.op._branch not in replayed:
            return [t]
        if t.op.type == LOOP_VAR or t in self.bound:  # stands for one of this branch's tensors
            return []
        return replayed[t.op._branch]

    def control_captures(self) -> list[Operation]:
        return list(dict.fromkeys(c for op in self.ops for c in op.control_inputs if not self.owns(c)))

    def stateful(self) -> bool:
        return any(op.type in _STATEFUL or op.type in IF_TYPES[:1] + WHILE_TYPES[:1] for op in self.ops)


@contextlib.contextmanager
def _in_branch(graph: Graph, branch: Branch):
    """Ops created inside belong to `branch`; the outer control dependencies stay with the op."""
    ctx = graph._ctx
    old = ctx.cf, ctx.control
    ctx.cf, ctx.control = branch, []
    try:
        yield branch
    finally:
        ctx.cf, ctx.control = old


def _trace(graph: Graph, fn: Callable, args: list | None = None):
    """Run `fn` in a new branch; (what it returned, the branch). `args` are (dtype, shape) of
    loop variables, given to `fn` as LOOP_VAR tensors."""
    branch = Branch(graph._ctx.cf)
    with _in_branch(graph, branch):
        for i, (dt, shape) in enumerate(args or ()):
            op = graph.create_op(LOOP_VAR, [], [(dt, shape)], {"index": i}, name="Placeholder")
            branch.loop_vars.append(op.outputs[0])
        out = fn(*branch.loop_vars[2:]) if args is not None else fn()
    return out, branch


def _to_tensors(graph: Graph, branch: Branch, values: list) -> list[Tensor]:
    """A branch's outputs as tensors; an Operation becomes a `True` that runs after it (what
    TF 2 gives for `tf.cond(p, lambda: train_op, lambda: tf.no_op())`)."""
    with _in_branch(graph, branch):
        return [_op_done(graph, v) if isinstance(v, Operation) else convert_to_tensor(v) for v in values]


def _op_done(graph: Graph, op: Operation) -> Tensor:
    with graph.control_dependencies([op]):
        return constant(True)


def _control_op(graph: Graph, op_type: str, scope: str, inputs: list[Tensor], outputs: list,
                branches: dict, controls: list[Operation]) -> list[Tensor]:
    """The If/While op named `scope` (without its slash), its outputs read through Identities."""
    op = graph.create_op(op_type, inputs, outputs, branches, name=scope)
    for c in controls:
        op._add_control_input(c)
    return [identity(t, name="Identity") for t in op.outputs]


def _most_specific(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape both `a` and `b` are (TF's `most_specific_compatible_shape`)."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_tuple(), b.as_tuple())])


def _check_pred(pred) -> Tensor:
    if isinstance(pred, bool):
        raise TypeError("pred must not be a Python bool", pred)
    pred = convert_to_tensor(pred)
    if pred.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for '{pred.op.name}' "
                         f"(the predicate of tf.cond) with input shapes: {pred.shape}.")
    return pred


def cond(pred, true_fn=None, false_fn=None, strict: bool = False, name: str | None = None):
    """tf.cond: `true_fn()` if `pred` else `false_fn()`; only the taken branch runs. The result
    has the branches' structure, a one-element list included, whatever `strict` says: that
    is what TF 2's `tf.compat.v1.cond` gives (TF 1.x unpacked it unless strict)."""
    if not callable(true_fn):
        raise TypeError("'true_fn' must be callable.")
    if not callable(false_fn):
        raise TypeError("'false_fn' must be callable.")
    pred = _check_pred(pred)
    graph = graph_of([pred])
    with graph.name_scope(name or "cond") as scope:
        true_out, then_b = _trace(graph, true_fn)
        false_out, else_b = _trace(graph, false_fn)
        if len(nest.flatten(true_out)) != len(nest.flatten(false_out)) or (true_out is None) != (false_out is None):
            raise ValueError("Lengths of branch outputs of cond must match.")
        why = nest.structure_difference(true_out, false_out)
        if why is not None:
            raise TypeError(_mismatch(true_out, false_out, why))
        if true_out is None:
            return None
        then_b.outputs = _to_tensors(graph, then_b, nest.flatten(true_out))
        else_b.outputs = _to_tensors(graph, else_b, nest.flatten(false_out))
        for a, b in zip(then_b.outputs, else_b.outputs):
            if a.dtype is not b.dtype:
                raise TypeError(_mismatch(true_out, false_out, f"{a} and {b} have different types"))
        captures = list(dict.fromkeys(then_b.captures() + else_b.captures()))
        outputs = [(a.dtype, _most_specific(a.shape, b.shape)) for a, b in zip(then_b.outputs, else_b.outputs)]
        kind = "If" if then_b.stateful() or else_b.stateful() else "StatelessIf"
        controls = list(dict.fromkeys(then_b.control_captures() + else_b.control_captures()))
        flat = _control_op(graph, kind, scope, [pred, *captures], outputs,
                           {"then_branch": then_b, "else_branch": else_b}, controls)
    return nest.pack_sequence_as(true_out, flat)


def _mismatch(true_out, false_out, why: str) -> str:
    return ("true_fn and false_fn arguments to tf.cond must have the same number, type, and overall "
            f"structure of return values.\n\ntrue_fn output: {true_out}\nfalse_fn output: {false_out}\n\n"
            f"Error details:\n{why}")


def case(pred_fn_pairs, default=None, exclusive: bool = False, strict: bool = False, name: str = "case"):
    """tf.case: the fn of the first true predicate, else `default`; built as nested conds. The
    last pair's fn is the default when none is given. `exclusive=True` is accepted but not
    checked at run time (lowerflow has no Assert op)."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    for pred, fn in pairs:
        if not isinstance(pred, Tensor):
            raise TypeError(f"pred must be a Tensor, got: {pred}")
        if not callable(fn):
            raise TypeError(f"fn for pred {pred.name} must be callable.")
    if default is None:
        if not pairs:
            raise ValueError("tf.case needs at least one (pred, fn) pair when there is no default")
        *pairs, (_, default) = pairs
    if not pairs:
        return default()
    graph = graph_of([p for p, _ in pairs])
    with graph.name_scope(name):
        return _case(pairs, default, strict)


def _case(pairs: list, default: Callable, strict: bool):
    (pred, fn), rest = pairs[0], pairs[1:]
    if not rest:
        return cond(pred, fn, default, strict=strict)
    return cond(pred, fn, lambda: _case(rest, default, strict), strict=strict)


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations: int = 10,
               back_prop: bool = True, swap_memory: bool = False, name: str | None = None,
               maximum_iterations=None, return_same_structure: bool = False):
    """tf.while_loop: repeat `body` while `cond` holds, as one native loop."""
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if not isinstance(parallel_iterations, int) or parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    if isinstance(loop_vars, Tensor):
        raise TypeError(f"len is not well defined for a symbolic Tensor ({loop_vars.op.name}:0). Please call "
                        "`x.shape` rather than `len(x)` for shape information.")
    templates, loop_vars = loop_vars, _loop_values(loop_vars, _static_count(maximum_iterations))
    user_cond, user_body = cond, body
    cond = lambda *vs: user_cond(*_arrays(templates, vs))  # noqa: E731
    body = lambda *vs: _loop_values(user_body(*_arrays(templates, vs)))  # noqa: E731
    graph = graph_of(nest.flatten(loop_vars))
    with graph.name_scope(name or "while") as scope:
        flat = [convert_to_tensor(v) for v in nest.flatten(loop_vars)]
        shapes = _invariants(loop_vars, flat, shape_invariants)
        limit = constant(-1 if maximum_iterations is None else maximum_iterations, dtypes.int32,
                         name="maximum_iterations") if not isinstance(maximum_iterations, Tensor) else maximum_iterations
        counter = constant(0, dtypes.int32, name="loop_counter")
        args = [(dtypes.int32, TensorShape([]))] * 2 + [(t.dtype, s) for t, s in zip(flat, shapes)]
        packed_cond = lambda *vs: cond(*nest.pack_sequence_as(loop_vars, list(vs)))  # noqa: E731
        cond_out, cond_b = _trace(graph, packed_cond, args)
        cond_b.outputs = [_loop_predicate(graph, cond_b, cond_out, maximum_iterations is not None)]
        body_out, body_b = _trace(graph, lambda *vs: body(*nest.pack_sequence_as(loop_vars, list(vs))), args)
        body_b.outputs = _body_outputs(graph, body_b, loop_vars, flat, shapes, body_out)
        captures = list(dict.fromkeys(cond_b.captures() + body_b.captures()))
        kind = "While" if cond_b.stateful() or body_b.stateful() else "StatelessWhile"
        controls = list(dict.fromkeys(cond_b.control_captures() + body_b.control_captures()))
        outs = _control_op(graph, kind, scope, [counter, limit, *flat, *captures], args,
                           {"cond": cond_b, "body": body_b}, controls)
    if not back_prop:  # as TF 2 builds it: the results give no gradient
        outs = [stop_gradient(t) for t in outs]
    result = _arrays(templates, nest.pack_sequence_as(loop_vars, outs[2:]))
    if not return_same_structure and isinstance(result, (list, tuple)) and len(flat) == 1 \
            and nest.is_nested(loop_vars) and len(loop_vars) == 1:
        return result[0]
    return result


def _static_count(maximum_iterations) -> int | None:
    if isinstance(maximum_iterations, Tensor):
        return int(maximum_iterations.op.ir_attr("value")) if maximum_iterations.op.type == "Const" else None
    return None if maximum_iterations is None else int(maximum_iterations)


def _loop_values(structure, entering: int | None | bool = False):
    """Loop variables as tensors: a TensorArray is carried as its buffer (and a
    dynamic-size one with its size, grown by `entering` = the loop's static iteration bound
    when it enters the loop; False for the body's next values)."""
    return nest.map_structure(lambda v: v._as_loop_var(entering) if hasattr(v, "_as_loop_var") else v, structure)


def _arrays(templates, values):
    """`values` (a loop's tensors) with each TensorArray of `templates` rebuilt around the
    tensors it is carried as."""
    flat = iter(nest.flatten(values))
    rebuilt = [t._from_loop_var(*[next(flat) for _ in range(t._loop_var_count)]) if hasattr(t, "_as_loop_var")
               else next(flat) for t in nest.flatten(templates)]
    return nest.pack_sequence_as(templates, rebuilt)


def _invariants(loop_vars, flat: list[Tensor], shape_invariants) -> list[TensorShape]:
    if shape_invariants is None:
        return [t.shape for t in flat]
    nest.assert_same_structure(loop_vars, shape_invariants, check_types=False)
    shapes = [as_shape(s) for s in nest.flatten(shape_invariants)]
    for t, s in zip(flat, shapes):
        if not s.is_compatible_with(t.shape):
            raise ValueError(f"The shape invariant specified for {t.name} is not compatible with the initial "
                             f"shape of the loop variable. It enters the loop with shape {t.shape}, but the "
                             f"specified shape invariant is {s}.")
    return shapes


def _loop_predicate(graph: Graph, branch: Branch, out, limited: bool) -> Tensor:
    with _in_branch(graph, branch):
        pred = convert_to_tensor(out)
        if pred.dtype is not dtypes.bool_ or pred.shape.ndims not in (None, 0):
            raise ValueError(f"the loop's cond must return a boolean scalar, got {pred}")
        if limited:
            counter, limit = branch.loop_vars[:2]
            pred = logical_and(less(counter, limit), pred)
        return pred


def _body_outputs(graph: Graph, branch: Branch, loop_vars, flat: list[Tensor], shapes: list, out) -> list[Tensor]:
    """The body's next values (counter first), checked against the loop variables."""
    if len(flat) == 1 and not nest.is_nested(out) and nest.is_nested(loop_vars):
        out = type(loop_vars)([out]) if not isinstance(loop_vars, dict) else out
    nest.assert_same_structure(out, loop_vars, check_types=False)
    with _in_branch(graph, branch):
        nexts = [convert_to_tensor(v) for v in nest.flatten(out)]
        counter = branch.loop_vars[0] + constant(1, dtypes.int32)
    for t, n, s in zip(flat, nexts, shapes):
        if n.dtype is not t.dtype:
            raise TypeError(f"Loop var {t.name} enters the loop with type <dtype: '{t.dtype.name}'> but has "
                            f"type <dtype: '{n.dtype.name}'> after 1 iteration. {t.name} type should remain "
                            f"constant.")
        if not s.is_compatible_with(n.shape) or _more_general(n.shape, s):
            raise ValueError(f"Input tensor `{t.name}` enters the loop with shape {t.shape}, but has shape "
                             f"{n.shape} after one iteration. To allow the shape to vary across iterations, "
                             f"use the `shape_invariants` argument of tf.while_loop to specify a "
                             f"less-specific shape.")
    return [counter, branch.loop_vars[1], *nexts]


def _more_general(shape: TensorShape, invariant: TensorShape) -> bool:
    """Whether `shape` knows less than `invariant` says (a dim the invariant fixes is unknown)."""
    if invariant.ndims is None:
        return False
    if shape.ndims is None:
        return True
    return any(d is None and i is not None for d, i in zip(shape.as_tuple(), invariant.as_tuple()))
