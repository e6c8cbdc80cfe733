"""GraphDef out (`Graph.as_graph_def`) and in (`tf.import_graph_def`), in TF's own form.

Export writes each op as TF writes it: the attributes that are constant inputs in TF
(a Reshape's shape, a reduction's axes) become `Const` nodes named `<op>/<input>`, and
the type attributes TF requires ("T", "Tidx") are filled from the tensors' dtypes
(`tf_op_specs.py` holds the per-type rows). Import is the reverse: TF's constant inputs
are evaluated when the graph is built (`constant_value`) and folded into our attributes;
the `Const` nodes stay in the graph as they were, and a re-export points at them again.
TF op types built from other ops here (`Softmax`, `BiasAdd`, ...) import as those ops
under the node's name scope, ending in an Identity with the node's name.
cf. TF's framework/importer.py and Graph._as_graph_def.
"""
from __future__ import annotations

import contextlib
import os

import networkx as nx
import numpy as np
from google.protobuf import message, text_format

from lowerflow import ir
from lowerflow.frontend import dtypes, graph_def_conv, protos, tf_values
from lowerflow.frontend.control_flow import IF_TYPES, LOOP_VAR, WHILE_TYPES, Branch
from lowerflow.frontend.graph import Graph, Operation, Tensor, get_default_graph
from lowerflow.frontend.graph_def_control import ImportedOutputs, import_if, import_while
from lowerflow.frontend.graph_def_v1 import V1_CONTROL_FLOW, V1Structure, import_units, unrecognised
from lowerflow.frontend.graph_def_v1_export import expressible, write_v1
from lowerflow.frontend.graph_def_tensor_array import BUILDERS as TENSOR_ARRAYS
from lowerflow.frontend.graph_def_like import (
    EXPORTS as LIKE_EXPORTS, NotExpressible, export_like, imported_like, is_helper,
)
from lowerflow.frontend.op_builder import ir_type
from lowerflow.frontend.summary_ops import SUMMARY_OPS
from lowerflow.frontend.tensor_shape import TensorShape
from lowerflow.ir.ops.random import COUNTER_TYPE, RUN_COUNTER
from lowerflow.frontend.tf_op_specs import SPECS, Const, Spec
from lowerflow.frontend import run_dims, shape_values
from lowerflow.frontend.shape_values import RunValue

PRODUCER = 1882  # the GraphDef version TensorFlow 2.21 writes; import accepts any


# ---- export ---------------------------------------------------------------------------------

def _input_name(t: Tensor) -> str:
    return t.op.name if t.value_index == 0 else t.name


def _dtype(value: np.ndarray) -> dtypes.DType:
    return dtypes.string if value.dtype == object else dtypes.as_dtype(value.dtype)


def _const_node(name: str, value: np.ndarray) -> "protos.NodeDef":
    node = protos.NodeDef(name=name, op="Const")
    node.attr["dtype"].type = tf_values.DT[_dtype(value).name]
    node.attr["value"].CopyFrom(tf_values.attr_value(value, "tensor"))
    return node


def _const_value(op: Operation, slot: Const) -> np.ndarray:
    value = op._attrs.get(slot.attr)
    if slot.kind == "axes" and value is None:  # every axis: TF writes them out
        rank = op.inputs[0].shape.ndims
        if rank is None:
            raise ValueError(f"cannot export '{op.name}': it reduces every axis of an input of unknown rank")
        value = list(range(rank))
    if slot.kind == "scalar":
        return np.array(value, op.outputs[0].dtype.as_numpy_dtype)
    if slot.kind == "string":
        return np.array(value.encode(), object)
    if slot.kind == "bytes":
        return np.array(value, object)
    arr = np.array(value, np.int32)
    return arr.reshape(-1, 2) if slot.kind == "pairs" else arr


def _type_attr(op: Operation, tf_inputs: list, source) -> int:
    if source == "out":
        return tf_values.dtype_enum(op.outputs[0].dtype)
    if isinstance(source, str):
        return tf_values.dtype_enum(source)
    return tf_values.dtype_enum(tf_inputs[source])


def _export_op(op: Operation, taken: set) -> list:
    """The NodeDefs of one op: the op's own, preceded by the Const nodes of its folded inputs
    (or, for the gradient plumbing ops, by the TF ops that compute it: graph_def_like.py)."""
    if op.type in LIKE_EXPORTS:
        try:
            return export_like(op, taken)
        except NotExpressible:
            pass  # under its own type, as below
    spec = SPECS.get(op.type)
    node = protos.NodeDef(name=op.name, op=op.type)
    extra, kinds, real = [], [], list(op.inputs)
    known = getattr(op, "_tf_const_inputs", {})
    for slot in (spec.inputs if spec else ["*inputs"]):
        if isinstance(slot, Const) and isinstance(op._attrs.get(slot.attr), RunValue):
            tensor = op._attrs[slot.attr].tensor  # known per run: TF's input is that tensor
            node.input.append(_input_name(tensor))
            kinds.append(tensor.dtype)
        elif isinstance(slot, Const):
            value = _const_value(op, slot)
            source = known.get(slot.name)
            if source is None:
                name = _fresh(f"{op.name}/{slot.name}", taken)
                extra.append(_const_node(name, value))
                source = name
            node.input.append(source)
            kinds.append(_dtype(value))
        else:
            count = len(real) if slot.startswith("*") else 1
            for t in real[:count]:
                node.input.append(_input_name(t))
                kinds.append(t.dtype)
            real = real[count:]
    node.input.extend("^" + c.name for c in op.control_inputs)
    if spec is None:  # an op of ours only: its attributes as they are
        for key, value in op._attrs.items():
            if isinstance(value, Branch):  # a branch as the names of its ops (not TF's FunctionDefs)
                value = ",".join(o.name for o in value.ops)
            node.attr[key].CopyFrom(tf_values.generic_attr_value(value))
        return extra + [node]
    for tf_name, (ours, kind, default) in spec.attrs.items():
        value = op._attrs.get(ours, default)
        if value is None and kind == "type":  # e.g. a Const's dtype: its output's
            node.attr[tf_name].type = tf_values.DT[op.outputs[0].dtype.name]
            continue
        node.attr[tf_name].CopyFrom(tf_values.attr_value(value, kind))
    for tf_name, source in spec.types.items():
        node.attr[tf_name].type = _type_attr(op, kinds, source)
    for tf_name, value in spec.fixed.items():
        node.attr[tf_name].CopyFrom(tf_values.generic_attr_value(value))
    if any(isinstance(s, str) and s.startswith("*") for s in spec.inputs):
        node.attr["N"].i = len(op.inputs)
    return extra + [node]


def node_attr(op: Operation, name: str):
    """`op.get_attr(name)`: the attribute of `op`'s exported NodeDef, as TF's Python value."""
    attrs = _export_op(op, set())[-1].attr
    if name not in attrs:
        raise ValueError(f"Operation '{op.name}' has no attr named '{name}'.")
    return tf_values.python_attr(attrs[name])


def _fresh(name: str, taken: set) -> str:
    base, n = name, 1
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def as_graph_def(graph: Graph, from_version=None, add_shapes: bool = False) -> "protos.GraphDef":
    """The graph as TF's GraphDef (`Graph.as_graph_def`); control flow as TF's v1
    (graph_def_v1_export.py) when it can be written so."""
    graph_def = protos.GraphDef()
    graph_def.versions.producer = PRODUCER
    ops = graph.get_operations()
    taken = {op.name for op in ops}
    if expressible(ops):
        try:
            graph_def.node.extend(write_v1(ops, _export_op, _fresh, set(taken), add_shapes))
            return graph_def
        except NotExpressible:
            pass  # the If/While ops under their own types, branches as their ops' names
    for op in ops:
        nodes = _export_op(op, taken)
        if add_shapes and op.outputs:
            nodes[-1].attr["_output_shapes"].list.shape.extend(
                tf_values.shape_proto(t.shape.as_tuple()) for t in op.outputs)
        graph_def.node.extend(nodes)
    return graph_def


# ---- import ---------------------------------------------------------------------------------

def _parse_input(name: str) -> tuple[str, int, bool]:
    """("op", index, is_control) of a NodeDef input string."""
    if name.startswith("^"):
        return name[1:], -1, True
    op, _, index = name.partition(":")
    return op, int(index) if index else 0, False


def _topological(nodes) -> list:
    """Nodes ordered so that every input comes first (GraphDefs need not be sorted): the
    depth-first post-order over inputs, in the GraphDef's order, which keeps a sorted
    GraphDef as it is and ignores an edge that closes a cycle."""
    by_name = {n.name: n for n in nodes}
    graph = nx.DiGraph()
    graph.add_nodes_from(by_name)
    graph.add_edges_from((n.name, dep) for n in nodes for dep in (_parse_input(i)[0] for i in n.input)
                         if dep in by_name)
    return [by_name[name] for name in nx.dfs_postorder_nodes(graph)]


class _Importer:
    """Creates one graph op per NodeDef, in dependency order, under `prefix`."""

    def __init__(self, graph: Graph, prefix: str, input_map: dict):
        self.graph, self.prefix = graph, prefix
        self.input_map = {(k if ":" in k or k.startswith("^") else k + ":0"): v for k, v in input_map.items()}
        self.ops: dict[str, Operation] = {}
        self.library: dict = {}  # function name -> FunctionDef (control flow branches)
        self.in_function = False  # importing a branch function: its ops belong to the branch
        self.v1: V1Structure | None = None  # the GraphDef's v1 control flow
        self.parent: _Importer | None = None  # a v1 branch's: names not bound here are the parent's
        self.boundary: set = set()  # a v1 branch's construct nodes: only the outputs bound here exist

    def child(self, bound: dict, boundary: set) -> "_Importer":
        """The importer of a v1 cond branch or loop body, where `bound` (name -> Tensor) gives
        the construct's Switch/Merge outputs the branch reads."""
        inner = _Importer(self.graph, self.prefix, {})
        inner.input_map, inner.parent, inner.boundary = bound, self, boundary
        inner.library, inner.in_function, inner.v1 = self.library, True, self.v1
        return inner

    def tensor(self, name: str) -> Tensor:
        op, index, _ = _parse_input(name)
        key = f"{op}:{index}"
        if key in self.input_map:
            return self.graph.as_graph_element(self.input_map[key], allow_operation=False)
        if op in self.boundary:
            raise unrecognised(self.v1.nodes[op], f"a branch reads '{name}'")
        if op not in self.ops and self.parent is not None:
            return self.parent.tensor(name)
        if op not in self.ops:
            raise ValueError(f"Node '{op}' referenced as an input is not in graph_def")
        outputs = self.ops[op].outputs
        if index >= len(outputs):
            raise ValueError(f"Node '{op}' has no output {index} (it has {len(outputs)})")
        return outputs[index]

    def control(self, name: str) -> Operation | None:
        if name in self.boundary:  # a v1 frame's pivot: no op of ours
            return None
        if name not in self.ops and self.parent is not None:
            return self.parent.control(name)
        if name not in self.ops:
            raise ValueError(f"Node '{name}' referenced as a control input is not in graph_def")
        op = self.ops[name]
        return op.op if isinstance(op, ImportedOutputs) else op

    def add(self, node) -> None:
        if is_helper(node):  # a TF op standing in for part of a gradient plumbing op of ours
            return
        like = imported_like(node)
        data = like[1] if like else [i for i in node.input if not i.startswith("^")]
        controls = [c for c in (self.control(i[1:]) for i in node.input if i.startswith("^")) if c is not None]
        inputs = [self.tensor(i) for i in data]
        name = f"{self.prefix}/{node.name}" if self.prefix else node.name
        outside = contextlib.nullcontext() if self.in_function else self.graph.control_dependencies(None)
        with outside, self.graph.control_dependencies(controls):
            if like:
                op = self._create(like[0], inputs, like[2], name)
            elif graph_def_conv.tf_form(node):
                op = self._composite(node, inputs, name, graph_def_conv.build)
            elif node.op in SPECS:
                op = self._direct(node, SPECS[node.op], inputs, name)
            elif node.op in _RESOURCE:
                op_type, attrs = _RESOURCE[node.op](node)
                op = self._create(op_type, inputs, attrs, name)
            elif node.op in _COMPOSITES:
                op = self._composite(node, inputs, name)
            elif node.op in TENSOR_ARRAYS:
                with self.graph.as_default(), self.graph.name_scope(name + "/"):
                    op = ImportedOutputs(TENSOR_ARRAYS[node.op](node, inputs))
            elif node.op in IF_TYPES:
                op = import_if(self, node, inputs, name)
            elif node.op in WHILE_TYPES:
                op = import_while(self, node, inputs, name)
            elif node.op in V1_CONTROL_FLOW:  # not part of a cond or while frame it recognised
                raise unrecognised(node, "not part of a cond's Switch/Merge or a while loop's frame")
            elif node.op == LOOP_VAR:
                raise _unimplemented(node, "a loop variable of lowerflow's own control flow export, whose branches are "
                                           "its ops' names (a graph with control flow gradients, which v1 "
                                           "control flow cannot express)")
            elif node.op in ir.TF_TO_IR:  # an op of ours with no TF counterpart
                attrs = {k: tf_values.generic_from_attr_value(v) for k, v in node.attr.items()
                         if not k.startswith("_")}
                op = self._create(node.op, inputs, attrs, name)
            else:
                raise _unimplemented(node)
        self.ops[node.name] = op

    def _direct(self, node, spec: Spec, inputs: list, name: str) -> Operation:
        from lowerflow.frontend.array_ops import constant_value

        attrs = dict(spec.ours)
        for tf_name, (ours, kind, default) in spec.attrs.items():
            if tf_name in node.attr:
                attrs[ours] = tf_values.from_attr_value(node.attr[tf_name], kind)
            elif default is not None:
                attrs[ours] = dtypes.as_dtype(default).ir if kind == "type" else default
            else:
                raise ValueError(f"NodeDef '{node.name}' ({node.op}) is missing attr '{tf_name}'")
        if node.op == "GatherV2" and node.attr["batch_dims"].i:
            raise _unimplemented(node, "batch_dims != 0")
        real, folded, k, run = [], {}, 0, False
        for slot in spec.inputs:
            if isinstance(slot, Const):
                t = inputs[k]
                folded[slot.name] = _input_name(t)
                try:
                    attrs[slot.attr] = _fold(constant_value(t, slot.name), slot.kind, attrs)
                except NotImplementedError:
                    if node.op not in run_dims.TYPES or slot.kind not in ("int", "ints", "scalar"):
                        raise
                    attrs[slot.attr], run = _run_value(t, slot.kind), True  # a size set at run time
                k += 1
            else:
                count = len(inputs) - sum(isinstance(s, Const) for s in spec.inputs) if slot.startswith("*") else 1
                real += inputs[k:k + count]
                k += count
        if node.op == "Pad" and folded:
            attrs["constant_values"] = 0
        if run:  # sized by fed values (frontend/run_dims.py)
            if node.op == "Range":
                from lowerflow.frontend.array_ops import _range_standins
                _range_standins(attrs)
            return shape_values.create(node.op, real, attrs, name + "/", graph=self.graph)
        op = self._create(node.op, real, attrs, name)
        op._tf_const_inputs = folded  # re-export points at the same Const nodes
        return op

    def _create(self, op_type: str, inputs: list, attrs: dict, name: str) -> Operation:
        if op_type == "Const":
            value = attrs["value"]
            attrs = {"value": value}
            outputs = [(_dtype(value), TensorShape(value.shape))]
        else:
            outputs = _outputs(op_type, inputs, attrs)
        if op_type in ("Placeholder", "VariableV2") and attrs.get("shape") is not None:
            attrs["shape"] = tuple(attrs["shape"])
        return self.graph.create_op(op_type, inputs, outputs, attrs, name=name + "/")

    def _composite(self, node, inputs: list, name: str, build=None) -> Operation:
        """A TF op type we build from others: its ops under the node's scope, then an
        Identity named as the node (so `name:0` is its output)."""
        with self.graph.as_default(), self.graph.name_scope(name + "/"):
            out = (build or _COMPOSITES[node.op])(node, inputs)
        op = self.graph.create_op("Identity", [out], [(out.dtype, out.shape)], {}, name=name + "/")
        return op


def _outputs(op_type: str, inputs: list, attrs: dict) -> list:
    """(DType, shape) per output of an imported op, by the IR op's `infer` rule; inputs of
    unknown rank are tried as 0..8 unknown dims and give outputs of unknown shape."""
    fixed = {"Placeholder": lambda: [(attrs["dtype"], attrs["shape"])],
             "VariableV2": lambda: [(attrs["dtype"], attrs["shape"])],
             "PlaceholderWithDefault": lambda: [(inputs[0].dtype, attrs["shape"])],
             "IsVariableInitialized": lambda: [(dtypes.bool_, ())], "NoOp": lambda: [],
             **dict.fromkeys(SUMMARY_OPS, lambda: [(dtypes.string, ())])}
    if op_type in fixed:
        return [(dtypes.as_dtype(d), TensorShape(s)) for d, s in fixed[op_type]()]
    if op_type in ("Assign", "AssignAdd", "AssignSub"):
        return [(inputs[0].dtype, inputs[0].shape)]
    if op_type == "Squeeze" and not attrs["squeeze_dims"] and not inputs[0].shape.is_fully_defined():
        return [(inputs[0].dtype, TensorShape(None))]  # which dims go is known at run time (as tf.squeeze)
    opdef = ir.get_op(ir.TF_TO_IR[op_type])
    counter = [COUNTER_TYPE] if opdef.has(RUN_COUNTER) else []
    if all(t.shape.ndims is not None for t in inputs):
        types = opdef.infer(counter + [ir_type(t) for t in inputs], attrs)
        return [(dtypes.as_dtype(t.dtype), TensorShape(t.shape)) for t in types]
    for rank in range(9):
        types = [ir_type(t) if t.shape.ndims is not None else ir.TensorType((None,) * rank, t.dtype.ir)
                 for t in inputs]
        try:
            return [(dtypes.as_dtype(t.dtype), TensorShape(None)) for t in opdef.infer(counter + types, attrs)]
        except (ValueError, TypeError, IndexError):
            continue
    raise ValueError(f"cannot infer the outputs of a {op_type} op from inputs of unknown rank")


def _fold(value: np.ndarray, kind: str, attrs: dict):
    """A TF constant input as our attribute of `kind`."""
    flat = np.asarray(value).reshape(-1)
    if kind in ("ints", "axes"):
        return [int(v) for v in flat]
    if kind == "pairs":
        return [[int(a), int(b)] for a, b in np.asarray(value).reshape(-1, 2)]
    if flat.size != 1:
        raise ValueError(f"expected a scalar, got a constant of shape {list(np.shape(value))}")
    if kind == "string":
        return bytes(flat[0]).decode()
    if kind == "bytes":
        return bytes(flat[0])
    if kind == "int":
        return int(flat[0])
    return flat[0].item()


def _run_value(t, kind: str) -> RunValue:
    """A constant input of TF's that depends on fed values, as a RunValue attribute."""
    if kind != "ints":
        return RunValue(t, 1)
    n = t.shape.as_list()[0] if t.shape.ndims == 1 else None
    if n is None:
        raise NotImplementedError(f"lowerflow needs the length of {t.name} when the graph is built")
    return RunValue(t, [1] * n)


def _unimplemented(node, why: str = "") -> NotImplementedError:
    return NotImplementedError(f"lowerflow cannot import op type '{node.op}' (node '{node.name}')"
                               + (f": {why}" if why else ""))


def _softmax(log: bool):
    def build(node, inputs):
        from lowerflow.frontend import nn_ops

        return (nn_ops.log_softmax if log else nn_ops.softmax)(inputs[0])
    return build


def _nn(fn_name: str, **attr_args):
    def build(node, inputs):
        from lowerflow.frontend import nn_ops

        kwargs = {k: node.attr[tf].f for k, tf in attr_args.items() if tf in node.attr}
        return getattr(nn_ops, fn_name)(inputs[0], **kwargs)
    return build


def _bias_add(node, inputs):
    from lowerflow.frontend import nn_ops

    fmt = node.attr["data_format"].s.decode() if "data_format" in node.attr else None
    return nn_ops.bias_add(inputs[0], inputs[1], data_format=fmt or None)


def _select(node, inputs):
    from lowerflow.frontend import math_ops

    return math_ops.where(*inputs)


def _add_n(node, inputs):
    from lowerflow.frontend import math_ops

    return math_ops.add_n(inputs)


def _snapshot(node, inputs):
    from lowerflow.frontend import core_ops

    return core_ops.identity(inputs[0])


def _print(node, inputs):
    from lowerflow.frontend.logging_ops import Print

    attr = node.attr
    return Print(inputs[0], inputs[1:], attr["message"].s.decode() if "message" in attr else None,
                 attr["first_n"].i if "first_n" in attr else None, attr["summarize"].i if "summarize" in attr else None)


_COMPOSITES = {
    "Softmax": _softmax(False), "LogSoftmax": _softmax(True), "BiasAdd": _bias_add, "Select": _select,
    "AddN": _add_n, "Relu6": _nn("relu6"), "Elu": _nn("elu"), "Softplus": _nn("softplus"),
    "LeakyRelu": _nn("leaky_relu", alpha="alpha"), "Snapshot": _snapshot, "Print": _print,
}


def _var_handle(node):
    return "VariableV2", {"dtype": tf_values.dtype_of_enum(node.attr["dtype"].type).ir,
                          "shape": tf_values.shape_of_proto(node.attr["shape"].shape)}


def _resource_gather(node):
    if node.attr["batch_dims"].i:
        raise _unimplemented(node, "batch_dims != 0")
    return "GatherV2", {"axis": 0}


# TF2's resource variables (what tf.compat.v1 makes unless resource variables are disabled)
# import as the reference variables of ours: a handle is the variable, a read its Identity.
_RESOURCE = {
    "VarHandleOp": _var_handle, "ReadVariableOp": lambda node: ("Identity", {}),
    "AssignVariableOp": lambda node: ("Assign", {"validate_shape": True}),
    "AssignAddVariableOp": lambda node: ("AssignAdd", {"validate_shape": True}),
    "AssignSubVariableOp": lambda node: ("AssignSub", {"validate_shape": True}),
    "VarIsInitializedOp": lambda node: ("IsVariableInitialized", {}), "ResourceGather": _resource_gather,
}


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None):
    """`tf.import_graph_def`: the GraphDef's nodes added to the default graph under `name`
    (default "import"); `input_map` replaces tensors of graph_def by ours; returns the
    elements named in `return_elements` (ops for "name", tensors for "name:i")."""
    if isinstance(graph_def, (bytes, bytearray)):
        graph_def = protos.GraphDef.FromString(bytes(graph_def))
    if not hasattr(graph_def, "node"):
        raise TypeError("graph_def must be a GraphDef proto.")
    if type(graph_def) is not protos.GraphDef:  # e.g. TensorFlow's own class
        graph_def = protos.GraphDef.FromString(graph_def.SerializeToString())
    input_map = dict(input_map or {})
    for key, value in input_map.items():
        if not isinstance(key, str):
            raise TypeError(f"input_map keys must be strings, got {key!r}")
        if not isinstance(value, Tensor):
            raise TypeError(f"input_map values must be Tensors, got {value!r}")
    graph = get_default_graph()
    prefix = graph.unique_name(name if name is not None else "import") if name != "" else ""
    importer = _Importer(graph, prefix, input_map)
    importer.library = {f.signature.name: f for f in graph_def.library.function}
    names = {n.name for n in graph_def.node}
    for key in input_map:
        if _parse_input(key)[0] not in names:
            raise ValueError(f"Attempted to map inputs that were not found in graph_def: [{key}]")
    if any(n.op in V1_CONTROL_FLOW for n in graph_def.node):
        _import_v1(importer, list(graph_def.node))
    else:
        for node in _topological(list(graph_def.node)):
            importer.add(node)
    if return_elements is None:
        return None
    results = []
    for element in return_elements:
        if ":" in element:
            results.append(importer.tensor(element))
        elif element in importer.ops:
            results.append(importer.ops[element])
        else:
            raise ValueError(f"Requested return_element {element!r} not found in graph_def.")
    return results


def _import_v1(importer: _Importer, nodes: list) -> None:
    """A GraphDef with v1 control flow: its conds and loops become ours (graph_def_v1.py).
    Its node names are taken first, so the ops our cond/while_loop add never take one."""
    importer.v1 = V1Structure(nodes)
    graph = importer.graph
    for n in nodes:
        graph._names_in_use.setdefault((f"{importer.prefix}/{n.name}" if importer.prefix else n.name).lower(), 1)
    with graph.control_dependencies(None):
        import_units(importer, importer.v1.units(None, [n.name for n in nodes], set()))


def read_graph_def(path: str | os.PathLike) -> "protos.GraphDef":
    """The GraphDef in file `path`: text format when the name ends in `.pbtxt`, else binary
    (tfcompile's rule for `--graph`). A file that does not parse is a ValueError naming it."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise OSError(e.errno, f"cannot read '{path}': {e.strerror}") from None
    try:
        if path.endswith(".pbtxt"):
            return text_format.Parse(data.decode("utf-8"), protos.GraphDef())
        return protos.GraphDef.FromString(data)
    except (message.DecodeError, text_format.ParseError, UnicodeDecodeError) as e:
        form = "text" if path.endswith(".pbtxt") else "binary"
        raise ValueError(f"cannot parse '{path}' as a {form} GraphDef: {e}") from None
