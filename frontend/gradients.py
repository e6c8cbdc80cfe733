"""tf.gradients: symbolic reverse mode over the graph (cf. TF's gradients_util.py).

The rules are not here: each op's rule is declared beside its definition (`OpDef.grad`
in `lowerflow/ir/ops/*.py`), written in IR op names through an `Emitter`. This module walks
the graph backwards from `ys` over the ops that lie between `xs` and `ys`, and gives each
rule a `GraphEmitter`, which builds the rule's ops as ordinary graph ops (under
`gradients/<op>_grad/`), so the result is Tensors the user can transform further, and the
backward graph is lowered, optimised and fused like the forward one.

What TF1 does, kept: several `ys` sum; `grad_ys` seeds them (default ones); gradients of
one tensor from several consumers are added (`AddN`); `StopGradient` ops and
`stop_gradients` cut the walk; only floating tensors carry gradients, so integer and
boolean paths give none; an `x` the walk never reaches gives None, or zeros with
`unconnected_gradients="zero"`; a differentiable op without a rule raises `LookupError`
naming its type. Users add rules with `RegisterGradient` and swap them per op type with
`Graph.gradient_override_map`.
"""
from __future__ import annotations

from typing import Callable

import networkx as nx
import numpy as np

from lowerflow import ir
from lowerflow.frontend.control_flow import IF_TYPES, WHILE_TYPES
from lowerflow.frontend.core_ops import constant, convert_to_tensor
from lowerflow.frontend.graph import Graph, Operation, Tensor
from lowerflow.frontend.math_ops import add_n
from lowerflow.frontend.op_builder import apply_op
from lowerflow.frontend.shape_values import dense_inputs
from lowerflow.ir.opdef import GradOp

#: Op types whose inputs never get a gradient (TF's NotDifferentiable registrations).
NO_GRADIENT = frozenset({"StopGradient", "PreventGradient", "Assign", "AssignAdd", "AssignSub"})

_USER_RULES: dict[str, Callable | None] = {}


class RegisterGradient:
    """`@tf.RegisterGradient("Name")`: `fn(op, *grads)` becomes the gradient of op type (or
    override name) "Name"; it returns one gradient per input (a single one for one input)."""

    def __init__(self, op_type: str):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn: Callable) -> Callable:
        if self._op_type in _USER_RULES:
            raise KeyError(f"Registering two gradient with name '{self._op_type}'! "
                           f"(Previous registration was in {_USER_RULES[self._op_type]!r})")
        _USER_RULES[self._op_type] = fn
        return fn


def no_gradient(op_type: str) -> None:
    """`tf.no_gradient` / `tf.NotDifferentiable`: op type `op_type` gives its inputs no gradient."""
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    _USER_RULES[op_type] = None


class GraphEmitter:
    """Builds a rule's ops as graph ops: an IR op name becomes its (first) TF op type."""

    def __init__(self, graph: Graph):
        self.graph = graph

    def __call__(self, name: str, *operands, **attrs):
        op = apply_op(ir.get_op(name).tf_names[0], list(operands), attrs, graph=self.graph)
        return op.outputs[0] if len(op.outputs) == 1 else tuple(op.outputs)

    def const(self, value: float, like: Tensor) -> Tensor:
        return constant(np.array(value, like.dtype.as_numpy_dtype))

    def dtype(self, value: Tensor) -> ir.ElemType:
        return value.dtype.ir

    def shape(self, value: Tensor) -> tuple | None:
        return value.shape.as_tuple()


def _as_list(values) -> list:
    return list(values) if isinstance(values, (list, tuple)) else [values]


def _as_x(x) -> Tensor:
    """A Variable's gradient is taken at its reference, so every read of it contributes."""
    if hasattr(x, "_as_graph_element"):
        x = x._as_graph_element()
    if not isinstance(x, Tensor):
        raise TypeError(f"Expected a Tensor or Variable in xs, got {type(x).__name__}: {x!r}")
    return x


def _carries_gradient(t: Tensor) -> bool:
    return t.dtype.is_floating


def _rule(op: Operation) -> Callable:
    """(emitter, op, output grads) -> input grads, or raise TF's LookupError."""
    override = getattr(op, "_gradient_type", None)
    key = override or op.type
    if key in _USER_RULES:
        fn = _USER_RULES[key]
        if fn is None:
            return lambda e, gop, grads: [None] * len(gop.inputs)
        return lambda e, gop, grads: _as_list(fn(op, *grads))
    if op.type in IF_TYPES + WHILE_TYPES:
        from lowerflow.frontend import control_grad  # it builds on tf.gradients

        rule = control_grad.cond_grad if op.type in IF_TYPES else control_grad.while_grad
        return lambda e, gop, grads: rule(op, grads)
    ir_name = None if override else ir.TF_TO_IR.get(op.type)
    rule = ir.get_op(ir_name).grad if ir_name else None
    if rule is None:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {key}). In general "
                          "every operation must have an associated `@tf.RegisterGradient` for correct "
                          "autodiff, which this op is lacking.")
    return rule


def _between(ys: list[Tensor], xs: list[Tensor], stops: set) -> nx.DiGraph:
    """The data edges among the ops that depend on some x and that some y depends on; a
    stop op keeps no edges from its inputs."""
    dataflow = nx.DiGraph()
    dataflow.add_nodes_from(ys[0].graph.get_operations())
    dataflow.add_edges_from((t.op, op) for op in dataflow if op not in stops for t in op.inputs)
    forward = set().union(*(nx.descendants(dataflow, x.op) | {x.op} for x in xs))
    backward = set().union(*(nx.ancestors(dataflow, y.op) | {y.op} for y in ys))
    return dataflow.subgraph(forward & backward)


def _aggregate(grads: dict, t: Tensor) -> Tensor | None:
    parts = grads.get(t)
    if not parts:
        return None
    if len(parts) > 1:
        grads[t] = parts = [add_n(parts)]
    return parts[0]


def _seed(i: int, y: Tensor, grad_y) -> Tensor:
    if grad_y is None:
        return apply_op("OnesLike", [y], {"value": 1}, name=f"grad_ys_{i}").outputs[0]
    grad_y = convert_to_tensor(grad_y, name=f"grad_ys_{i}")
    if grad_y.dtype is not y.dtype:
        raise TypeError(f"Gradient type {grad_y.dtype.name} generated for real or integer tensor "
                        f"{y.name} with type {y.dtype.name} must match the type of y.")
    return grad_y


def gradients(ys, xs, grad_ys=None, name: str = "gradients", colocate_gradients_with_ops: bool = False,
              gate_gradients: bool = False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients: str = "none") -> list:
    """The symbolic partial derivatives of sum(ys) with respect to each of `xs` (TF1's API)."""
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [_as_x(x) for x in _as_list(xs)]
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    unconnected = getattr(unconnected_gradients, "value", unconnected_gradients)
    if unconnected not in ("none", "zero"):
        raise ValueError(f"Unknown value for unconnected_gradients: '{unconnected_gradients}'")
    graph = ys[0].graph
    stops = {op for op in graph.get_operations() if op.type in NO_GRADIENT}
    stops |= {_as_x(s).op for s in _as_list(stop_gradients or [])}
    with graph.name_scope(name):
        grads: dict[Tensor, list[Tensor]] = {}
        for i, (y, gy) in enumerate(zip(ys, grad_ys)):
            grads.setdefault(y, []).append(_seed(i, y, gy))
        _backprop(graph, ys, xs, stops, grads)
        results = [_aggregate(grads, x) for x in xs]
        for g, x in zip(results, xs):  # as TF1: a gradient has its input's static shape (where known)
            if isinstance(g, Tensor) and isinstance(x, Tensor):
                g.set_shape(x.shape)
        if unconnected == "zero":
            e = GraphEmitter(graph)
            results = [e("lf.fill_like", x, value=0) if g is None else g for g, x in zip(results, xs)]
    return results


def _backprop(graph: Graph, ys: list[Tensor], xs: list[Tensor], stops: set, grads: dict) -> None:
    """Visit the ops between xs and ys consumers-first (latest created first among the ready
    ones, so the gradient graph is deterministic), handing each rule its output grads."""
    between = _between(ys, xs, stops)
    xset = set(xs)
    e = GraphEmitter(graph)
    for op in nx.lexicographical_topological_sort(between.reverse(copy=False), key=lambda op: -op._id):
        if op not in stops and any(t.op in between or t in xset for t in op.inputs):
            _apply_rule(e, graph, op, grads)


def _apply_rule(e: GraphEmitter, graph: Graph, op: Operation, grads: dict) -> None:
    out_grads = [_aggregate(grads, t) for t in op.outputs]
    if all(g is None for g in out_grads):
        return
    rule = _rule(op)
    with graph.name_scope(op.name + "_grad"):
        if len(out_grads) > 1:
            out_grads = [e("lf.fill_like", t, value=0) if g is None and _carries_gradient(t) else g
                         for g, t in zip(out_grads, op.outputs)]
        inputs = dense_inputs(op)  # a shape-like tensor input gets no gradient
        in_grads = list(rule(e, GradOp(inputs, op.outputs, op._attrs), out_grads))
        if len(in_grads) == len(inputs):  # (a While's rule may add inputs: its stacks)
            in_grads += [None] * (len(op.inputs) - len(inputs))
    if len(in_grads) != len(op.inputs):
        raise ValueError(f"Num gradients {len(in_grads)} generated for op {op.name} do not match "
                         f"num inputs {len(op.inputs)}")
    for t, g in zip(op.inputs, in_grads):
        if g is not None and _carries_gradient(t):
            grads.setdefault(t, []).append(convert_to_tensor(g))
