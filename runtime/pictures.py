"""Pictures of what a graph compiles to: the IR function after the pass pipeline, drawn with
Graphviz, each fusion group a cluster and every kernel coloured by its kind.

A graph (or GraphDef) is lowered as `Session.run` lowers a step: fetches (by default every
op nothing consumes, initialisers aside), feeds at concrete shapes (an unknown dimension is
drawn at 1), then the default pipeline, so the clusters are the kernels a run executes. An IR
function is drawn as given, or after the pipeline (`optimize`). The DOT text is built with the
`graphviz` package (the `viz` extra); rendering it (SVG, PNG, PDF) needs Graphviz's `dot`.
cf. TF's TensorBoard graph view, which shows TF ops but not kernels.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from lowerflow import ir
from lowerflow.frontend.graph import Graph, Operation, Tensor
from lowerflow.frontend.graph_def import import_graph_def, read_graph_def
from lowerflow.frontend.lowering import lower, needed_ops
from lowerflow.ir.opdef import ELEMENTWISE, OPS
from lowerflow.passes import DEFAULT_PIPELINE, PassManager
from lowerflow.passes.clone import clone_function

GRAPH_DEF_SUFFIXES = (".pb", ".pbtxt")
DOT_SUFFIXES = (".dot", ".gv")

#: kernel kind -> fill colour (a cluster is filled with its kind's colour, its ops with theirs).
KIND_COLOURS = {
    "elementwise": "#cfe2f3", "reduction": "#fce5cd", "matmul": "#f4cccc", "row": "#d9d2e9",
    "shape/array": "#d9ead3", "random": "#fff2cc", "constant": "#eeeeee", "control": "#e6e6e6",
    "other": "#ffffff",
}
_REGION_KINDS = {"lf.fusion": "elementwise", "lf.reduce_fusion": "reduction", "lf.matmul_fusion": "matmul",
                 "lf.conv2d_fusion": "matmul", "lf.row_fusion": "row"}
# An op's kind is that of the ir/ops module (family) declaring it.
_FAMILY_KINDS = {"elementwise": "elementwise", "reduction": "reduction", "linalg": "matmul", "conv": "matmul",
                 "shape": "shape/array", "array": "shape/array", "like": "shape/array", "random": "random",
                 "control": "control", "pool": "reduction",
                 "dynamic": "shape/array"}  # pooling: windowed reductions


def kernel_kind(op_name: str) -> str:
    """"elementwise", "reduction", "matmul", "row", "shape/array", "random", "constant",
    "control" (`lf.if`, `lf.while`) or "other"."""
    if op_name in _REGION_KINDS:
        return _REGION_KINDS[op_name]
    if op_name == "lf.constant":
        return "constant"
    opdef = OPS.get(op_name)
    if opdef is None:
        return "other"
    if opdef.has(ELEMENTWISE):
        return "elementwise"
    return _FAMILY_KINDS.get(opdef.infer.__module__.rsplit(".", 1)[-1], "other")


# ---- what to draw ----------------------------------------------------------------------------

def picture_function(source, *, fetches: Sequence | None = None, feeds: Mapping | None = None,
                     optimize: bool = True) -> ir.Function:
    """The IR function `draw_graph` draws; `source` is a Graph, a GraphDef (proto or bytes),
    an `ir.Function` or `ir.Module`, or a file (`.pb`/`.pbtxt` GraphDef, else IR text)."""
    if isinstance(source, (str, os.PathLike)):
        source = _read(Path(source))
    if isinstance(source, ir.Module):
        source = source.step_function()
    if isinstance(source, ir.Function):
        if fetches is not None or feeds is not None:
            raise ValueError("fetches and feeds select a slice of a graph; an IR function is drawn whole")
        func = clone_function(source)
    else:
        func = _graph_step(_as_graph(source), fetches, feeds or {})
    if optimize:
        func = PassManager(DEFAULT_PIPELINE).run(ir.Module([func])).functions[0]
    return func


def _read(path: Path):
    if path.suffix in GRAPH_DEF_SUFFIXES:
        return read_graph_def(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise OSError(f"cannot read '{path}': {getattr(e, 'strerror', None) or e}") from None
    return ir.parse_module(text)


def _as_graph(source) -> Graph:
    if isinstance(source, Graph):
        return source
    if not (isinstance(source, (bytes, bytearray)) or hasattr(source, "node")):
        raise TypeError(f"cannot draw {type(source).__name__}: expected a Graph, GraphDef, ir.Function, "
                        "ir.Module or a file path")
    graph = Graph()
    with graph.as_default():
        import_graph_def(source, name="")
    return graph


def _initializers(graph: Graph) -> set[Operation]:
    """Variable initialisers and the ops that only group them (`global_variables_initializer`)."""
    ops = {v.initializer for key in ("variables", "local_variables") for v in graph.get_collection(key)}
    for op in graph.get_operations():  # creation order: a group comes after what it groups
        if op.type == "NoOp" and op.control_inputs and set(op.control_inputs) <= ops:
            ops.add(op)
    return ops


def _default_fetches(graph: Graph) -> list:
    """The outputs of every op nothing consumes (the op itself when it has none)."""
    used = {t.op for op in graph.get_operations() for t in op.inputs}
    used |= {c for op in graph.get_operations() for c in op.control_inputs}
    skip = used | _initializers(graph)
    sinks = [op for op in graph.get_operations() if op not in skip]
    return [x for op in sinks for x in (op.outputs or [op]) if not isinstance(x, Tensor) or x.dtype.ir is not None]


def _slice_placeholders(fetches: list[Tensor], targets: list[Operation], fed: set) -> list[Tensor]:
    ops = needed_ops(fetches, targets, fed)
    return sorted((op.outputs[0] for op in ops if op.type in ("Placeholder", "PlaceholderV2")), key=lambda t: t.name)


def _graph_step(graph: Graph, fetches: Sequence | None, feeds: Mapping) -> ir.Function:
    elements = [graph.as_graph_element(f) for f in fetches] if fetches is not None else _default_fetches(graph)
    if not elements:
        raise ValueError("the graph has nothing to draw")
    shapes = {graph.as_graph_element(k, allow_operation=False): v for k, v in feeds.items()}
    fetch_tensors = [e for e in elements if isinstance(e, Tensor)]
    targets = [e for e in elements if isinstance(e, Operation)]
    feed_types = {}
    for t in dict.fromkeys([*shapes, *_slice_placeholders(fetch_tensors, targets, set(shapes))]):
        shape = shapes.get(t)
        if shape is None:
            if t.shape.ndims is None:
                raise ValueError(f"feed '{t.name}' has unknown rank: give its shape to draw the graph")
            shape = [1 if d is None else d for d in t.shape.as_list()]
        elif not t.shape.is_compatible_with(list(shape)):
            raise ValueError(f"Cannot feed value of shape {tuple(shape)!r} for Tensor {t.name!r}, "
                             f"which has shape {str(t.shape)!r}")
        feed_types[t] = ir.TensorType(tuple(int(d) for d in shape), t.dtype.ir)
    return lower(fetch_tensors, targets, feed_types).func


# ---- drawing ----------------------------------------------------------------------------------

def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError("drawing graphs needs the graphviz package: pip install 'lowerflow[viz]'") from None
    return graphviz


def _type_text(t) -> str:
    if isinstance(t, ir.TensorType):
        return "x".join("?" if d is None else str(d) for d in t.shape) + (" " if t.shape else "") + t.dtype.name
    return str(t)


def _label(op: ir.Operation) -> str:
    """The op's name, the TF op it comes from (last two scopes: the tooltip has the whole name)
    unless that is the same word, its result types."""
    short = op.name.removeprefix("lf.")
    lines = [short]
    if op.location and op.location.lower().replace("_", "") != short.replace("_", ""):
        lines.append("/".join(op.location.split("/")[-2:]))
    if op.results:
        lines.append(", ".join(_type_text(r.type) for r in op.results))
    return "\n".join(lines)


class _Drawer:
    """Adds a function's ops to a Digraph: `source[value]` is the node that produces it."""

    def __init__(self, dot):
        self.dot, self.source, self.count = dot, {}, 0
        self.edges: list[tuple[str, str]] = []  # added last: after the clusters that hold their nodes

    def node(self, graph, op: ir.Operation) -> None:
        self.count += 1
        name = f"op{self.count}"
        kind = kernel_kind(op.name)
        where = f" from {op.location}" if op.location else ""
        graph.node(name, _label(op), fillcolor=KIND_COLOURS[kind], tooltip=f"{op.name} ({kind}){where}")
        self.edges.extend((producer, name) for producer in dict.fromkeys(self.source[v] for v in op.operands))
        for r in op.results:
            self.source[r] = name

    def cluster(self, op: ir.Operation, index: int) -> None:
        kind = kernel_kind(op.name)
        (block,) = op.regions
        for arg, operand in zip(block.args, op.operands):
            self.source[arg] = self.source[operand]
        with self.dot.subgraph(name=f"cluster_{index}") as c:
            c.attr(label=f"fusion {index}: {op.name.removeprefix('lf.')}", style="filled,rounded",
                   fillcolor=KIND_COLOURS[kind], color="#666666", tooltip=f"{op.name} ({kind})")
            for inner in block.ops:
                if inner.name == "lf.yield":
                    for result, value in zip(op.results, inner.operands):
                        self.source[result] = self.source[value]
                else:
                    self.node(c, inner)


def function_dot(func: ir.Function):
    """A `graphviz.Digraph` of `func`: arguments and results as ellipses, ops as boxes
    coloured by `kernel_kind`, each region op (fusion) a cluster `cluster_N` of its body."""
    dot = _graphviz().Digraph(func.name, graph_attr={"label": f"@{func.name}", "labelloc": "t", "fontname": "Helvetica",
                                                     "fontsize": "12"},
                              node_attr={"shape": "box", "style": "filled,rounded", "fontname": "Helvetica",
                                         "fontsize": "10"},
                              edge_attr={"color": "#555555", "arrowsize": "0.6"})
    drawer = _Drawer(dot)
    for i, (arg, name) in enumerate(zip(func.args, func.arg_names)):
        dot.node(f"arg{i}", f"{name or f'arg{i}'}\n{_type_text(arg.type)}", shape="ellipse", fillcolor="#ffffff")
        drawer.source[arg] = f"arg{i}"
    clusters = 0
    for op in func.ops:
        if op.name == "func.return":
            continue
        if op.name in _REGION_KINDS:
            clusters += 1
            drawer.cluster(op, clusters)
        else:
            drawer.node(dot, op)
    names = func.result_names or [None] * len(func.results)
    for j, (value, name) in enumerate(zip(func.results, names)):
        dot.node(f"result{j}", f"{name or f'result{j}'}\n{_type_text(value.type)}", shape="ellipse",
                 fillcolor="#ffffff", style="filled,bold")
        drawer.edges.append((drawer.source[value], f"result{j}"))
    dot.edges(drawer.edges)
    _legend(dot, [kernel_kind(op.name) for op in func.body.walk() if op.name not in ("func.return", "lf.yield")])
    return dot


def _legend(dot, kinds: list[str]) -> None:
    """One node listing the colours of the kinds drawn, in KIND_COLOURS' order."""
    used = [k for k in KIND_COLOURS if k in kinds]
    if used:
        rows = "".join(f'<TR><TD BGCOLOR="{KIND_COLOURS[k]}">{k}</TD></TR>' for k in used)
        dot.node("legend", f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0">{rows}</TABLE>>', shape="plain",
                 style="")


def draw_graph(source, path: str | os.PathLike | None = None, *, fetches: Sequence | None = None,
               feeds: Mapping | None = None, optimize: bool = True):
    """Draw `source` (see `picture_function`) and return the `graphviz.Digraph`; with `path`,
    also write it: DOT text for `.dot`/`.gv`, else rendered by `dot` in the format the suffix
    names (`.svg`, `.png`, `.pdf`)."""
    dot = function_dot(picture_function(source, fetches=fetches, feeds=feeds, optimize=optimize))
    if path is not None:
        _write(dot, Path(path))
    return dot


def _write(dot, path: Path) -> None:
    if path.suffix in DOT_SUFFIXES:
        data = dot.source.encode()
    else:
        graphviz = _graphviz()
        fmt = path.suffix.removeprefix(".").lower()
        if fmt not in graphviz.FORMATS:
            raise ValueError(f"cannot tell the picture format from '{path}': use .svg, .png, .pdf or .dot")
        try:
            data = dot.pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(f"rendering {path.name} needs Graphviz's 'dot' on PATH (Debian: apt-get install "
                               "graphviz); a .dot file needs no renderer") from None
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
