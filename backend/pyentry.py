"""A second entry point for the JIT: `PyObject *<name>_py(PyObject *self, PyListObject *arrays)`,
a CPython builtin function (METH_O).

Calling `step(void **buffers)` from Python costs one ctypes store per buffer plus reading
each ndarray's data pointer (~0.2 µs each, measured) and a lock around the shared table.
Instead the Session passes one Python list of the argument and output arrays; this entry
reads `list->ob_item[i]->data` itself (CPython: `ob_item` at byte 24 of a list object,
numpy: `data` at byte 16 of an ndarray) into a stack table, releases the GIL
(`PyEval_SaveThread`, as ctypes would), calls the step, takes the GIL back and returns the
status as a Python int. Nothing is shared between calls, so it needs no lock.

The entry also checks each argument (not the outputs: the caller makes those) the way the
Session would before the call: an exact ndarray (`ob_type`) whose descriptor is numpy's
canonical one for the dtype, C-contiguous (`flags`), with the step's rank and dimensions;
a 0-d argument may also be one of `SCALARS` (a Python or numpy float for a float, a numpy
integer of the dtype, a Python or numpy bool for a bool), converted on the stack (as
`np.asarray(x, dtype)` rounds; a numpy scalar fed as a learning rate took 7.2 µs a run
through the Python checks, a Python float 0.67). Anything else returns `ARGUMENT_MISMATCH`
before the step runs, and the caller converts or rejects in Python. So the warm path of a
run does no per-argument work in Python (those checks cost more than the step itself).

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

from lowerflow.backend.errors import ARGUMENT_MISMATCH, BAD_ARGUMENTS
from lowerflow.backend.lltypes import I32, I64, PTR, declare
from lowerflow.ir import ELEM_TYPES, TensorType

OBJECT_TYPE_OFFSET = 8  # PyObject.ob_type
LIST_SIZE_OFFSET = 16  # PyVarObject.ob_size
LIST_ITEMS_OFFSET = 24  # PyListObject.ob_item (after PyObject_VAR_HEAD) on 64-bit CPython
ARRAY_DATA_OFFSET = 16  # PyArrayObject_fields.data (after PyObject_HEAD) in numpy
ARRAY_NDIM_OFFSET = 24  # .nd (int)
ARRAY_DIMS_OFFSET = 32  # .dimensions (npy_intp *)
ARRAY_DESCR_OFFSET = 56  # .descr (PyArray_Descr *)
ARRAY_FLAGS_OFFSET = 64  # .flags (int)
C_CONTIGUOUS = 0x1  # NPY_ARRAY_C_CONTIGUOUS
SCALAR_VALUE_OFFSET = 16  # PyFloatObject.ob_fval, and a numpy scalar's value (after PyObject_HEAD)
TUPLE_ITEMS_OFFSET = 24  # PyTupleObject.ob_item[] (inline, after PyObject_VAR_HEAD)
INT_DIGIT_OFFSET = 24  # a Python int's first 30-bit digit (ob_digit[0], after its size or tag)


def _layout_ok() -> bool:
    probe = np.arange(6.0).reshape(2, 3)
    items, pair = [probe], (None, probe)
    read = ctypes.c_void_p.from_address
    int32, int64 = ctypes.c_int32.from_address, ctypes.c_int64.from_address
    try:
        ob_item = read(id(items) + LIST_ITEMS_OFFSET).value
        dims = read(id(probe) + ARRAY_DIMS_OFFSET).value
        return (ctypes.sizeof(ctypes.c_void_p) == 8 and read(ob_item).value == id(probe)
                and read(id(items) + OBJECT_TYPE_OFFSET).value == id(list)
                and read(id(items) + LIST_SIZE_OFFSET).value == len(items)
                and read(id(probe) + ARRAY_DATA_OFFSET).value == probe.ctypes.data
                and read(id(probe) + OBJECT_TYPE_OFFSET).value == id(np.ndarray)
                and int32(id(probe) + ARRAY_NDIM_OFFSET).value == 2
                and (int64(dims).value, int64(dims + 8).value) == (2, 3)
                and read(id(probe) + ARRAY_DESCR_OFFSET).value == id(probe.dtype) == id(np.dtype(np.float64))
                and int32(id(probe) + ARRAY_FLAGS_OFFSET).value & C_CONTIGUOUS
                and not int32(id(probe.T) + ARRAY_FLAGS_OFFSET).value & C_CONTIGUOUS
                and ctypes.c_double.from_address(id(2.5) + SCALAR_VALUE_OFFSET).value == 2.5
                and read(id(pair) + TUPLE_ITEMS_OFFSET + 8).value == id(probe))
    except (ValueError, OSError):  # pragma: no cover - exotic interpreters
        return False


LAYOUT_OK = _layout_ok()


def _numpy_scalars_ok() -> bool:
    """Whether numpy's scalars hold their value at SCALAR_VALUE_OFFSET (else the entry
    takes only Python floats and bools)."""
    probes = ((np.float32(2.5), ctypes.c_float), (np.float64(2.5), ctypes.c_double), (np.int32(-7), ctypes.c_int32),
              (np.int64(-7), ctypes.c_int64), (np.bool_(True), ctypes.c_uint8))
    return all(kind.from_address(id(x) + SCALAR_VALUE_OFFSET).value == x for x, kind in probes)


def _int_layout() -> str | None:
    """How CPython stores a one-digit int (|value| < 2**30) here: "size" (up to 3.11: the
    signed digit count at byte 16), "tag" (3.12 on: ndigits << 3 | sign at byte 16), or
    None (the entry then takes no Python ints); the digit itself is at INT_DIGIT_OFFSET."""
    read = lambda x, kind, at: kind.from_address(id(x) + at).value  # noqa: E731
    probes = (0, 5, -5, 2**29 + 3, -(2**29 + 3))
    digits = all(read(v, ctypes.c_uint32, INT_DIGIT_OFFSET) == abs(v) for v in probes)
    if digits and all(read(v, ctypes.c_int64, 16) == (v > 0) - (v < 0) for v in probes):
        return "size"
    if digits and all(read(v, ctypes.c_uint64, 16) == (8 * (v != 0) | (1 - ((v > 0) - (v < 0)))) for v in probes):
        return "tag"
    return None


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_NUMPY_SCALARS = LAYOUT_OK and _numpy_scalars_ok()
INT_LAYOUT = _int_layout() if LAYOUT_OK else None
_INTS = (int,) * (INT_LAYOUT is not None)
#: The scalar types the entry takes for a 0-d argument of each dtype, beside an ndarray.
SCALARS: dict[np.dtype, tuple[type, ...]] = {
    _F32: (float,) + _INTS + (np.float64, np.float32) * _NUMPY_SCALARS,
    _F64: (float,) + _INTS + (np.float64, np.float32) * _NUMPY_SCALARS,
    np.dtype(np.int32): _INTS + (np.int32,) * _NUMPY_SCALARS,
    np.dtype(np.int64): _INTS + (np.int64,) * _NUMPY_SCALARS,
    np.dtype(np.bool_): (bool,) + (np.bool_,) * _NUMPY_SCALARS,
}
#: How the entry reads each scalar type's value (Python's bools are the two singletons).
_VALUE_TYPES = {float: ir.DoubleType(), np.float64: ir.DoubleType(), np.float32: ir.FloatType(),
                np.int32: I32, np.int64: I64, np.bool_: ir.IntType(8)}
# numpy's C API table (`__multiarray_api.h`): the allocating entry's two functions, by index.
_NUMPY_API = {"lf_PyArray_Scalar": 60, "lf_PyArray_NewFromDescr": 94}


def _numpy_api() -> dict[str, int]:
    """The addresses of `_NUMPY_API`'s functions, each checked by a call (empty when any
    is not what it should be: executables then allocate their outputs in Python)."""
    try:
        module = np._core._multiarray_umath if hasattr(np, "_core") else np.core.multiarray
        capsule = ctypes.py_object(module._ARRAY_API)
        name, pointer = ctypes.pythonapi.PyCapsule_GetName, ctypes.pythonapi.PyCapsule_GetPointer
        name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
        pointer.restype, pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        table = pointer(capsule, name(capsule))
        found = {sym: ctypes.c_void_p.from_address(table + 8 * i).value for sym, i in _NUMPY_API.items()}
        obj, void = ctypes.py_object, ctypes.c_void_p
        to_scalar = ctypes.PYFUNCTYPE(obj, void, obj, void)(found["lf_PyArray_Scalar"])
        new = ctypes.PYFUNCTYPE(obj, obj, obj, ctypes.c_int, void, void, void, ctypes.c_int, void)(
            found["lf_PyArray_NewFromDescr"])
        f32 = np.dtype(np.float32)
        value = ctypes.c_float(2.5)
        scalar = to_scalar(ctypes.addressof(value), f32, None)
        dims = (ctypes.c_int64 * 2)(2, 3)
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(f32))  # stolen by the call
        array = new(np.ndarray, f32, 2, ctypes.addressof(dims), None, None, 0, None)
    except (AttributeError, ValueError, OSError, TypeError):  # pragma: no cover - another numpy
        return {}
    good = (type(scalar) is np.float32 and scalar == 2.5 and type(array) is np.ndarray
            and array.dtype is f32 and array.shape == (2, 3) and array.flags.c_contiguous)
    return found if good else {}


NUMPY_API = _numpy_api() if LAYOUT_OK else {}
ALLOC_OK = bool(NUMPY_API)  # the allocating entry can be built and called
METH_O = 0x0008
_CAPI = ("PyEval_SaveThread", "PyEval_RestoreThread", "PyLong_FromSsize_t", "PyLong_AsSsize_t",
         "PyList_New", "Py_IncRef", "Py_DecRef", "PyDict_Size", "PyDict_Next")


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
    for name in ("PyList_Type", "PyDict_Type", "PyLong_Type"):
        llvm.add_symbol(name, ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, name)))
    llvm.add_symbol("lf_ndarray_type", id(np.ndarray))  # type objects live as long as numpy
    for kind in _VALUE_TYPES:
        llvm.add_symbol(_type_symbol(kind), id(kind))
    llvm.add_symbol("lf_py_true", id(True))  # the two bools live as long as the interpreter
    llvm.add_symbol("lf_py_false", id(False))
    for name, address in NUMPY_API.items():
        llvm.add_symbol(name, address)
    for elem in ELEM_TYPES.values():  # numpy's canonical descriptors: never freed
        llvm.add_symbol(_descr_symbol(elem.np_dtype), id(elem.np_dtype))


def _descr_symbol(dtype: np.dtype) -> str:
    return f"lf_descr_{dtype.name}"


def builtin(address: int, name: str, owner: object, mask: int = 0):
    """A Python function calling the entry at `address` with one list. Its `self` object
    (passed to the entry) is `(owner, method, mask)`: `owner` is what keeps the code alive
    (the JIT engine) and `method` its own PyMethodDef, so as long as the function can be
    called, neither the code nor the method record can be freed; `mask` says which 0-d
    results an allocating entry returns as numpy scalars (the plain entry ignores it)."""
    method = PyMethodDef(name.encode(), address, METH_O, None)
    return _new_builtin(ctypes.byref(method), (owner, method, mask), None)


def _glue(m: ir.Module, name: str) -> ir.Function:
    """An entry `PyObject *name(PyObject *self, PyObject *args)`, left out of O3 (`optnone`):
    its straight-line checks gain little from it, and optimising two entries besides the step
    made a small graph's first run ~1.4x slower."""
    fn = ir.Function(m, ir.FunctionType(PTR, [PTR, PTR]), name)
    fn.attributes.add("noinline")
    fn.attributes.add("optnone")
    return fn


def entry_name(name: str) -> str:
    return f"{name}_py"


def add_pyobject_entry(m: ir.Module, name: str, n_slots: int, checked: list[TensorType] = ()) -> None:
    """Define `<name>_py(self, list)` in `m`, calling the already defined step `name`; the
    first `len(checked)` slots must match those types (else `ARGUMENT_MISMATCH`)."""
    fn = _glue(m, entry_name(name))
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    table = b.alloca(PTR, size=max(n_slots, 1), name="table")
    _read_arguments(b, m, fn.args[1], n_slots, checked, table)
    status = _call_step(b, m, name, table)
    b.ret(b.call(declare(m, "PyLong_FromSsize_t", PTR, [I64]), [b.sext(status, I64)]))


def _read_arguments(b: ir.IRBuilder, m: ir.Module, list_obj: ir.Value, n_items: int,
                    checked: list[TensorType], table: ir.Value, dicts: bool = False) -> None:
    """Fill `table` with the data pointers of the `n_items` objects of the Python list at
    `list_obj` (`dicts`: or the values of a dict, in its order), the first `len(checked)`
    checked against those types; a wrong list returns `BAD_ARGUMENTS`, a wrong argument
    `ARGUMENT_MISMATCH`."""
    fn = b.function
    scalars = b.alloca(I64, size=max(len(checked), 1), name="scalars")  # Python floats, converted
    mismatch = fn.append_basic_block("mismatch")
    ob_item = _argument_objects(b, m, list_obj, n_items, dicts)
    for i in range(n_items):
        obj = b.load(b.gep(ob_item, [ir.Constant(I64, i)], source_etype=PTR), typ=PTR)
        if i < len(checked):
            slot = b.gep(scalars, [ir.Constant(I64, i)], source_etype=I64)
            data = _checked_data(b, m, obj, checked[i], slot, mismatch)
        else:
            data = _field(b, obj, ARRAY_DATA_OFFSET, PTR)
        b.store(data, b.gep(table, [ir.Constant(I64, i)], source_etype=PTR))
    here = b.block
    b.position_at_end(mismatch)
    b.ret(_status(b, m, ARGUMENT_MISMATCH))
    b.position_at_end(here)


def _argument_objects(b: ir.IRBuilder, m: ir.Module, obj: ir.Value, n_items: int, dicts: bool) -> ir.Value:
    """The address of the `n_items` objects `obj` holds: a list's items, or (`dicts`) a dict's
    values gathered on the stack by `PyDict_Next` (a dict saves its caller making the
    list, `Session.run`'s feed_dict); anything else returns `BAD_ARGUMENTS`."""
    size = _field(b, obj, LIST_SIZE_OFFSET, I64)
    kind = _field(b, obj, OBJECT_TYPE_OFFSET, PTR)
    is_list = b.and_(b.icmp_unsigned("==", kind, _global(m, "PyList_Type")),
                     b.icmp_signed("==", size, ir.Constant(I64, n_items)))
    if not dicts:
        with b.if_then(b.not_(is_list), likely=False):
            b.ret(_status(b, m, BAD_ARGUMENTS))
        return _field(b, obj, LIST_ITEMS_OFFSET, PTR)
    values = b.alloca(PTR, size=max(n_items, 1), name="dict_values")
    position, key = b.alloca(I64, name="position"), b.alloca(PTR, name="key")
    with b.if_else(is_list, likely=True) as (as_list, as_dict):
        with as_list:
            items = _field(b, obj, LIST_ITEMS_OFFSET, PTR)
            from_list = b.block
        with as_dict:
            is_dict = b.icmp_unsigned("==", kind, _global(m, "PyDict_Type"))
            with b.if_then(b.not_(is_dict), likely=False):
                b.ret(_status(b, m, BAD_ARGUMENTS))
            length = b.call(declare(m, "PyDict_Size", I64, [PTR]), [obj])
            with b.if_then(b.icmp_signed("!=", length, ir.Constant(I64, n_items)), likely=False):
                b.ret(_status(b, m, BAD_ARGUMENTS))
            b.store(ir.Constant(I64, 0), position)
            step = declare(m, "PyDict_Next", I32, [PTR, PTR, PTR, PTR])
            for i in range(n_items):
                b.call(step, [obj, position, key, b.gep(values, [ir.Constant(I64, i)], source_etype=PTR)])
            from_dict = b.block
    objects = b.phi(PTR)
    objects.add_incoming(items, from_list)
    objects.add_incoming(values, from_dict)
    return objects


def _call_step(b: ir.IRBuilder, m: ir.Module, name: str, table: ir.Value) -> ir.Value:
    """The step's status, called on `table` with the GIL released."""
    thread_state = b.call(declare(m, "PyEval_SaveThread", PTR, []), [])
    status = b.call(m.get_global(name), [table])
    b.call(declare(m, "PyEval_RestoreThread", ir.VoidType(), [PTR]), [thread_state])
    return status


def alloc_entry_name(name: str) -> str:
    return f"{name}_pyalloc"


def add_allocating_entry(m: ir.Module, name: str, n_args: int, checked: list[TensorType],
                         results: list[TensorType]) -> None:
    """Define `<name>_pyalloc(self, list)`: `list` holds the `n_args` argument arrays only
    (checked as `<name>_py` checks them), or is a dict of them (its values, in order); the entry allocates the outputs itself, with
    numpy's C API, and returns them as a new list, or a status int when the step fails.
    `self` is the tuple `(owner, method, mask)` (`builtin`): a 0-d result whose bit is set in
    `mask` comes back as a numpy scalar (the step writes it on the stack), as TF1 returns
    a fetched 0-d value; the others as new C-contiguous arrays. A failed allocation
    returns NULL with numpy's MemoryError set."""
    fn = _glue(m, alloc_entry_name(name))
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    n = n_args + len(results)
    table = b.alloca(PTR, size=max(n, 1), name="table")
    slots = b.alloca(I64, size=max(len(results), 1), name="zero_d")  # 0-d results returned as scalars
    _read_arguments(b, m, fn.args[1], n_args, checked, table, dicts=True)
    mask = b.call(declare(m, "PyLong_AsSsize_t", I64, [PTR]), [_field(b, fn.args[0], TUPLE_ITEMS_OFFSET + 16, PTR)])
    outs = b.call(declare(m, "PyList_New", PTR, [I64]), [ir.Constant(I64, len(results))])
    with b.if_then(b.icmp_unsigned("==", outs, ir.Constant(PTR, None)), likely=False):
        b.ret(ir.Constant(PTR, None))
    items = _field(b, outs, LIST_ITEMS_OFFSET, PTR)
    scalar_bits = []
    for j, t in enumerate(results):
        slot = b.gep(slots, [ir.Constant(I64, j)], source_etype=I64)
        bit = b.icmp_unsigned("!=", b.and_(mask, ir.Constant(I64, 1 << j)), ir.Constant(I64, 0)) \
            if not t.shape and j < MASK_BITS else ir.Constant(ir.IntType(1), 0)
        scalar_bits.append(bit)
        with b.if_else(bit) as (as_scalar, as_array):
            with as_scalar:
                from_slot = b.block
            with as_array:
                array = _new_array(b, m, t, outs)
                b.store(array, b.gep(items, [ir.Constant(I64, j)], source_etype=PTR))
                array_data = _field(b, array, ARRAY_DATA_OFFSET, PTR)
                from_array = b.block
        data = b.phi(PTR)
        data.add_incoming(slot, from_slot)
        data.add_incoming(array_data, from_array)
        b.store(data, b.gep(table, [ir.Constant(I64, n_args + j)], source_etype=PTR))
    status = _call_step(b, m, name, table)
    with b.if_then(b.icmp_signed("!=", status, ir.Constant(status.type, 0)), likely=False):
        b.call(declare(m, "Py_DecRef", ir.VoidType(), [PTR]), [outs])
        b.ret(b.call(declare(m, "PyLong_FromSsize_t", PTR, [I64]), [b.sext(status, I64)]))
    to_scalar = declare(m, "lf_PyArray_Scalar", PTR, [PTR, PTR, PTR])
    for j, t in enumerate(results):
        if t.shape or j >= MASK_BITS:
            continue
        with b.if_then(scalar_bits[j]):
            slot = b.gep(slots, [ir.Constant(I64, j)], source_etype=I64)
            obj = b.call(to_scalar, [slot, _global(m, _descr_symbol(t.dtype.np_dtype)), ir.Constant(PTR, None)])
            _unless_null(b, m, obj, outs)
            b.store(obj, b.gep(items, [ir.Constant(I64, j)], source_etype=PTR))
    b.ret(outs)


MASK_BITS = 63  # results past these are always arrays


def _new_array(b: ir.IRBuilder, m: ir.Module, t: TensorType, outs: ir.Value) -> ir.Value:
    """A new C-contiguous ndarray of type `t` (NULL: return NULL after freeing `outs`)."""
    descr = _global(m, _descr_symbol(t.dtype.np_dtype))
    b.call(declare(m, "Py_IncRef", ir.VoidType(), [PTR]), [descr])  # PyArray_NewFromDescr steals it
    dims = ir.Constant(PTR, None)
    if t.shape:
        dims = ir.GlobalVariable(m, ir.ArrayType(I64, len(t.shape)), m.get_unique_name("dims"))
        dims.global_constant, dims.linkage = True, "internal"
        dims.initializer = ir.Constant(dims.value_type, list(t.shape))
    null = ir.Constant(PTR, None)
    new = declare(m, "lf_PyArray_NewFromDescr", PTR, [PTR, PTR, I32, PTR, PTR, PTR, I32, PTR])
    array = b.call(new, [_global(m, "lf_ndarray_type"), descr, ir.Constant(I32, len(t.shape)), dims,
                         null, null, ir.Constant(I32, 0), null])
    _unless_null(b, m, array, outs)
    return array


def _unless_null(b: ir.IRBuilder, m: ir.Module, obj: ir.Value, outs: ir.Value) -> None:
    """Return NULL (the exception numpy set) after freeing `outs` when `obj` is NULL."""
    with b.if_then(b.icmp_unsigned("==", obj, ir.Constant(PTR, None)), likely=False):
        b.call(declare(m, "Py_DecRef", ir.VoidType(), [PTR]), [outs])
        b.ret(ir.Constant(PTR, None))


def _checked_data(b: ir.IRBuilder, m: ir.Module, obj: ir.Value, t: TensorType, slot: ir.Value,
                  mismatch: ir.Block) -> ir.Value:
    """The data pointer of `obj` if it is an argument of type `t`, else a branch to
    `mismatch`: an ndarray as the Session would accept it, or for a 0-d argument one of
    `SCALARS`, converted into `slot`."""
    dtype = t.dtype.np_dtype
    fn = b.function
    array, done = fn.append_basic_block("array"), fn.append_basic_block("checked")
    kinds = SCALARS.get(dtype, ()) if not t.shape else ()
    other = fn.append_basic_block("scalar") if kinds else mismatch
    kind_of = _field(b, obj, OBJECT_TYPE_OFFSET, PTR)
    b.cbranch(b.icmp_unsigned("==", kind_of, _global(m, "lf_ndarray_type")), array, other)
    b.position_at_end(array)
    flags = _field(b, obj, ARRAY_FLAGS_OFFSET, I32)
    ok = b.and_(b.icmp_unsigned("==", _field(b, obj, ARRAY_DESCR_OFFSET, PTR), _global(m, _descr_symbol(dtype))),
                b.icmp_signed("==", _field(b, obj, ARRAY_NDIM_OFFSET, I32), ir.Constant(I32, len(t.shape))))
    ok = b.and_(ok, b.icmp_unsigned("!=", b.and_(flags, ir.Constant(I32, C_CONTIGUOUS)), ir.Constant(I32, 0)))
    for k, n in enumerate(t.shape):  # the dimensions are read only once the rank is known to match
        next_block = fn.append_basic_block("dim")
        b.cbranch(ok, next_block, mismatch)
        b.position_at_end(next_block)
        dim = b.load(b.gep(_field(b, obj, ARRAY_DIMS_OFFSET, PTR), [ir.Constant(I64, k)], source_etype=I64), typ=I64)
        ok = b.icmp_signed("==", dim, ir.Constant(I64, n))
    array_ok = fn.append_basic_block("array_ok")
    b.cbranch(ok, array_ok, mismatch)
    b.position_at_end(array_ok)
    array_data = _field(b, obj, ARRAY_DATA_OFFSET, PTR)
    b.branch(done)
    converted = []
    for kind in kinds:  # each test leads to the next kind's, the last one to `mismatch`
        b.position_at_end(other)
        other = fn.append_basic_block("not") if kind is not kinds[-1] else mismatch
        value = _scalar_value(b, m, obj, kind_of, kind, dtype, other)
        b.store(value, b.bitcast(slot, value.type.as_pointer()))
        converted.append(b.block)
        b.branch(done)
    b.position_at_end(done)
    data = b.phi(PTR)
    data.add_incoming(array_data, array_ok)
    for block in converted:
        data.add_incoming(slot, block)
    return data


def _scalar_value(b: ir.IRBuilder, m: ir.Module, obj: ir.Value, kind_of: ir.Value, kind: type,
                  dtype: np.dtype, miss: ir.Block) -> ir.Value:
    """Emit: unless `obj` (of type object `kind_of`) is a scalar of type `kind` that the
    entry takes, a branch to `miss`; then its value as the argument's dtype."""
    fn = b.function
    hit = fn.append_basic_block(f"is_{kind.__name__}")
    if kind is bool:
        true = b.icmp_unsigned("==", obj, _global(m, "lf_py_true"))
        b.cbranch(b.or_(true, b.icmp_unsigned("==", obj, _global(m, "lf_py_false"))), hit, miss)
        b.position_at_end(hit)
        return b.zext(true, ir.IntType(8))
    if kind is int:
        small = fn.append_basic_block("int")
        b.cbranch(b.icmp_unsigned("==", kind_of, _global(m, "PyLong_Type")), small, miss)
        b.position_at_end(small)
        one_digit, value = _small_int(b, obj)
        b.cbranch(one_digit, hit, miss)
        b.position_at_end(hit)
        return _convert(b, value, dtype)
    b.cbranch(b.icmp_unsigned("==", kind_of, _global(m, _type_symbol(kind))), hit, miss)
    b.position_at_end(hit)
    return _convert(b, _field(b, obj, SCALAR_VALUE_OFFSET, _VALUE_TYPES[kind]), dtype)


def _small_int(b: ir.IRBuilder, obj: ir.Value) -> tuple[ir.Value, ir.Value]:
    """(whether the Python int at `obj` has one digit, its value as i64), by INT_LAYOUT."""
    head = _field(b, obj, SCALAR_VALUE_OFFSET, I64)
    digit = b.zext(_field(b, obj, INT_DIGIT_OFFSET, I32), I64)
    one = ir.Constant(I64, 1)
    if INT_LAYOUT == "size":
        return b.icmp_unsigned("<=", b.add(head, one), ir.Constant(I64, 2)), b.mul(head, digit)
    sign = b.sub(one, b.and_(head, ir.Constant(I64, 3)))  # 0 positive, 1 zero, 2 negative
    return b.icmp_unsigned("<=", b.lshr(head, ir.Constant(I64, 3)), one), b.mul(sign, digit)


def _convert(b: ir.IRBuilder, value: ir.Value, dtype: np.dtype) -> ir.Value:
    """A scalar's value as the argument's dtype: floats rounded or widened and Python ints
    (one digit: exact in float64, rounded to float32) converted, as numpy would; integers
    of the dtype and bools are read at their own width (`SCALARS` pairs them exactly)."""
    if value.type == I64 and dtype.kind == "f":
        return b.sitofp(value, ir.FloatType() if dtype == _F32 else ir.DoubleType())
    if value.type == I64 and dtype.itemsize == 4:
        return b.trunc(value, I32)
    if dtype == _F32 and isinstance(value.type, ir.DoubleType):
        return b.fptrunc(value, ir.FloatType())
    if dtype == _F64 and isinstance(value.type, ir.FloatType):
        return b.fpext(value, ir.DoubleType())
    return value


def takes_scalar(kind: type, dtype: np.dtype, shape: tuple) -> bool:
    """Whether the entry takes a scalar of type `kind` for an argument of this dtype and shape."""
    return not shape and kind in SCALARS.get(dtype, ())


def _type_symbol(kind: type) -> str:
    return f"lf_type_{kind.__name__}"


def _field(b: ir.IRBuilder, obj: ir.Value, offset: int, typ: ir.Type) -> ir.Value:
    """The `typ` at byte `offset` of the object at `obj`."""
    return b.load(b.gep(obj, [ir.Constant(I64, offset)], source_etype=ir.IntType(8)), typ=typ)


def _global(m: ir.Module, name: str) -> ir.Value:
    """An object of the process (a type, a descriptor) known to the JIT linker by `name`."""
    return m.globals.get(name) or ir.GlobalVariable(m, ir.IntType(8), name)


def _status(b: ir.IRBuilder, m: ir.Module, code: int) -> ir.Value:
    return b.call(declare(m, "PyLong_FromSsize_t", PTR, [I64]), [ir.Constant(I64, code)])
