"""TF1 functions whose result shapes depend on fed values: `tf.boolean_mask`, one-argument
`tf.where`, `tf.unique`, `tf.dynamic_partition`, and `x[b:n]` with `n` a tensor. They build
TF1's graph ops (boolean_mask as TF1 composes it: Reshape, Where, Squeeze, GatherV2) with
the best static shapes; each run computes the lengths natively (`dynamic_lowering.py`).
"""
from __future__ import annotations

import collections

from lowerflow.frontend import dtypes, shape_values
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.op_builder import apply_op


def where_coordinates(condition, name: str | None = None) -> Tensor:
    """One-argument tf.where (op Where): the int64 [?, rank] coordinates of the true (for
    numbers: non-zero) elements, in row-major order."""
    from lowerflow.frontend.core_ops import convert_to_tensor

    cond = convert_to_tensor(condition, name="condition")
    if cond.shape.ndims is None:
        raise ValueError("lowerflow needs the rank of tf.where's condition when the graph is built")
    return apply_op("Where", [cond], name=name or "Where").outputs[0]


def boolean_mask(tensor, mask, name: str = "boolean_mask", axis=None) -> Tensor:
    """tf.boolean_mask: the rows of `tensor` (its first mask.ndim dims flattened) where
    `mask` is true, as TF1 builds it (Reshape, Where, Squeeze, GatherV2)."""
    from lowerflow.frontend import array_ops
    from lowerflow.frontend.core_ops import convert_to_tensor

    with name_scope(name, values=[tensor, mask]):
        tensor = convert_to_tensor(tensor, name="tensor")
        mask = convert_to_tensor(mask, name="mask")
        k = mask.shape.ndims
        if k == 0:
            raise ValueError("mask cannot be scalar.")
        if k is None:
            raise ValueError("Number of mask dimensions must be specified, even if some dimensions are None.  "
                             "E.g. shape=[None] is ok, but shape=None is not.")
        if axis not in (None, 0):
            raise NotImplementedError("tf.boolean_mask with axis != 0 is not supported")
        if tensor.shape.ndims is not None:
            head = tensor.shape[:k]
            if not head.is_compatible_with(mask.shape):
                raise ValueError(f"Shapes {head} and {mask.shape} are incompatible")
        rest = tensor.shape[k:]
        if k > 1:
            target = [-1] + rest.as_list() if rest.is_fully_defined() else array_ops.concat(
                [[-1], array_ops.shape(tensor)[k:]], 0)
            tensor = array_ops.reshape(tensor, target)
        if k > 1 or mask.shape.ndims != 1:
            mask = array_ops.reshape(mask, [-1])
        indices = array_ops.squeeze(where_coordinates(mask), axis=[1])
        return array_ops.gather(tensor, indices, axis=0)


UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])


def unique(x, out_idx=dtypes.int32, name: str | None = None):
    """tf.unique: (y, idx) with y the values of the vector `x` in order of first occurrence
    and x == gather(y, idx)."""
    from lowerflow.frontend.core_ops import convert_to_tensor

    op = apply_op("Unique", [convert_to_tensor(x, name="x")], {"out_idx": dtypes.as_dtype(out_idx).ir},
                  name=name or "Unique")
    return UniqueOutput(*op.outputs)


def dynamic_partition(data, partitions, num_partitions: int, name: str | None = None) -> list[Tensor]:
    """tf.dynamic_partition: `num_partitions` tensors, output i the rows of `data` (its first
    partitions.ndim dims flattened) whose partition is i, in order."""
    from lowerflow.frontend.core_ops import convert_to_tensor

    if isinstance(num_partitions, bool) or not isinstance(num_partitions, int):
        raise TypeError(f"Expected int for argument 'num_partitions' not {num_partitions!r}.")
    op = apply_op("DynamicPartition", [convert_to_tensor(data, name="data"),
                                       convert_to_tensor(partitions, name="partitions")],
                  {"num_partitions": num_partitions}, name=name or "DynamicPartition")
    return list(op.outputs)


def fed_slice(tensor: Tensor, index) -> Tensor | None:
    """`tensor[b:n]` whose stop `n` is a scalar integer tensor the graph does not determine: a
    StridedSlice whose end is a RunValue (None if `index` is not of that form)."""
    from lowerflow.frontend import array_ops
    from lowerflow.frontend.math_ops import cast

    if not isinstance(index, slice) or not isinstance(index.stop, Tensor) or index.step not in (None, 1) \
            or index.stop.shape.ndims != 0 or not index.stop.dtype.is_integer:
        return None
    begin = 0 if index.start is None else array_ops._index(index.start)
    stop = array_ops.reshape(cast(index.stop, dtypes.int32), [1])
    attrs = {"begin": [begin], "end": shape_values.RunValue(stop, [1]), "strides": [1],
             "begin_mask": int(index.start is None), "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0,
             "shrink_axis_mask": 0}
    static = None if tensor.shape.ndims is None else [None] + tensor.shape.as_list()[1:]
    return shape_values.create("StridedSlice", [tensor], attrs, "strided_slice", static).outputs[0]
