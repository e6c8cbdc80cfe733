"""LLVM target machines, the O3 pipeline, MCJIT engines and object emission.

Every rule here comes from a crash or slowdown measured with llvmlite:
- native target *and* asmprinter are initialised before anything else (without the
  asmprinter LLVM exits the process);
- every engine gets its own TargetMachine (an engine owns its TM; sharing one crashes at
  teardown); only the TM used to *build pass pipelines* is shared, it never meets an engine;
- a fresh PipelineTuningOptions/PassBuilder/ModulePassManager per module (a reused MPM aborts),
  and what llvmlite 0.50 leaves of them alive (the MPM, the PassBuilder's instrumentation
  callbacks) is freed after the run (`pass_builder.py`);
- `verify()` before optimising (LLVM has assertions on: bad IR aborts instead of raising);
- unrolling and interleaving off: halves compile time, no measured runtime loss;
- undefined externals are checked before JIT (MCJIT would segfault when called);
- a library loaded for the JIT is also opened by ctypes (`load_library`): LLVM closes its
  own handles at exit, and libgomp, unmapped under its still-spinning threads, crashed
  the exiting process (OMP_WAIT_POLICY=active).
Code is always made the same way, whether it then goes to the disk cache or not: the
optimised module is emitted as an object by a JIT TargetMachine (`compile_object`) and
loaded into an MCJIT engine built from an empty module (`JitModule`, 2.5 ms).
cf. numba's `JITCPUCodegen` (core/codegen.py), which this mirrors with one engine per module.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading

import llvmlite.binding as llvm
from llvmlite.binding.common import _is_shutting_down

from lowerflow.backend import pass_builder

_INIT_LOCK = threading.Lock()
#: PipelineTuningOptions of every optimisation (part of the cache key). Unrolling and
#: interleaving off halves compile time at no measured runtime cost.
PIPELINE = {"speed_level": 3, "loop_vectorization": True, "slp_vectorization": True,  # slp defaults to False
            "loop_unrolling": False, "loop_interleaving": False}
#: JIT TargetMachine settings (numba's: static relocation, large code model; part of the cache key)
JIT_TM = {"opt": 3, "reloc": "static", "codemodel": "jitdefault", "jit": True}


#: ctypes handles of the libraries loaded for the JIT: never closed, so a library stays
#: mapped after LLVM's static destructors close their handles at exit.
_KEPT: list[ctypes.CDLL] = []


def load_library(name: str, soname: str) -> bool:
    """Make a shared library's symbols resolvable for MCJIT. The usual soname is tried
    first: `ctypes.util.find_library` runs ldconfig/gcc subprocesses, milliseconds that
    every fresh process would pay before its first run."""
    for path in (soname, None):
        path = path or ctypes.util.find_library(name)  # only when the soname failed
        if path:
            try:
                llvm.load_library_permanently(path)
                _KEPT.append(ctypes.CDLL(path))
                return True
            except (RuntimeError, OSError):
                continue
    return False


@functools.cache
def _init() -> llvm.Target:
    """Initialise LLVM once; return the host target. Also load libm for the JIT's libcalls."""
    with _INIT_LOCK:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        # Codegen turns some operations into library calls that no IR declaration shows:
        # libm (expf, tanhf, fmodf...) and libgcc helpers (half conversions on CPUs without
        # F16C, __powisf2, i128 division). Make them resolvable for MCJIT.
        for lib, soname in (("m", "libm.so.6"), ("gcc_s", "libgcc_s.so.1")):
            load_library(lib, soname)
        return llvm.Target.from_triple(llvm.get_process_triple())


@functools.cache
def host_cpu() -> tuple[str, str]:
    """(cpu name, feature string) of this machine; cached, they never change in a process."""
    _init()
    return llvm.get_host_cpu_name(), tuned_features(llvm.get_host_cpu_features().flatten())


def tuned_features(features: str) -> str:
    """`features` with 512-bit vectors preferred where the CPU has AVX-512. LLVM tunes
    every Intel AVX-512 core (skylake-avx512 to sapphirerapids, rocketlake) to prefer
    256-bit vectors, against frequency drops of early parts, so its auto-vectorised loops
    use ymm there; AMD's znver4/5 have no such preference. Measured on an Intel Xeon with
    AVX-512 + AMX (LLVM: rocketlake), 2 cores, alternating runs: a 2^24 fused tanh/exp
    chain 1.3x faster, the 1000-op chain 1.15x (docs/performance.md)."""
    return features + ",-prefer-256-bit" if "+avx512f" in features.split(",") else features


def host_vector_registers() -> int:
    """Vector registers the host has for 256-bit code: 32 with AVX-512VL (ymm16-31), else 16."""
    return 32 if "+avx512vl" in host_cpu()[1].split(",") else 16


def jit_target_machine() -> llvm.TargetMachine:
    """A new host TargetMachine with numba's JIT settings (one per engine: engines own it)."""
    cpu, features = host_cpu()
    return _init().create_target_machine(cpu=cpu, features=features, **JIT_TM)


def aot_target_machine(cpu: str = "host") -> llvm.TargetMachine:
    """A PIC TargetMachine for object files; `cpu='x86-64-v3'` gives portable AVX2 code."""
    if cpu == "host":
        cpu, features = host_cpu()
    else:
        features = ""
    return _init().create_target_machine(cpu=cpu, features=features, opt=3, reloc="pic",
                                         codemodel="default")


@functools.cache
def _pipeline_tm() -> llvm.TargetMachine:
    """The TM that pass pipelines are built with; never handed to an engine, so shareable."""
    return jit_target_machine()


def optimise(llvm_ir: str, tm: llvm.TargetMachine | None = None) -> llvm.ModuleRef:
    """Parse, verify and run O3 (loop + SLP vectorisation) on `llvm_ir`; return the module.
    It gets a context of its own, freed with it: the global context would keep every
    module's constants and types (each feed shape brings new ones) for the whole process."""
    tm = tm or _pipeline_tm()
    mod = llvm.parse_assembly(llvm_ir, context=llvm.create_context())
    mod.triple = llvm.get_process_triple()
    mod.data_layout = str(tm.target_data)
    mod.verify()
    pass_builder.run_pipeline(mod, tm, PIPELINE)
    return mod


def external_symbols(mod: llvm.ModuleRef) -> list[str]:
    """Functions `mod` calls but does not define (intrinsics aside)."""
    return sorted(fn.name for fn in mod.functions if fn.is_declaration and not fn.name.startswith("llvm."))


@functools.cache
def _process() -> ctypes.CDLL:
    """The process's symbols, opened once (each `CDLL` makes a class of its own: garbage)."""
    return ctypes.CDLL(None)


def _check_externals(names: list[str]) -> None:
    """MCJIT returns addresses for unresolved symbols and segfaults on the call: check first."""
    process = _process()
    for name in names:
        if not (llvm.address_of_symbol(name) or hasattr(process, name)):
            raise RuntimeError(f"native code needs symbol '{name}', which this process lacks")


def compile_object(llvm_ir: str, with_text: bool = True) -> tuple[str | None, bytes, list[str]]:
    """Optimise `llvm_ir` for this CPU and emit it with a JIT TargetMachine: (optimised IR
    text, object bytes, external symbols). The text is taken first: emission mutates.
    `with_text=False` gives None for it: printing the module costs ~2 ms of a small compile."""
    mod = optimise(llvm_ir)
    text, externals = str(mod) if with_text else None, external_symbols(mod)
    return text, jit_target_machine().emit_object(mod), externals


#: Process-wide counters (tests read them): JIT modules loaded and freed.
JIT_STATS: dict[str, int] = {"loaded": 0, "freed": 0}
_RELEASE_TYPE = ctypes.CFUNCTYPE(None)


class JitModule:
    """An MCJIT engine holding one object (from `compile_object`); keep it alive while its
    code can run. Built from an empty module plus `add_object_file`, so fresh code and
    code from the disk cache load the same way. `release` names functions of the object
    (`void f(void)`) that free what its code keeps between calls (a step's cached arena,
    `codegen.py`): `close` calls them, then frees the engine; so does collecting the module."""

    def __init__(self, obj: bytes, externals: list[str], release: tuple[str, ...] = ()):
        _check_externals(externals)
        tm = jit_target_machine()
        empty = llvm.parse_assembly("")
        empty.triple, empty.data_layout = llvm.get_process_triple(), str(tm.target_data)
        self._engine = llvm.create_mcjit_compiler(empty, tm)
        self._engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        self._engine.finalize_object()
        self._release = [self.address(name) for name in release]
        JIT_STATS["loaded"] += 1

    def address(self, name: str) -> int:
        addr = self._engine.get_function_address(name)
        if not addr:  # returns 0 rather than raising
            raise RuntimeError(f"symbol '{name}' not found in the JIT-compiled module")
        return addr

    @property
    def closed(self) -> bool:
        return self._engine is None

    def close(self) -> None:
        """Free what the code keeps, then the engine and its code. Only for an owner that
        knows nothing can call the code any more (calling freed code segfaults)."""
        engine, self._engine = self._engine, None
        if engine is None:
            return
        for address in self._release:
            _RELEASE_TYPE(address)()
        engine.close()
        JIT_STATS["freed"] += 1

    def __del__(self, _is_shutting_down=_is_shutting_down) -> None:
        if getattr(self, "_engine", None) is not None and not _is_shutting_down():
            self.close()


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
