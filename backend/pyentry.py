"""A second entry point for the JIT: `PyObject *<name>_py(PyObject *self, PyListObject *arrays)`,
a CPython builtin function (METH_O).

Calling `step(void **buffers)` from Python costs one ctypes store per buffer plus reading
each ndarray's data pointer (~0.2 µs each, notes §3) and a lock around the shared table.
Instead the Session passes one Python list of the argument and output arrays; this entry
reads `list->ob_item[i]->data` itself (CPython: `ob_item` at byte 24 of a list object,
numpy: `data` at byte 16 of an ndarray) into a stack table, releases the GIL
(`PyEval_SaveThread`, as ctypes would), calls the step, takes the GIL back and returns the
status as a Python int. Nothing is shared between calls, so it needs no lock.

Why a builtin rather than a ctypes function pointer: `PyCFunction_NewEx` over a
`PyMethodDef` that points at the JIT code makes a function Python calls directly, ~40 ns
against ~240 ns through ctypes' argument conversion, and that is a tenth of a tiny run.
The layout is verified once per process (`LAYOUT_OK`); where it does not hold, executables
keep the table path. JIT only: ahead-of-time objects never contain it.
"""
from __future__ import annotations

import ctypes
import functools

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir

from lowerflow.backend.errors import BAD_ARGUMENTS
from lowerflow.backend.lltypes import I64, PTR, declare

OBJECT_TYPE_OFFSET = 8  # PyObject.ob_type
LIST_SIZE_OFFSET = 16  # PyVarObject.ob_size
LIST_ITEMS_OFFSET = 24  # PyListObject.ob_item (after PyObject_VAR_HEAD) on 64-bit CPython
ARRAY_DATA_OFFSET = 16  # PyArrayObject_fields.data (after PyObject_HEAD) in numpy


def _layout_ok() -> bool:
    probe = np.arange(3.0)
    items = [probe]
    read = ctypes.c_void_p.from_address
    try:
        ob_item = read(id(items) + LIST_ITEMS_OFFSET).value
        return (ctypes.sizeof(ctypes.c_void_p) == 8 and read(ob_item).value == id(probe)
                and read(id(items) + OBJECT_TYPE_OFFSET).value == id(list)
                and read(id(items) + LIST_SIZE_OFFSET).value == len(items)
                and read(id(probe) + ARRAY_DATA_OFFSET).value == probe.ctypes.data)
    except (ValueError, OSError):  # pragma: no cover - exotic interpreters
        return False


LAYOUT_OK = _layout_ok()
METH_O = 0x0008
_CAPI = ("PyEval_SaveThread", "PyEval_RestoreThread", "PyLong_FromSsize_t")


class PyMethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p), ("ml_flags", ctypes.c_int),
                ("ml_doc", ctypes.c_char_p)]


_new_builtin = ctypes.pythonapi.PyCFunction_NewEx
_new_builtin.restype = ctypes.py_object
_new_builtin.argtypes = [ctypes.POINTER(PyMethodDef), ctypes.py_object, ctypes.c_void_p]


@functools.cache
def register_symbols() -> None:
    """Make the CPython API functions the entry calls known to the JIT linker (the
    interpreter binary need not export them dynamically)."""
    for name in _CAPI:
        llvm.add_symbol(name, ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value)
    llvm.add_symbol("PyList_Type", ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "PyList_Type")))


def builtin(address: int, name: str, owner: object):
    """A Python function calling the entry at `address` with one list. It references `owner`
    (what keeps the code alive: the JIT engine) and its own PyMethodDef as its `self`
    object (passed to the entry, which ignores it), so as long as the function can be
    called, neither the code nor the method record can be freed."""
    method = PyMethodDef(name.encode(), address, METH_O, None)
    return _new_builtin(ctypes.byref(method), (owner, method), None)


def entry_name(name: str) -> str:
    return f"{name}_py"


def add_pyobject_entry(m: ir.Module, name: str, n_slots: int) -> None:
    """Define `<name>_py(self, list)` in `m`, calling the already defined step `name`."""
    step = m.get_global(name)
    fn = ir.Function(m, ir.FunctionType(PTR, [PTR, PTR]), entry_name(name))
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    table = b.alloca(PTR, size=max(n_slots, 1), name="table")
    list_obj = fn.args[1]
    size = b.load(b.gep(list_obj, [ir.Constant(I64, LIST_SIZE_OFFSET)], source_etype=ir.IntType(8)), typ=I64)
    kind = b.load(b.gep(list_obj, [ir.Constant(I64, OBJECT_TYPE_OFFSET)], source_etype=ir.IntType(8)), typ=PTR)
    list_type = m.globals.get("PyList_Type") or ir.GlobalVariable(m, ir.IntType(8), "PyList_Type")
    wrong = b.or_(b.icmp_unsigned("!=", kind, list_type), b.icmp_signed("!=", size, ir.Constant(I64, n_slots)))
    with b.if_then(wrong, likely=False):
        b.ret(b.call(declare(m, "PyLong_FromSsize_t", PTR, [I64]), [ir.Constant(I64, BAD_ARGUMENTS)]))
    ob_item = b.load(b.gep(list_obj, [ir.Constant(I64, LIST_ITEMS_OFFSET)], source_etype=ir.IntType(8)),
                     typ=PTR, name="ob_item")
    for i in range(n_slots):
        array = b.load(b.gep(ob_item, [ir.Constant(I64, i)], source_etype=PTR), typ=PTR)
        data = b.load(b.gep(array, [ir.Constant(I64, ARRAY_DATA_OFFSET)], source_etype=ir.IntType(8)), typ=PTR)
        b.store(data, b.gep(table, [ir.Constant(I64, i)], source_etype=PTR))
    thread_state = b.call(declare(m, "PyEval_SaveThread", PTR, []), [])
    status = b.call(step, [table])
    b.call(declare(m, "PyEval_RestoreThread", ir.VoidType(), [PTR]), [thread_state])
    b.ret(b.call(declare(m, "PyLong_FromSsize_t", PTR, [I64]), [b.sext(status, I64)]))
