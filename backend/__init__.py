"""lowerflow.backend: IR functions -> LLVM (llvmlite) -> native step functions.

    exe = compile_function(func)          # JIT for this CPU
    outputs = exe.run([x, y])             # one native call of `i32 step(void **buffers)`
    obj = emit_object(build_llvm_module(func), cpu="x86-64-v3")   # the same code, AOT

Lowering is table-driven (docs/architecture.md, "Adding an op"): `SCALAR_LOWERINGS`
(elementwise math per element, `scalar_ops.py`), `KERNEL_LOWERINGS` ("loop.kernel", which
every op with a loop nest becomes, `kernels_loops.py`), `MICRO_LOWERINGS` (hand-written
micro-kernels the loop level calls) and `VIEW_LOWERINGS` (ops whose result is existing memory).
Imports only `lowerflow.ir`, numpy, llvmlite and the standard library.
"""
from lowerflow.backend.codegen import build_ir_module, build_llvm_module, kernel_ops
from lowerflow.backend.errors import STATUS_MESSAGES, NativeError
from lowerflow.backend.executable import NATIVE_STATS, Executable, bound_values, compile_function, key_text
from lowerflow.backend.jit import emit_assembly, emit_object
from lowerflow.backend.kernels import VIEW_LOWERINGS, KernelCtx
from lowerflow.backend.kernels_loops import KERNEL_LOWERINGS, MICRO_LOWERINGS
from lowerflow.backend.scalar_ops import SCALAR_LOWERINGS, ScalarCtx

__all__ = [
    "compile_function", "key_text", "bound_values", "Executable", "NATIVE_STATS", "NativeError", "STATUS_MESSAGES",
    "build_llvm_module", "build_ir_module", "kernel_ops", "emit_object", "emit_assembly",
    "SCALAR_LOWERINGS", "KERNEL_LOWERINGS", "MICRO_LOWERINGS", "VIEW_LOWERINGS", "KernelCtx", "ScalarCtx",
]
