"""`tf.summary`'s graph ops: scalar, histogram, merge, merge_all (cf. TF1's summary.py).

A summary op's output is a string tensor, TF's serialised `Summary` proto. Its numeric input
is computed by the native step like any fetch; only the serialisation runs on the host
(`runtime/summary_host.py`), so these ops never reach the IR. As in TF1 the op of
`scalar("loss", x)` is named by its scope ("loss", "loss_1", ...), the tag is that name, and
every summary joins the SUMMARIES collection (or those given); a `family` is both an outer
name scope and a tag prefix ("stats/stats/count", as TF1 writes it).
"""
from __future__ import annotations

import contextlib

from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Tensor, get_default_graph
from lowerflow.frontend.tensor_shape import TensorShape

SUMMARIES = "summaries"
SUMMARY_OPS = ("ScalarSummary", "HistogramSummary", "MergeSummary")


def _summary(op_type: str, name: str, value, collections, family=None) -> Tensor:
    graph = get_default_graph()
    value = convert_to_tensor(value)
    if op_type == "ScalarSummary" and value.shape.ndims not in (None, 0):
        raise ValueError(f"Shape {value.shape} must be a scalar for a scalar summary, got tensor {value.name}")
    if not value.dtype.is_floating and not value.dtype.is_integer and not value.dtype.is_bool:
        raise TypeError(f"{op_type} needs a numeric tensor, got {value.dtype.name}")
    with graph.name_scope(family) if family else contextlib.nullcontext(), graph.name_scope(name) as scope:
        tag = f"{family}/{scope.rstrip('/')}" if family else scope.rstrip("/")  # TF1's summary_scope
        op = graph.create_op(op_type, [value], [(dtypes.string, TensorShape([]))], {"tag": tag}, name=scope)
    for key in (collections if collections is not None else [SUMMARIES]):
        graph.add_to_collection(key, op.outputs[0])
    return op.outputs[0]


def scalar(name: str, tensor, collections=None, family=None) -> Tensor:
    """A Summary with `tensor`'s value (a scalar) under the tag `name`."""
    return _summary("ScalarSummary", name, tensor, collections, family)


def histogram(name: str, values, collections=None, family=None) -> Tensor:
    """A Summary with a histogram of `values` (TF's exponential buckets) under the tag `name`."""
    return _summary("HistogramSummary", name, values, collections, family)


def merge(inputs, collections=None, name=None) -> Tensor:
    """One Summary holding the values of all `inputs` (serialised summaries)."""
    inputs = [convert_to_tensor(t) for t in inputs]
    for t in inputs:
        if t.dtype is not dtypes.string:
            raise TypeError(f"merge takes serialised summaries (string tensors), got {t.name}")
    graph = inputs[0].graph if inputs else get_default_graph()
    op = graph.create_op("MergeSummary", inputs, [(dtypes.string, TensorShape([]))], {},
                         name=name or "Merge/MergeSummary")
    for key in collections or ():
        graph.add_to_collection(key, op.outputs[0])
    return op.outputs[0]


def merge_all(key: str = SUMMARIES, scope=None, name=None) -> Tensor | None:
    """`merge` of the collection `key`; None when it is empty (as TF1)."""
    items = get_default_graph().get_collection(key, scope)
    return merge(items, name=name) if items else None
