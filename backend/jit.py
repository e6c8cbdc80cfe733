"""LLVM target machines, the O3 pipeline, MCJIT engines and object emission.

Every rule here comes from a measured crash or slowdown (shared notes on llvmlite, §0,
§1.1, §5, §7):
- native target *and* asmprinter are initialised before anything else (without the
  asmprinter LLVM exits the process);
- every engine gets its own TargetMachine (an engine owns its TM; sharing one crashes at
  teardown); only the TM used to *build pass pipelines* is shared, it never meets an engine;
- a fresh PipelineTuningOptions/PassBuilder/ModulePassManager per module (a reused MPM aborts);
- `verify()` before optimising (LLVM has assertions on: bad IR aborts instead of raising);
- unrolling and interleaving off: halves compile time, no measured runtime loss;
- undefined externals are checked before JIT (MCJIT would segfault when called).
cf. numba's `JITCPUCodegen` (core/codegen.py), which this mirrors with one engine per module.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading

import llvmlite.binding as llvm

_INIT_LOCK = threading.Lock()


@functools.cache
def _init() -> "llvm.Target":
    """Initialise LLVM once; return the host target. Also load libm for the JIT's libcalls."""
    with _INIT_LOCK:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        # Codegen turns some operations into library calls that no IR declaration shows:
        # libm (expf, tanhf, fmodf...) and libgcc helpers (half conversions on CPUs without
        # F16C, __powisf2, i128 division). Make them resolvable for MCJIT.
        for lib in ("m", "gcc_s"):
            path = ctypes.util.find_library(lib)
            if path:
                llvm.load_library_permanently(path)
        return llvm.Target.from_triple(llvm.get_process_triple())


@functools.cache
def host_cpu() -> tuple[str, str]:
    """(cpu name, feature string) of this machine; cached, they never change in a process."""
    _init()
    return llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()


def jit_target_machine() -> "llvm.TargetMachine":
    """A new host TargetMachine with numba's JIT settings (one per engine: engines own it)."""
    cpu, features = host_cpu()
    return _init().create_target_machine(cpu=cpu, features=features, opt=3, reloc="static",
                                         codemodel="jitdefault", jit=True)


def aot_target_machine(cpu: str = "host") -> "llvm.TargetMachine":
    """A PIC TargetMachine for object files; `cpu='x86-64-v3'` gives portable AVX2 code."""
    if cpu == "host":
        cpu, features = host_cpu()
    else:
        features = ""
    return _init().create_target_machine(cpu=cpu, features=features, opt=3, reloc="pic",
                                         codemodel="default")


@functools.cache
def _pipeline_tm() -> "llvm.TargetMachine":
    """The TM that pass pipelines are built with; never handed to an engine, so shareable."""
    return jit_target_machine()


def optimise(llvm_ir: str, tm: "llvm.TargetMachine | None" = None) -> "llvm.ModuleRef":
    """Parse, verify and run O3 (loop + SLP vectorisation) on `llvm_ir`; return the module."""
    tm = tm or _pipeline_tm()
    mod = llvm.parse_assembly(llvm_ir)
    mod.triple = llvm.get_process_triple()
    mod.data_layout = str(tm.target_data)
    mod.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True  # defaults to False
    pto.loop_unrolling = False
    pto.loop_interleaving = False
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)  # a new MPM every time: reusing one aborts
    return mod


def _check_externals(mod: "llvm.ModuleRef") -> None:
    """MCJIT returns addresses for unresolved symbols and segfaults on the call: check first."""
    process = ctypes.CDLL(None)
    for fn in mod.functions:
        name = fn.name
        if fn.is_declaration and not name.startswith("llvm.") \
                and not (llvm.address_of_symbol(name) or hasattr(process, name)):
            raise RuntimeError(f"native code needs symbol '{name}', which this process lacks")


class JitModule:
    """An MCJIT engine owning one optimised module; keep it alive while its code can run."""

    def __init__(self, mod: "llvm.ModuleRef"):
        _check_externals(mod)
        self._engine = llvm.create_mcjit_compiler(mod, jit_target_machine())
        self._engine.finalize_object()

    def address(self, name: str) -> int:
        addr = self._engine.get_function_address(name)
        if not addr:  # returns 0 rather than raising
            raise RuntimeError(f"symbol '{name}' not found in the JIT-compiled module")
        return addr


def emit_object(llvm_ir: str, cpu: str = "host") -> bytes:
    """Optimise `llvm_ir` for `cpu` ('host' or an LLVM CPU name such as 'x86-64-v3') and
    return a relocatable (PIC) ELF object; link with `cc -shared ... -lm`."""
    tm = aot_target_machine(cpu)
    mod = optimise(llvm_ir, tm)
    return tm.emit_object(mod)


def emit_assembly(llvm_ir: str, cpu: str = "host") -> str:
    """The optimised assembly for `cpu` (for reading: are the loops vectorised?)."""
    tm = aot_target_machine(cpu)
    return tm.emit_assembly(optimise(llvm_ir, tm))
