"""Compiler-facing entry points: the IR of a graph slice (`lowerflow.to_ir`) and its picture
(`draw_graph`: fusion groups as clusters, kernels coloured by kind; docs/pictures.md)."""
from __future__ import annotations

from lowerflow import ir
from lowerflow.frontend.graph import Graph, Operation, Tensor, get_default_graph
from lowerflow.frontend.lowering import lower
from lowerflow.frontend.op_builder import ir_type
from lowerflow.runtime.pictures import KIND_COLOURS, draw_graph, function_dot, kernel_kind, picture_function

__all__ = ["KIND_COLOURS", "draw_graph", "function_dot", "kernel_kind", "picture_function", "to_ir"]


def to_ir(fetches, feeds=(), graph: Graph | None = None) -> ir.Module:
    """The IR module of the slice `fetches` need; `feeds` become arguments with their static types."""
    graph = graph or get_default_graph()
    fetches = fetches if isinstance(fetches, (list, tuple)) else [fetches]
    elements = [graph.as_graph_element(f) for f in fetches]
    feed_tensors = [graph.as_graph_element(f, allow_operation=False) for f in feeds]
    step = lower([e for e in elements if isinstance(e, Tensor)],
                 [e for e in elements if isinstance(e, Operation)],
                 {t: ir_type(t) for t in feed_tensors})
    return ir.Module([step.func])
