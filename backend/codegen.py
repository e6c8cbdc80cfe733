"""An IR function as an llvmlite module with one exported entry `i32 <name>(ptr buffers)`.

ABI (also what an ahead-of-time object exports): `buffers[i]` for i < n_args is argument
i's data pointer; then, for a target that binds constants (the JIT), one per bound constant
(`kernels.bound_constants`, in op order); then one slot per result, where the step writes
that result. Every
buffer is C-contiguous with the IR type's static shape and dtype (bool = 1 byte). Returns
0, or a status from `lowerflow.backend.errors`; result contents are unspecified then.

The step loads the slot pointers, takes one arena for temporaries (laid out by
`planner.plan_buffers`), calls one `internal` kernel per top-level op (elementwise ops and
fusions go through the loop level first, `kernels_loops.loop_level`; O3 inlines them;
their `noalias` parameters become alias scopes; "lf.if" and "lf.while" become branches
and loops of the step itself, their regions' kernels called in place: `control.py`),
copies returned values that no kernel wrote into their slot (arguments, constants, a value
returned twice), gives the arena back on every path and returns the status. The module holds no Python addresses, so the same
text is JIT-compiled or written as a PIC object.

Traced steps (`trace=True`, what `RunOptions(trace_level=FULL_TRACE)` runs) take one more
slot after the results: an int64 buffer of `len(kernel_ops(func)) + 1` wall-clock times in
nanoseconds (`clock_gettime(CLOCK_REALTIME)`), the first before the first kernel, then one
after each kernel. They are separate modules (and cache entries): the untraced step
contains no clock call.

Arenas: a call takes the module's cached arena with an atomic exchange, or `aligned_alloc`s
one when the cache is empty (the first call, or a concurrent one); on exit it puts the arena
back with a compare-exchange, or frees it when another call already did. So the step stays
reentrant, and a warm step allocates no arena: a fresh multi-MiB arena per call costs a page
fault per 4 KiB page, more than the kernels that use it (a 16 MiB softmax temporary: ~10 ms
against ~1 ms of work). (Packed GEMMs still allocate their packing buffers per call.) The
module also defines `void <name>_release(void)` (`release_name`), which frees the cached
arena: a JIT module calls it before its engine is freed (`jit.JitModule.close`), and an AOT
object exports it as `NAME_release` (`aot_abi.py`). That one pointer is the module's only
global mutable state.
"""
from __future__ import annotations

from collections.abc import Callable

from llvmlite import ir

from lowerflow.backend.errors import OUT_OF_MEMORY
from lowerflow.backend.kernels import PORTABLE, VIEW_LOWERINGS, Buffer, KernelCtx, Target, bound_constants, view_lowering
from lowerflow.backend.control import CONTROL_LOWERINGS, region_arena_size
from lowerflow.backend.kernels_loops import check_lowering, kernel_lowering, loop_level
from lowerflow.backend.lltypes import I1, I32, I64, PTR, declare
from lowerflow.backend.planner import ALIGN, plan_buffers
from lowerflow.ir import Function, Operation
from lowerflow.ir.buffers import is_view
from lowerflow.ir.loop_lowering_run import RUN_OPS
from lowerflow.ir.ops.loop import KERNEL

#: Ops whose results have run-time dims (`ir/loop_lowering_run.py`, and their kernels once
#: lowered): written only to slots.
RUN_DIMS_OPS = RUN_OPS | {KERNEL}


def _check_static(func: Function) -> None:
    """Static shapes everywhere, but for the results of run-time-dims ops (`RUN_DIMS_OPS`)
    that the step returns: the runtime allocates those slots from the shape prelude's dims."""
    returned = set(func.results)
    for op in _emitted_ops(func.body):
        if op.name in RUN_DIMS_OPS and all(r in returned for r in op.results):
            continue
        for v in op.results:
            if not v.type.is_static:
                raise ValueError(f"native code needs static shapes, got {v.type} in @{func.name}")
    for v in func.args:
        if not v.type.is_static:
            raise ValueError(f"native code needs static shapes, got {v.type} in @{func.name}")


def _emitted_ops(block) -> list[Operation]:
    """The ops of `block` the step emits one by one: its own and, through control ops, those
    of their regions (a fusion's or kernel's body is part of its op's kernel)."""
    out = []
    for op in block.ops[:-1]:
        out.append(op)
        if op.name in CONTROL_LOWERINGS:
            out.extend(o for region in op.regions for o in _emitted_ops(region))
    return out


def _emit_kernel(m: ir.Module, op: Operation, index: int, step_name: str,
                 results: list[Buffer], operands: list[Buffer], target: Target) -> ir.Function:
    """The internal function `i32 (ptr noalias results..., ptr noalias operands...)` for `op`
    (named after it; emitted from its loop level when it has one)."""
    kernel_op = loop_level(op)
    lowering = kernel_lowering(kernel_op.name)
    fnty = ir.FunctionType(I32, [PTR] * (len(results) + len(operands)))
    fn = ir.Function(m, fnty, f"{step_name}.k{index}.{op.name}")
    fn.linkage = "internal"
    for arg in fn.args:
        arg.add_attribute("noalias")  # results are fresh buffers; operands are only read
        arg.add_attribute("captures(none)")
    kc = KernelCtx(fn, [Buffer(a, r.type) for a, r in zip(fn.args, results)],
                   [Buffer(a, o.type) for a, o in zip(fn.args[len(results):], operands)], target)
    lowering(kc, kernel_op)
    kc.finish()
    return fn


def kernel_ops(func: Function) -> list[Operation]:
    """The top-level ops the step calls a kernel for, or branches or loops over (a control op
    is timed as a whole), in call order (what a trace times)."""
    return [op for op in func.ops[:-1] if not is_view(op)]


class StepBuilder:
    """The step function being emitted: its builder, status phi and exit, the arena. Control
    ops (`CONTROL_LOWERINGS`) emit their regions' ops through `emit_ops` between their own
    branches, so a loop's body runs in the step, never through Python."""

    def __init__(self, m: ir.Module, b: ir.IRBuilder, step: ir.Function, status: ir.PhiInstr,
                 exit_block: ir.Block, name: str, target: Target, arena: ir.Value):
        self.m, self.b, self.step, self.status, self.exit_block = m, b, step, status, exit_block
        self.name, self.target, self.arena = name, target, arena
        self.kernels = 0

    def emit_ops(self, ops: list[Operation], where: dict, plan, out_ptrs: list, base: int,
                 stamp: Callable[[int], None] | None = None) -> None:
        """Emit `ops` (a block's, its terminator last, which is skipped): views, control ops and
        kernels; results go to `out_ptrs[plan.slot_of[r]]` or the arena at `base` + offset.
        `stamp(k)` (the step's top level when traced) runs after the k-th kernel or control op."""
        m, b = self.m, self.b
        timed = 0
        if stamp:
            stamp(0)
        for op in ops[:-1]:
            if is_view(op):
                where.update(zip(op.results, view_lowering(op.name)(m, b, op, [where[v] for v in op.operands])))
                continue
            for r in op.results:
                where[r] = out_ptrs[plan.slot_of[r]] if r in plan.slot_of else self.arena_at(base + plan.offset_of[r])
            if op.name in CONTROL_LOWERINGS:
                CONTROL_LOWERINGS[op.name](self, op, where, base + plan.arena_size)
            else:
                self.kernels += 1
                kernel = _emit_kernel(m, op, self.kernels, self.name, list(op.results), list(op.operands),
                                      self.target)
                self.check(b.call(kernel, [where[r] for r in op.results] + [where[v] for v in op.operands]))
            if stamp:
                timed += 1
                stamp(timed)

    def arena_at(self, offset: int) -> ir.Value:
        return self.b.gep(self.arena, [ir.Constant(I64, offset)], source_etype=ir.IntType(8), inbounds=True)

    def check(self, rc: ir.Value) -> None:
        """Leave the step with status `rc` unless it is 0."""
        ok = self.step.append_basic_block(f"k{self.kernels}.ok")
        self.status.add_incoming(rc, self.b.block)
        self.b.cbranch(self.b.icmp_unsigned("!=", rc, ir.Constant(I32, 0)), self.exit_block, ok)
        self.b.position_at_end(ok)

    def copy(self, dst: ir.Value, src: ir.Value, nbytes: int) -> None:
        if nbytes:
            memcpy = declare(self.m, "llvm.memcpy.p0.p0.i64", ir.VoidType(), [PTR, PTR, I64, I1])
            self.b.call(memcpy, [dst, src, ir.Constant(I64, nbytes), ir.Constant(I1, 0)])


def build_ir_module(func: Function, name: str = "step", target: Target = PORTABLE, trace: bool = False) -> ir.Module:
    """Lower `func` to an llvmlite module (see the module docstring for the ABI) for
    `target`; the default (what AOT objects use) is portable and free of libgomp. A traced
    module also records when each kernel ends (module docstring)."""
    if not name.isidentifier():
        raise ValueError(f"entry name must be a C identifier, got {name!r}")
    _check_static(func)
    for op in _emitted_ops(func.body):  # fail early and by name, before emitting anything
        if is_view(op):
            view_lowering(op.name)
        elif op.name not in CONTROL_LOWERINGS:
            check_lowering(op)
    m = ir.Module(name=name)
    step = ir.Function(m, ir.FunctionType(I32, [PTR]), name)
    step.args[0].add_attribute("captures(none)")
    b = ir.IRBuilder(step.append_basic_block("entry"))
    exit_block = step.append_basic_block("exit")
    with b.goto_block(exit_block):
        status = b.phi(I32, "status")

    def slot(i: int) -> ir.Value:
        return b.load(b.gep(step.args[0], [ir.Constant(I64, i)], source_etype=PTR, inbounds=True),
                      typ=PTR, name=f"slot{i}")

    bound = bound_constants(func) if target.bind_constants else []
    bound_set = set(bound)
    n_args = len(func.args) + len(bound)
    where: dict = {a: slot(i) for i, a in enumerate(func.args)}
    where.update((op.result, slot(len(func.args) + k)) for k, op in enumerate(bound))
    out_ptrs = [slot(n_args + j) for j in range(len(func.results))]
    stamp = _stamper(m, b, slot(n_args + len(func.results))) if trace else (lambda k: None)

    plan = plan_buffers(func, lambda op: op.name in VIEW_LOWERINGS)
    arena_size = plan.arena_size + region_arena_size(func.body)
    arena, cache = ir.Constant(PTR, None), None  # zero-size values point into no arena
    if arena_size:
        cache, arena = _take_arena(m, b, name, arena_size)
        ok = step.append_basic_block("arena.ok")
        status.add_incoming(ir.Constant(I32, OUT_OF_MEMORY), b.block)
        b.cbranch(b.icmp_unsigned("==", arena, ir.Constant(PTR, None)), exit_block, ok)
        b.position_at_end(ok)

    sb = StepBuilder(m, b, step, status, exit_block, name, target, arena)
    sb.emit_ops([op for op in func.ops if op not in bound_set], where, plan, out_ptrs, 0,
                stamp if trace else None)
    for j, v in enumerate(func.results):
        if plan.slot_of.get(v) != j:
            sb.copy(out_ptrs[j], where[v], v.type.nbytes)
    status.add_incoming(ir.Constant(I32, 0), b.block)
    b.branch(exit_block)

    b.position_at_end(exit_block)
    if arena_size:
        _give_back_arena(m, b, cache, arena)
    b.ret(status)
    _add_release(m, release_name(name), cache)
    return m


def release_name(name: str) -> str:
    """The function `void <name>_release(void)` that frees the step's cached arena (if any)."""
    return f"{name}_release"


def _add_release(m: ir.Module, fn_name: str, cache: ir.GlobalVariable | None) -> None:
    """Define `fn_name`: take the cached arena out (atomically) and free it. A call running
    meanwhile keeps its own arena and puts it back later, so this never frees one in use;
    without an arena the function does nothing."""
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), []), fn_name)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    if cache is not None:
        cached = b.atomic_rmw("xchg", cache, ir.Constant(PTR, None), "acquire", name="cached")
        b.call(declare(m, "free", ir.VoidType(), [PTR]), [cached])
    b.ret_void()


def _stamper(m: ir.Module, b: ir.IRBuilder, times: ir.Value):
    """A function `stamp(k)` that emits `times[k] = now in ns` at the builder's position."""
    clock = declare(m, "clock_gettime", I32, [I32, PTR])
    spec_type = ir.LiteralStructType([I64, I64])
    timespec = b.alloca(spec_type, name="timespec")

    def stamp(k: int) -> None:
        b.call(clock, [ir.Constant(I32, 0), timespec])  # CLOCK_REALTIME: TF's epoch micros
        sec = b.load(b.gep(timespec, [ir.Constant(I32, 0), ir.Constant(I32, 0)], source_etype=spec_type), typ=I64)
        nsec = b.load(b.gep(timespec, [ir.Constant(I32, 0), ir.Constant(I32, 1)], source_etype=spec_type), typ=I64)
        now = b.add(b.mul(sec, ir.Constant(I64, 1_000_000_000)), nsec)
        b.store(now, b.gep(times, [ir.Constant(I64, k)], source_etype=I64, inbounds=True))
    return stamp


def _take_arena(m: ir.Module, b: ir.IRBuilder, name: str, size: int) -> tuple[ir.GlobalVariable, ir.Value]:
    """(the module's arena cache, an arena of `size` bytes: the cached one, else a new one;
    null when out of memory)."""
    cache = ir.GlobalVariable(m, PTR, f"{name}.arena_cache")
    cache.linkage = "internal"
    cache.initializer = ir.Constant(PTR, None)
    cached = b.atomic_rmw("xchg", cache, ir.Constant(PTR, None), "acquire", name="cached")
    with b.if_else(b.icmp_unsigned("!=", cached, ir.Constant(PTR, None))) as (hit, miss):
        with hit:
            from_cache = b.block
        with miss:
            fresh = b.call(declare(m, "aligned_alloc", PTR, [I64, I64]),
                           [ir.Constant(I64, ALIGN), ir.Constant(I64, size)], name="fresh")
            allocated = b.block
    arena = b.phi(PTR, "arena")
    arena.add_incoming(cached, from_cache)
    arena.add_incoming(fresh, allocated)
    return cache, arena


def _give_back_arena(m: ir.Module, b: ir.IRBuilder, cache: ir.GlobalVariable, arena: ir.Value) -> None:
    """Put `arena` into the empty cache, or free it (free(NULL) is a no-op)."""
    swap = b.cmpxchg(cache, ir.Constant(PTR, None), arena, "release", "monotonic")
    with b.if_then(b.not_(b.extract_value(swap, 1))):
        b.call(declare(m, "free", ir.VoidType(), [PTR]), [arena])


def build_llvm_module(func: Function, name: str = "step", target: Target = PORTABLE) -> str:
    """The LLVM IR text of `func`'s step module (unoptimised; portable unless `target` asks)."""
    return str(build_ir_module(func, name, target))
