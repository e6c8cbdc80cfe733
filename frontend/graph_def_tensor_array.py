"""TF's TensorArrayV3 family in an imported GraphDef (what `dynamic_rnn` and TF 1.x's
TensorArray write, carried through v1 while frames by their `flow`), as our TensorArray
is: a [size, *element_shape] buffer (`tensor_array.py`).

A TensorArray op's state lives in its flow tensor, which every op on it takes and the
writing ones give anew (the handle only names the resource), so the flow here *is* the
buffer: TensorArrayV3 gives zeros of that shape as both outputs, a write is a row update of
the flow it takes, a read or gather a gather from it, a scatter of every row in order (an
unstack) the value itself, a size its row count. A loop that carries the flow carries the
buffer. What needs a shape known only at run time is refused naming the node.
"""
from __future__ import annotations

import numpy as np

from lowerflow.frontend import tf_values
from lowerflow.frontend.array_ops import constant_value, gather, shape, zeros
from lowerflow.frontend.core_ops import identity
from lowerflow.frontend.functional_ops import _write
from lowerflow.frontend.graph import Tensor


def _refused(node, why: str) -> NotImplementedError:
    return NotImplementedError(f"lowerflow cannot import op type '{node.op}' (node '{node.name}'): {why}")


def _array(node, inputs: list[Tensor]) -> list[Tensor]:
    size = int(constant_value(inputs[0], f"size of TensorArray '{node.name}'"))
    element = tf_values.shape_of_proto(node.attr["element_shape"].shape)
    if element is None or None in element:
        raise _refused(node, "a TensorArray needs a fully defined element_shape (lowerflow's buffers are static)")
    buffer = zeros([size, *element], tf_values.dtype_of_enum(node.attr["dtype"].type))
    return [buffer, buffer]


def _every_row(node, indices: Tensor, rows) -> bool:
    try:
        value = constant_value(indices, f"indices of '{node.name}'")
    except NotImplementedError:
        return False
    return rows is not None and np.array_equal(np.reshape(value, -1), np.arange(rows))


def _scatter(node, inputs: list[Tensor]) -> list[Tensor]:
    _, indices, value, flow = inputs
    if not _every_row(node, indices, flow.shape.as_tuple()[0]) or value.shape.as_tuple()[:1] != flow.shape.as_tuple()[:1]:
        raise _refused(node, "a TensorArray scatter other than an unstack of every row in order")
    return [identity(value)]


def _gather(node, inputs: list[Tensor]) -> list[Tensor]:
    _, indices, flow = inputs
    return [identity(flow) if _every_row(node, indices, flow.shape.as_tuple()[0]) else gather(flow, indices)]


BUILDERS = {
    "TensorArrayV3": _array,
    "TensorArrayWriteV3": lambda node, inputs: [_write(inputs[3], inputs[1], inputs[2])],
    "TensorArrayReadV3": lambda node, inputs: [gather(inputs[2], inputs[1])],
    "TensorArrayScatterV3": _scatter,
    "TensorArrayGatherV3": _gather,
    "TensorArraySizeV3": lambda node, inputs: [shape(inputs[1])[0]],
}
