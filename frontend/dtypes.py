"""TF1 dtypes (`tf.float32`, ...) as thin handles over the IR's element types."""
from __future__ import annotations

import numpy as np

from lowerflow import ir


class DType:
    """A TF1 DType. `as_numpy_dtype` and `base_dtype` behave as in TF1."""

    __slots__ = ("name", "ir")

    def __init__(self, name: str, elem: ir.ElemType):
        self.name = name
        self.ir = elem

    @property
    def as_numpy_dtype(self):
        return object if self.ir is None else self.ir.np_dtype.type

    @property
    def base_dtype(self) -> "DType":
        return self

    @property
    def real_dtype(self) -> "DType":
        return self

    @property
    def is_floating(self) -> bool:
        return self.ir.is_float

    @property
    def is_integer(self) -> bool:
        return self.ir.is_int

    @property
    def is_bool(self) -> bool:
        return self.ir.is_bool

    @property
    def is_unsigned(self) -> bool:
        return self.ir.kind in ("uint", "bool")

    @property
    def size(self) -> int:
        return self.ir.nbytes

    @property
    def min(self):
        return np.finfo(self.ir.np_dtype).min if self.is_floating else np.iinfo(self.ir.np_dtype).min

    @property
    def max(self):
        return np.finfo(self.ir.np_dtype).max if self.is_floating else np.iinfo(self.ir.np_dtype).max

    def is_compatible_with(self, other) -> bool:
        return as_dtype(other) is self

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = half = DType("float16", ir.ELEM_TYPES["f16"])
float32 = DType("float32", ir.ELEM_TYPES["f32"])
float64 = double = DType("float64", ir.ELEM_TYPES["f64"])
int8 = DType("int8", ir.ELEM_TYPES["i8"])
int16 = DType("int16", ir.ELEM_TYPES["i16"])
int32 = DType("int32", ir.ELEM_TYPES["i32"])
int64 = DType("int64", ir.ELEM_TYPES["i64"])
uint8 = DType("uint8", ir.ELEM_TYPES["ui8"])
uint16 = DType("uint16", ir.ELEM_TYPES["ui16"])
uint32 = DType("uint32", ir.ELEM_TYPES["ui32"])
uint64 = DType("uint64", ir.ELEM_TYPES["ui64"])
bool_ = DType("bool", ir.ELEM_TYPES["i1"])
string = DType("string", None)  # only for values the runtime produces itself (variable names)

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool_)
_BY_KEY: dict = {"string": string}
for _d in ALL:
    _BY_KEY[_d.name] = _d
    _BY_KEY[_d.ir] = _d
    _BY_KEY[_d.ir.np_dtype] = _d
_BY_KEY.update({float: float32, int: int32, bool: bool_, "half": float16, "float": float32, "double": float64})


def as_dtype(value) -> DType:
    """Convert a DType, its name, a numpy dtype/type or an IR ElemType to a DType.

    A string is a TF dtype name only ("float" is float32, "double" float64): numpy's
    spellings ("int", "f4") are refused as TF refuses them."""
    if isinstance(value, DType):
        return value
    if isinstance(value, (str, ir.ElemType, type)) and value in _BY_KEY:
        return _BY_KEY[value]
    if isinstance(value, str):
        raise TypeError(f"Cannot convert the argument `type_value`: {value!r} to a TensorFlow DType.")
    try:
        return _BY_KEY[np.dtype(value)]
    except (TypeError, KeyError):
        raise TypeError(f"Cannot convert value {value!r} to a TensorFlow DType.") from None
