"""TruncatedNormal as a kernel, and the SplitMix64 pieces the loop level's random ops use
(`mix` is the native lowering of "loop.mix"). RandomUniform, RandomStandardNormal and
RandomUniformInt go through the loop level (`ir/loop_lowering_random.py`); TruncatedNormal's
retry per element until |z| <= 2 is a loop with a data-dependent trip count, which the
loop level has no op for, so it stays here: the same streams, unit uniforms and Box-Muller
normals as the numpy reference in `lowerflow/ir/ops/random.py` (read its docstring), so
native and reference values agree bit for bit on the random bits and to libm's rounding on
the normals. The stream key is computed once from the run counter (operand 0) and the seed
attributes; then one loop over the elements, each a pure function of its index.
"""
from __future__ import annotations

from math import pi, prod

from llvmlite import ir

from lowerflow.backend.kernels import KERNEL_LOWERINGS, KernelCtx
from lowerflow.backend.kernels_reduce import convert
from lowerflow.backend.lltypes import I64, load_elem, reg_type, store_elem
from lowerflow.backend.loops import for_range
from lowerflow.backend.scalar_ops import ScalarCtx
from lowerflow.ir import Operation
from lowerflow.ir.ops.random import GOLDEN, MANTISSA_BITS, MIX1, MIX2, TRUNCATE_AT
from lowerflow.ir.types import F32, F64, ElemType

_F64 = ir.DoubleType()


def _i64(value: int) -> ir.Constant:
    """A 64-bit constant from an unsigned value (LLVM spells i64 constants signed)."""
    return ir.Constant(I64, value - (1 << 64) if value >= 1 << 63 else value)


def mix(b: ir.IRBuilder, z: ir.Value) -> ir.Value:
    """SplitMix64's finaliser (wrapping i64 arithmetic), as `random.mix`."""
    z = b.mul(b.xor(z, b.lshr(z, _i64(30))), _i64(MIX1))
    z = b.mul(b.xor(z, b.lshr(z, _i64(27))), _i64(MIX2))
    return b.xor(z, b.lshr(z, _i64(31)))


def stream_key(kc: KernelCtx, op: Operation) -> ir.Value:
    b = kc.b
    counter = load_elem(b, kc.operands[0].ptr, ir.Constant(I64, 0), kc.operands[0].type.dtype)
    seeded = b.add(mix(b, _i64(op.attributes["seed"])), _i64(op.attributes["seed2"]))
    return mix(b, b.add(mix(b, seeded), counter))


def random_bits(b: ir.IRBuilder, key: ir.Value, n: ir.Value) -> ir.Value:
    return mix(b, b.add(key, b.mul(b.add(n, _i64(1)), _i64(GOLDEN))))


def unit_uniform(b: ir.IRBuilder, bits: ir.Value, dtype: ElemType) -> ir.Value:
    """[0, 1) in `dtype`: the top mantissa-width bits times 2**-m, both steps exact
    (float16 goes through float32, exactly, since no i64 -> half conversion is needed)."""
    m = MANTISSA_BITS[dtype.bits]
    wide = reg_type(F64 if dtype == F64 else F32)
    value = b.fmul(b.uitofp(b.lshr(bits, _i64(64 - m)), wide), ir.Constant(wide, 2.0 ** -m))
    return value if wide == reg_type(dtype) else b.fptrunc(value, reg_type(dtype))


def box_muller(kc: KernelCtx, b: ir.IRBuilder, key: ir.Value, n: ir.Value) -> ir.Value:
    """One float64 standard normal from streams 2n and 2n + 1 (no fast-math: exact IEEE)."""
    ctx = ScalarCtx(kc.module, [F64], F64)
    two_n = b.shl(n, _i64(1))
    u1 = b.fsub(ir.Constant(_F64, 1.0), unit_uniform(b, random_bits(b, key, two_n), F64))
    u2 = unit_uniform(b, random_bits(b, key, b.add(two_n, _i64(1))), F64)
    radius = ctx.intrinsic(b, "sqrt", b.fmul(ir.Constant(_F64, -2.0), ctx.intrinsic(b, "log", u1)))
    return b.fmul(radius, ctx.intrinsic(b, "cos", b.fmul(ir.Constant(_F64, 2.0 * pi), u2)))


def truncated_normal(kc: KernelCtx, b: ir.IRBuilder, key: ir.Value, n: ir.Value, size: int) -> ir.Value:
    """Box-Muller draws for element n, attempt t reading index n + t * size, until |z| <= 2."""
    pre = b.block
    loop, done = b.append_basic_block("retry"), b.append_basic_block("accepted")
    b.branch(loop)
    b.position_at_end(loop)
    attempt = b.phi(I64, "attempt")
    attempt.add_incoming(_i64(0), pre)
    z = box_muller(kc, b, key, b.add(n, b.mul(attempt, _i64(size))))
    attempt.add_incoming(b.add(attempt, _i64(1)), b.block)
    fabs = ScalarCtx(kc.module, [F64], F64).intrinsic(b, "fabs", z)
    b.cbranch(b.fcmp_ordered("<=", fabs, ir.Constant(_F64, TRUNCATE_AT)), done, loop)
    b.position_at_end(done)
    return z


def _elements(kc: KernelCtx, op: Operation, value) -> None:
    """out[n] = value(b, key, n) for every element n."""
    out = kc.results[0]
    size = prod(out.type.shape)
    if size == 0:
        return
    b = kc.b
    key = stream_key(kc, op)
    for_range(b, size, lambda n: store_elem(b, value(b, key, n), out.ptr, n, out.type.dtype), name="n")


def lower_truncated_normal(kc: KernelCtx, op: Operation) -> None:
    dtype, size = kc.results[0].type.dtype, kc.results[0].type.size
    _elements(kc, op, lambda b, key, n: convert(kc, b, truncated_normal(kc, b, key, n, size), F64, dtype))


KERNEL_LOWERINGS["lf.truncated_normal"] = lower_truncated_normal
