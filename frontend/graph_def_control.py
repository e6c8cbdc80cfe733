"""Control flow in an imported GraphDef: TF 2's functional `If`/`StatelessIf` and
`While`/`StatelessWhile` nodes, whose branches are FunctionDefs of the GraphDef's library
(what `tf.compat.v1` builds with control flow v2, TF 2's default), become our `tf.cond` and
`tf.while_loop` (cf. TF's `import_graph_def` with function libraries).

A branch function is imported into the branch being traced: its input args are bound to the
tensors the branch receives, its nodes are imported as any node (under the control node's
name and the function's), and its `ret` map gives the branch's outputs. Inside a function an
input names a node's output by argument, `node:arg:index`; the index counts within that
output argument, which is the op's output index for every op with one output argument
(the ops such branches hold). A While carries all its inputs as loop variables, TF's loop
counter and iteration limit included, as TF's cond and body functions take and return them.
The control node's outputs are the tensors `cond`/`while_loop` return (`node:i`).
v1 control flow (Switch/Merge/Enter/Exit/NextIteration) is graph_def_v1.py's.
"""
from __future__ import annotations

from lowerflow.frontend.control_flow import cond, while_loop
from lowerflow.frontend.graph import Tensor


class ImportedOutputs:
    """What a control node imports as: its outputs (the graph has no one op for them)."""

    def __init__(self, outputs: list[Tensor]):
        self.outputs = outputs

    @property
    def op(self):
        return self.outputs[0].op if self.outputs else None


def _plain_input(name: str) -> str:
    """A function body's input `node:arg:index` as a graph input `node:index`."""
    if name.startswith("^"):
        return name
    parts = name.split(":")
    return f"{parts[0]}:{parts[2]}" if len(parts) == 3 else name


def _call(importer, function_name: str, args: list[Tensor], scope: str) -> list[Tensor]:
    """The outputs of the library function `function_name` imported with `args` bound."""
    library = importer.library
    fdef = library[function_name]
    inner = type(importer)(importer.graph, scope, {f"{a.name}:0": t for a, t in zip(fdef.signature.input_arg, args)})
    inner.library, inner.in_function = library, True
    from lowerflow.frontend.graph_def import _topological  # the importer's own module

    nodes = []
    for node in fdef.node_def:
        copy = type(node)()
        copy.CopyFrom(node)
        copy.input[:] = [_plain_input(i) for i in node.input]
        nodes.append(copy)
    for node in _topological(nodes):
        inner.add(node)
    return [inner.tensor(_plain_input(fdef.ret[a.name])) for a in fdef.signature.output_arg]


def _functions(importer, node, keys: tuple) -> list[str]:
    names = [node.attr[k].func.name for k in keys]
    missing = [n for n in names if n not in importer.library]
    if missing:
        raise NotImplementedError(
            f"lowerflow cannot import op type '{node.op}' (node '{node.name}'): control flow whose branch "
            f"functions {missing} are not in the GraphDef's library (lowerflow's own exports name their "
            "branches' ops instead of writing FunctionDefs)")
    return names


def import_if(importer, node, inputs: list[Tensor], name: str) -> ImportedOutputs:
    pred, args = inputs[0], inputs[1:]
    branches = _functions(importer, node, ("then_branch", "else_branch"))
    outs = cond(pred, lambda: _call(importer, branches[0], args, f"{name}/then"),
                lambda: _call(importer, branches[1], args, f"{name}/else"), name=node.name.split("/")[-1])
    return ImportedOutputs(list(outs) if isinstance(outs, (list, tuple)) else [outs])


def import_while(importer, node, inputs: list[Tensor], name: str) -> ImportedOutputs:
    cond_fn, body_fn = _functions(importer, node, ("cond", "body"))

    def test(*vs):
        return _call(importer, cond_fn, list(vs), f"{name}/cond")[0]

    def body(*vs):
        return _call(importer, body_fn, list(vs), f"{name}/body")

    outs = while_loop(test, body, list(inputs), name=node.name.split("/")[-1], return_same_structure=True)
    return ImportedOutputs(list(outs))
