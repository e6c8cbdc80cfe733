"""TF1's pooling (`tf.nn.max_pool`, `avg_pool`, `max_pool2d`, `avg_pool2d`) as the MaxPool and
AvgPool ops (`ir/ops/pool.py`, lowered through the loop level), NHWC; NCHW is computed
between two transposes. Their gradients are MaxPoolGrad and AvgPoolGrad.
"""
from __future__ import annotations

from lowerflow.frontend import array_ops
from lowerflow.frontend.conv_ops import _check_format, _check_rank4, _nhwc, _spatial
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.op_builder import apply


def _attrs(ksize, strides, padding, data_format: str) -> dict:
    """The pooling op's attributes (NHWC lists, TF's padding string or explicit paddings)."""
    kernel, steps = _spatial(ksize, "ksize", data_format), _spatial(strides, "strides", data_format)
    attrs = {"ksize": [1, *kernel, 1], "strides": [1, *steps, 1]}
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ValueError(f"padding must be SAME or VALID, got {padding!r}")
        return {**attrs, "padding": padding.upper()}
    pairs = [[int(v) for v in p] for p in padding]
    if len(pairs) != 4 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"explicit padding must be [[before, after]] for each of 4 dims, got {padding!r}")
    if data_format == "NCHW":
        pairs = [pairs[0], pairs[2], pairs[3], pairs[1]]
    if pairs[0] + pairs[3] != [0] * 4:
        raise ValueError("Nonzero explicit padding in the batch or depth dimensions is not supported")
    return {**attrs, "padding": "EXPLICIT", "explicit_paddings": [v for p in pairs for v in p]}


def _pool(op_type: str, value, ksize, strides, padding, data_format: str, name) -> Tensor:
    data_format = _check_format(data_format)
    attrs = _attrs(ksize, strides, padding, data_format)
    if data_format == "NHWC":
        x = convert_to_tensor(value)
        _check_rank4(x, "input")
        return apply(op_type, [x], attrs, name=name or op_type)
    with name_scope(name, op_type, [value]) as scope:
        x = _nhwc(convert_to_tensor(value), data_format)
        _check_rank4(x, "input")
        return array_ops.transpose(apply(op_type, [x], attrs), [0, 3, 1, 2], name=scope)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None) -> Tensor:
    """tf.nn.max_pool: the maximum of each window (padding never wins)."""
    return _pool("MaxPool", input if value is None else value, ksize, strides, padding, data_format, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None) -> Tensor:
    """tf.nn.avg_pool: the mean of each window over its input elements (SAME: padding not counted)."""
    return _pool("AvgPool", input if value is None else value, ksize, strides, padding, data_format, name)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:
    return max_pool(input, ksize, strides, padding, data_format, name)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:
    return avg_pool(input, ksize, strides, padding, data_format, name)
