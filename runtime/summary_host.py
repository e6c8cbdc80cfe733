"""The host half of summary ops: serialising the values the native step computed.

A fetched summary tensor (`frontend/summary_ops.py`) is replaced, when its run is planned,
by the numeric tensors it summarises (`leaves`); after the native call `host_value` builds
the `Summary` proto from their values. Histograms use TF's buckets: limits growing by 10%
from 1e-12 to 1e20 on each side of 0, empty runs of buckets collapsed into one
(cf. TF's lib/histogram/histogram.cc `InitDefaultBuckets`, `EncodeToProto`). Images are
rescaled as TF's ImageSummary kernel does and written as PNGs by `png.py`; text summaries
hold their string tensor. String constants are host values too (native code has no
strings): their value is the constant's.
"""
from __future__ import annotations

import sys
from typing import Callable

import numpy as np

from lowerflow.frontend import dtypes, protos, tf_values
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.summary_ops import SUMMARY_OPS
from lowerflow.runtime import errors, png


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
                                                    f"{list(value.shape)} (tag '{op.ir_attr('tag')}')")
    return protos.Summary(value=[protos.Summary.Value(tag=op.ir_attr("tag"),
                                                      simple_value=float(value.reshape(())))]).SerializeToString()


def _histogram(op: Operation, values: list) -> bytes:
    x = np.asarray(values[0])
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise errors.InvalidArgumentError(None, op, f"Nan in summary histogram for: {op.ir_attr('tag')}")
    return protos.Summary(value=[protos.Summary.Value(tag=op.ir_attr("tag"), histo=histogram_proto(x))]
                          ).SerializeToString()


def image_pixels(images: np.ndarray, bad_color: np.ndarray) -> np.ndarray:
    """uint8 [n, h, w, c] pixels of `images` as TF's ImageSummary makes them: uint8 as they
    are; floats per image, ignoring pixels with a non-finite channel (those become
    `bad_color`): all >= 0 scale so the largest is 255, else 0 goes to 128 and the largest
    magnitude to 0 or 255 (a range under 1e-6 maps to one value). The scale is computed in
    single precision, applied in the image's dtype, then truncated, as TF's kernel does."""
    if images.dtype == np.uint8:
        return images
    out = np.empty(images.shape, np.uint8)
    for i, img in enumerate(images):
        finite = np.isfinite(img).all(axis=-1)
        shown = img[finite]
        # min, max and the scale are floats (single precision) whatever the image's dtype
        lo, hi = (np.float32(shown.min()), np.float32(shown.max())) if shown.size else (np.inf, -np.inf)
        if lo < 0:
            biggest = max(abs(lo), abs(hi))
            scale, offset = (0.0 if biggest < 1e-6 else np.float32(127.0) / biggest), 128.0
        else:
            scale, offset = (0.0 if hi < 1e-6 else np.float32(255.0) / hi), 0.0
        with np.errstate(invalid="ignore"):
            scaled = img * img.dtype.type(scale) + img.dtype.type(offset)
        out[i] = np.where(finite[..., None], np.nan_to_num(scaled), 0).astype(np.uint8)
        out[i][~finite] = bad_color[:img.shape[-1]]
    return out


def _image(op: Operation, values: list) -> bytes:
    images = np.asarray(values[0])
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise errors.InvalidArgumentError(None, op, f"Tensor must be 4-D with last dim 1, 3, or 4, not "
                                                    f"[{','.join(map(str, images.shape))}]")
    count = op.ir_attr("max_images")
    pixels = image_pixels(images[:count], op.ir_attr("bad_color"))
    tag = op.ir_attr("tag")
    summary = protos.Summary()
    for i, img in enumerate(pixels):
        summary.value.add(tag=f"{tag}/image/{i}" if count > 1 else f"{tag}/image",
                          image=protos.Summary.Image(height=img.shape[0], width=img.shape[1], colorspace=img.shape[2],
                                                     encoded_image_string=png.encode(img)))
    return summary.SerializeToString()


def _text(op: Operation, values: list) -> bytes:
    """TensorSummaryV2: the tensor as it is, with the op's metadata (text: the text plugin)."""
    metadata = protos.SummaryMetadata.FromString(op.ir_attr("summary_metadata"))
    return protos.Summary(value=[protos.Summary.Value(tag=op.ir_attr("tag"), metadata=metadata,
                                                      tensor=tf_values.tensor_proto(np.asarray(values[0])))]
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


_SERIALISERS = {"ScalarSummary": _scalar, "HistogramSummary": _histogram, "ImageSummary": _image,
                "TensorSummaryV2": _text, "MergeSummary": _merge}
assert set(_SERIALISERS) == set(SUMMARY_OPS)


def is_host_computed(t: Tensor) -> bool:
    return t.op.type in _SERIALISERS or t.dtype is dtypes.string and t.op.type == "Const"


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
    """A summary's serialised value (a 0-d object array of bytes), from its leaves' values;
    a string constant's value."""
    if t.op.type == "Const":
        return t.op.ir_attr("value")
    inputs = [host_value(i, native_value)[()] if is_host_computed(i) else native_value(i) for i in t.op.inputs]
    return np.array(_SERIALISERS[t.op.type](t.op, inputs), dtype=object)
