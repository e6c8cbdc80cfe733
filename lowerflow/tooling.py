"""Compiler-facing entry points: the IR of a graph slice (`lowerflow.to_ir`), its picture
(`draw_graph`: fusion groups as clusters, kernels coloured by kind; docs/pictures.md), and the
`lowerflow-opt` command with its LLVM IR / assembly translations (`--emit`; they live here,
since the passes layer that holds the command line may not import the backend)."""
from __future__ import annotations

from lowerflow import ir
from lowerflow.backend import build_llvm_module, emit_assembly, jit
from lowerflow.frontend.graph import Graph, Operation, Tensor, get_default_graph
from lowerflow.frontend.lowering import lower
from lowerflow.frontend.op_builder import ir_type
from lowerflow.passes import opt_main as _opt
from lowerflow.runtime.pictures import KIND_COLOURS, draw_graph, function_dot, kernel_kind, picture_function

__all__ = ["KIND_COLOURS", "draw_graph", "function_dot", "kernel_kind", "picture_function", "to_ir",
           "opt_main", "TRANSLATIONS"]


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


def emit_llvm(func: ir.Function) -> str:
    """`func`'s step as optimised LLVM IR for this CPU (`lowerflow-opt --emit=llvm`)."""
    tm = jit.aot_target_machine()
    return str(jit.optimise(build_llvm_module(func, func.name), tm))


def emit_asm(func: ir.Function) -> str:
    """`func`'s step as assembly for this CPU (`lowerflow-opt --emit=asm`)."""
    return emit_assembly(build_llvm_module(func, func.name))


TRANSLATIONS: _opt.Translations = {"llvm": emit_llvm, "asm": emit_asm}


def opt_main(argv: list[str] | None = None) -> int:
    """`lowerflow-opt`: the passes layer's command line with the backend's --emit targets."""
    return _opt.main(argv, TRANSLATIONS)
