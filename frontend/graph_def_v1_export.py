"""Our If/While ops written into a GraphDef as TF's control flow v1, the one form both
TensorFlow (any version) and lowerflow's importer (`graph_def_v1.py`) read back without
function libraries (cf. TF's `CondContext`/`WhileContext`, which build the same nodes).

An If becomes a pivot `Switch(pred, pred)` with its `switch_t`/`switch_f` Identities, one
`Switch(capture, pred)` per capture (output 1 read by the then-branch's ops, 0 by the
else-branch's) and one `Merge(else, then)` per output. A While becomes, per carried value,
Enter -> Merge(Enter, NextIteration) -> Switch(Merge, LoopCond) -> Exit, the cond's ops
reading the Merges and the body's the Identities of the Switches' output 1, and one
constant Enter per capture. Branch ops keep their names and NodeDefs (`export_op`); their
inputs are renamed to those nodes, a control input from outside the branch is dropped (the
If/While op carried it: it goes on the construct's first Switch or Enter), and a node with
no inputs gets a control input from the branch's pivot, as TF gives a branch's constants,
so it runs in the branch's frame. The op's outputs are its Merges and Exits.
A gradient branch reads its forward branch's values in place (`Branch.replays`), which no
dataflow graph can say: such graphs raise `NotExpressible`, and are written as before.
"""
from __future__ import annotations

from lowerflow.frontend import protos, tf_values
from lowerflow.frontend.control_flow import IF_TYPES, LOOP_VAR, WHILE_TYPES
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.graph_def_like import NotExpressible


def expressible(ops: list[Operation]) -> bool:
    """Whether the graph has control flow and all of it can be written as v1."""
    control = [op for op in ops if op.type in IF_TYPES + WHILE_TYPES]
    return bool(control) and not any(
        b.replays or b.bound for op in control for b in op._attrs.values() if hasattr(b, "replays"))


class _Ctx:
    """Where ops are written: the root (branch None) or a branch, whose `bound` tensors
    (captures, loop variables) are read through the construct's nodes."""

    def __init__(self, branch=None, bound: dict | None = None, pivot: str | None = None):
        self.branch, self.bound, self.pivot = branch, bound or {}, pivot

    def holds(self, op: Operation) -> bool:
        return op._branch is self.branch


class Writer:
    """Writes `ops` (the graph's, in order) with `export_op(op, taken)` for plain ops."""

    def __init__(self, export_op, fresh, taken: set):
        self.export_op, self.fresh, self.taken = export_op, fresh, taken
        self.nodes: list = []
        self.outputs: dict[tuple, str] = {}  # (control op, output index) -> its Merge or Exit

    def write(self, ops: list[Operation], ctx: _Ctx, shapes: bool = False) -> None:
        for op in ops:
            if op.type == LOOP_VAR:
                continue
            if op.type in IF_TYPES:
                self._if(op, ctx)
            elif op.type in WHILE_TYPES:
                self._while(op, ctx)
            else:
                self._plain(op, ctx, shapes)

    def _ref(self, t: Tensor, ctx: _Ctx) -> str:
        if t in ctx.bound:
            return ctx.bound[t]
        if not ctx.holds(t.op):
            raise NotExpressible(f"'{t.name}' is read inside a branch it is not captured by")
        if t.op.type in IF_TYPES + WHILE_TYPES:
            return self.outputs[(t.op, t.value_index)]
        return t.op.name if t.value_index == 0 else t.name

    def _control(self, c: Operation) -> str | None:
        if c.type in IF_TYPES + WHILE_TYPES:
            done = [v for (op, _), v in self.outputs.items() if op is c]
            return done[0] if done else None
        return c.name

    def _plain(self, op: Operation, ctx: _Ctx, shapes: bool) -> None:
        by_name = {(t.op.name if t.value_index == 0 else t.name): t for t in op.inputs}
        controls = {c.name: c for c in op.control_inputs}
        nodes = self.export_op(op, self.taken)
        for node in nodes:
            inputs = []
            for i in node.input:
                if i.startswith("^") and i[1:] in controls:
                    c = controls[i[1:]]
                    kept = self._control(c) if ctx.holds(c) else None
                    inputs += [f"^{kept}"] if kept else []
                else:
                    inputs.append(self._ref(by_name[i], ctx) if i in by_name else i)
            if not inputs and ctx.pivot:
                inputs.append(f"^{ctx.pivot}")
            node.input[:] = inputs
        if shapes and op.outputs:
            nodes[-1].attr["_output_shapes"].list.shape.extend(
                tf_values.shape_proto(t.shape.as_tuple()) for t in op.outputs)
        self.nodes.extend(nodes)

    def _node(self, op_type: str, name: str, inputs: list[str], dtype=None, **attrs) -> str:
        node = protos.NodeDef(name=self.fresh(name, self.taken), op=op_type)
        node.input.extend(inputs)
        if dtype is not None:
            node.attr["T"].type = tf_values.dtype_enum(dtype)
        for key, value in attrs.items():
            node.attr[key].CopyFrom(tf_values.generic_attr_value(value))
        self.nodes.append(node)
        return node.name

    def _entry_controls(self, op: Operation, ctx: _Ctx) -> list[str]:
        return [f"^{n}" for n in (self._control(c) for c in op.control_inputs if ctx.holds(c)) if n]

    def _if(self, op: Operation, ctx: _Ctx) -> None:
        scope, pred = op.name, self._ref(op.inputs[0], ctx)
        pivot = self._node("Switch", f"{scope}/Switch", [pred, pred, *self._entry_controls(op, ctx)], op.inputs[0].dtype)
        sides = [self._node("Identity", f"{scope}/switch_f", [pivot], op.inputs[0].dtype),
                 self._node("Identity", f"{scope}/switch_t", [f"{pivot}:1"], op.inputs[0].dtype)]
        switches = {t: self._node("Switch", f"{scope}/Switch", [self._ref(t, ctx), pred], t.dtype)
                    for t in dict.fromkeys(op.inputs[1:])}
        values = []
        for side, key in ((0, "else_branch"), (1, "then_branch")):
            branch = op._attrs[key]
            sub = _Ctx(branch, {t: f"{s}:1" if side else s for t, s in switches.items()}, sides[side])
            self.write(branch.ops, sub)
            values.append([self._ref(t, sub) for t in branch.outputs])
        for k, (f, t) in enumerate(zip(*values)):
            self.outputs[(op, k)] = self._node("Merge", f"{scope}/Merge", [f, t], op.outputs[k].dtype, N=2)

    def _while(self, op: Operation, ctx: _Ctx) -> None:
        cond_b, body_b = op._attrs["cond"], op._attrs["body"]
        scope, n = op.name, len(cond_b.loop_vars)
        frame = {"frame_name": f"{scope}/while_context", "parallel_iterations": 10}
        controls = self._entry_controls(op, ctx)
        enters = [self._node("Enter", f"{scope}/Enter", [self._ref(t, ctx), *controls], t.dtype,
                             is_constant=False, **frame) for t in op.inputs[:n]]
        captured = {t: self._node("Enter", f"{scope}/Enter", [self._ref(t, ctx), *controls], t.dtype,
                                  is_constant=True, **frame) for t in dict.fromkeys(op.inputs[n:])}
        nexts = [self.fresh(f"{scope}/NextIteration", self.taken) for _ in range(n)]
        merges = [self._node("Merge", f"{scope}/Merge", [e, x], t.dtype, N=2)
                  for e, x, t in zip(enters, nexts, op.inputs)]
        sub = _Ctx(cond_b, {**captured, **dict(zip(cond_b.loop_vars, merges))}, merges[0])
        self.write(cond_b.ops, sub)
        loop_cond = self._node("LoopCond", f"{scope}/LoopCond", [self._ref(cond_b.outputs[0], sub)])
        switches = [self._node("Switch", f"{scope}/Switch", [m, loop_cond], t.dtype) for m, t in zip(merges, op.inputs)]
        for k, (s, t) in enumerate(zip(switches, op.inputs)):
            self.outputs[(op, k)] = self._node("Exit", f"{scope}/Exit", [s], t.dtype)
        idents = [self._node("Identity", f"{scope}/Identity", [f"{s}:1"], t.dtype) for s, t in zip(switches, op.inputs)]
        sub = _Ctx(body_b, {**captured, **dict(zip(body_b.loop_vars, idents))}, idents[0])
        self.write(body_b.ops, sub)
        for name, t, carried in zip(nexts, body_b.outputs, op.inputs):
            node = protos.NodeDef(name=name, op="NextIteration", input=[self._ref(t, sub)])
            node.attr["T"].type = tf_values.dtype_enum(carried.dtype)
            self.nodes.append(node)


def write_v1(ops: list[Operation], export_op, fresh, taken: set, shapes: bool) -> list:
    """The NodeDefs of `ops` (a graph's) with control flow as v1; NotExpressible if it is not."""
    writer = Writer(export_op, fresh, taken)
    writer.write([op for op in ops if op._branch is None], _Ctx(), shapes)
    return writer.nodes
