"""Large kernels on several threads: the outermost loop split by libgomp's `GOMP_parallel`.

Why libgomp, called from the generated IR: dispatch costs 0.3-1.9 µs, against 14-27 µs
for Python worker threads and ~31 µs for pthread_create per call, and it gave 2.0x on
compute-bound and 1.4-1.6x on memory-bound kernels on 2 cores (shared notes §4). It is
what GCC's `#pragma omp parallel` compiles to (cf. numba's omp threading layer):

    kernel(bufs...):  data = {bufs..., status = UINT_MAX}
                      GOMP_parallel(kernel.omp, &data, threads, 0)   (kernel.omp(&data) in a
                                                                      forked child: see FORKED_SYMBOL)
                      return status == UINT_MAX ? 0 : status
    kernel.omp(data): [lo, hi) = this thread's chunk of range(n), aligned to `align`
                      rc = kernel.chunk(bufs..., lo, hi); if rc: atomic umin(status, rc)
                      (`fork`: the same for any body, e.g. a GEMM's panel loop, which
                      runs on every thread and meets at `barrier`s)
    kernel.chunk:     the serial loop nest over outer indices [lo, hi), built by the caller
                      through a `KernelCtx` of its own (its `error_if` works as usual)

Every thread gets one contiguous chunk (static schedule, like `schedule(static)`): the
kernels split here are uniform loops. Threads write disjoint ranges of the results and
only read operands, so the chunk function's `noalias` parameters stay true.

Only kernels estimated above `THRESHOLD_NS` (100 µs) are split: memory-bound kernels
scale 1.3-1.6x at best and dispatch plus cold caches on the other core would eat small
ones. When libgomp.so.1 is missing everything stays serial.

Waiting is libgomp's default: a thread spins ~300,000 turns at a barrier or after a region
before it sleeps. That is the fast choice on cores nobody else uses (Zen 4, quiet: 1024^3
matmul 11.8 ms, against 20.5 ms with OMP_WAIT_POLICY=PASSIVE and 17.5 ms spinning 30,000
turns), and the slow one when other busy processes share the cores: a spinning thread holds
the core the thread it waits for needs, so a 2-thread Adam MLP step took 19-40 ms beside
other processes, against 1.3-1.5 ms with PASSIVE. On a shared machine set
OMP_WAIT_POLICY=PASSIVE (libgomp reads it when it loads); the fix that needs no knob is a
GEMM whose threads do not wait for each other at fixed splits.
"""
from __future__ import annotations

import ctypes.util
import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import llvmlite.binding as llvm
from llvmlite import ir

from lowerflow.backend import jit, mathlib
from lowerflow.backend.lltypes import I1, I32, I64, PTR, declare
from lowerflow.ir import ElemType

if TYPE_CHECKING:
    from lowerflow.backend.kernels import KernelCtx

THRESHOLD_NS = 100_000.0
#: Estimated cost of one element of an elementwise kernel: per byte it moves (~33 GB/s,
#: between the ~80 GB/s in cache and ~28 GB/s from DRAM measured for float32 add) plus
#: per op (a float32 mathlib polynomial ~0.3-0.4 ns; float64 libm calls stay scalar, ~3 ns).
#: So a float32 add goes parallel from ~240K elements, exp from ~160K, the tanh/sigmoid
#: chain of test_mathlib from ~75K.
NS_PER_BYTE = 0.03
NS_PER_OP = 0.05
NS_PER_POLY_OP = 0.4
NS_PER_LIBM_OP = 3.0
_LIBM_OPS = {"lf.sin", "lf.cos", "lf.pow", "lf.mod"}  # scalar libm calls (pow only for floats, but rare)
_NONE = 0xFFFFFFFF  # status slot value meaning "no chunk failed"
_SYMBOLS = ("GOMP_parallel", "GOMP_barrier", "omp_get_thread_num", "omp_get_num_threads")


#: libgomp is not fork-safe: a child of a process that ran a parallel region hangs in
#: its next GOMP_parallel (measured). Forked children raise this flag and forks then run
#: their body on the calling thread (omp_get_num_threads() is 1 outside a region).
FORKED_SYMBOL = "lowerflow_forked"
_FORKED = ctypes.c_int32(0)
os.register_at_fork(after_in_child=lambda: setattr(_FORKED, "value", 1))


@functools.cache
def available() -> bool:
    """Load libgomp into the process (once) so JIT code can call it; False if missing."""
    jit.host_cpu()  # LLVM initialised first
    llvm.add_symbol(FORKED_SYMBOL, ctypes.addressof(_FORKED))
    if not jit.load_library("gomp", "libgomp.so.1"):
        return False
    return all(llvm.address_of_symbol(s) for s in _SYMBOLS)


def elementwise_ns(buffers: list, ops: list) -> float:
    """Estimated ns per element of an elementwise loop over `buffers` evaluating `ops`."""
    return loop_ns(buffers, [(op.name, op.operands[0].type.dtype) for op in ops])


def loop_ns(buffers: list, ops: list[tuple[str, ElemType]]) -> float:
    """The same estimate from (elementwise op name, its first operand's dtype) pairs."""
    ns = NS_PER_BYTE * sum(buf.type.dtype.np_dtype.itemsize for buf in buffers)
    for name, dtype in ops:
        if name in _LIBM_OPS or (name in mathlib.FLOAT32_MATH and dtype.bits > 32):
            ns += NS_PER_LIBM_OP
        else:
            ns += NS_PER_POLY_OP if name in mathlib.FLOAT32_MATH else NS_PER_OP
    return ns


def threads_for(kc: KernelCtx, work_ns: float, threshold_ns: float = THRESHOLD_NS) -> int:
    """How many threads a kernel of estimated cost `work_ns` should use: 1 (serial) unless
    threads were asked for, the kernel is worth `threshold_ns` and libgomp is there."""
    if kc.target.threads <= 1 or work_ns < threshold_ns or not available():
        return 1
    return kc.target.threads


def counted_loop(b: ir.IRBuilder, lo: ir.Value, hi: ir.Value, body: Callable[[ir.Value], None],
                 step: int = 1, name: str = "i") -> None:
    """`for i in range(lo, hi, step): body(i)` for runtime i64 bounds (guarded, then
    bottom-tested: the form the vectoriser wants); leaves `b` after the loop."""
    loop, done = b.append_basic_block(f"{name}.loop"), b.append_basic_block(f"{name}.done")
    pre = b.block
    b.cbranch(b.icmp_signed("<", lo, hi), loop, done)
    b.position_at_end(loop)
    i = b.phi(I64, name)
    i.add_incoming(lo, pre)
    body(i)
    nxt = b.add(i, ir.Constant(I64, step), name=f"{name}.next", flags=("nuw", "nsw"))
    i.add_incoming(nxt, b.block)
    b.cbranch(b.icmp_signed("<", nxt, hi), loop, done)
    b.position_at_end(done)


def _chunk_bounds(b: ir.IRBuilder, tid: ir.Value, nt: ir.Value, n: int, align: int) -> tuple[ir.Value, ir.Value]:
    """Thread `tid`'s [lo, hi) of range(n): ceil(n / nt) rounded up to `align`."""
    per = b.sdiv(b.add(ir.Constant(I64, n - 1), nt), nt)
    per = b.mul(b.sdiv(b.add(per, ir.Constant(I64, align - 1)), ir.Constant(I64, align)), ir.Constant(I64, align))
    n_c = ir.Constant(I64, n)

    def smin(x: ir.Value) -> ir.Value:
        return b.select(b.icmp_signed("<", x, n_c), x, n_c)
    lo = smin(b.mul(tid, per))
    return lo, smin(b.add(lo, per))


#: body(builder, values, tid, lo, hi) -> i32 status or None: one thread's share of a fork
ForkBody = Callable[[ir.IRBuilder, list[ir.Value], ir.Value, ir.Value, ir.Value], "ir.Value | None"]


def fork(b: ir.IRBuilder, entry: ir.IRBuilder, values: list[ir.Value], n: int, align: int, threads: int,
         body: ForkBody, name: str, every_thread: bool = False) -> ir.Value:
    """Emit, at `b`, one GOMP_parallel region running `body` on `threads` threads, each for
    its chunk [lo, hi) of range(n) (multiples of `align`; empty chunks skip `body` unless
    `every_thread`, which a body with `barrier`s needs), with `values` (pointers and i64s)
    passed through a stack block allocated at `entry` (the function's entry block: the fork
    may sit in a loop). Returns the i32 status: 0, or the lowest non-zero status a body
    returned."""
    m = b.module
    worker = ir.Function(m, ir.FunctionType(ir.VoidType(), [PTR]), name)
    worker.linkage = "internal"
    wb = ir.IRBuilder(worker.append_basic_block("entry"))
    tid = wb.sext(wb.call(declare(m, "omp_get_thread_num", I32, []), []), I64)
    lo, hi = _chunk_bounds(wb, tid, team_size(wb), n, align)
    run, ret = worker.append_basic_block("run"), worker.append_basic_block("ret")
    wb.cbranch(ir.Constant(I1, 1) if every_thread else wb.icmp_signed("<", lo, hi), run, ret)
    wb.position_at_end(run)

    # The block holds one 8-byte slot per value, then the status pointer. Slots are typed
    # ptr and integers go through inttoptr: llvmlite's IR layer types allocas (notes §7).
    def slot(bb: ir.IRBuilder, data: ir.Value, i: int) -> ir.Value:
        return bb.gep(data, [ir.Constant(I64, i)], source_etype=PTR, inbounds=True)
    loaded = [wb.load(slot(wb, worker.args[0], i), typ=PTR) for i in range(len(values) + 1)]
    unpacked = [p if v.type == PTR else wb.ptrtoint(p, v.type) for p, v in zip(loaded, values)]
    rc = body(wb, unpacked, tid, lo, hi)
    if rc is not None:
        failed = worker.append_basic_block("failed")
        wb.cbranch(wb.icmp_unsigned("!=", rc, ir.Constant(I32, 0)), failed, ret)
        wb.position_at_end(failed)
        wb.atomic_rmw("umin", loaded[-1], rc, "monotonic")
    wb.branch(ret)
    wb.position_at_end(ret)
    wb.ret_void()

    data = entry.alloca(PTR, size=ir.Constant(I64, len(values) + 1), name=f"{name}.data")
    status = entry.alloca(I32, name=f"{name}.status")
    for i, v in enumerate(values + [status]):
        b.store(v if v.type == PTR or v is status else b.inttoptr(v, PTR), slot(b, data, i))
    b.store(ir.Constant(I32, _NONE), status)
    forked = m.globals.get(FORKED_SYMBOL)
    if forked is None:
        forked = ir.GlobalVariable(m, I32, FORKED_SYMBOL)  # external: the Python-owned flag
    gomp = declare(m, "GOMP_parallel", ir.VoidType(), [PTR, PTR, I32, I32])
    with b.if_else(b.icmp_unsigned("==", b.load(forked, typ=I32), ir.Constant(I32, 0))) as (team, alone):
        with team:
            b.call(gomp, [worker, data, ir.Constant(I32, threads), ir.Constant(I32, 0)])
        with alone:
            b.call(worker, [data])
    rc = b.load(status, typ=I32)
    return b.select(b.icmp_unsigned("==", rc, ir.Constant(I32, _NONE)), ir.Constant(I32, 0), rc)


def barrier(b: ir.IRBuilder) -> None:
    """Wait for every thread of the team (a no-op outside a parallel region: a forked child
    runs the worker alone)."""
    b.call(declare(b.module, "GOMP_barrier", ir.VoidType(), []), [])


def team_size(b: ir.IRBuilder) -> ir.Value:
    """The number of threads running this region, as i64 (1 outside one)."""
    return b.sext(b.call(declare(b.module, "omp_get_num_threads", I32, []), []), I64)


def parallel_for(kc: KernelCtx, n: int, align: int, threads: int,
                 body: Callable[[KernelCtx, ir.Value, ir.Value], None]) -> None:
    """Run `body(chunk_kc, lo, hi)` over range(n) split into `threads` chunks (multiples of
    `align`, the last ragged) on libgomp threads; `chunk_kc` is the KernelCtx of the chunk
    function, whose buffers are `kc`'s. A chunk's non-zero status fails `kc` (the lowest
    code wins, as in a serial kernel)."""
    from lowerflow.backend.kernels import Buffer, KernelCtx

    bufs = kc.results + kc.operands
    for arg in kc.fn.args:  # the pointers now escape into the fork's data block
        arg.attributes.discard("captures(none)")
    chunk = ir.Function(kc.module, ir.FunctionType(I32, [PTR] * len(bufs) + [I64, I64]), f"{kc.fn.name}.chunk")
    chunk.linkage = "internal"
    for arg in chunk.args[:len(bufs)]:
        arg.add_attribute("noalias")
        arg.add_attribute("captures(none)")
    wrap = [Buffer(arg, buf.type) for arg, buf in zip(chunk.args, bufs)]
    ckc = KernelCtx(chunk, wrap[:len(kc.results)], wrap[len(kc.results):], kc.target.serial())
    body(ckc, chunk.args[-2], chunk.args[-1])
    ckc.finish()

    b = kc.b
    rc = fork(b, kc.entry, [buf.ptr for buf in bufs], n, align, threads,
              lambda wb, ptrs, tid, lo, hi: wb.call(chunk, ptrs + [lo, hi]), f"{kc.fn.name}.omp")
    fail, ok = kc.fn.append_basic_block("omp.fail"), kc.fn.append_basic_block("omp.ok")
    b.cbranch(b.icmp_unsigned("!=", rc, ir.Constant(I32, 0)), fail, ok)
    b.position_at_end(fail)
    b.ret(rc)
    b.position_at_end(ok)
