"""Meta graphs: a GraphDef plus the collections that make it a model again.

`export_meta_graph` writes TF's MetaGraphDef: the graph, and each collection whose items it
can name: variables as `VariableDef`s (bytes lists, as TF writes them), tensors and ops as
node lists, numbers and strings as value lists. `import_meta_graph` imports the graph and
rebuilds those collections (Variables over the imported ops), so `tf.global_variables()`,
`tf.train.Saver()` and `tf.get_collection("train_op")` work after it as in TF1. No SaverDef
is written: both libraries build a fresh Saver over the imported variables.
cf. TF's framework/meta_graph.py and training/saver.py `import_meta_graph`.
"""
from __future__ import annotations

import os

from google.protobuf import message, text_format

from lowerflow.frontend import protos
from lowerflow.frontend.graph import Graph, Operation, Tensor, get_default_graph
from lowerflow.frontend.graph_def import import_graph_def
from lowerflow.frontend.variables import GLOBAL_VARIABLES, TRAINABLE_VARIABLES, Variable

_VARIABLE_COLLECTIONS = (GLOBAL_VARIABLES, TRAINABLE_VARIABLES, "local_variables", "model_variables",
                         "moving_average_variables")


def _variable_def(v: Variable) -> bytes:
    return protos.VariableDef(variable_name=v.name, initial_value_name=v.initial_value.name,
                              initializer_name=v.initializer.name, snapshot_name=v.value().name,
                              trainable=v.trainable).SerializeToString()


def _collection_def(items: list):
    """The CollectionDef of a collection, or None when its items have no proto form."""
    c = protos.CollectionDef()
    if all(isinstance(i, Variable) for i in items):
        c.bytes_list.value.extend(_variable_def(v) for v in items)
    elif all(isinstance(i, (Tensor, Operation)) for i in items):
        c.node_list.value.extend(i.name for i in items)
    elif all(isinstance(i, int) and not isinstance(i, bool) for i in items):
        c.int64_list.value.extend(items)
    elif all(isinstance(i, float) for i in items):
        c.float_list.value.extend(items)
    elif all(isinstance(i, (str, bytes)) for i in items):
        c.bytes_list.value.extend(i.encode() if isinstance(i, str) else i for i in items)
    else:
        return None
    return c


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None, collection_list=None,
                      as_text=False, graph=None, export_scope=None, clear_devices=False,
                      clear_extraneous_savers=False, strip_default_attrs=False, save_debug_info=False,
                      **kwargs) -> "protos.MetaGraphDef":
    """`tf.train.export_meta_graph`: the MetaGraphDef of `graph` (default graph), written to
    `filename` when given (text format if `as_text`)."""
    graph = graph or get_default_graph()
    meta = protos.MetaGraphDef()
    if meta_info_def is not None:
        meta.meta_info_def.CopyFrom(meta_info_def)
    meta.meta_info_def.meta_graph_version = meta.meta_info_def.meta_graph_version or "v1.0"
    meta.graph_def.CopyFrom(graph_def if graph_def is not None else graph.as_graph_def())
    for key in collection_list if collection_list is not None else graph.get_all_collection_keys():
        items = graph.get_collection(key)
        c = _collection_def(items) if items else None
        if c is not None:
            meta.collection_def[key].CopyFrom(c)
    if filename:
        directory = os.path.dirname(os.path.abspath(filename))
        os.makedirs(directory, exist_ok=True)
        protos.write_message(meta, filename, as_text)
    return meta


def read_meta_graph_file(filename: str) -> "protos.MetaGraphDef":
    """A MetaGraphDef from a binary or text file (binary is tried first, as in TF)."""
    if not os.path.exists(filename):
        raise OSError(f"File {filename} does not exist.")
    with open(filename, "rb") as f:
        data = f.read()
    try:
        return protos.MetaGraphDef.FromString(data)
    except message.DecodeError:
        return text_format.Parse(data.decode(), protos.MetaGraphDef())


def _scoped(scope: str, name: str) -> str:
    return f"{scope}/{name}" if scope else name


def _restore_collection(graph: Graph, key: str, c, scope: str) -> None:
    kind = c.WhichOneof("kind")
    if kind == "bytes_list" and key in _VARIABLE_COLLECTIONS:
        for raw in c.bytes_list.value:
            d = protos.VariableDef.FromString(raw)
            el = lambda name: graph.as_graph_element(_scoped(scope, name))  # noqa: E731
            graph.add_to_collection(key, Variable._from_ops(el(d.variable_name), el(d.initializer_name),
                                                            el(d.snapshot_name), el(d.initial_value_name),
                                                            d.trainable))
    elif kind == "node_list":
        for name in c.node_list.value:
            graph.add_to_collection(key, graph.as_graph_element(_scoped(scope, name)))
    elif kind is not None:
        for value in getattr(c, kind).value:
            graph.add_to_collection(key, value)


def _without_saver(meta) -> "protos.GraphDef":
    """The graph less the save/restore ops of its SaverDef (TF's SaveV2/RestoreV2 on string
    tensors): a fresh Saver replaces them, here as in TF when the SaverDef is not used."""
    if not meta.HasField("saver_def") or not meta.saver_def.filename_tensor_name:
        return meta.graph_def
    scope = meta.saver_def.filename_tensor_name.split("/")[0] + "/"
    out = protos.GraphDef()
    out.CopyFrom(meta.graph_def)
    del out.node[:]
    out.node.extend(n for n in meta.graph_def.node if not n.name.startswith(scope))
    return out


def import_scoped_meta_graph(meta_graph_or_file, clear_devices=False, graph=None, import_scope=None,
                             input_map=None) -> None:
    """Import the meta graph's nodes and collections into `graph` under `import_scope`."""
    meta = meta_graph_or_file
    if isinstance(meta, str):
        meta = read_meta_graph_file(meta)
    elif not isinstance(meta, protos.MetaGraphDef):
        meta = protos.MetaGraphDef.FromString(meta.SerializeToString())
    graph = graph or get_default_graph()
    with graph.as_default():
        import_graph_def(_without_saver(meta), input_map=input_map, name=import_scope or "")
    variables = {}
    for key in sorted(meta.collection_def):
        _restore_collection(graph, key, meta.collection_def[key], import_scope or "")
    # one Variable object per variable, shared by the collections that list it
    for key in _VARIABLE_COLLECTIONS:
        items = graph.get_collection_ref(key)
        for i, v in enumerate(items):
            if isinstance(v, Variable):
                items[i] = variables.setdefault(v.name, v)
