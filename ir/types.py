"""Element and tensor types of the IR (cf. MLIR's builtin `tensor<2x?xf32>`).

An `ElemType` is one scalar kind with its MLIR spelling and numpy counterpart; a
`TensorType` is a shape (ints, or None for a dimension unknown until run time)
plus an element type. Both are immutable and hashable so they can key caches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ElemType:
    """One scalar kind: `name` is its IR spelling, `np_dtype` its numpy dtype."""

    name: str
    np_name: str
    kind: str  # "float", "int", "uint" or "bool"
    bits: int

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.np_name)

    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def is_int(self) -> bool:
        return self.kind in ("int", "uint")

    @property
    def is_signed(self) -> bool:
        return self.kind in ("int", "float")

    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"

    @property
    def nbytes(self) -> int:
        return max(self.bits // 8, 1)

    def __str__(self) -> str:
        return self.name


F16 = ElemType("f16", "float16", "float", 16)
F32 = ElemType("f32", "float32", "float", 32)
F64 = ElemType("f64", "float64", "float", 64)
I8 = ElemType("i8", "int8", "int", 8)
I16 = ElemType("i16", "int16", "int", 16)
I32 = ElemType("i32", "int32", "int", 32)
I64 = ElemType("i64", "int64", "int", 64)
U8 = ElemType("ui8", "uint8", "uint", 8)
U16 = ElemType("ui16", "uint16", "uint", 16)
U32 = ElemType("ui32", "uint32", "uint", 32)
U64 = ElemType("ui64", "uint64", "uint", 64)
BOOL = ElemType("i1", "bool", "bool", 1)

ELEM_TYPES: dict[str, ElemType] = {
    t.name: t for t in (F16, F32, F64, I8, I16, I32, I64, U8, U16, U32, U64, BOOL)
}
_BY_NUMPY = {t.np_dtype: t for t in ELEM_TYPES.values()}


def elem_type_of(np_dtype) -> ElemType:
    """The IR element type of a numpy dtype; TypeError for kinds we do not support."""
    try:
        return _BY_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"unsupported element type {np_dtype!r}") from None


@dataclass(frozen=True)
class TensorType:
    """A ranked tensor type; dims are ints, or None where unknown (printed `?`)."""

    shape: tuple
    dtype: ElemType

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return all(d is not None for d in self.shape)

    @property
    def size(self) -> int:
        """Number of elements; only defined for static shapes."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.nbytes

    def with_shape(self, shape) -> "TensorType":
        return TensorType(tuple(shape), self.dtype)

    def with_dtype(self, dtype: ElemType) -> "TensorType":
        return TensorType(self.shape, dtype)

    def __str__(self) -> str:
        dims = "".join(("?" if d is None else str(d)) + "x" for d in self.shape)
        return f"tensor<{dims}{self.dtype}>"


def compatible(e, g) -> bool:
    """Equal types, where a tensor's unknown dim (None) matches any size."""
    if not (isinstance(e, TensorType) and isinstance(g, TensorType)):
        return e == g
    return e.dtype == g.dtype and len(e.shape) == len(g.shape) and all(
        a is None or b is None or a == b for a, b in zip(e.shape, g.shape))


def tensor(shape, dtype: ElemType) -> TensorType:
    return TensorType(tuple(None if d is None else int(d) for d in shape), dtype)


@dataclass(frozen=True)
class MemRefType:
    """A buffer of the loop level: a static shape, element strides per dim (0 on a dim read
    through broadcasting, negative on one read backwards), an element type and the element
    offset of index 0 into the buffer it views (cf. MLIR's `memref<4x8xf32, strided<[8, 1],
    offset: 4>>`; C-contiguous strides at offset 0 print as plain `memref<4x8xf32>`).
    A buffer whose size is known only when the step runs is flat, `memref<?xf32>` (shape
    `(None,)`): a kernel of run-time dims computes its flat indices itself."""

    shape: tuple
    strides: tuple
    dtype: ElemType
    offset: int = 0

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return None not in self.shape

    @property
    def is_contiguous(self) -> bool:
        return self.offset == 0 and (not self.is_static or self.strides == contiguous_strides(self.shape))

    def __str__(self) -> str:
        dims = "".join(("?" if d is None else str(d)) + "x" for d in self.shape)
        offset = f", offset: {self.offset}" if self.offset else ""
        layout = "" if self.is_contiguous else f", strided<[{', '.join(map(str, self.strides))}]{offset}>"
        return f"memref<{dims}{self.dtype}{layout}>"


def memref(shape, dtype: ElemType, strides=None, offset: int = 0) -> MemRefType:
    """A buffer type; C-contiguous at offset 0 unless `strides` and `offset` say otherwise.
    A run-time size (None) makes a flat buffer, `memref<?xT>`, and nothing else."""
    shape = tuple(None if d is None else int(d) for d in shape)
    if None in shape:
        if shape != (None,) or strides not in (None, (1,), [1]) or offset:
            raise ValueError("a buffer of run-time size is flat and contiguous (memref<?xT>), "
                             f"got shape {['?' if d is None else d for d in shape]}")
        return MemRefType(shape, (1,), dtype)
    strides = contiguous_strides(shape) if strides is None else tuple(int(s) for s in strides)
    return MemRefType(shape, strides, dtype, int(offset))


def contiguous_strides(shape) -> tuple:
    """Element strides of a C-contiguous array of `shape`."""
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


@dataclass(frozen=True)
class IndexType:
    """The type of loop induction variables and index arithmetic (MLIR's `index`; i64 in LLVM)."""

    def __str__(self) -> str:
        return "index"


INDEX = IndexType()
#: What an SSA value may have as its type: a tensor (the tensor level), a buffer, an index,
#: or a scalar (an ElemType: a value in a register of the loop level).
ValueType = TensorType | MemRefType | IndexType | ElemType
