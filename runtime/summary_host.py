"""The host half of summary ops: serialising the values the native step computed.

A fetched summary tensor (`frontend/summary_ops.py`) is replaced, when its run is planned,
by the numeric tensors it summarises (`leaves`); after the native call `host_value` builds
the `Summary` proto from their values. Histograms use TF's buckets: limits growing by 10%
from 1e-12 to 1e20 on each side of 0, empty runs of buckets collapsed into one
(cf. TF's lib/histogram/histogram.cc `InitDefaultBuckets`, `EncodeToProto`).
"""
from __future__ import annotations

import sys
from typing import Callable

import numpy as np

from lowerflow.frontend import protos
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.summary_ops import SUMMARY_OPS
from lowerflow.runtime import errors


def _default_limits() -> np.ndarray:
    pos, v = [], 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    pos.append(sys.float_info.max)
    return np.array([-p for p in reversed(pos)] + [0.0] + pos)


_LIMITS = _default_limits()


def histogram_proto(values: np.ndarray) -> "protos.HistogramProto":
    """TF's HistogramProto of `values` (as doubles)."""
    x = np.asarray(values, np.float64).reshape(-1)
    counts = np.bincount(np.searchsorted(_LIMITS, x, side="right"), minlength=len(_LIMITS))[:len(_LIMITS)]
    proto = protos.HistogramProto(min=x.min() if x.size else _LIMITS[-1],
                                  max=x.max() if x.size else -_LIMITS[-1],
                                  num=float(x.size), sum=float(x.sum()), sum_squares=float(np.dot(x, x)))
    i = 0
    while i < len(counts):
        end, count = _LIMITS[i], counts[i]
        i += 1
        if count <= 0:
            while i < len(counts) and counts[i] <= 0:
                end, count = _LIMITS[i], counts[i]
                i += 1
        proto.bucket_limit.append(end)
        proto.bucket.append(float(count))
    return proto


def _scalar(op: Operation, values: list) -> bytes:
    value = np.asarray(values[0])
    if value.size != 1:
        raise errors.InvalidArgumentError(None, op, f"tags and values are not the same shape: [] != "
                                                    f"{list(value.shape)} (tag '{op.get_attr('tag')}')")
    return protos.Summary(value=[protos.Summary.Value(tag=op.get_attr("tag"),
                                                      simple_value=float(value.reshape(())))]).SerializeToString()


def _histogram(op: Operation, values: list) -> bytes:
    x = np.asarray(values[0])
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise errors.InvalidArgumentError(None, op, f"Nan in summary histogram for: {op.get_attr('tag')}")
    return protos.Summary(value=[protos.Summary.Value(tag=op.get_attr("tag"), histo=histogram_proto(x))]
                          ).SerializeToString()


def _merge(op: Operation, values: list) -> bytes:
    merged, seen = protos.Summary(), set()
    for raw in values:
        for value in protos.Summary.FromString(bytes(raw)).value:
            if value.tag in seen:
                raise errors.InvalidArgumentError(None, op, f"Duplicate tag {value.tag} found in summary inputs ")
            seen.add(value.tag)
            merged.value.append(value)
    return merged.SerializeToString()


_SERIALISERS = {"ScalarSummary": _scalar, "HistogramSummary": _histogram, "MergeSummary": _merge}
assert set(_SERIALISERS) == set(SUMMARY_OPS)


def is_host_computed(t: Tensor) -> bool:
    return t.op.type in _SERIALISERS


def leaves(tensors: list[Tensor]) -> list[Tensor]:
    """`tensors` with every summary replaced by the numeric tensors it is built from."""
    out, seen, todo = [], set(), list(tensors)
    while todo:
        t = todo.pop(0)
        if is_host_computed(t):
            todo.extend(t.op.inputs)
        elif id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def host_value(t: Tensor, native_value: Callable[[Tensor], np.ndarray]) -> np.ndarray:
    """A summary's serialised value (a 0-d object array of bytes), from its leaves' values."""
    inputs = [host_value(i, native_value)[()] if is_host_computed(i) else native_value(i) for i in t.op.inputs]
    return np.array(_SERIALISERS[t.op.type](t.op, inputs), dtype=object)
