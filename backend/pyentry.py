"""A second entry point for the JIT: `i32 <name>_py(PyListObject *arrays)`.

Calling `step(void **buffers)` from Python costs one ctypes store per buffer plus reading
each ndarray's data pointer (~0.2 µs each, notes §3) and a lock around the shared table.
Instead the Session passes one Python list of the argument and output arrays; this entry
reads `list->ob_item[i]->data` itself (CPython: `ob_item` at byte 24 of a list object,
numpy: `data` at byte 16 of an ndarray) into a stack table and calls the step. Nothing is
shared between calls, so it needs no lock. The layout is verified once per process
(`LAYOUT_OK`); where it does not hold, executables keep the table path. JIT only: ahead-of-
time objects never contain it.
"""
from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import ir

from lowerflow.backend.lltypes import I32, I64, PTR

LIST_ITEMS_OFFSET = 24  # PyListObject.ob_item (after PyObject_VAR_HEAD) on 64-bit CPython
ARRAY_DATA_OFFSET = 16  # PyArrayObject_fields.data (after PyObject_HEAD) in numpy


def _layout_ok() -> bool:
    probe = np.arange(3.0)
    items = [probe]
    read = ctypes.c_void_p.from_address
    try:
        ob_item = read(id(items) + LIST_ITEMS_OFFSET).value
        return (ctypes.sizeof(ctypes.c_void_p) == 8 and read(ob_item).value == id(probe)
                and read(id(probe) + ARRAY_DATA_OFFSET).value == probe.ctypes.data)
    except (ValueError, OSError):  # pragma: no cover - exotic interpreters
        return False


LAYOUT_OK = _layout_ok()
PY_ENTRY_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.py_object)


def entry_name(name: str) -> str:
    return f"{name}_py"


def add_pyobject_entry(m: ir.Module, name: str, n_slots: int) -> None:
    """Define `<name>_py(list)` in `m`, calling the already defined step `name`."""
    step = m.get_global(name)
    fn = ir.Function(m, ir.FunctionType(I32, [PTR]), entry_name(name))
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    table = b.alloca(PTR, size=max(n_slots, 1), name="table")
    list_obj = fn.args[0]
    ob_item = b.load(b.gep(list_obj, [ir.Constant(I64, LIST_ITEMS_OFFSET)], source_etype=ir.IntType(8)),
                     typ=PTR, name="ob_item")
    for i in range(n_slots):
        array = b.load(b.gep(ob_item, [ir.Constant(I64, i)], source_etype=PTR), typ=PTR)
        data = b.load(b.gep(array, [ir.Constant(I64, ARRAY_DATA_OFFSET)], source_etype=ir.IntType(8)), typ=PTR)
        b.store(data, b.gep(table, [ir.Constant(I64, i)], source_etype=PTR))
    b.ret(b.call(step, [table]))
