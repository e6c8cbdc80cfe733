"""`compile_function` and `Executable`: a JIT-compiled step and the cheap way to call it.

Calling costs are measured in the shared notes (§3): a `CFUNCTYPE` call of
`int step(void**)` through a *persistent* ctypes pointer table is ~0.6 µs; what costs is
fetching numpy addresses (~3 µs each), so only argument addresses are fetched per call.
Outputs come from one 64-byte aligned allocation per run (numpy only guarantees 16 B;
misalignment cost 29 % in cache) and their slots are set with one vectorised add.
The Executable holds its engine: calling code of a freed engine segfaults.
cf. TF's `tfcompile` XlaCompiledCpuFunction (buffer table + one entry point).
"""
from __future__ import annotations

import ctypes
import threading

import numpy as np

from lowerflow.backend import jit
from lowerflow.backend.codegen import build_llvm_module
from lowerflow.backend.errors import NativeError
from lowerflow.backend.planner import ALIGN, _round_up
from lowerflow.ir import Function, TensorType

#: Process-wide counters (tests and the runtime's step stats read them).
NATIVE_STATS: dict[str, int] = {"compiles": 0, "calls": 0}

_STEP_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p)  # argtypes declared: see notes §7


class Executable:
    """A compiled step: `run(args)` checks arguments, calls native code once, returns outputs."""

    def __init__(self, jitted: "jit.JitModule", name: str, arg_types: list[TensorType],
                 result_types: list[TensorType], llvm_ir: str):
        self._jit = jitted  # keeps the engine (and so the code) alive
        self.name = name
        self.arg_types, self.result_types = list(arg_types), list(result_types)
        self.llvm_ir = llvm_ir
        self.entry_address = jitted.address(name)
        self._fn = _STEP_TYPE(self.entry_address)
        self.calls = 0
        self._n_args = len(arg_types)
        self._arg_specs = [(t.dtype.np_dtype, tuple(t.shape)) for t in arg_types]
        self._out_specs = [(t.dtype.np_dtype, tuple(t.shape)) for t in result_types]
        offsets, total = [], 0
        for t in result_types:
            offsets.append(total)
            total += _round_up(t.nbytes)
        self._out_offsets = np.array(offsets, dtype=np.uintp)
        self._out_total = max(total, 1)
        n = len(arg_types) + len(result_types)
        self._table = (ctypes.c_void_p * max(n, 1))()
        self._table_addr = ctypes.addressof(self._table)
        self._table_np = np.frombuffer(self._table, dtype=np.uintp)
        self._lock = threading.Lock()  # the persistent table serves one caller at a time

    def _check(self, arrays, specs, what: str) -> None:
        if len(arrays) != len(specs):
            raise ValueError(f"{self.name} takes {len(specs)} {what}s, got {len(arrays)}")
        for i, (a, (dtype, shape)) in enumerate(zip(arrays, specs)):
            if not isinstance(a, np.ndarray) or a.dtype != dtype or a.shape != shape \
                    or not a.flags.c_contiguous:
                got = f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else type(a).__name__
                raise ValueError(f"{what} {i} of {self.name} must be a C-contiguous {dtype}{list(shape)} "
                                 f"array, got {got}")

    def _alloc_outputs(self) -> tuple[list[np.ndarray], int]:
        raw = np.empty(self._out_total + ALIGN, dtype=np.uint8)
        base = raw.ctypes.data
        start = -base % ALIGN
        outs = []
        for (dtype, shape), off in zip(self._out_specs, self._out_offsets):
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            o = start + int(off)
            outs.append(raw[o:o + size].view(dtype).reshape(shape))
        return outs, base + start

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
            outs, base = self._alloc_outputs()
            out_addrs = self._out_offsets + np.uintp(base)
        else:
            self._check_outs(args, outs)
            out_addrs = np.array([o.ctypes.data for o in outs], dtype=np.uintp)
        if self._lock.acquire(blocking=False):
            try:
                status = self._call(self._table, self._table_addr, args, out_addrs)
            finally:
                self._lock.release()
        else:  # another thread is inside run(): use a private table
            table = (ctypes.c_void_p * len(self._table))()
            status = self._call(table, ctypes.addressof(table), args, out_addrs)
        if status:
            raise NativeError(status)
        return outs

    def _call(self, table, addr: int, args: list[np.ndarray], out_addrs: np.ndarray) -> int:
        for i, a in enumerate(args):
            table[i] = a.ctypes.data
        if len(out_addrs):
            np.frombuffer(table, dtype=np.uintp)[self._n_args:] = out_addrs
        self.calls += 1
        NATIVE_STATS["calls"] += 1
        return self._fn(addr)

    def __repr__(self) -> str:
        sig = ", ".join(map(str, self.arg_types))
        res = ", ".join(map(str, self.result_types))
        return f"<Executable {self.name}({sig}) -> ({res})>"


def compile_function(func: Function, *, name: str = "step") -> Executable:
    """Lower `func` (static shapes) to LLVM, optimise at O3 for this CPU and JIT it."""
    text = build_llvm_module(func, name)
    mod = jit.optimise(text)
    llvm_ir = str(mod)  # before codegen, which mutates the module
    exe = Executable(jit.JitModule(mod), name, [a.type for a in func.args], func.result_types, llvm_ir)
    NATIVE_STATS["compiles"] += 1
    return exe
