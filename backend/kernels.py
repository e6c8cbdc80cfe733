"""Top-level ops as kernels: `VIEW_LOWERINGS` here, `KERNEL_LOWERINGS` and `MICRO_LOWERINGS`
in `kernels_loops.py` (each table one literal, built where it is read).

Every top-level op of a step function is lowered by exactly one of:
- `VIEW_LOWERINGS[name](module, b, op, operand_ptrs) -> result_ptrs`: ops whose results
  are memory that already exists: a constant is a private global; a future reshape of a
  contiguous tensor is its operand's pointer. No loop, no buffer; the results must not be
  written (they are only read, or copied when returned).
- `KERNEL_LOWERINGS[name](kc, op)`: ops that fill fresh result buffers: "loop.kernel"
  (`kernels_loops.py`), the one entry, which every tensor op with a kernel reaches through
  the loop level. `kc` is a `KernelCtx`: one `internal` function `i32 (ptr noalias out..., ptr noalias in...)`
  whose buffers are `kc.results`/`kc.operands` (pointer + static TensorType) and whose
  `kc.target` says what it may use (threads, vector registers). The codegen
  calls it from the step and propagates a non-zero return. Use `kc.b` (an IRBuilder), the
  loop helpers in `lowerflow.backend.loops`, `scalar_lowering(name)` for elementwise math,
  `kc.error_if(b, cond, code)` to fail the step, and `kc.entry` for allocas.
- elementwise ops, fusions, reductions and the ops of `lowerflow.ir.loop_lowering.KERNELS`
  (scalar code from `SCALAR_LOWERINGS`) go through the loop level: `kernels_loops.py` emits
  the "loop.kernel" that `lowerflow.ir.loop_lowering` makes of them (a parallel loop above
  ~100 µs of estimated work is split across `kc.target.threads` threads, `parallel.py`).
- `MICRO_LOWERINGS[name](kc, attrs)`: the named micro-kernels that "loop.call_kernel" calls
  (`ir/ops/loop_micro.py`), `kc` seen with the call's first buffer as its one result and the
  others as its operands; one that takes an epilogue ("loop.call_fused") is called as
  `(kc, attrs, epilogue)` with the results' buffers first (`kernels_loops.Epilogue`).
A top-level op matching none of these fails at compile time with its name.

A new kernel op is a loop nest (`lowerflow.ir.loop_lowering.KERNELS`: printable,
interpretable, FileCheck-tested, as the shape ops' copies are), with hand-written code it
needs as a named micro-kernel it calls (`MICRO_LOWERINGS`: the GEMM, the convolutions).
Buffers are C-contiguous and 64-byte aligned when the runtime or the arena allocated them;
result buffers never overlap operands (the planner guarantees it, hence `noalias`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from llvmlite import ir

from lowerflow.backend.lltypes import I8, I32
from lowerflow.backend.scalar_ops import SCALAR_LOWERINGS
from lowerflow.ir import OPS, Operation, TensorType
from lowerflow.ir.opdef import VIEW


@dataclass
class Buffer:
    """A tensor in memory: an LLVM pointer to its first element and its static type."""

    ptr: ir.Value
    type: TensorType


@dataclass(frozen=True)
class Target:
    """What kernels may use beyond the portable baseline (one thread, AVX2's 16 vector
    registers): the default is what ahead-of-time objects get; the JIT asks for the host's."""

    threads: int = 1  # the most threads a large kernel may use (parallel.py)
    vector_registers: int = 16  # 32 with AVX-512: e.g. a larger matmul register tile
    bind_constants: bool = False  # large constants are step arguments, not bytes in the code

    def serial(self) -> Target:
        return replace(self, threads=1)


PORTABLE = Target()


class KernelCtx:
    """One kernel function under construction (see the module docstring)."""

    def __init__(self, fn: ir.Function, results: list[Buffer], operands: list[Buffer], target: Target = PORTABLE):
        self.fn = fn
        self.module: ir.Module = fn.module
        self.results, self.operands = results, operands
        self.target = target
        self.entry = ir.IRBuilder(fn.append_basic_block("entry"))  # allocas only (hoisted out of loops)
        self._body = fn.append_basic_block("body")
        self.b = ir.IRBuilder(self._body)
        self._flags: dict[int, ir.Value] = {}

    def error_if(self, b: ir.IRBuilder, cond: ir.Value, code: int) -> None:
        """Make the kernel return `code` if `cond` is true for any element. Branch-free: an
        i8 flag is or-ed per element (SROA turns it into a register), checked after the loops."""
        flag = self._flags.get(code)
        if flag is None:
            flag = self._flags[code] = self.entry.alloca(I8, name=f"err{code}")
            self.entry.store(ir.Constant(I8, 0), flag)
        b.store(b.or_(b.load(flag, typ=I8), b.zext(cond, I8)), flag)

    def return_status(self, rc: ir.Value) -> None:
        """Return the i32 status `rc` (a called kernel's) from the kernel when it is not 0;
        go on otherwise."""
        b = self.b
        fail, ok = self.fn.append_basic_block("status.fail"), self.fn.append_basic_block("status.ok")
        b.cbranch(b.icmp_unsigned("!=", rc, ir.Constant(I32, 0)), fail, ok)
        b.position_at_end(fail)
        b.ret(rc)
        b.position_at_end(ok)

    def finish(self) -> None:
        """Return the first raised error code, else 0."""
        b = self.b
        for code, flag in sorted(self._flags.items()):
            fail, ok = self.fn.append_basic_block(f"fail{code}"), self.fn.append_basic_block(f"ok{code}")
            b.cbranch(b.icmp_unsigned("!=", b.load(flag, typ=I8), ir.Constant(I8, 0)), fail, ok)
            b.position_at_end(fail)
            b.ret(ir.Constant(I32, code))
            b.position_at_end(ok)
        b.ret(ir.Constant(I32, 0))
        self.entry.branch(self._body)


def scalar_lowering(name: str):
    try:
        return SCALAR_LOWERINGS[name]
    except KeyError:
        raise NotImplementedError(f"no native lowering for op '{name}'") from None


#: Constants of this many bytes or more are bound, not embedded, in JIT code (`Target.
#: bind_constants`): the step takes them as arguments after its own, so their bytes never pass
#: through LLVM (a 10-million-element constant cost 7 s of IR text and parsing) and one
#: compiled step serves every value of the same type (e.g. each `Variable(array)`'s
#: initializer). Ahead-of-time objects embed them: they must stand alone.
BIND_FROM = 1 << 16


def bound_constants(func) -> list[Operation]:
    """The constants a JIT step takes as arguments, in the order it takes them."""
    return [op for op in func.ops if op.name == "lf.constant" and op.attributes["value"].nbytes >= BIND_FROM]


def constant_global(module: ir.Module, value: np.ndarray) -> ir.GlobalVariable:
    """A private, 64-byte aligned constant holding `value`'s bytes (numpy layout)."""
    data = bytearray(np.ascontiguousarray(value).tobytes())
    ty = ir.ArrayType(I8, len(data))
    g = ir.GlobalVariable(module, ty, module.get_unique_name("const"))
    g.initializer = ir.Constant(ty, data)
    g.global_constant = True
    g.linkage = "private"
    g.unnamed_addr = True
    g.align = 64
    return g


ViewLowering = Callable[[ir.Module, ir.IRBuilder, Operation, list], list]

VIEW_LOWERINGS: dict[str, ViewLowering] = {
    "lf.constant": lambda m, b, op, ptrs: [constant_global(m, op.attributes["value"])],
}
#: every other op with the "view" trait (reshape, expand_dims, squeeze) is its operand's memory
#: seen with another shape: the trait says which ops are views, this table how they lower
VIEW_LOWERINGS.update((name, lambda m, b, op, ptrs: [ptrs[0]]) for name, d in OPS.items()
                      if d.has(VIEW) and name not in VIEW_LOWERINGS)


def view_lowering(name: str) -> ViewLowering:
    """The lowering of an op with the "view" trait; NotImplementedError naming it if none."""
    if name in VIEW_LOWERINGS:
        return VIEW_LOWERINGS[name]
    raise NotImplementedError(f"no view lowering for op '{name}' (it has the 'view' trait)")

