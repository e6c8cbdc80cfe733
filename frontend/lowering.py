"""Graph slice → one IR function `step` (cf. TF's graph pruning + XLA's tf2xla bridge).

The slice is every op that the fetched tensors and target ops need, following
data and control edges, cut at fed tensors. Ops are visited in a topological
order that breaks ties by creation order, and variable state is threaded
through SSA: a variable's value starts as a function argument (only when it is
read before it is written) and each Assign makes the next value, so reads see
the assignments that precede them in that order. Arguments are the feeds then
the variables read; results are the fetches then the variables written. A random
op's run counter (ops with the RUN_COUNTER trait) is state threaded the same way,
keyed by the random op itself: its operand 0, written back plus one.
Session-state queries (IsVariableInitialized, ReportUninitializedVariables) are
not computation: they are answered by the runtime and never enter the IR.
"""
from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from lowerflow import ir
from lowerflow.frontend.control_flow import IF_TYPES, LOOP_VAR, WHILE_TYPES
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend import dynamic_lowering as dynamic
from lowerflow.frontend import run_dims
from lowerflow.frontend.shape_values import RunValueError, resolve
from lowerflow.ir.opdef import ELEMENTWISE
from lowerflow.ir.ops.random import COUNTER_TYPE, RUN_COUNTER

HOST_OPS = ("IsVariableInitialized", "ReportUninitializedVariables")
_VARIABLE = "VariableV2"
_UPDATES = {"AssignAdd": "lf.add", "AssignSub": "lf.sub"}


class UnfedPlaceholderError(ValueError):
    """A placeholder the slice needs was not fed (TF1: InvalidArgumentError)."""


class RunShapeError(ValueError):
    """Shapes known only at run time do not fit an op (TF1: InvalidArgumentError)."""


@dataclass
class Step:
    """The lowered function and how its arguments/results map back to the graph."""

    func: ir.Function
    feeds: list[Tensor]
    reads: list[Operation]  # VariableV2 ops (and random ops' run counters) read as arguments
    fetches: list[Tensor]  # tensors computed natively, the first results
    writes: list[Operation]  # state ops (as `reads`) whose new values follow the fetches
    host: list[Tensor] = field(default_factory=list)  # fetched session queries
    prints: list[Operation] = field(default_factory=list)  # tf.Print ops: their data follow the writes
    # (fetch index, count index): fetches whose leading dim is known at run time; the counts
    # are the last results (frontend/dynamic_lowering.py)
    extents: list[tuple[int, int]] = field(default_factory=list)
    # the shape prelude of results sized by fed values (frontend/run_dims.py): its dims are
    # the last arguments
    prelude: run_dims.Prelude | None = None


def needed_ops(fetches: list[Tensor], targets: list[Operation], fed: set, within=None) -> list[Operation]:
    """Every op the fetches and targets depend on, in a deterministic topological order.
    `within(op)`: whether an op may be part of the slice (a branch's own ops).

    Kahn's algorithm over a heap keyed by creation order: the order networkx's
    `lexicographical_topological_sort` gives (as `tf.gradients` and the fusion passes use
    it), written out because this runs for every new run signature and networkx, building
    its graph first, measured 3-5x slower here."""
    seen: dict[Operation, list[Operation]] = {}
    stack = [t.op for t in fetches if t not in fed] + list(targets)
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        deps = [t.op for t in op.inputs if t not in fed] + op.control_inputs
        if within is not None:
            deps = [d for d in deps if within(d)]
        seen[op] = deps
        stack.extend(deps)
    waiting = {op: len(set(deps)) for op, deps in seen.items()}
    consumers: dict[Operation, list[Operation]] = {}
    for op, deps in seen.items():
        for d in set(deps):
            consumers.setdefault(d, []).append(op)
    ready = [(op._id, op) for op, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, op = heapq.heappop(ready)
        order.append(op)
        for c in consumers.get(op, ()):
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (c._id, c))
    if len(order) != len(seen):
        raise ValueError("the graph slice has a cycle")
    return order


def variable_type(var: Operation) -> ir.TensorType:
    shape = var.ir_attr("shape")
    if shape is None or any(d is None for d in shape):
        raise ValueError(f"variable '{var.name}' needs a fully defined shape")
    return ir.TensorType(tuple(shape), var.ir_attr("dtype"))


class _Lowerer:
    extent: dict | None = None  # value -> its run-time leading dim (dynamic_lowering.py); None in regions
    unbounded: Mapping = MappingProxyType({})  # value sized by fed values -> its dims argument (run_dims.py)

    def __init__(self, feeds: dict[Tensor, ir.TensorType]):
        self.extent = {}
        self.run_dims: list[run_dims.RunDims] = []  # ops sized by fed values (run_dims.py)
        self.unbounded: dict[ir.Value, ir.Value] = {}  # their results and what they give
        self.func = ir.Function("step")
        self.block = self.func.body  # where ops are built (a region's block when lowering a branch)
        self.env: dict[Tensor, ir.Value] = {}
        self.state: dict[Operation, ir.Value] = {}
        self.reads: list[Operation] = []
        self.writes: list[Operation] = []
        self.prints: list[Operation] = []
        for t, typ in feeds.items():
            self.env[t] = self.func.body.add_arg(typ)
            self.func.arg_names.append(t.name)

    def read(self, var: Operation, type: ir.TensorType | None = None) -> ir.Value:
        if var not in self.state:
            self.state[var] = self.func.body.add_arg(type or variable_type(var))
            self.func.arg_names.append(var.name)
            self.reads.append(var)
        return self.state[var]

    def run_counter(self, op: Operation) -> ir.Value:
        """A random op's run counter: read as state, written back plus one."""
        count = self.read(op, COUNTER_TYPE)
        one = self.build("lf.constant", [], {"value": np.ones((), np.int64)}, op).result
        self.state[op] = self.build("lf.add", [count, one], {}, op).result
        self.writes.append(op)
        return count

    def value(self, t: Tensor) -> ir.Value:
        if t in self.env:
            return self.env[t]
        if t.op.type == _VARIABLE:
            return self.read(t.op)
        if t.op.type in HOST_OPS:
            raise NotImplementedError(f"'{t.op.type}' can only be fetched, not computed with")
        raise KeyError(f"tensor {t.name} was not computed before use")

    def write(self, var: Operation, new: ir.Value, op: Operation) -> None:
        if dynamic.is_dynamic(self, new):
            raise dynamic.refuse("assigning such a value to a variable", op)
        if new in self.unbounded:
            raise run_dims.refuse("assigning such a value to a variable", op)
        expected = variable_type(var)
        if new.type.shape != expected.shape:
            raise RunShapeError(f"Assign requires shapes of both tensors to match. lhs shape= "
                                f"{list(expected.shape)} rhs shape= {list(new.type.shape)} "
                                f"[[node {op.name}]]")
        self.state[var] = new
        if var not in self.writes:
            self.writes.append(var)
        self.env[op.outputs[0]] = new

    def lower_op(self, op: Operation) -> None:
        kind = op.type
        if kind == "Placeholder":
            if op.outputs[0] not in self.env:
                t = op.outputs[0]
                raise UnfedPlaceholderError(
                    f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                    f"{t.dtype.name}" + (f" and shape {t.shape.as_list()}" if t.shape.ndims is not None else ""))
        elif kind == "PlaceholderWithDefault":
            self.env.setdefault(op.outputs[0], self.value(op.inputs[0]))
        elif kind in dynamic.PRODUCERS:
            if self.extent is None:
                raise dynamic.refuse("a value-dependent shape inside tf.cond or tf.while_loop", op)
            if any(dynamic.is_dynamic(self, self.value(t)) for t in op.inputs):  # its padding would count
                raise dynamic.refuse(f"'{kind}' of such a value", op)
            dynamic.PRODUCERS[kind](self, op)
        elif kind == "Print" and any(dynamic.is_dynamic(self, self.value(t)) for t in op.inputs[1:]):
            raise dynamic.refuse("tf.Print of such a value", op)
        elif kind == "Print" and any(self.value(t) in self.unbounded for t in op.inputs):
            raise run_dims.refuse("tf.Print of such a value", op)
        elif kind == "Print":  # the identity; its data become extra results (frontend/logging_ops.py)
            self.env.setdefault(op.outputs[0], self.value(op.inputs[0]))
            self.prints.append(op)
        elif kind == "Assign":
            self.write(op.inputs[0].op, self.value(op.inputs[1]), op)
        elif kind in _UPDATES:
            var = op.inputs[0].op
            new = self.build(_UPDATES[kind], [self.read(var), self.value(op.inputs[1])], {}, op)
            self.write(var, new.result, op)
        elif kind in ("NoOp", _VARIABLE, LOOP_VAR) or kind in HOST_OPS:
            return
        elif kind in IF_TYPES + WHILE_TYPES:
            from lowerflow.frontend.control_lowering import lower_control  # it builds on this module

            if any(dynamic.is_dynamic(self, self.value(t)) for t in op.inputs if t.op.type != _VARIABLE):
                raise dynamic.refuse("tf.cond or tf.while_loop over such a value", op)
            if any(self.value(t) in self.unbounded for t in op.inputs if t.op.type != _VARIABLE):
                raise run_dims.refuse("tf.cond or tf.while_loop over such a value", op)
            lower_control(self, op)
        else:
            ir_name = ir.TF_TO_IR.get(kind)
            if ir_name is None:
                raise NotImplementedError(f"no IR lowering for TF op type '{kind}' (node {op.name})")
            try:
                operands, attrs = resolve(op, self.value)
            except RunValueError as e:
                if kind == "Reshape" and self.extent:
                    return dynamic.lower_run_reshape(self, op, e)
                if kind in run_dims.TYPES and self.extent is not None:
                    return run_dims.lower(self, op)
                if kind not in ("StridedSlice", "Slice") or self.extent is None:
                    raise
                return dynamic.lower_fed_slice(self, op)
            opdef = ir.get_op(ir_name)
            if opdef.has(RUN_COUNTER):
                operands.insert(0, self.run_counter(op))
            if opdef.expand is not None:  # defined by other ops at this signature's shapes
                results = opdef.expand(lambda name, args, attrs: self.build(name, args, attrs, op).results,
                                       operands, attrs)
                if self.extent:
                    dynamic.mark_like(self, ir_name, operands, results)
            else:
                results = self.build(ir_name, operands, attrs, op).results
            for t, v in zip(op.outputs, results):
                self.env.setdefault(t, v)

    def build(self, ir_name: str, operands, attrs, op: Operation) -> ir.Operation:
        if self.unbounded and any(v in self.unbounded for v in operands):
            return run_dims.consume(self, ir_name, operands, attrs, op)
        if self.extent and any(v in self.extent for v in operands):
            return dynamic.consume(self, ir_name, operands, attrs, op)
        return self.build_static(ir_name, operands, attrs, op)

    def build_static(self, ir_name: str, operands, attrs, op: Operation) -> ir.Operation:
        """`build` with no run-time extents to take care of."""
        try:
            return ir.build(self.block, ir_name, operands, attrs, location=op.name)
        except ValueError as e:
            message = run_time_message(ir_name, [v.type.shape for v in operands], e)
            raise RunShapeError(f"{message} [[node {op.name} (op: {op.type})]]") from None

    def fetch(self, t: Tensor) -> ir.Value:
        """Fetching a variable's reference gives its value at the end of the step."""
        return self.read(t.op) if t.op.type == _VARIABLE and t not in self.env else self.value(t)


def _dims(shape) -> str:
    return "[" + ",".join(map(str, shape)) + "]"


def run_time_message(ir_name: str, shapes: list[tuple], error: ValueError) -> str:
    """A shape error found with the run's shapes, in the words of TF's kernels (not of its
    build-time shape functions): "Incompatible shapes: [2] vs. [3]"."""
    if ir_name == "lf.matmul" and all(len(s) >= 2 for s in shapes):
        a, b = shapes
        if "Dimensions must be equal" in str(error) and a[:-2] != b[:-2] and len(a) + len(b) > 4:
            return f"In[0] and In[1] must have compatible batch dimensions: {_dims(a)} vs. {_dims(b)}"
        return f"Matrix size-incompatible: In[0]: {_dims(a)}, In[1]: {_dims(b)}"
    if ir.get_op(ir_name).has(ELEMENTWISE) and "Dimensions must be equal" in str(error):
        return "Incompatible shapes: " + " vs. ".join(map(_dims, shapes))
    return str(error)


def lower(fetches: list[Tensor], targets: list[Operation], feeds: dict[Tensor, ir.TensorType]) -> Step:
    """Lower the slice that `fetches` and `targets` need, with `feeds` as arguments."""
    lw = _Lowerer(feeds)
    for op in needed_ops(fetches, targets, set(feeds)):
        if op._branch is not None:
            raise ValueError(f"'{op.name}' is inside a tf.cond branch or tf.while_loop body: its values "
                             "exist only there and cannot be fetched or run on their own")
        lw.lower_op(op)
    native = [t for t in fetches if t.op.type not in HOST_OPS]
    printed = [t for op in lw.prints for t in op.inputs[1:]]
    fetched = [lw.fetch(t) for t in native]
    counts, extents = dynamic.fetch_counts(lw, fetched)
    prelude = run_dims.finish(lw, feeds)
    results = fetched + [lw.state[v] for v in lw.writes] + [lw.value(t) for t in printed] + counts
    hidden = run_dims.hidden(lw, results)  # run-time-sized temporaries: slots the runtime allocates
    lw.func.set_return(results + hidden, [t.name for t in native] + [v.name for v in lw.writes]
                       + [t.name for t in printed] + [f"{native[i].name}/extent" for i, _ in extents]
                       + [f"run_dims/temporary{j}" for j in range(len(hidden))])
    if prelude is not None:
        prelude.hidden = len(hidden)
    return Step(lw.func, list(feeds), lw.reads, native, lw.writes,
                [t for t in fetches if t.op.type in HOST_OPS], lw.prints, extents, prelude)
