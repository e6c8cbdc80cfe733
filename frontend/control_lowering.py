"""If and While graph ops → "lf.if" / "lf.while" (cf. TF's functional-to-MLIR import of
`tf.IfRegion`/`tf.WhileRegion`).

Each region is lowered by a `_RegionLowerer`: the graph-to-IR lowering of `lowering.py`,
building into the region's block, over the branch's own ops in their topological order.
What it reads from outside becomes a capture: an operand of the control op and one block
argument in every region (the regions of one op share their argument list), looked up in
the enclosing lowerer (so a nested branch's capture is captured by its parent too).
Variables work the same way: a read inside a branch is a capture of the variable's value
at the op's position, and a branch that assigns a variable makes its new value a result of
the op, which the other branch yields unchanged; so an assign in the branch not taken has
no effect. A loop that writes state carries it: the body is lowered again with that state
as extra loop variables.

Shapes are concrete per run signature: a loop variable whose shape changes across
iterations (allowed by `shape_invariants`) or branches giving different shapes have no one
static type, which native code needs, and are refused with NotImplementedError (the
Session's UnimplementedError) saying so.
"""
from __future__ import annotations

from lowerflow import ir
from lowerflow.frontend.control_flow import IF_TYPES, LOOP_VAR, Branch
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.lowering import RunShapeError, _Lowerer, needed_ops


class _Captures:
    """The outside values the regions of one control op read, each an argument of every region."""

    def __init__(self, parent: _Lowerer, blocks: list[ir.Block]):
        self.parent, self.blocks = parent, blocks
        self.index: dict[object, int] = {}
        self.outer: list[ir.Value] = []

    def arg(self, key, outer, block: ir.Block) -> ir.Value:
        """`block`'s argument for the capture `key`; `outer()` is its value outside."""
        if key not in self.index:
            value = outer()
            self.index[key] = len(self.outer)
            self.outer.append(value)
            for b in self.blocks:
                b.add_arg(value.type)
        return block.args[len(block.args) - len(self.outer) + self.index[key]]


class _RegionLowerer(_Lowerer):
    """Lowers one branch into `block`, capturing through `captures` what lies outside it."""

    def __init__(self, parent: _Lowerer, branch: Branch, block: ir.Block, captures: _Captures,
                 state: dict | None = None):
        self.func, self.block, self.parent, self.branch, self.captures = parent.func, block, parent, branch, captures
        self.env: dict[Tensor, ir.Value] = {}
        self.state = dict(state or {})
        self.reads: list[Operation] = []
        self.writes: list[Operation] = []
        self.lowered: set[Operation] = set()

    def read(self, var: Operation, type: ir.TensorType | None = None) -> ir.Value:
        if var not in self.state:
            self.state[var] = self.captures.arg(("state", var), lambda: self.parent.read(var, type), self.block)
        return self.state[var]

    def value(self, t: Tensor) -> ir.Value:
        if t in self.env:
            return self.env[t]
        replay = self.branch.replays.get(t.op._branch)
        if t in self.branch.bound:
            self.env[t] = self.value(self.branch.bound[t])
        elif replay is not None and t.op.type == LOOP_VAR:
            self.env[t] = self.value(replay[t.op.ir_attr("index")])
        elif replay is not None or t.op._branch is self.branch:
            for op in needed_ops([t], [], set(self.env) | set(self.branch.bound), self._local):
                self.lower_op(op)
        elif not self.branch.owns(t.op) and t.op.type != "VariableV2":
            return self.captures.arg(t, lambda: self.parent.value(t), self.block)
        return super().value(t)

    def _local(self, op: Operation) -> bool:
        """Whether `op` is computed in this region: its branch's own, or a replayed branch's."""
        return op._branch is self.branch or op._branch in self.branch.replays

    def lower_op(self, op: Operation) -> None:
        if op not in self.lowered:  # a replayed op may be asked for again
            self.lowered.add(op)
            super().lower_op(op)

    def lower_branch(self) -> None:
        within = self.branch.owns
        for op in needed_ops(self.branch.outputs, [], set(self.env), within):
            if within(op):
                self.lower_op(op)


def lower_control(lw: _Lowerer, op: Operation) -> None:
    (_lower_if if op.type in IF_TYPES else _lower_while)(lw, op)


def _commit(lw: _Lowerer, op: Operation, results: list[ir.Value], written: list[Operation]) -> None:
    """Bind the op's outputs, then the state it wrote, in the enclosing lowerer."""
    n = len(op.outputs)
    for t, v in zip(op.outputs, results[:n]):
        lw.env.setdefault(t, v)
    for var, v in zip(written, results[n:]):
        lw.state[var] = v
        if var not in lw.writes:
            lw.writes.append(var)


def _same_types(op: Operation, a: list[ir.Value], b: list[ir.Value], what: str) -> None:
    for t, x, y in zip(op.outputs, a, b):
        if x.type != y.type:
            raise NotImplementedError(
                f"{what} give {t.name} the shapes {list(x.type.shape)} and {list(y.type.shape)} in this run: "
                f"lowerflow's native code needs one static shape per value [[node {op.name} (op: {op.type})]]")


def _lower_if(lw: _Lowerer, op: Operation) -> None:
    pred = lw.value(op.inputs[0])
    if pred.type.dtype != ir.types.BOOL:  # TF builds the op, and its run fails so
        raise RunShapeError(f"Input 'pred' passed {op.inputs[0].dtype.name} expected bool while building "
                            f"NodeDef '{op.name}' [[node {op.name} (op: {op.type})]]")
    blocks = [ir.Block(), ir.Block()]
    caps = _Captures(lw, blocks)
    branches = [_RegionLowerer(lw, op.ir_attr(k), b, caps) for k, b in zip(("then_branch", "else_branch"), blocks)]
    for r in branches:
        r.lower_branch()
    written = list(dict.fromkeys(v for r in branches for v in r.writes))
    yields = [[r.value(t) for t in r.branch.outputs] + [r.read(v) for v in written] for r in branches]
    _same_types(op, yields[0], yields[1], "the branches of tf.cond")
    for b, ys in zip(blocks, yields):
        b.add("lf.yield", ys)
    if_op = lw.block.add("lf.if", [pred, *caps.outer], [v.type for v in yields[0]], regions=blocks)
    if_op.location = op.name
    _commit(lw, op, if_op.results, written)


def _lower_while(lw: _Lowerer, op: Operation) -> None:
    n = len(op.outputs)
    inits = [lw.value(t) for t in op.inputs[:n]]
    carried_state: list[Operation] = []
    while True:  # once, or again with the state the first try found written
        state_inits = [lw.read(v) for v in carried_state]
        types = [v.type for v in inits + state_inits]
        blocks = [ir.Block(types), ir.Block(types)]
        caps = _Captures(lw, blocks)
        regions = []
        for key, block in zip(("cond", "body"), blocks):
            branch = op.ir_attr(key)
            r = _RegionLowerer(lw, branch, block, caps, dict(zip(carried_state, block.args[n:])))
            r.env.update(zip(branch.loop_vars, block.args[:n]))
            r.lower_branch()
            regions.append(r)
        cond, body = regions
        new = [v for r in regions for v in r.writes if v not in carried_state]
        if not new:
            break
        carried_state += list(dict.fromkeys(new))
    nexts = [body.value(t) for t in body.branch.outputs] + [body.read(v) for v in carried_state]
    _same_types(op, inits, nexts, "the loop's initial values and its body")
    blocks[0].add("lf.yield", [cond.value(cond.branch.outputs[0])])
    blocks[1].add("lf.yield", nexts)
    while_op = lw.block.add("lf.while", [*inits, *state_inits, *caps.outer], types, regions=blocks)
    while_op.location = op.name
    _commit(lw, op, while_op.results, carried_state)
