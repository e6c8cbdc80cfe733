"""Graph-structural TF1 ops: constant, placeholder, identity, no_op, group, convert_to_tensor."""
from __future__ import annotations

import numpy as np

from lowerflow.frontend import dtypes
from lowerflow.frontend.graph import Operation, Tensor, get_default_graph
from lowerflow.frontend.op_builder import apply, graph_of, to_numpy
from lowerflow.frontend.tensor_shape import TensorShape, as_shape


def constant(value, dtype=None, shape=None, name: str = "Const", verify_shape: bool = False) -> Tensor:
    """tf.constant: a Python/numpy value baked into the graph."""
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    if dtype in (None, dtypes.string) and _is_text(value):
        return _string_constant(value, shape, name)
    arr = to_numpy(value, dtype)
    if shape is not None:
        shape = tuple(as_shape(shape).as_list())
        if verify_shape and arr.shape != shape:
            raise TypeError(f"Expected Tensor's shape: {shape}, got {arr.shape}.")
        if arr.size == 1:
            arr = np.broadcast_to(arr.reshape(()), shape)
        elif arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape "
                            f"(value has {arr.size} elements, shape is {shape} with "
                            f"{int(np.prod(shape))} elements).")
    arr = np.array(arr, order="C")  # a private copy (ascontiguousarray would make 0-d arrays 1-d)
    arr.setflags(write=False)
    return apply("Const", [], {"value": arr}, name)


def _is_text(value) -> bool:
    """Whether `value` is a string or an array or nested list of them."""
    if isinstance(value, (str, bytes)):
        return True
    if isinstance(value, (Tensor, Operation)) or not isinstance(value, (list, tuple, np.ndarray)):
        return False
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged
        return False
    return arr.dtype.kind in "SU" or arr.dtype == object and arr.size > 0 and all(
        isinstance(v, (str, bytes)) for v in arr.reshape(-1))


def _string_constant(value, shape, name: str) -> Tensor:
    """A string constant (text for `tf.summary.text`): an object array of bytes, as TF1
    fetches it. The runtime answers it on the host (`runtime/summary_host.py`); native
    code has no strings, so an op that computes with one cannot be lowered."""
    flat = [v.encode() if isinstance(v, str) else bytes(v) for v in np.asarray(value).reshape(-1)]
    arr = np.empty(len(flat), object)
    arr[:] = flat
    arr = arr.reshape(np.shape(value))
    if shape is not None:
        shape = tuple(as_shape(shape).as_list())
        arr = np.broadcast_to(arr.reshape(()), shape).copy() if arr.size == 1 else arr.reshape(shape)
    arr.setflags(write=False)
    graph = get_default_graph()
    return graph.create_op("Const", [], [(dtypes.string, TensorShape(arr.shape))], {"value": arr}, name=name).outputs[0]


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, dtype_hint=None) -> Tensor:
    """Tensors pass through (dtype-checked); Variables give their value; data becomes a constant."""
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    if hasattr(value, "_as_tensor"):
        value = value._as_tensor()
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with "
                             f"dtype {value.dtype.name}: {value!r}")
        return value
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype={dtype}, "
                        f"name={name}, as_ref=False)")
    if isinstance(value, (list, tuple)) and _holds_tensor(value):
        from lowerflow.frontend.array_ops import stack  # packing lists of tensors, as TF1 does

        return stack(list(value), name=name or "packed")
    hint = preferred_dtype or dtype_hint
    if dtype is None and hint is not None:
        try:
            return constant(value, dtypes.as_dtype(hint), name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype, name=name or "Const")


def _holds_tensor(value) -> bool:
    """Whether a (nested) list holds a tensor: then it is packed with `stack`, as in TF1."""
    if isinstance(value, (list, tuple)):
        return any(_holds_tensor(v) for v in value)
    return isinstance(value, Tensor) or hasattr(value, "_as_tensor")


def convert_operands(values, dtype=None):
    """Convert op operands together: Python data takes the dtype of a tensor among them."""
    if dtype is None:
        for v in values:
            if isinstance(v, Tensor) or hasattr(v, "_as_tensor"):
                dtype = convert_to_tensor(v).dtype
                break
    return [convert_to_tensor(v, dtype=dtype if not isinstance(v, Tensor) else None) for v in values]


def placeholder(dtype, shape=None, name: str | None = None) -> Tensor:
    """tf.placeholder: must be fed at run time; `shape` may have None dims or be None."""
    dtype = dtypes.as_dtype(dtype)
    graph = get_default_graph()
    op = graph.create_op("Placeholder", [], [(dtype, TensorShape(shape))],
                         {"dtype": dtype.ir, "shape": TensorShape(shape).as_tuple()}, name or "Placeholder")
    return op.outputs[0]


def placeholder_with_default(input, shape, name: str | None = None) -> Tensor:
    """A placeholder that yields `input` when not fed."""
    default = convert_to_tensor(input)
    shape = TensorShape(shape)
    if not shape.is_compatible_with(default.shape):
        raise ValueError(f"Shapes {default.shape} and {shape} are incompatible")
    op = default.graph.create_op("PlaceholderWithDefault", [default], [(default.dtype, shape)],
                                 {"shape": shape.as_tuple()}, name or "PlaceholderWithDefault")
    return op.outputs[0]


def identity(input, name: str | None = None) -> Tensor:
    return apply("Identity", [convert_to_tensor(input)], name=name or "Identity")


def stop_gradient(input, name: str | None = None) -> Tensor:
    return apply("StopGradient", [convert_to_tensor(input)], name=name or "StopGradient")


def no_op(name: str | None = None) -> Operation:
    return get_default_graph().create_op("NoOp", [], [], name=name or "NoOp")


def group(*inputs, name: str | None = None) -> Operation:
    """An op that runs all `inputs` (ops, tensors or nested lists of them)."""
    flat = []

    def walk(x):
        if isinstance(x, (list, tuple)):
            for y in x:
                walk(y)
        elif x is not None:
            flat.append(x)

    walk(inputs)
    graph = graph_of([getattr(x, "op", x) for x in flat])
    with graph.control_dependencies(flat):
        return graph.create_op("NoOp", [], [], name=name or "group_deps")


def tuple_(tensors, name=None, control_inputs=None):
    """tf.tuple: each output waits for all inputs."""
    tensors = [convert_to_tensor(t) for t in tensors]
    gate = group(*tensors, *(control_inputs or []))
    with gate.graph.control_dependencies([gate]):
        return [identity(t) for t in tensors]
