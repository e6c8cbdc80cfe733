"""TF1 reductions: `tf.reduce_sum` ... `tf.reduce_all`, `tf.argmax` and `tf.argmin`.

Signatures and defaults are TF1's (`axis`, `keepdims`, and the deprecated
`reduction_indices` / `keep_dims` spellings). Reduced axes must be static
(Python ints or constant tensors): they become the IR op's `axes` attribute
(see `lowerflow/ir/ops/reduction.py`). An input of unknown rank is allowed, as
in TF1: its result has unknown rank and the axes are checked once the run
gives the input a shape.
"""
from __future__ import annotations

from lowerflow import ir
from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Tensor
from lowerflow.frontend.op_builder import apply, ir_type
from lowerflow.frontend.tensor_shape import TensorShape


def static_ints(value, what: str) -> list[int]:
    """`value` (an int, a list of them or a tensor known when the graph is built) as a flat
    list of Python ints: `array_ops.static_ints`, the one reading of build-time values."""
    from lowerflow.frontend.array_ops import static_ints as ints  # it builds on this module

    return ints(value, what)


def deprecated_argument_lookup(new, new_name: str, old, old_name: str):
    """TF1's deprecated_argument_lookup: a value under either name, not both."""
    if old is not None:
        if new is not None:
            raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'")
        return old
    return new


def apply_unknown_rank(op_type: str, inputs: list[Tensor], attrs: dict, name: str, standin_rank: int,
                       shape=None) -> Tensor:
    """`apply`, also for inputs of unknown rank (TF1 allows them): those are checked as
    `standin_rank` dims of unknown size, and the result has the static shape `shape`
    (None: unknown rank); the run's shapes are checked when the graph is lowered."""
    if all(t.shape.ndims is not None for t in inputs):
        return apply(op_type, inputs, attrs, name)
    types = [ir_type(t) if t.shape.ndims is not None else ir.TensorType((None,) * standin_rank, t.dtype.ir)
             for t in inputs]
    (out,) = ir.get_op(ir.TF_TO_IR[op_type]).infer(types, attrs)
    graph = inputs[0].graph
    return graph.create_op(op_type, inputs, [(dtypes.as_dtype(out.dtype), TensorShape(shape))], attrs,
                           name).outputs[0]


def _create(op_type: str, x: Tensor, attrs: dict, name: str) -> Tensor:
    """A reduction's graph op; an input of unknown rank stands in with just enough dims for
    its axes, and reducing every axis (keepdims off) gives a scalar even then, as in TF1."""
    axes = attrs.get("axes", [attrs.get("axis", 0)])
    rank = max((a + 1 if a >= 0 else -a for a in axes), default=0)
    reduces_all = attrs.get("keepdims") is False and "axes" not in attrs
    return apply_unknown_rank(op_type, [x], attrs, name, rank, () if reduces_all else None)


def _reducer(op_type: str):
    def reduce(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
        axis = deprecated_argument_lookup(axis, "axis", reduction_indices, "reduction_indices")
        keepdims = bool(deprecated_argument_lookup(keepdims, "keepdims", keep_dims, "keep_dims"))
        attrs: dict = {"keepdims": keepdims}
        if axis is not None:
            attrs["axes"] = static_ints(axis, "reduction axis")
        return _create(op_type, convert_to_tensor(input_tensor), attrs, name or op_type)

    reduce.__doc__ = f"TF1's reduction with op type `{op_type}`."
    return reduce


reduce_sum = _reducer("Sum")
reduce_mean = _reducer("Mean")
reduce_max = _reducer("Max")
reduce_min = _reducer("Min")
reduce_prod = _reducer("Prod")
reduce_any = _reducer("Any")
reduce_all = _reducer("All")


def _arg(op_type: str):
    def arg(input, axis=None, name=None, dimension=None, output_type=dtypes.int64) -> Tensor:
        axis = deprecated_argument_lookup(axis, "axis", dimension, "dimension")
        (axis,) = static_ints(0 if axis is None else axis, "argmax/argmin axis")
        attrs = {"axis": axis, "output_type": dtypes.as_dtype(output_type).ir}
        return _create(op_type, convert_to_tensor(input), attrs, name or op_type)

    arg.__doc__ = f"TF1's `{op_type}`: the first index of the extreme along `axis` (default 0)."
    return arg


argmax = _arg("ArgMax")
argmin = _arg("ArgMin")
