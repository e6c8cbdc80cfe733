"""Ahead-of-time compilation of a GraphDef, tfcompile's input: a frozen graph, its feeds and
fetches by tensor name, each feed's shape given or its placeholder's static one, dtypes
the graph's own.

The GraphDef is imported into a fresh Graph and the slice is compiled as `compile_graph`
compiles one built in Python, so a frozen TF model and the same model built here give the
same code. Variables have no values in a GraphDef: a graph that still reads one is an error
that says to freeze it (`tf.graph_util.convert_variables_to_constants`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from lowerflow import ir
from lowerflow.backend.aot_abi import check_entry_name
from lowerflow.frontend import protos
from lowerflow.frontend.graph import Graph, Tensor
from lowerflow.frontend.graph_def import import_graph_def, read_graph_def
from lowerflow.frontend.lowering import needed_ops
from lowerflow.runtime.aot import Artifacts, compile_ir, graph_function

_VARIABLE_TYPES = frozenset({"VariableV2", "Variable", "VarHandleOp"})

#: feeds: tensor names in argument order, or a mapping from each to the shape to compile it
#: at (None: the placeholder's static shape).
Feeds = Mapping[str, "Sequence[int] | None"] | Sequence[str]


def _as_graph_def(graph_def) -> "protos.GraphDef":
    """A GraphDef proto (ours or TF's), its serialised bytes, or a file path."""
    if isinstance(graph_def, (str, os.PathLike)):
        return read_graph_def(graph_def)
    if isinstance(graph_def, (bytes, bytearray)):
        return protos.GraphDef.FromString(bytes(graph_def))
    return graph_def


def _feed_shapes(feeds: Feeds) -> dict[str, tuple[int, ...] | None]:
    if isinstance(feeds, str):
        raise TypeError("feeds must be a list of tensor names or a dict of name to shape, got a string")
    if isinstance(feeds, Mapping):
        return {k: (None if v is None else tuple(v)) for k, v in feeds.items()}
    names = list(feeds)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"feed(s) given more than once: {', '.join(repeated)}")
    return dict.fromkeys(names)


def _check_frozen(fetches: list[Tensor], feeds: list[Tensor]) -> None:
    """ValueError naming the variables the slice from `feeds` to `fetches` reads."""
    variables = sorted(op.name for op in needed_ops(fetches, [], set(feeds)) if op.type in _VARIABLE_TYPES)
    if variables:
        raise ValueError(f"the graph reads variable(s) {', '.join(variables)}, which have no values in "
                         "a GraphDef: freeze it first (tf.graph_util.convert_variables_to_constants)")


def graph_def_function(graph_def, feeds: Feeds, fetches: Sequence[str]) -> ir.Function:
    """The IR function of a frozen GraphDef's slice from `feeds` to `fetches` (tensor names,
    "node:index"); names and shapes are checked as `Session.run` checks them (KeyError /
    ValueError with TF's wording)."""
    if isinstance(fetches, str):
        fetches = [fetches]
    shapes = _feed_shapes(feeds)
    graph = Graph()
    with graph.as_default():
        import_graph_def(_as_graph_def(graph_def), name="")
    feed_tensors = [graph.as_graph_element(n, allow_operation=False) for n in shapes]
    fetch_tensors = [graph.as_graph_element(n, allow_operation=False) for n in fetches]
    _check_frozen(fetch_tensors, feed_tensors)
    for t, shape in zip(feed_tensors, shapes.values()):
        if shape is None and not t.shape.is_fully_defined():
            raise ValueError(f"feed '{t.name}' has shape {t.shape} in the graph: give the shape to compile it at "
                             f"(--feed {t.name}=DIMxDIM..., or feeds={{'{t.name}': shape}})")
    concrete = {t: s for t, s in zip(feed_tensors, shapes.values()) if s is not None}
    return graph_function(fetch_tensors, feed_tensors, shapes=concrete)


def compile_graph_def(graph_def, feeds: Feeds, fetches: Sequence[str], *, name: str,
                      out_dir: str | os.PathLike, target_cpu: str = "host", shared: bool = False) -> Artifacts:
    """tfcompile's use: compile a frozen GraphDef (a proto, its bytes, or a `.pb` / `.pbtxt`
    file) from `feeds` to `fetches` into `NAME.o`, `NAME.h`, `NAME.json` (and `libNAME.so`)."""
    check_entry_name(name)
    return compile_ir(graph_def_function(graph_def, feeds, fetches), name=name, out_dir=out_dir,
                      target_cpu=target_cpu, shared=shared)
