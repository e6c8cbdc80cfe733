"""The loop level as LLVM: a "loop.kernel" becomes its kernel function by one entry per loop
op in `LOOP_LOWERINGS` (cf. MLIR's `-convert-scf-to-cf` and `-finalize-memref-to-llvm`,
xDSL's op -> builder map), with scalar math from `SCALAR_LOWERINGS` keyed by the elementwise
op a "loop.scalar" names.

The kernel's block arguments are the `KernelCtx` buffers (results, then operands: the same
`noalias` parameters as every kernel); a memref value is which of them it is plus its element
strides, and a load or store computes its element offset as the sum of index * stride with
`advance_offset`, the arithmetic the direct elementwise kernels use (stride 0 adds nothing,
so LICM hoists a broadcast load). A "loop.for" from 0 by 1 is `for_range` (bottom-tested,
constant trip count, the form the vectoriser wants); others are guarded `counted_loop`s. A
`parallel` loop whose nest is estimated above `parallel.THRESHOLD_NS` is split across
`kc.target.threads` threads in chunks of at least 64 points, as the direct elementwise kernels
split their outermost loop, and the optimised code is the same as the elementwise kernels'
that emitted LLVM straight from tensor ops before this level existed (names aside).
The `vector` hint needs no code: O3's loop vectoriser takes the unit-stride innermost loop;
an `unroll` loop is emitted as its body once per iteration. A "loop.alloc" is one alloca in
the entry block of the function emitted now (so inside a split loop, each chunk function's
own); a loop whose body reads such a buffer allocated outside it is not split.
A "loop.for" carrying values keeps them in phis (`kernels_reduce.fold_range`, the loop the
direct reduction kernels used); "loop.fold" is the reduction step of `kernels_reduce`
(`fadd reassoc` for a float sum, `llvm.maximum`/`minimum` with `nsz` for a float max/min,
the elementwise op's scalar lowering otherwise), so a reduction emits what its direct kernel
did.
"loop.call_kernel" and "loop.call_fused" call the named micro-kernel's emitter in
`MICRO_LOWERINGS` (`kernels_matmul.py`, `kernels_conv.py`, `kernels_fused.py`) with the
call's buffers as a kernel's results and operands and, for a fused call, its `Epilogue`:
the region, emitted through this table wherever the micro-kernel applies it.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from math import prod

from llvmlite import ir
from lowerflow.backend import parallel
from lowerflow.backend.errors import CHECK_STATUS
from lowerflow.backend.kernels import (
    Buffer,
    KernelCtx,
    scalar_lowering,
)
from lowerflow.backend.kernels_conv import lower_conv2d_backprop_filter, lower_conv2d_backprop_input
from lowerflow.backend.kernels_fused import lower_conv2d
from lowerflow.backend.kernels_matmul import lower_gemm
from lowerflow.backend.kernels_reduce import (
    constant,
    float_extreme,
    float_sum,
    fold_range,
)
from lowerflow.backend.lltypes import I64, load_elem, mem_type, reg_type, store_elem
from lowerflow.backend.loops import advance_offset, for_range
from lowerflow.backend.scalar_ops import ScalarCtx
from lowerflow.ir import ElemType, Operation, TensorType
from lowerflow.ir.types import U8
from lowerflow.ir.core import Block, Value
from lowerflow.ir.loop_lowering import KERNELS, is_reduction, lower_op, lowerable
from lowerflow.ir.ops import loop
from lowerflow.ir.ops.reduction import COMBINE
from lowerflow.ir.ops.random import MIX1, MIX2


@dataclass(frozen=True)
class Mem:
    """A memref at the loop level: kernel buffer `arg` (results, then operands) with `strides`
    from element `offset`, or (`arg` None) the stack buffer `local` of a "loop.alloc" in the
    function emitted now."""

    arg: int | None
    strides: tuple
    dtype: ElemType
    local: ir.Value | None = None
    offset: int = 0


class LoopEmitter:
    """Emits loop-level ops into `kc`'s function; `env` maps IR values to `Mem`s and LLVM values."""

    def __init__(self, kc: KernelCtx, env: dict, depth: int = 0):
        self.kc, self.env, self.depth = kc, env, depth

    @property
    def b(self) -> ir.IRBuilder:
        return self.kc.b

    def ptr(self, mem: Mem) -> ir.Value:
        return mem.local if mem.arg is None else (self.kc.results + self.kc.operands)[mem.arg].ptr

    def offset(self, mem: Mem, indices: list[Value]) -> ir.Value:
        off = ir.Constant(I64, mem.offset)  # every partial sum stays in the buffer: >= 0
        for i, s in zip(indices, mem.strides):
            off = advance_offset(self.b, off, self.env[i], s)
        return off

    def run(self, block: Block) -> list[ir.Value]:
        """Emit `block`'s ops; the LLVM values it yields."""
        for op in block.ops[:-1]:
            loop_lowering(op.name)(self, op)
        return [self.env[v] for v in block.terminator.operands]


def loop_level(op: Operation) -> Operation:
    """`op` as the codegen emits it: an elementwise op, reduction, fusion or an op of
    `loop_lowering.KERNELS` (the shape ops' copies among them) still at the tensor level as
    its "loop.kernel" (`lowerflow.ir.loop_lowering`, the `lower-to-loops` pass's code: a step
    that came through that pass emits the same); any other op as it is."""
    return lower_op(op) if lowerable(op) else op


def check_lowering(op: Operation) -> None:
    """NotImplementedError naming the first op of `op` that has no native lowering (also for
    an elementwise op whose loop nest is empty)."""
    if lowerable(op) and op.name in KERNELS:  # a nest of its own: the scalar ops it uses
        ops = list(lower_op(op).walk())
        names = [loop.scalar_op(o)[0] for o in ops if o.name == loop.SCALAR]
        for o in ops:
            if o.name in (loop.CALL_KERNEL, loop.CALL_FUSED):
                micro_lowering(o.attributes["name"])
    elif lowerable(op):
        ops = op.regions[0].ops[:-1] if op.regions else [op]
        names = [o.name for o in ops if o.name not in COMBINE]  # the fold needs no scalar op
        names += ["lf.cast", "lf.div"] if is_reduction(op) else []
    else:
        kernel_lowering(op.name)
        names = [loop.scalar_op(o)[0] for o in op.walk() if o.name == loop.SCALAR]
    for name in names:
        scalar_lowering(name)


def lower_loop_kernel(kc: KernelCtx, op: Operation) -> None:
    """"loop.kernel": its body, with the block arguments bound to the kernel's buffers."""
    (block,) = op.regions
    env = {a: Mem(i, a.type.strides, a.type.dtype) for i, a in enumerate(block.args)}
    LoopEmitter(kc, env).run(block)


def _for(e: LoopEmitter, op: Operation) -> None:
    if loop.run_time_bound(op):
        _bounded_for(e, op)
        return
    r = loop.loop_range(op)
    if op.attributes.get("unroll", False):
        _unrolled_for(e, op, r)
        return
    if op.operands:
        _carrying_for(e, op, r)
        return
    if not len(r) or (op.attributes.get("parallel", False) and _split(e, op, r)):
        return
    body, name = op.regions[0], f"i{e.depth}"
    inner = LoopEmitter(e.kc, e.env, e.depth + 1)

    def step(i: ir.Value) -> None:
        e.env[body.args[0]] = i
        inner.run(body)

    if r.start == 0 and r.step == 1:
        for_range(e.b, len(r), step, name=name)
    else:
        parallel.counted_loop(e.b, ir.Constant(I64, r.start), ir.Constant(I64, r.stop), step, r.step, name=name)


def _bounded_for(e: LoopEmitter, op: Operation) -> None:
    """A loop whose upper bound is its first operand: guarded (it may run no iteration) and
    serial, carried values in phis (the operands when it runs none)."""
    body, inner = op.regions[0], LoopEmitter(e.kc, e.env, e.depth + 1)
    lower = ir.Constant(I64, op.attributes["lower"])
    upper, *init = (e.env[v] for v in op.operands)

    def run(i: ir.Value, carried: list[ir.Value]) -> list[ir.Value]:
        e.env.update(zip(body.args, [i, *carried]))
        return inner.run(body)
    last = parallel.counted_loop(e.b, lower, upper, run, op.attributes["step"], f"i{e.depth}", init)
    e.env.update(zip(op.results, last))


def _unrolled_for(e: LoopEmitter, op: Operation, r: range) -> None:
    """An `unroll` loop: its body once per iteration, the index a constant (no loop)."""
    body, inner = op.regions[0], LoopEmitter(e.kc, e.env, e.depth + 1)
    carried = [e.env[v] for v in op.operands]
    for i in r:
        e.env.update(zip(body.args, [ir.Constant(I64, i), *carried]))
        carried = inner.run(body)
    e.env.update(zip(op.results, carried))


def _carrying_for(e: LoopEmitter, op: Operation, r: range) -> None:
    """A loop with carried values: phis, bottom-tested over the static trip count (the
    operands themselves when it runs no iteration)."""
    body, inner = op.regions[0], LoopEmitter(e.kc, e.env, e.depth + 1)
    init = [e.env[v] for v in op.operands]

    def step(k: ir.Value, carried: list[ir.Value]) -> list[ir.Value]:
        i = k if (r.start, r.step) == (0, 1) else e.b.add(
            ir.Constant(I64, r.start), e.b.mul(k, ir.Constant(I64, r.step), flags=("nsw",)), flags=("nsw",))
        e.env.update(zip(body.args, [i, *carried]))
        return inner.run(body)

    e.env.update(zip(op.results, fold_range(e.b, len(r), init, step) if len(r) else init))


def _fold(e: LoopEmitter, op: Operation) -> None:
    name, t = op.attributes["op"], op.result.type
    acc, x = (e.env[v] for v in op.operands)
    if t.is_float and name == "lf.add":
        combine = float_sum
    elif t.is_float and name in ("lf.max", "lf.min"):
        combine = float_extreme(e.kc, "maximum" if name == "lf.max" else "minimum")
    else:
        ctx = ScalarCtx(e.kc.module, [t, t], t, {}, e.kc.error_if)
        combine = lambda b, x, y: scalar_lowering(name)(b, [x, y], ctx)
    e.env[op.result] = combine(e.b, acc, x)


def _split(e: LoopEmitter, op: Operation, r: range) -> bool:
    """Run a large parallel loop's iterations in chunks on several threads; False if it stays
    serial (small, no threads, or it reads LLVM values of the function around it other than
    constants)."""
    if r.start != 0 or r.step != 1 or not all(isinstance(v, ir.Constant) or (isinstance(v, Mem) and v.arg is not None)
                                              for v in e.env.values()):
        return False
    n = len(r) * _inner_points(op)
    scalars = [(loop.scalar_op(o)[0], o.operands[0].type) for o in op.walk() if o.name == loop.SCALAR]
    threads = parallel.threads_for(e.kc, n * parallel.loop_ns(e.kc.results + e.kc.operands, scalars))
    if threads == 1:
        return False
    body = op.regions[0]

    def chunk(ckc: KernelCtx, lo: ir.Value, hi: ir.Value) -> None:
        ce = LoopEmitter(ckc, dict(e.env), e.depth)

        def step(i: ir.Value) -> None:
            ce.env[body.args[0]] = i
            ce.run(body)
        parallel.counted_loop(ckc.b, lo, hi, step, name="c")

    parallel.parallel_for(e.kc, len(r), -(-64 // (n // len(r))), threads, chunk)  # chunks of >= 64 points
    return True


def _inner_points(op: Operation) -> int:
    """Points of the loops nested in `op`, per iteration of it: the sum over the loops of its
    body (a pooling's nest per span), 1 when its body has none."""
    loops = [o for o in op.regions[0].ops[:-1] if o.name == loop.FOR and not loop.run_time_bound(o)]
    return sum(len(loop.loop_range(o)) * _inner_points(o) for o in loops) or 1


def _view(e: LoopEmitter, op: Operation) -> None:
    src = e.env[op.operands[0]]
    t = op.result.type
    e.env[op.result] = Mem(src.arg, t.strides, src.dtype, src.local, t.offset)


def _alloc(e: LoopEmitter, op: Operation) -> None:
    """A stack buffer in the entry block of the function emitted now (a chunk function's own
    when inside a split loop), so one alloca serves every iteration of the loops around it."""
    t = op.result.type
    ptr = e.kc.entry.alloca(mem_type(t.dtype), size=max(1, prod(t.shape)), name="scratch")
    e.env[op.result] = Mem(None, t.strides, t.dtype, ptr)


def _load(e: LoopEmitter, op: Operation) -> None:
    mem = e.env[op.operands[0]]
    off = e.offset(mem, op.operands[1:])
    if mem.dtype.is_bool:  # its byte kept too: a bool stored as loaded moves its byte (a copy)
        byte = e.env[_Byte(op.result)] = load_elem(e.b, e.ptr(mem), off, U8)
        e.env[op.result] = e.b.icmp_unsigned("!=", byte, ir.Constant(byte.type, 0))
        return
    e.env[op.result] = load_elem(e.b, e.ptr(mem), off, mem.dtype)


def _store(e: LoopEmitter, op: Operation) -> None:
    mem = e.env[op.operands[1]]
    off = e.offset(mem, op.operands[2:])
    byte = e.env.get(_Byte(op.operands[0])) if mem.dtype.is_bool else None
    if byte is not None:
        store_elem(e.b, byte, e.ptr(mem), off, U8)
        return
    store_elem(e.b, e.env[op.operands[0]], e.ptr(mem), off, mem.dtype)


@dataclass(frozen=True)
class _Byte:
    """The key of a loaded bool's byte in a `LoopEmitter`'s env (beside its i1 under the value)."""

    value: Value


def _scalar(e: LoopEmitter, op: Operation) -> None:
    """A "loop.scalar": its elementwise op's scalar lowering; with `contract = false` the
    result's instruction loses the `contract` flag (so it is never fused into an FMA)."""
    name, attrs = loop.scalar_op(op)
    ctx = ScalarCtx(e.kc.module, [v.type for v in op.operands], op.result.type, attrs, e.kc.error_if)
    value = scalar_lowering(name)(e.b, [e.env[v] for v in op.operands], ctx)
    if not op.attributes.get("contract", True) and isinstance(value, ir.Instruction):
        value.flags = [f for f in getattr(value, "flags", []) if f != "contract"]
    e.env[op.result] = value


def _floor_divmod(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> tuple[ir.Value, ir.Value]:
    """Python's floor quotient and remainder (the interpreter's `//` and `%`)."""
    q, r = b.sdiv(x, y), b.srem(x, y)
    zero = ir.Constant(I64, 0)
    adjust = b.and_(b.icmp_signed("!=", r, zero), b.icmp_signed("!=", b.icmp_signed("<", r, zero),
                                                                   b.icmp_signed("<", y, zero)))
    return (b.select(adjust, b.sub(q, ir.Constant(I64, 1)), q), b.select(adjust, b.add(r, y), r))


_INDEX_LOWERINGS: dict[str, Callable[[ir.IRBuilder, ir.Value, ir.Value], ir.Value]] = {
    "add": lambda b, x, y: b.add(x, y, flags=("nsw",)),
    "sub": lambda b, x, y: b.sub(x, y, flags=("nsw",)),
    "mul": lambda b, x, y: b.mul(x, y, flags=("nsw",)),
    "floordiv": lambda b, x, y: _floor_divmod(b, x, y)[0],
    "mod": lambda b, x, y: _floor_divmod(b, x, y)[1],
    "min": lambda b, x, y: b.select(b.icmp_signed("<", x, y), x, y),
    "max": lambda b, x, y: b.select(b.icmp_signed(">", x, y), x, y),
}


def _index_arith(e: LoopEmitter, op: Operation) -> None:
    x, y = (e.env[v] for v in op.operands)
    e.env[op.result] = _INDEX_LOWERINGS[op.attributes["op"]](e.b, x, y)


def _index_cast(e: LoopEmitter, op: Operation) -> None:
    """An index (i64) as an integer scalar: truncated to a narrower type (the bits ArgMax keeps)."""
    i, t = e.env[op.operands[0]], op.result.type
    e.env[op.result] = i if t.bits == 64 else e.b.trunc(i, reg_type(t))


def _to_index(e: LoopEmitter, op: Operation) -> None:
    """An integer scalar as an index (i64): sign-extended (unsigned: zero-extended) when narrower."""
    x, t = e.env[op.operands[0]], op.operands[0].type
    e.env[op.result] = x if t.bits == 64 else (e.b.sext if t.is_signed else e.b.zext)(x, I64)


def _check(e: LoopEmitter, op: Operation) -> None:
    e.kc.error_if(e.b, e.env[op.operands[0]], CHECK_STATUS[op.attributes["error"]])


def micro_lowering(name: str) -> Callable:
    """The emitter of a named micro-kernel; NotImplementedError naming it if none."""
    try:
        return MICRO_LOWERINGS[name]
    except KeyError:
        raise NotImplementedError(f"no native lowering for micro-kernel '{name}'") from None


def _buffers(e: LoopEmitter, values: list[Value]) -> list[Buffer]:
    return [Buffer(e.ptr(e.env[v]), TensorType(v.type.shape, v.type.dtype)) for v in values]


def _micro_ctx(e: LoopEmitter, results: list[Value], operands: list[Value]) -> KernelCtx:
    """`e.kc` (same function, builder and error flags) seen as a kernel of these buffers."""
    kc = copy.copy(e.kc)
    kc.results, kc.operands = _buffers(e, results), _buffers(e, operands)
    return kc


def _retry(e: LoopEmitter, op: Operation) -> None:
    """"loop.retry": the body in a loop of basic blocks, the attempt in a phi, left when the
    body accepts or the limit is reached; the results are the last attempt's values (they
    dominate the exit, whose one predecessor is the body's last block)."""
    b, body, limit = e.b, op.regions[0], op.attributes["limit"]
    pre = b.block
    again, done = b.append_basic_block("retry"), b.append_basic_block("accepted")
    b.branch(again)
    b.position_at_end(again)
    attempt = b.phi(I64, "attempt")
    attempt.add_incoming(ir.Constant(I64, 0), pre)
    e.env[body.args[0]] = attempt
    accepted, *values = LoopEmitter(e.kc, e.env, e.depth + 1).run(body)
    following = b.add(attempt, ir.Constant(I64, 1))
    attempt.add_incoming(following, b.block)
    b.cbranch(b.or_(accepted, b.icmp_unsigned("==", following, ir.Constant(I64, limit))), done, again)
    b.position_at_end(done)
    e.env.update(zip(op.results, values))


def _i64(value: int) -> ir.Constant:
    """A 64-bit constant from an unsigned value (LLVM spells i64 constants signed)."""
    return ir.Constant(I64, value - (1 << 64) if value >= 1 << 63 else value)


def _mix(b: ir.IRBuilder, z: ir.Value) -> ir.Value:
    """"loop.mix": SplitMix64's finaliser (wrapping i64 arithmetic), as `random.mix`."""
    z = b.mul(b.xor(z, b.lshr(z, _i64(30))), _i64(MIX1))
    z = b.mul(b.xor(z, b.lshr(z, _i64(27))), _i64(MIX2))
    return b.xor(z, b.lshr(z, _i64(31)))


def _call_kernel(e: LoopEmitter, op: Operation) -> None:
    first, *rest = op.operands
    micro_lowering(op.attributes["name"])(_micro_ctx(e, [first], rest), loop.call_attrs(op.attributes))


@dataclass(frozen=True)
class Epilogue:
    """A "loop.call_fused"'s epilogue as its micro-kernel sees it: the buffers it reads, and
    `apply(kc, values)`, which emits its region into `kc`'s builder on the product's element
    and one element of each buffer and gives the yielded values."""

    block: Block
    buffers: list[Buffer]

    def apply(self, kc: KernelCtx, values: list[ir.Value]) -> list[ir.Value]:
        return LoopEmitter(kc, dict(zip(self.block.args, values))).run(self.block)


def _call_fused(e: LoopEmitter, op: Operation) -> None:
    outs, ins, extra = loop.fused_parts(op)
    epilogue = Epilogue(op.regions[0], _buffers(e, extra))
    micro_lowering(op.attributes["name"])(_micro_ctx(e, outs, ins), loop.call_attrs(op.attributes), epilogue)


def _constant(e: LoopEmitter, op: Operation) -> None:
    """A scalar constant; an unsigned one at or above 2**(bits - 1) by its two's complement
    (LLVM spells integer constants signed)."""
    t, value = op.result.type, op.attributes["value"]
    if t.is_int and value >= 1 << (t.bits - 1):
        value -= 1 << t.bits
    e.env[op.result] = constant(t, value)


LoopLowering = Callable[[LoopEmitter, Operation], None]

LOOP_LOWERINGS: dict[str, LoopLowering] = {
    loop.FOR: _for,
    loop.VIEW_OP: _view,
    loop.ALLOC: _alloc,
    loop.LOAD: _load,
    loop.STORE: _store,
    loop.SCALAR: _scalar,
    loop.CONST_INDEX: lambda e, op: e.env.__setitem__(op.result, ir.Constant(I64, op.attributes["value"])),
    loop.INDEX_ARITH: _index_arith,
    loop.INDEX_SELECT: lambda e, op: e.env.__setitem__(op.result, e.b.select(*(e.env[v] for v in op.operands))),
    loop.INDEX_CAST: _index_cast,
    loop.TO_INDEX: _to_index,
    loop.CHECK: _check,
    loop.CALL_KERNEL: _call_kernel,
    loop.CALL_FUSED: _call_fused,
    loop.FOLD: _fold,
    loop.CONSTANT: _constant,
    loop.MIX: lambda e, op: e.env.__setitem__(op.result, _mix(e.b, e.env[op.operands[0]])),
    loop.RETRY: _retry,
}


def loop_lowering(name: str) -> LoopLowering:
    """The emitter of a loop-level op; NotImplementedError naming it if none."""
    try:
        return LOOP_LOWERINGS[name]
    except KeyError:
        raise NotImplementedError(f"no native lowering for loop-level op '{name}'") from None


#: the emitters of the named micro-kernels (`ir/ops/loop_micro.py` has their checks and references)
MICRO_LOWERINGS: dict[str, Callable] = {
    "gemm": lower_gemm, "conv2d": lower_conv2d,
    "conv2d_backprop_input": lower_conv2d_backprop_input, "conv2d_backprop_filter": lower_conv2d_backprop_filter,
}
KernelLowering = Callable[[KernelCtx, Operation], None]
#: top-level ops with a kernel: every one reaches the backend as, or through, its "loop.kernel"
KERNEL_LOWERINGS: dict[str, KernelLowering] = {loop.KERNEL: lower_loop_kernel}


def kernel_lowering(name: str) -> KernelLowering:
    """The kernel lowering for a top-level op; NotImplementedError naming it if none."""
    if name in KERNEL_LOWERINGS:
        return KERNEL_LOWERINGS[name]
    raise NotImplementedError(f"no native lowering for op '{name}'")
