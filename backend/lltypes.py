"""IR element types as LLVM types, in registers and in memory.

Registers use the natural LLVM type (`half`, `float`, `i32`, ... and `i1` for bool);
memory follows numpy's layout, where a bool is one byte. Signedness is not part of
LLVM integer types, so lowerings read it from the `ElemType` (`is_signed`).
"""
from __future__ import annotations

from llvmlite import ir

from lowerflow.ir import ElemType

I1, I8, I32, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
PTR = ir.PointerType()  # opaque pointer: never typed (LLVM's pointers have no pointee type)
_FLOATS = {16: ir.HalfType(), 32: ir.FloatType(), 64: ir.DoubleType()}


def reg_type(dtype: ElemType) -> ir.Type:
    """The type a value of `dtype` has in a register (bool is i1)."""
    if dtype.is_float:
        return _FLOATS[dtype.bits]
    return ir.IntType(dtype.bits)


def mem_type(dtype: ElemType) -> ir.Type:
    """The type of one element in memory (bool is one byte, as in numpy)."""
    return I8 if dtype.is_bool else reg_type(dtype)


def load_elem(b: ir.IRBuilder, ptr: ir.Value, offset: ir.Value, dtype: ElemType) -> ir.Value:
    """Load element `offset` (in elements) of the buffer at `ptr` as a register value."""
    mt = mem_type(dtype)
    v = b.load(b.gep(ptr, [offset], source_etype=mt, inbounds=True), typ=mt)
    # numpy bools are 0/1 bytes, but any non-zero byte means True: compare, don't truncate.
    return b.icmp_unsigned("!=", v, ir.Constant(I8, 0)) if dtype.is_bool else v


def store_elem(b: ir.IRBuilder, value: ir.Value, ptr: ir.Value, offset: ir.Value, dtype: ElemType) -> None:
    mt = mem_type(dtype)
    if dtype.is_bool:
        value = b.zext(value, I8)
    b.store(value, b.gep(ptr, [offset], source_etype=mt, inbounds=True))


def declare(m: ir.Module, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
    """Function `name` of module `m`, declared with this signature on first use."""
    fn = m.globals.get(name)
    return fn if fn is not None else ir.Function(m, ir.FunctionType(ret, args), name)
