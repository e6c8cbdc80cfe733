"""The counter-based random ops as loop nests (`ops/random.py` documents the generator):
RandomUniform, RandomStandardNormal and RandomUniformInt. The stream key once per kernel,

    key = mix(mix(mix(seed) + seed2) + counter)          ("loop.mix", ui64 adds wrap)

then one `vector` loop over the result's elements, element n a pure function of n:

    bits(m)   = mix(key + (m + 1) * GOLDEN)
    uniform   = float(bits(n) // 2**(64 - p)) * 2**-p    (p: the dtype's mantissa bits; exact)
    normal    = sqrt(-2 log(1 - u(2n))) * cos(2 pi u(2n + 1)), u the float64 uniform, cast
    int       = minval + bits(n) mod (maxval - minval)   (minval >= maxval: "empty_range")
    truncated = "loop.retry" {limit = TRUNCATE_ATTEMPTS} over attempts t: the normal of
                element n + t * size, accepted when |z| <= 2

the numpy reference's operations one for one (float16 uniforms through float32, exactly), so
native values equal the reference's bit for bit on the bits, to libm's rounding on normals.
TruncatedNormal's loop carries no `vector` hint: its retry has a data-dependent trip count.
"""
from __future__ import annotations

from math import pi, prod

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import counted, empty_kernel, scalar_constant, view
from lowerflow.ir.ops.loop import CHECK, INDEX_CAST, LOAD, MIX, RETRY, SCALAR, STORE
from lowerflow.ir.ops.random import GOLDEN, MANTISSA_BITS, TRUNCATE_AT, TRUNCATE_ATTEMPTS
from lowerflow.ir.types import BOOL, F32, F64, I64, INDEX, U64, ElemType

RANDOM_OPS = ("lf.random_uniform", "lf.random_normal", "lf.random_uniform_int", "lf.truncated_normal")
NORMALS = ("lf.random_normal", "lf.truncated_normal")


def random_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of a random op (the nest the module docstring shows)."""
    kernel, outs, ins = empty_kernel(op)
    body = kernel.regions[0]
    size = prod(op.result.type.shape)
    if size:
        g = _Generator(body, op, ins)
        element = g.int_element() if op.name == "lf.random_uniform_int" else g.float_element
        out = view(body, outs[0], [size], [1])
        hints = {} if op.name == "lf.truncated_normal" else {"vector": True}
        block = counted(body, 0, size, **hints).regions[0]
        n = block.add(INDEX_CAST, [block.args[0]], [U64], {"type": U64}).result
        block.add(STORE, [element(block, n), out, block.args[0]])
        block.add("lf.yield")
    body.add("lf.yield")
    return kernel


def _s(block: Block, name: str, operands: list[Value], t: ElemType, **attrs) -> Value:
    return block.add(SCALAR, operands, [t], {"op": name, **attrs}).result


def _mix(block: Block, z: Value) -> Value:
    return block.add(MIX, [z], [U64]).result


class _Generator:
    """One random op's stream key (built in the kernel's `body`) and its element values."""

    def __init__(self, body: Block, op: Operation, ins: list[Value]):
        self.body, self.op, self.ins = body, op, ins
        self.dtype = op.result.type.dtype
        self.one, self.golden = self.c(1), self.c(GOLDEN)
        counter = _s(body, "lf.cast", [body.add(LOAD, [ins[0]], [I64]).result], U64, to=U64)
        seeded = _s(body, "lf.add", [_mix(body, self.c(op.attributes["seed"])), self.c(op.attributes["seed2"])], U64)
        self.key = _mix(body, _s(body, "lf.add", [_mix(body, seeded), counter], U64))
        wide = [F64] if op.name in NORMALS else [self.dtype] if self.dtype.is_float else []
        #: per float type: (2**(64 - p), 2**-p) of its mantissa width p (float16: in float32)
        self.scales = {t: (self.c(1 << (64 - MANTISSA_BITS[t.bits])),
                           self.c(2.0 ** -MANTISSA_BITS[t.bits], F64 if t == F64 else F32)) for t in wide}
        if op.name in NORMALS:
            self.normal = [self.c(v, F64) for v in (1.0, -2.0, 2.0 * pi)]
        if op.name == "lf.truncated_normal":
            self.size, self.bound = self.c(prod(op.result.type.shape)), self.c(TRUNCATE_AT, F64)

    def c(self, value, t: ElemType = U64) -> Value:
        """A scalar constant in the kernel's block."""
        return scalar_constant(self.body, value, t)

    def bits(self, block: Block, m: Value) -> Value:
        """Element m's 64 random bits: mix(key + (m + 1) * GOLDEN)."""
        step = _s(block, "lf.mul", [_s(block, "lf.add", [m, self.one], U64), self.golden], U64)
        return _mix(block, _s(block, "lf.add", [self.key, step], U64))

    def uniform(self, block: Block, bits: Value, dtype: ElemType) -> Value:
        """[0, 1) in `dtype` from the top mantissa-width bits (float16 through float32)."""
        divisor, scale = self.scales[dtype]
        wide = scale.type
        top = _s(block, "lf.floordiv", [bits, divisor], U64)
        value = _s(block, "lf.mul", [_s(block, "lf.cast", [top], wide, to=wide), scale], wide)
        return value if wide == dtype else _s(block, "lf.cast", [value], dtype, to=dtype)

    def float_element(self, block: Block, n: Value) -> Value:
        """Element n of RandomUniform, RandomStandardNormal or TruncatedNormal."""
        if self.op.name == "lf.random_uniform":
            return self.uniform(block, self.bits(block, n), self.dtype)
        z = self.truncated(block, n) if self.op.name == "lf.truncated_normal" else self.box_muller(block, n)
        return z if self.dtype == F64 else _s(block, "lf.cast", [z], self.dtype, to=self.dtype)

    def box_muller(self, block: Block, n: Value) -> Value:
        """One float64 standard normal from streams 2n and 2n + 1."""
        one, minus_two, two_pi = self.normal
        two_n = _s(block, "lf.add", [n, n], U64)
        u1 = _s(block, "lf.sub", [one, self.uniform(block, self.bits(block, two_n), F64)], F64)
        u2 = self.uniform(block, self.bits(block, _s(block, "lf.add", [two_n, self.one], U64)), F64)
        radius = _s(block, "lf.sqrt", [_s(block, "lf.mul", [minus_two, _s(block, "lf.log", [u1], F64)], F64)], F64)
        return _s(block, "lf.mul", [radius, _s(block, "lf.cos", [_s(block, "lf.mul", [two_pi, u2], F64)], F64)], F64)

    def truncated(self, block: Block, n: Value) -> Value:
        """Attempt t draws the normal of element n + t * size until |z| <= 2."""
        retry = block.add(RETRY, [], [F64], {"limit": TRUNCATE_ATTEMPTS}, regions=[Block([INDEX])])
        at = retry.regions[0]
        t = at.add(INDEX_CAST, [at.args[0]], [U64], {"type": U64}).result
        z = self.box_muller(at, _s(at, "lf.add", [n, _s(at, "lf.mul", [t, self.size], U64)], U64))
        at.add("lf.yield", [_s(at, "lf.le", [_s(at, "lf.abs", [z], F64), self.bound], BOOL), z])
        return retry.result

    def int_element(self):
        """The element function of RandomUniformInt; its range checked once, in the kernel."""
        body, dtype = self.body, self.dtype
        lo, hi = (_s(body, "lf.cast", [body.add(LOAD, [b], [dtype]).result], I64, to=I64) for b in self.ins[1:])
        empty = _s(body, "lf.ge", [lo, hi], BOOL)
        body.add(CHECK, [empty], [], {"error": "empty_range"})
        span = _s(body, "lf.cast", [_s(body, "lf.select", [empty, self.c(1, I64), _s(body, "lf.sub", [hi, lo], I64)],
                                       I64)], U64, to=U64)  # never divide by zero

        def value(block: Block, n: Value) -> Value:
            offset = _s(block, "lf.cast", [_s(block, "lf.mod", [self.bits(block, n), span], U64)], I64, to=I64)
            v = _s(block, "lf.add", [lo, offset], I64)
            return v if dtype == I64 else _s(block, "lf.cast", [v], dtype, to=dtype)
        return value
