"""Values between our attributes and TF's protos: dtypes, shapes, tensors, AttrValues.

cf. TF's framework/tensor_util.py (`make_tensor_proto`, `MakeNdarray`) and
framework/attr_value.proto: a TensorProto holds its data either packed in
`tensor_content` (little-endian bytes) or in the typed `*_val` fields, where fewer
values than elements repeat the last one.
"""
from __future__ import annotations

import numpy as np

from lowerflow import ir
from lowerflow.frontend import dtypes, protos

DT = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7,
      "int64": 9, "bool": 10, "uint16": 17, "float16": 19, "uint32": 22, "uint64": 23}
_BY_ENUM = {v: k for k, v in DT.items()}
_VAL_FIELD = {"float32": "float_val", "float64": "double_val", "int32": "int_val", "uint8": "int_val",
              "int16": "int_val", "int8": "int_val", "int64": "int64_val", "bool": "bool_val",
              "uint16": "int_val", "float16": "half_val", "uint32": "uint32_val", "uint64": "uint64_val"}


def dtype_enum(dtype) -> int:
    """TF's DataType number of a DType, ElemType or name."""
    return DT[dtypes.as_dtype(dtype).name]


def dtype_of_enum(enum: int) -> dtypes.DType:
    """Our DType for TF's DataType number (a `_REF` type is its base type); strings only
    name constant tags here, never a computed tensor."""
    name = _BY_ENUM.get(enum % 100 if enum > 100 else enum)
    if name is None:
        raise TypeError(f"lowerflow has no tensor dtype for TF DataType {enum}")
    return dtypes.as_dtype(name)


def shape_proto(dims) -> "protos.TensorShapeProto":
    """A TensorShapeProto from a tuple of ints/None (None: unknown rank)."""
    proto = protos.TensorShapeProto()
    if dims is None:
        proto.unknown_rank = True
    else:
        for d in dims:
            proto.dim.add(size=-1 if d is None else int(d))
    return proto


def shape_of_proto(proto) -> tuple | None:
    if proto.unknown_rank:
        return None
    return tuple(None if d.size < 0 else int(d.size) for d in proto.dim)


def tensor_proto(value: np.ndarray) -> "protos.TensorProto":
    """`make_tensor_proto` for an ndarray: dtype, shape and the packed little-endian content."""
    arr = np.asarray(value)
    if arr.dtype.kind in "OSU":  # strings (summary tags): bytes in string_val
        return protos.TensorProto(dtype=DT["string"], tensor_shape=shape_proto(arr.shape),
                                  string_val=[v.encode() if isinstance(v, str) else bytes(v) for v in arr.reshape(-1)])
    dt = dtypes.as_dtype(arr.dtype)
    proto = protos.TensorProto(dtype=DT[dt.name], tensor_shape=shape_proto(arr.shape))
    if arr.size == 1 or arr.size == 0:  # TF writes scalars in the typed field
        if arr.size:
            flat = arr.reshape(-1)
            if dt.name == "float16":
                flat = flat.view(np.uint16)
            getattr(proto, _VAL_FIELD[dt.name]).extend(flat.tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()
    return proto


def array_of_tensor_proto(proto) -> np.ndarray:
    """`MakeNdarray`: the array a TensorProto holds (read-only); strings as an object array."""
    if proto.dtype == DT["string"]:
        arr = np.empty(len(proto.string_val), object)
        arr[:] = list(proto.string_val)
        return arr.reshape(shape_of_proto(proto.tensor_shape) or ())
    dt = dtype_of_enum(proto.dtype)
    shape = shape_of_proto(proto.tensor_shape) or ()
    if any(d is None for d in shape):
        raise ValueError(f"a constant tensor needs a fully defined shape, got {shape}")
    np_dtype = np.dtype(dt.as_numpy_dtype).newbyteorder("<")
    count = int(np.prod(shape, dtype=np.int64))
    if proto.tensor_content:
        arr = np.frombuffer(proto.tensor_content, np_dtype).astype(dt.as_numpy_dtype)
    else:
        values = list(getattr(proto, _VAL_FIELD[dt.name]))
        if dt.name == "float16":
            values = np.array(values, np.uint16).view(np.float16)
        arr = np.array(values, dt.as_numpy_dtype)
        if arr.size < count:  # TF repeats the last value (or zero when none is given)
            fill = arr[-1] if arr.size else np.zeros((), dt.as_numpy_dtype)
            arr = np.concatenate([arr, np.full(count - arr.size, fill, dt.as_numpy_dtype)])
    if arr.size != count:
        raise ValueError(f"TensorProto holds {arr.size} values for shape {list(shape)}")
    arr = arr.reshape(shape)
    arr.setflags(write=False)
    return arr


def attr_value(value, kind: str) -> "protos.AttrValue":
    """An AttrValue of TF kind b/i/f/s/type/shape/ints/tensor from our attribute value."""
    if kind == "b":
        return protos.AttrValue(b=bool(value))
    if kind == "i":
        return protos.AttrValue(i=int(value))
    if kind == "f":
        return protos.AttrValue(f=float(value))
    if kind == "s":
        return protos.AttrValue(s=value.encode() if isinstance(value, str) else bytes(value))
    if kind == "type":
        return protos.AttrValue(type=dtype_enum(value))
    if kind == "shape":
        return protos.AttrValue(shape=shape_proto(value))
    if kind == "ints":
        return protos.AttrValue(list=protos.AttrValue.ListValue(i=[int(v) for v in value]))
    if kind == "tensor":
        return protos.AttrValue(tensor=tensor_proto(value))
    raise ValueError(f"unknown attr kind {kind!r}")


def from_attr_value(av, kind: str):
    """Our attribute value of TF kind `kind` from an AttrValue."""
    if kind == "b":
        return bool(av.b)
    if kind == "i":
        return int(av.i)
    if kind == "f":
        return float(av.f)
    if kind == "s":
        return av.s.decode()
    if kind == "type":
        return dtype_of_enum(av.type).ir
    if kind == "shape":
        return shape_of_proto(av.shape)
    if kind == "ints":
        return [int(v) for v in av.list.i]
    if kind == "tensor":
        return array_of_tensor_proto(av.tensor)
    raise ValueError(f"unknown attr kind {kind!r}")


def generic_attr_value(value) -> "protos.AttrValue":
    """An AttrValue for an attribute of ours with no TF counterpart, by its Python type."""
    if isinstance(value, bool):
        return attr_value(value, "b")
    if isinstance(value, (int, np.integer)):
        return attr_value(value, "i")
    if isinstance(value, (float, np.floating)):
        return attr_value(value, "f")
    if isinstance(value, str):
        return attr_value(value, "s")
    if isinstance(value, ir.ElemType):
        return attr_value(value, "type")
    if isinstance(value, np.ndarray):
        return attr_value(value, "tensor")
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, np.integer)) for v in value):
        return attr_value(value, "ints")
    raise TypeError(f"attribute value {value!r} has no AttrValue form")


_LIST_FIELDS = ("s", "i", "f", "b", "type", "shape", "tensor", "func")


def python_attr(av):
    """An AttrValue as TF's `Operation.get_attr` returns it: a DType for a type, the
    proto for a shape, tensor or function, the plain value otherwise; a list as the list of
    its one set field."""
    which = av.WhichOneof("value")
    if which == "list":
        for field in _LIST_FIELDS:
            values = getattr(av.list, field)
            if values:
                return [dtype_of_enum(t) for t in values] if field == "type" else list(values)
        return []
    if which == "type":
        return dtype_of_enum(av.type)
    return getattr(av, which)


def generic_from_attr_value(av):
    """The inverse of `generic_attr_value`, by the AttrValue's set field."""
    which = av.WhichOneof("value")
    if which == "list":
        return [int(v) for v in av.list.i]
    return from_attr_value(av, {"b": "b", "i": "i", "f": "f", "s": "s", "type": "type", "shape": "shape",
                                "tensor": "tensor"}[which])
