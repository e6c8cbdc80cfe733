"""Creating graph ops whose meaning is declared in the IR op registry.

`apply_op("AddV2", [x, y])` finds the IR op for the TF1 type, infers output
dtypes and static shapes with that op's `infer` rule (so the frontend and the
compiler share one definition), and raises TF1's build-time errors: ValueError
for incompatible shapes, TypeError for dtypes.
"""
from __future__ import annotations

import numpy as np

from lowerflow import ir
from lowerflow.frontend import dtypes, shape_values
from lowerflow.frontend.graph import Graph, Operation, Tensor, get_default_graph
from lowerflow.frontend.tensor_shape import TensorShape


def ir_type(t: Tensor) -> ir.TensorType:
    """The IR type of a tensor's static shape; unknown rank becomes rank 0 (dtype-only use)."""
    dims = t.shape.as_tuple()
    return ir.TensorType(dims if dims is not None else (), t.dtype.ir)


def _shape_str(t: Tensor) -> str:
    dims = t.shape.as_tuple()
    return "?" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def infer_outputs(ir_name: str, inputs: list[Tensor], attrs: dict, op_type: str, name: str):
    """(DType, TensorShape) per output, via the IR op's inference rule."""
    opdef = ir.get_op(ir_name)
    try:
        types = opdef.infer([ir_type(t) for t in inputs], attrs)
    except ValueError as e:
        shapes = ", ".join(_shape_str(t) for t in inputs)
        raise ValueError(f"{e} for '{name}' (op: '{op_type}') with input shapes: {shapes}.") from None
    unknown_rank = any(t.shape.ndims is None for t in inputs)
    return [(dtypes.as_dtype(t.dtype), TensorShape(None if unknown_rank else t.shape)) for t in types]


def apply_op(op_type: str, inputs: list[Tensor], attrs: dict | None = None, name: str | None = None,
             graph: Graph | None = None) -> Operation:
    """Create a graph op of TF1 type `op_type` backed by its IR definition."""
    attrs = dict(attrs or {})
    graph = graph or (inputs[0].graph if inputs else get_default_graph())
    ir_name = ir.TF_TO_IR.get(op_type)
    if ir_name is None:
        raise NotImplementedError(f"op type '{op_type}' has no IR definition")
    for t in inputs:
        if t.dtype is dtypes.string:  # string constants exist only for summaries (core_ops.constant)
            raise TypeError(f"lowerflow has no string computations: {op_type} cannot take the string tensor "
                            f"{t.name!r} (strings serve summaries and fetches only)")
    if shape_values.run_values(attrs):
        return shape_values.create(op_type, inputs, attrs, name or op_type, graph=graph)
    preview = graph.unique_name(name or op_type, mark_as_used=False)
    outputs = infer_outputs(ir_name, inputs, attrs, op_type, preview)
    return graph.create_op(op_type, inputs, outputs, attrs, name=name or op_type)


def apply(op_type: str, inputs: list[Tensor], attrs: dict | None = None, name: str | None = None) -> Tensor:
    """apply_op for the common single-output case."""
    return apply_op(op_type, inputs, attrs, name).outputs[0]


def graph_of(values) -> Graph:
    """The graph the tensors among `values` belong to, else the default graph."""
    for v in values:
        g = getattr(v, "graph", None)
        if isinstance(g, Graph):
            return g
    return get_default_graph()


def natural_dtype(value) -> dtypes.DType:
    """TF1's dtype for a Python/numpy value: floats f32, ints i32 (i64 if too big), else numpy's."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return dtypes.as_dtype(np.asarray(value).dtype)
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return dtypes.float32
    if arr.dtype.kind in "iu":
        info = np.iinfo(np.int32)
        if arr.size and (arr.max() > info.max or arr.min() < info.min):
            return dtypes.int64
        return dtypes.int32
    if arr.dtype.kind == "b":
        return dtypes.bool_
    raise TypeError(f"Failed to convert object of type {type(value)} to Tensor. "
                    f"Contents: {value!r}. Consider casting elements to a supported type.")


def to_numpy(value, dtype: dtypes.DType | None) -> np.ndarray:
    """Convert a Python/numpy value to an array of `dtype`, refusing lossy float→int as TF1 does."""
    target = dtype or natural_dtype(value)
    arr = np.asarray(value)
    if arr.dtype == object:
        raise TypeError(f"Failed to convert object of type {type(value)} to Tensor.")
    lossy = arr.size and arr.dtype.kind == "f" and not target.is_floating or (
        arr.dtype.kind in "iuf" and target.is_bool) or (arr.dtype.kind == "b" and not target.is_bool)
    if lossy and not isinstance(value, np.ndarray):
        raise TypeError(f"Expected {target.name}, got {value!r} of type '{type(value).__name__}' instead.")
    with np.errstate(all="ignore"):
        return arr.astype(target.as_numpy_dtype)
