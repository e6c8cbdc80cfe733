"""TensorFlow-made convolution and pooling NodeDefs on import.

Our Conv2D, Conv2DBackpropFilter, MaxPool and AvgPool ops are NHWC with TF's attributes, and a
convolution's padding is explicit, so the GraphDefs lowerflow writes import row by row
(`tf_op_specs.py`). TensorFlow writes them with SAME or VALID padding, in NCHW too, and its
Conv2DBackpropInput takes the input's shape as a constant (`input_sizes`) where ours takes a
tensor of that shape, and the native ops are float32 only: such nodes import through the frontend functions that build these ops
(`conv_ops.py`, `pool_ops.py`), which resolve the padding and put NCHW between transposes.
"""
from __future__ import annotations

from lowerflow.frontend import tf_values

_CONVS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")
_POOLS = ("MaxPool", "AvgPool")


def _s(node, name: str, default: str) -> str:
    return node.attr[name].s.decode() if name in node.attr else default


def _ints(node, name: str, default=None) -> list[int] | None:
    return tf_values.from_attr_value(node.attr[name], "ints") if name in node.attr else default


def _padding(node):
    """TF's padding attribute as the frontend takes it: "SAME", "VALID" or [[before, after]] * 4
    in the node's data format."""
    padding = _s(node, "padding", "")
    if padding != "EXPLICIT":
        return padding
    flat = _ints(node, "explicit_paddings", [])
    if len(flat) != 8:
        raise ValueError(f"NodeDef '{node.name}' ({node.op}): padding EXPLICIT wants 8 explicit_paddings, "
                         f"got {flat}")
    return [flat[i:i + 2] for i in range(0, 8, 2)]


def tf_form(node) -> bool:
    """Whether `node` is a convolution or pooling NodeDef that needs the frontend (module docstring)."""
    fmt = _s(node, "data_format", "NHWC")
    if node.op in _POOLS:
        return fmt != "NHWC"
    if node.op not in _CONVS:
        return False
    native = "T" not in node.attr or node.attr["T"].type == tf_values.DT["float32"]  # other dtypes: composed
    return node.op == "Conv2DBackpropInput" or not native or fmt != "NHWC" or _s(node, "padding", "") != "EXPLICIT"


def build(node, inputs: list):
    """The output tensor of the frontend ops standing for a TF-made `node`."""
    from lowerflow.frontend import array_ops, conv_ops, pool_ops

    fmt, padding = _s(node, "data_format", "NHWC"), _padding(node)
    strides, dilations = _ints(node, "strides"), _ints(node, "dilations", [1, 1, 1, 1])
    if node.op in _POOLS:
        fn = pool_ops.max_pool if node.op == "MaxPool" else pool_ops.avg_pool
        return fn(inputs[0], _ints(node, "ksize"), strides, padding, data_format=fmt)
    if node.op == "Conv2D":
        return conv_ops.conv2d(inputs[0], inputs[1], strides, padding, data_format=fmt, dilations=dilations)
    if node.op == "Conv2DBackpropInput":
        sizes = [int(v) for v in array_ops.constant_value(inputs[0], "input_sizes").reshape(-1)]
        return conv_ops.conv2d_transpose(inputs[2], inputs[1], sizes, strides, padding, data_format=fmt,
                                         dilations=dilations)
    return conv_ops.conv2d_backprop_filter(inputs[0], inputs[1], inputs[2], strides, padding, data_format=fmt,
                                           dilations=dilations)
