"""TF1's pooling (`tf.nn.max_pool`, `avg_pool`, `max_pool2d`, `avg_pool2d`), composed as
conv_ops.py composes convolutions: one strided slice of the padded input per kernel offset,
folded with maximum/add (avg pool divides by the number of input elements in each window).
"""
from __future__ import annotations

import numpy as np

from lowerflow.frontend.conv_ops import _back, _check_format, _check_rank4, _nhwc, _padding, _spatial, _windows
from lowerflow.frontend.core_ops import constant, convert_to_tensor
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.math_ops import add, maximum, truediv


def _pool(kind: str, value, ksize, strides, padding, data_format: str, name, default: str) -> Tensor:
    data_format = _check_format(data_format)
    with name_scope(name, default, [value]) as scope:
        x = _nhwc(convert_to_tensor(value), data_format)
        _check_rank4(x, "input")
        kernel, strides = _spatial(ksize, "ksize", data_format), _spatial(strides, "strides", data_format)
        if isinstance(padding, str) and padding.upper() not in ("SAME", "VALID"):
            raise ValueError(f"padding must be SAME or VALID, got {padding!r}")
        pads = _padding(padding, x.shape.as_list()[1:3], kernel, strides, data_format)
        lowest = -np.inf if x.dtype.is_floating else np.iinfo(x.dtype.as_numpy_dtype).min
        patches, out = _windows(x, kernel, strides, [1, 1], pads, lowest if kind == "max" else 0)
        fold = maximum if kind == "max" else add
        y = patches[0]
        for p in patches[1:]:
            y = fold(y, p)
        if kind == "avg":
            y = truediv(y, constant(_counts(x.shape.as_list()[1:3], kernel, strides, pads, out), x.dtype))
        return _back(y, data_format, scope)


def _counts(sizes, kernel, strides, pads, out) -> np.ndarray:
    """The number of input (not padding) elements of each window, [1, oh, ow, 1]."""
    per_dim = []
    for n, k, s, (before, _), o in zip(sizes, kernel, strides, pads, out):
        starts = np.arange(o) * s - before
        per_dim.append(np.minimum(starts + k, n) - np.maximum(starts, 0))
    return np.outer(*per_dim).reshape(1, out[0], out[1], 1)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None) -> Tensor:
    """tf.nn.max_pool: the maximum of each window (padding never wins)."""
    return _pool("max", input if value is None else value, ksize, strides, padding, data_format, name, "MaxPool")


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None) -> Tensor:
    """tf.nn.avg_pool: the mean of each window over its input elements (SAME: padding not counted)."""
    return _pool("avg", input if value is None else value, ksize, strides, padding, data_format, name, "AvgPool")


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:
    return max_pool(input, ksize, strides, padding, data_format, name)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:
    return avg_pool(input, ksize, strides, padding, data_format, name)
