"""`tf.summary`'s graph ops: scalar, histogram, image, text, merge, merge_all (cf. TF1's summary.py).

A summary op's output is a string tensor, TF's serialised `Summary` proto. Its numeric input
is computed by the native step like any fetch; only the serialisation runs on the host
(`runtime/summary_host.py`), so these ops never reach the IR. As in TF1 the op of
`scalar("loss", x)` is named by its scope ("loss", "loss_1", ...), the tag is that name, and
every summary joins the SUMMARIES collection (or those given); a `family` is both an outer
name scope and a tag prefix ("stats/stats/count", as TF1 writes it). An image summary's
tags are `tag/image/0`, `tag/image/1`, ... (`tag/image` when `max_outputs` is 1); a text
summary is TF1's `TensorSummaryV2` of a string tensor (a `tf.constant`) with the text
plugin's metadata.
"""
from __future__ import annotations

import contextlib

import numpy as np

from lowerflow.frontend import dtypes, protos
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Tensor, get_default_graph
from lowerflow.frontend.tensor_shape import TensorShape

SUMMARIES = "summaries"
SUMMARY_OPS = ("ScalarSummary", "HistogramSummary", "ImageSummary", "TensorSummaryV2", "MergeSummary")
IMAGE_DTYPES = (dtypes.uint8, dtypes.float32, dtypes.float16, dtypes.float64)  # TF's ImageSummary `T`
BAD_COLOR = np.array([255, 0, 0, 255], np.uint8)  # TF's default: non-finite pixels are opaque red
TEXT_PLUGIN = "text"


def _numeric(op_type: str, value: Tensor) -> Tensor:
    if not value.dtype.is_floating and not value.dtype.is_integer and not value.dtype.is_bool:
        raise TypeError(f"{op_type} needs a numeric tensor, got {value.dtype.name}")
    return value


def _summary(op_type: str, name: str, value: Tensor, collections, family=None, attrs=None) -> Tensor:
    graph = get_default_graph()
    with graph.name_scope(family) if family else contextlib.nullcontext(), graph.name_scope(name) as scope:
        tag = f"{family}/{scope.rstrip('/')}" if family else scope.rstrip("/")  # TF1's summary_scope
        op = graph.create_op(op_type, [value], [(dtypes.string, TensorShape([]))], {"tag": tag, **(attrs or {})},
                             name=scope)
    for key in (collections if collections is not None else [SUMMARIES]):
        graph.add_to_collection(key, op.outputs[0])
    return op.outputs[0]


def scalar(name: str, tensor, collections=None, family=None) -> Tensor:
    """A Summary with `tensor`'s value (a scalar) under the tag `name`."""
    value = convert_to_tensor(tensor)
    if value.shape.ndims not in (None, 0):
        raise ValueError(f"Shape {value.shape} must be a scalar for a scalar summary, got tensor {value.name}")
    return _summary("ScalarSummary", name, _numeric("ScalarSummary", value), collections, family)


def histogram(name: str, values, collections=None, family=None) -> Tensor:
    """A Summary with a histogram of `values` (TF's exponential buckets) under the tag `name`."""
    return _summary("HistogramSummary", name, _numeric("HistogramSummary", convert_to_tensor(values)),
                    collections, family)


def image(name: str, tensor, max_outputs: int = 3, collections=None, family=None) -> Tensor:
    """A Summary with the first `max_outputs` images of `tensor` ([batch, height, width,
    channels], channels 1, 3 or 4; uint8 as they are, floats rescaled per image to 0..255
    as TF does) as PNGs, under the tags `name/image/i` (`name/image` if `max_outputs` is 1)."""
    value = convert_to_tensor(tensor)
    if value.dtype not in IMAGE_DTYPES:
        allowed = ", ".join(d.name for d in IMAGE_DTYPES)
        raise TypeError(f"Value passed to parameter 'tensor' has DataType {value.dtype.name} not in list of "
                        f"allowed values: {allowed}")
    if int(max_outputs) < 1:
        raise ValueError(f"max_outputs must be at least 1, got {max_outputs}")
    return _summary("ImageSummary", name, value, collections, family,
                    {"max_images": int(max_outputs), "bad_color": BAD_COLOR})


def text(name: str, tensor, collections=None) -> Tensor:
    """A Summary with the strings of `tensor` (a string tensor) for TensorBoard's text plugin."""
    if not isinstance(tensor, Tensor):  # TF1 reads `tensor.dtype` first
        raise AttributeError(f"'{type(tensor).__name__}' object has no attribute 'dtype'")
    if tensor.dtype is not dtypes.string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got <dtype: '{tensor.dtype.name}'>")
    metadata = protos.SummaryMetadata(plugin_data=protos.SummaryMetadata.PluginData(plugin_name=TEXT_PLUGIN))
    return _summary("TensorSummaryV2", name, tensor, collections,
                    attrs={"summary_metadata": metadata.SerializeToString()})


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
