"""`compile_function` and `Executable`: a JIT-compiled step and the cheap way to call it.

Calling costs, as measured: the ctypes call itself is ~0.3 µs;
what costs is reading numpy data pointers and filling a pointer table. A warm call
therefore passes one Python list of the argument and output arrays to the JIT-only entry
of `pyentry.py`, a CPython builtin that reads the pointers natively (no ctypes, no table,
no lock); where that object layout is not verified, a persistent ctypes table with a lock
is the fallback. Outputs are new `np.empty` arrays, 64-byte aligned when large (numpy
gives only 16 B; misalignment cost 29 % in cache); a step with 1 MiB of outputs or more
takes their memory from buffers no array references any more (`_Recycler`). The
Executable holds its engine: calling code of a freed engine segfaults; the engine (and the
step's cached arena) is freed when the last reference to it goes (`jit.JitModule`).
`compile_function` looks in the disk cache (`cache.py`) before compiling; the runtime gets
executables through the one compile cache in front of it (`compile_cache.py`).
cf. TF's `tfcompile` XlaCompiledCpuFunction (buffer table + one entry point).
"""
from __future__ import annotations

import copy
import ctypes
import functools
import sys
from collections.abc import Callable
from typing import Any
import threading
import zlib

import numpy as np

from lowerflow.backend import cache, jit, parallel, pyentry
from lowerflow.backend.codegen import build_ir_module, kernel_ops, release_name
from lowerflow.backend.errors import ARGUMENT_MISMATCH, NativeError
from lowerflow.backend.kernels import Target, bound_constants
from lowerflow.backend.planner import ALIGN
from lowerflow.ir import Function, TensorType, print_function
from lowerflow.ir.types import I64

#: Process-wide counters (tests and the runtime's step stats read them): real LLVM compiles,
#: executables loaded from the disk cache instead, native step calls.
NATIVE_STATS: dict[str, int] = {"compiles": 0, "cache_hits": 0, "calls": 0}

_STEP_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p)  # argtypes declared: undeclared, a pointer would pass as a 32-bit C int
_ALIGN_FROM = 1 << 14  # outputs this large get 64-byte alignment; smaller ones stay in cache anyway
_RECYCLE_FROM = 1 << 20  # steps with this many bytes of outputs reuse them (`_Recycler`)


def _aligned_empty(shape: tuple, dtype: np.dtype, nbytes: int) -> np.ndarray:
    return _aligned_view(_raw_buffer(nbytes), shape, dtype, nbytes)


def _raw_buffer(nbytes: int) -> np.ndarray:
    """Bytes for an `nbytes` array at a 64-byte aligned offset (numpy gives only 16 B)."""
    return np.empty(nbytes + ALIGN, dtype=np.uint8)


def _aligned_view(raw: np.ndarray, shape: tuple, dtype: np.dtype, nbytes: int) -> np.ndarray:
    """A new array object over `raw`'s aligned bytes; its base (and that of every view of it)
    is `raw`, which numpy's view chains collapse to."""
    start = -data_address(raw) % ALIGN  # `raw.ctypes.data` costs 2.5 µs, this 0.2-0.5
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def _output_factory(types: list[TensorType]) -> Callable[[], list[np.ndarray]]:
    """A function giving output arrays of `types`; large ones 64-byte aligned (numpy gives
    only 16 B). Specialised once: the common single small output costs one np.empty; outputs
    of `_RECYCLE_FROM` bytes or more are recycled (`_Recycler`)."""
    if not all(t.is_static for t in types):  # run-time dims: the caller allocates (`run_into`)
        return _needs_outputs
    specs = [(tuple(t.shape), t.dtype.np_dtype, t.nbytes) for t in types]
    if sum(nbytes for _, _, nbytes in specs) >= _RECYCLE_FROM:
        return _Recycler(specs)
    if any(nbytes >= _ALIGN_FROM for _, _, nbytes in specs):
        return lambda: [np.empty(shape, dtype) if nbytes < _ALIGN_FROM else _aligned_empty(shape, dtype, nbytes)
                        for shape, dtype, nbytes in specs]
    if len(specs) == 1:
        ((shape, dtype, _),) = specs
        return lambda: [np.empty(shape, dtype)]
    return lambda: [np.empty(shape, dtype) for shape, dtype, _ in specs]


def _needs_outputs() -> list[np.ndarray]:
    raise ValueError("this step has outputs of run-time dims: its caller allocates them (Executable.run_into)")


class _Recycler:
    """Large outputs whose memory comes from a pool of the last `POOL` sets of buffers: a set
    nobody but the pool references any more is used again, else fresh buffers are made.
    Every call returns new array objects (a caller may reshape or freeze the ones it got)
    over the buffers; each of them, and every view of them at any depth, has the buffer as
    its `base` (numpy collapses view chains to the owner), so a buffer's refcount sees every
    array that can reach it, results fed back as arguments included. Raw addresses taken out
    of an array (`.ctypes.data`, `__array_interface__`) hold no reference and are not seen:
    such an address is valid only while the array is alive.

    Why: fresh multi-MiB arrays are fresh pages that the kernel zeroes on first touch, and
    that cost as much as a memory-bound kernel (a 16 MiB softmax: 2.2 ms with fresh outputs,
    1.3 ms reusing them). TF's and XLA's allocators keep memory for the same reason. Two
    sets cover `y = run(...)` in a loop, where the previous result is still bound during the
    call. Only atomic list operations touch the pool, so concurrent callers never get the
    same set (one that is handed out is referenced by its new arrays)."""

    POOL = 2
    _SOLE = max(map(sys.getrefcount, (np.empty(1),)))  # a buffer referenced only by its tuple

    def __init__(self, specs: list[tuple]):
        self._specs = specs
        self._pool: list[tuple] = []

    def __call__(self) -> list[np.ndarray]:
        pool, raws = self._pool, None
        for _ in range(len(pool)):
            try:
                candidate = pool.pop(0)
            except IndexError:  # another thread emptied it
                break
            if max(map(sys.getrefcount, candidate)) <= self._SOLE:
                raws = candidate
                break
            pool.append(candidate)  # still in use: maybe later
        if raws is None:
            raws = tuple(_raw_buffer(nbytes) for _, _, nbytes in self._specs)
        outs = [_aligned_view(raw, shape, dtype, nbytes) for raw, (shape, dtype, nbytes) in zip(raws, self._specs)]
        pool.append(raws)
        del pool[:-self.POOL]
        return outs


@functools.cache
def _table_type(n: int) -> type:
    """`ctypes.c_void_p * n`, made once per length: ctypes caches array types only weakly, so
    each executable made a new type (~3 KB in reference cycles, freed only by a full
    collection)."""
    return ctypes.c_void_p * n


def _data_address_reader():
    """The fastest way to read an ndarray's data pointer: `PyArrayObject->data` lies at byte
    16 of the object in CPython/numpy (0.2 µs, against ~1-3 µs for `a.ctypes.data`).
    The layout is verified once here; elsewhere we fall back to the public route."""
    probe = np.arange(3.0)
    from_address = ctypes.c_void_p.from_address
    try:
        if from_address(id(probe) + 16).value == probe.ctypes.data:
            return lambda a: from_address(id(a) + 16).value
    except (ValueError, OSError):  # pragma: no cover - exotic interpreters
        pass
    return lambda a: a.ctypes.data


data_address = _data_address_reader()


class Executable:
    """A compiled step: `run(args)` checks arguments, calls native code once, returns outputs."""

    def __init__(self, jitted: jit.JitModule, name: str, arg_types: list[TensorType],
                 result_types: list[TensorType], source_ir: Callable[[], str], llvm_ir: str | None = None,
                 bound: list[np.ndarray] = ()):
        self._jit = jitted  # keeps the engine (and so the code) alive
        self._bound = list(bound)  # the bound constants' arrays, passed after the arguments
        self.n_bound = len(self._bound)
        self.name = name
        self.arg_types, self.result_types = list(arg_types), list(result_types)
        self._source_ir = source_ir  # built on demand: a cache hit never needs the LLVM text
        self._llvm_ir = llvm_ir
        self.entry_address = jitted.address(name)
        self._fn = _STEP_TYPE(self.entry_address)
        self._arg_specs = [(t.dtype.np_dtype, tuple(t.shape)) for t in arg_types]
        self._out_specs = [(t.dtype.np_dtype, tuple(t.shape)) for t in result_types]
        self._new_outputs = _output_factory(result_types)
        n = len(arg_types) + self.n_bound + len(result_types)
        self._table = _table_type(max(n, 1))()
        self._lock = threading.Lock()  # the persistent table serves one caller at a time
        py_address = jitted.address(pyentry.entry_name(name)) if pyentry.LAYOUT_OK else 0
        self._fn_py = pyentry.builtin(py_address, name, jitted) if py_address else None
        self._alloc_address = self._allocating_address(jitted, name) if py_address else 0

    def _allocating_address(self, jitted: jit.JitModule, name: str) -> int:
        """The allocating entry's address; 0 where the code has none (large outputs, or
        cached by a process whose numpy API was not verified: the cache key has no numpy)."""
        if not allocates_natively(self.result_types):
            return 0
        try:
            return jitted.address(pyentry.alloc_entry_name(name))
        except RuntimeError:
            return 0

    @property
    def source_ir(self) -> str:
        """The unoptimised LLVM IR text this executable was compiled from."""
        if not isinstance(self._source_ir, str):
            self._source_ir = self._source_ir()
        return self._source_ir

    @property
    def llvm_ir(self) -> str:
        """The optimised LLVM IR (re-derived on demand when the code came from the cache)."""
        if self._llvm_ir is None:
            self._llvm_ir = str(jit.optimise(self.source_ir))
        return self._llvm_ir

    def _check(self, arrays, specs, what: str) -> None:
        if len(arrays) != len(specs):
            raise ValueError(f"{self.name} takes {len(specs)} {what}s, got {len(arrays)}")
        for i, (a, (dtype, shape)) in enumerate(zip(arrays, specs)):
            if not isinstance(a, np.ndarray) or a.dtype != dtype or a.shape != shape \
                    or not a.flags.c_contiguous:
                got = f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else type(a).__name__
                raise ValueError(f"{what} {i} of {self.name} must be a C-contiguous {dtype}{list(shape)} "
                                 f"array, got {got}")

    def _check_outs(self, args: list[np.ndarray], outs: list[np.ndarray]) -> None:
        self._check(outs, self._out_specs, "output")
        for i, o in enumerate(outs):
            if not o.flags.writeable:
                raise ValueError(f"output {i} of {self.name} is read-only")
            others = list(args) + list(outs[:i])
            if o.size and any(x.size and np.may_share_memory(o, x) for x in others):
                raise ValueError(f"output {i} of {self.name} overlaps an argument or another output")

    def run(self, args: list[np.ndarray], outs: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Run the step once on `args` (exact dtypes/shapes, C-contiguous); return the outputs
        (`outs` if given: they must not overlap the arguments or each other)."""
        self._check(args, self._arg_specs, "argument")
        if outs is None:
            return self.run_unchecked(args)
        self._check_outs(args, outs)
        self._invoke(args, outs)
        return outs

    def run_into(self, args: list[np.ndarray], outs: list[np.ndarray]) -> list[np.ndarray]:
        """`run_unchecked` into outputs the caller allocated: a step with run-time dims,
        whose output sizes its shape prelude computed (`runtime/run_dims.py`)."""
        self._invoke(args, outs)
        return outs

    def run_unchecked(self, args: list[np.ndarray]) -> list[np.ndarray]:
        """`run` for callers that already guarantee the argument dtypes, shapes and layout
        (the Session: its run signature pins them). Skipping the checks is the fast path."""
        outs = self._new_outputs()
        self._invoke(args, outs)
        return outs

    @property
    def checks_arguments(self) -> bool:
        """Whether the native entry itself refuses arguments of the wrong type, dtype, shape
        or layout (`ARGUMENT_MISMATCH`, `pyentry.py`): then a caller may pass feed values
        unchecked, Python floats included, and check only when that status comes back."""
        return self._fn_py is not None

    def unchecked_caller(self, scalars: frozenset[int] = frozenset()) -> Callable[[list[np.ndarray]], list]:
        """`run_unchecked` as one closure over what it needs (no attribute lookups, no
        further calls but the output allocation and the native entry): the Session's warm
        path, where each of those costs a tenth of a tiny run. A refused argument raises
        `NativeError(ARGUMENT_MISMATCH)` and is not counted as a call. `scalars`: 0-d
        results to return as numpy scalars, if `returns_scalars(scalars)` (else arrays)."""
        fn, bound, new_outputs, stats = self._fn_py, self._bound, self._new_outputs, NATIVE_STATS
        if fn is None:
            return self.run_unchecked
        entry = self.allocating_entry(scalars)
        if entry is not None:
            def run_allocating(args: list) -> list:
                outs = entry(args + bound if bound else args)
                if type(outs) is int:
                    if outs != ARGUMENT_MISMATCH:
                        stats["calls"] += 1
                    raise NativeError(outs)
                stats["calls"] += 1
                return outs
            return run_allocating

        def run(args: list) -> list[np.ndarray]:
            outs = new_outputs()
            status = fn(args + bound + outs if bound else args + outs)
            if status != ARGUMENT_MISMATCH:
                stats["calls"] += 1
            if status:
                raise NativeError(status)
            return outs
        return run

    def status_entry(self, scalars: frozenset[int] = frozenset()) -> Callable[[list], Any] | None:
        """A callable with `allocating_entry`'s protocol (the list of arguments and bound
        constants in, the list of outputs or a status int out): that entry where the step
        has one, else one closure that allocates the outputs here (large ones aligned) and
        calls the builtin entry. None without a builtin entry, or for 0-d `scalars` the
        closure would return as arrays."""
        entry = self.allocating_entry(scalars)
        if entry is not None or self._fn_py is None or scalars:
            return entry
        fn, new_outputs = self._fn_py, self._new_outputs

        def run(args: list) -> list | int:
            outs = new_outputs()
            return fn(args + outs) or outs
        return run

    def returns_scalars(self, scalars: frozenset[int]) -> bool:
        """Whether `unchecked_caller(scalars)` returns those 0-d results as numpy scalars."""
        return self._alloc_address != 0 and all(i < pyentry.MASK_BITS for i in scalars)

    def allocating_entry(self, scalars: frozenset[int] = frozenset()) -> Callable[[list], Any] | None:
        """The native entry that allocates the outputs itself (`pyentry.add_allocating_entry`),
        returning the 0-d results in `scalars` as numpy scalars: it takes the list of
        arguments and bound constants and returns the list of outputs or a status int.
        None where this step has none (large outputs, no verified layout)."""
        if not self.returns_scalars(scalars):
            return None
        return pyentry.builtin(self._alloc_address, self.name, self._jit, sum(1 << i for i in scalars))

    def with_bound(self, bound: list[np.ndarray] | None) -> "Executable":
        """This code over other bound constants (another function with the same `key_text`);
        None: over none yet, so that a cached executable keeps no constant alive (such a twin
        refuses to run: the native entry checks the number of arrays it is given)."""
        if bound is not None and len(bound) != self.n_bound:
            raise ValueError(f"{self.name} binds {self.n_bound} constants, got {len(bound)}")
        twin = copy.copy(self)
        twin._bound = [] if bound is None else list(bound)
        twin._table = _table_type(len(self._table))()
        twin._lock = threading.Lock()
        return twin

    def _invoke(self, args: list[np.ndarray], outs: list[np.ndarray]) -> None:
        NATIVE_STATS["calls"] += 1
        if self._bound:
            args = args + self._bound
        if self._fn_py is not None:  # the fast, lock-free path (pyentry.py)
            status = self._fn_py(args + outs)
        elif self._lock.acquire(blocking=False):
            try:
                status = self._call(self._table, args + outs)
            finally:
                self._lock.release()
        else:  # another thread is inside run(): use a private table
            status = self._call(_table_type(len(self._table))(), args + outs)
        if status:
            raise NativeError(status)

    def _call(self, table, arrays: list[np.ndarray]) -> int:
        """The buffer-table path, where `pyentry.LAYOUT_OK` does not hold."""
        for i, a in enumerate(arrays):
            table[i] = data_address(a)
        return self._fn(ctypes.addressof(table))

    def __repr__(self) -> str:
        sig = ", ".join(map(str, self.arg_types))
        res = ", ".join(map(str, self.result_types))
        return f"<Executable {self.name}({sig}) -> ({res})>"


def jit_module_text(func: Function, name: str = "step", threads: int = 1, trace: bool = False) -> str:
    """The LLVM IR text `compile_function` compiles: the step for this host's vector
    registers, large constants bound as arguments, plus the Python-object entry (`pyentry.py`);
    `trace`: the step that also records kernel times (`codegen.py`)."""
    module = build_ir_module(func, name, Target(threads, jit.host_vector_registers(), bind_constants=True), trace)
    n_args = len(func.args) + len(bound_constants(func))
    results = func.result_types + [trace_type(func)] * trace
    checked = [a.type for a in func.args]
    pyentry.add_pyobject_entry(module, name, n_args + len(results), checked)
    if allocates_natively(results):
        pyentry.add_allocating_entry(module, name, n_args, checked, results)
    return str(module)


def allocates_natively(results: list[TensorType]) -> bool:
    """Whether a step's entry allocates these outputs itself (`pyentry.add_allocating_entry`):
    small ones only, those numpy's `np.empty` would give (large ones are aligned and
    recycled in Python, `_output_factory`)."""
    return pyentry.ALLOC_OK and all(t.is_static and t.nbytes < _ALIGN_FROM for t in results) \
        and sum(t.nbytes for t in results) < _RECYCLE_FROM


def trace_type(func: Function) -> TensorType:
    """The extra result of a traced step: one int64 time per kernel, plus its start."""
    return TensorType((len(kernel_ops(func)) + 1,), I64)


def key_text(func: Function) -> str:
    """`func` printed as the compiled code depends on it: bound constants' values and the
    argument and result names left out."""
    return print_function(func, elided=set(bound_constants(func)), names=False)


def cache_text(func: Function, name: str = "step", threads: int = 1, printed: str | None = None,
               trace: bool = False) -> str:
    """What the disk cache keys an executable by: the printed SSA IR (`printed`, if the
    caller has it already) plus every codegen input besides it (the source of the compiler
    itself, `cache.COMPILER_FINGERPRINT`). Keying by the IR, not the LLVM text, lets a hit
    skip building the LLVM module."""
    return "\n".join([cache.COMPILER_FINGERPRINT, name, str(threads), str(jit.host_vector_registers()),
                      "trace" * trace, printed if printed is not None else key_text(func)])


def compile_function(func: Function, *, name: str = "step", threads: int = 1,
                     printed: str | None = None, trace: bool = False) -> Executable:
    """Lower `func` (static shapes) to LLVM, optimise at O3 for this CPU and JIT it; code
    compiled before, by any process, comes from the disk cache. Kernels above the
    parallel threshold use `threads` threads (`parallel.py`); 1 keeps everything serial.
    `printed` is `key_text(func)` when the caller has it (printing is a tenth of a
    cached first run). The executable is bound to `func`'s large constants (`with_bound`
    gives the same code over another function's). A `trace` step returns the kernel times
    (`trace_type`) after `func`'s results."""
    pyentry.register_symbols()  # the entry calls the CPython API: link it, compiled or cached
    key = cache.cache_key(cache_text(func, name, threads, printed, trace))
    types = ([a.type for a in func.args], func.result_types + [trace_type(func)] * trace)
    entry = cache.load(key)
    if entry is not None:
        if threads > 1:
            parallel.available()  # the object may call libgomp: load it, as codegen would have
        try:
            jitted = jit.JitModule(entry.obj, entry.externals, (release_name(name),))
        except RuntimeError:  # e.g. a symbol this process lacks: compile afresh below
            pass
        else:
            NATIVE_STATS["cache_hits"] += 1
            packed = entry.source
            source = (lambda: zlib.decompress(packed).decode()) if packed else \
                (lambda: jit_module_text(func, name, threads, trace))  # built again from the IR
            return Executable(jitted, name, *types, source, bound=bound_values(func))
    text = jit_module_text(func, name, threads, trace)
    _, obj, externals = jit.compile_object(text, with_text=False)
    NATIVE_STATS["compiles"] += 1
    jitted = jit.JitModule(obj, externals, (release_name(name),))  # before caching: never store code that fails to load
    # The texts are for reading (tests, LOWERFLOW_DEBUG): the source kept compressed (12 KB
    # -> ~2 KB for a tiny step), also in the disk cache, so that a hit need not keep the IR
    # (reference cycles) to build it again; the optimised IR is derived again when asked.
    # Kept as they were, a table full of executables held ~9 MB of strings.
    packed = zlib.compress(text.encode(), 1)
    cache.store(key, cache.Entry(obj, externals, packed))
    return Executable(jitted, name, *types, lambda: zlib.decompress(packed).decode(), bound=bound_values(func))


def bound_values(func: Function) -> list[np.ndarray]:
    """The arrays `func`'s JIT step takes after its arguments (C-contiguous copies if needed)."""
    return [np.ascontiguousarray(op.attributes["value"]) for op in bound_constants(func)]
