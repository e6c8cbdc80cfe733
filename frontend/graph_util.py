"""`tf.graph_util` and `tf.train.write_graph`: GraphDef surgery, as TF1 does it.

`extract_sub_graph` keeps what the destination nodes need; `convert_variables_to_constants`
(freezing) replaces the variables they read by `Const` nodes holding the session's values;
`remove_training_nodes` drops CheckNumerics and splices out Identity nodes.
These work on GraphDef protos only, so they take TF's protos as well as ours.
cf. TF's framework/graph_util_impl.py and training_util.write_graph.
"""
from __future__ import annotations

import os
import re


from lowerflow.frontend import protos, tf_values


def _ours(graph_def) -> "protos.GraphDef":
    if isinstance(graph_def, protos.GraphDef):
        return graph_def
    if not hasattr(graph_def, "node"):
        raise TypeError("graph_def must be a graph_pb2.GraphDef proto.")
    return protos.GraphDef.FromString(graph_def.SerializeToString())


def _node_name(name: str) -> str:
    return name[1:].split(":")[0] if name.startswith("^") else name.split(":")[0]


def extract_sub_graph(graph_def, dest_nodes) -> "protos.GraphDef":
    """The nodes `dest_nodes` depend on (data and control inputs), in their original order."""
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be a list.")
    graph_def = _ours(graph_def)
    by_name = {n.name: n for n in graph_def.node}
    for d in dest_nodes:
        if d not in by_name:
            raise AssertionError(f"{d} is not in graph")
    keep, todo = set(), list(dest_nodes)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        todo.extend(_node_name(i) for i in by_name[name].input)
    out = protos.GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    out.node.extend(n for n in graph_def.node if n.name in keep)
    return out


def convert_variables_to_constants(sess, input_graph_def, output_node_names, variable_names_whitelist=None,
                                   variable_names_blacklist=None) -> "protos.GraphDef":
    """Freeze: the subgraph `output_node_names` need, each variable in it a `Const` node
    with its current value in `sess` (optionally only the whitelisted / not blacklisted)."""
    sub = extract_sub_graph(input_graph_def, output_node_names)
    names = [n.name for n in sub.node if n.op in ("VariableV2", "Variable")
             and (variable_names_whitelist is None or n.name in variable_names_whitelist)
             and (variable_names_blacklist is None or n.name not in variable_names_blacklist)]
    values = dict(zip(names, sess.run([n + ":0" for n in names]))) if names else {}
    out = protos.GraphDef()
    out.versions.CopyFrom(sub.versions)
    for node in sub.node:
        if node.name in values:
            frozen = out.node.add(name=node.name, op="Const")
            frozen.attr["dtype"].type = node.attr["dtype"].type
            frozen.attr["value"].tensor.CopyFrom(tf_values.tensor_proto(values[node.name]))
        else:
            out.node.add().CopyFrom(node)
    return out


def remove_training_nodes(input_graph, protected_nodes=None) -> "protos.GraphDef":
    """Drop CheckNumerics nodes and splice out Identity nodes (not protected, not involved
    in control edges), rewiring their consumers to the Identity's input."""
    graph_def = _ours(input_graph)
    protected = set(protected_nodes or ())
    removed = {n.name for n in graph_def.node if n.op == "CheckNumerics" and n.name not in protected}
    kept = []
    for node in graph_def.node:
        if node.name in removed:
            continue
        copy = protos.NodeDef()
        copy.CopyFrom(node)
        del copy.input[:]
        copy.input.extend(i for i in node.input if re.sub(r"^\^", "", i) not in removed)
        kept.append(copy)
    control_targets = {i[1:] for n in kept for i in n.input if i.startswith("^")}
    with_control = {n.name for n in kept if any(i.startswith("^") for i in n.input)}
    splice = {n.name: n.input[0] for n in kept if n.op == "Identity" and n.name not in protected
              and n.name not in with_control and n.name not in control_targets}
    out = protos.GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    for node in kept:
        if node.name in splice:
            continue
        inputs = []
        for full in node.input:
            name = re.sub(r"^\^", "", full)
            while name in splice:
                full = splice[name]
                name = re.sub(r"^\^", "", full)
            inputs.append(full)
        del node.input[:]
        node.input.extend(inputs)
        out.node.append(node)
    return out


def write_graph(graph_or_graph_def, logdir: str, name: str, as_text: bool = True) -> str:
    """Write a Graph's or GraphDef's proto to `logdir/name` (text format if `as_text`);
    returns the path. The file is replaced atomically."""
    graph_def = graph_or_graph_def
    if hasattr(graph_def, "as_graph_def"):
        graph_def = graph_def.as_graph_def()
    graph_def = _ours(graph_def)
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    protos.write_message(graph_def, path, as_text)
    return path
