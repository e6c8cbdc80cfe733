"""Elementwise ops as scalar LLVM code: the table `SCALAR_LOWERINGS`, one entry per op.

An entry is `lower(b, args, ctx) -> value`: `b` is positioned inside the loop body,
`args` are the operands' register values for one element (bool is i1), `ctx` gives the
dtypes, attributes and helpers. The same entry serves a lone elementwise op and the
body of an "lf.fusion" (cf. XLA's elemental IR emitter, xDSL's op -> builder-method
map). Semantics are the numpy `reference` of each op in `lowerflow.ir.ops.elementwise`
with TF1 conventions:
- float ops carry only the `contract` fast-math flag (FMA), so NaN/Inf/-0 behave as IEEE;
- integer add/sub/mul/neg wrap; `lf.div` truncates like C; `lf.floordiv`/`lf.mod` floor
  like Python; `lf.truncdiv`/`lf.truncmod` truncate; integer division or modulo by zero
  sets status `INT_DIV_BY_ZERO` (`TRUNCATE_BY_ZERO` for the truncating pair; checked per
  element with a branch-free flag, so the loop still vectorises); INT_MIN / -1 wraps; a
  negative integer exponent sets `NEGATIVE_POWER`;
- float max/min propagate NaN (`llvm.maximum`), round is half-to-even;
- float -> int casts saturate (`llvm.fptosi.sat`): numpy's result out of range is
  platform-defined and LLVM's plain fptosi would be poison;
- f16 computes in LLVM `half`, which LLVM promotes to f32 per op and rounds back, like numpy;
- exp, expm1, log, log1p, tanh and sigmoid of f32 (and f16, via f32) are `mathlib`'s
  branch-free polynomials (<= 2.5 ulp), which vectorise; libm calls would be scalarised.

To add an elementwise op: declare it in `ir/ops/elementwise.py`, then add one line here
(usually `_pick(f=..., s=..., u=...)` over the helpers below) and a row in
tests/backend/test_elementwise.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from llvmlite import ir

from lowerflow.backend import mathlib
from lowerflow.backend.errors import INT_DIV_BY_ZERO, NEGATIVE_POWER, TRUNCATE_BY_ZERO
from lowerflow.backend.lltypes import I1, reg_type
from lowerflow.ir import ElemType

FM = ("contract",)  # the only fast-math flag TF1 semantics allow (FMA contraction)


@dataclass
class ScalarCtx:
    """What a scalar lowering may know about its op besides the operand values."""

    module: ir.Module
    in_dtypes: list[ElemType]
    out_dtype: ElemType
    attrs: dict = field(default_factory=dict)
    # error_if(b, cond_i1, code): make the kernel return `code` if cond held for any element.
    error_if: Callable[[ir.IRBuilder, ir.Value, int], None] | None = None

    @property
    def dtype(self) -> ElemType:
        """The dtype that selects the lowering: the last operand's (select's x/y, not cond)."""
        return self.in_dtypes[-1]

    def call(self, b: ir.IRBuilder, name: str, args: list, ret: ir.Type | None = None) -> ir.Value:
        """Call function `name` (declared on first use) with the types of `args`."""
        fn = self.module.globals.get(name)
        if fn is None:
            fnty = ir.FunctionType(ret or args[0].type, [a.type for a in args])
            fn = ir.Function(self.module, fnty, name)
        return b.call(fn, args)

    def intrinsic(self, b: ir.IRBuilder, name: str, *args: ir.Value) -> ir.Value:
        """`llvm.<name>.<type>(args)`, overloaded on the first argument's type."""
        return self.call(b, f"llvm.{name}.{args[0].type.intrinsic_name}", list(args))

    def libm(self, b: ir.IRBuilder, name: str, x: ir.Value) -> ir.Value:
        """The float64 libm function `name` (expm1, log1p: no LLVM intrinsic)."""
        return self.call(b, name, [x])


Lowering = Callable[[ir.IRBuilder, list, ScalarCtx], ir.Value]


def _c(ty: ir.Type, v) -> ir.Constant:
    return ir.Constant(ty, v)


def _pick(f: Lowering | None = None, s: Lowering | None = None, u: Lowering | None = None,
          i: Lowering | None = None, bool_: Lowering | None = None) -> Lowering:
    """Dispatch on the deciding dtype: float, signed int, unsigned int (`i` = either), bool."""
    def lower(b, a, c):
        d = c.dtype
        fn = (f if d.is_float else bool_ if d.is_bool else
              (s or i) if d.is_signed else (u or i))
        if fn is None:
            raise NotImplementedError(f"no native lowering for dtype {d}")
        return fn(b, a, c)
    return lower


def _intr(name: str) -> Lowering:
    return lambda b, a, c: c.intrinsic(b, name, *a)


def _cmp(op: str) -> Lowering:
    """Comparisons: ordered for floats (NaN compares false) except `!=`, which is unordered."""
    def fcmp(b, a, c):
        return (b.fcmp_unordered if op == "!=" else b.fcmp_ordered)(op, *a)
    return _pick(f=fcmp, s=lambda b, a, c: b.icmp_signed(op, *a),
                 u=lambda b, a, c: b.icmp_unsigned(op, *a), bool_=lambda b, a, c: b.icmp_unsigned(op, *a))


def _minmax(op: str, fname: str) -> Lowering:
    return _pick(f=_intr(fname), s=lambda b, a, c: b.select(b.icmp_signed(op, *a), *a),
                 u=lambda b, a, c: b.select(b.icmp_unsigned(op, *a), *a))


def _one(x: ir.Value) -> ir.Constant:
    return _c(x.type, 1.0 if isinstance(x.type, (ir.HalfType, ir.FloatType, ir.DoubleType)) else 1)


# ---- integer division family -------------------------------------------------------

def _int_divrem(b: ir.IRBuilder, x, y, c: ScalarCtx, by_zero: int = INT_DIV_BY_ZERO):
    """C truncating (quotient, remainder); flags y == 0 with status `by_zero`; INT_MIN / -1
    wraps instead of trapping."""
    zero, one = _c(x.type, 0), _c(x.type, 1)
    is0 = b.icmp_unsigned("==", y, zero)
    c.error_if(b, is0, by_zero)
    if not c.dtype.is_signed:
        safe = b.select(is0, one, y)
        return b.udiv(x, safe), b.urem(x, safe)
    m1 = b.icmp_signed("==", y, _c(x.type, -1))
    safe = b.select(b.or_(is0, m1), one, y)  # never divide by 0 or -1 (both trap on x86)
    return b.select(m1, b.neg(x), b.sdiv(x, safe)), b.srem(x, safe)


def _floor_adjust(b: ir.IRBuilder, r, y):
    """True where a truncating remainder must move toward -inf: r != 0 and sign(r) != sign(y)."""
    zero = _c(r.type, 0)
    return b.and_(b.icmp_signed("!=", r, zero), b.icmp_signed("<", b.xor(r, y), zero))


def _int_div(b, a, c):
    return _int_divrem(b, *a, c)[0]


def _int_truncdiv(b, a, c):
    return _int_divrem(b, *a, c, TRUNCATE_BY_ZERO)[0]


def _int_truncmod(b, a, c):
    return _int_divrem(b, *a, c, TRUNCATE_BY_ZERO)[1]


def _int_floordiv(b, a, c):
    q, r = _int_divrem(b, *a, c)
    if not c.dtype.is_signed:
        return q
    return b.sub(q, b.zext(_floor_adjust(b, r, a[1]), q.type))


def _int_mod(b, a, c):
    _, r = _int_divrem(b, *a, c)
    if not c.dtype.is_signed:
        return r
    return b.add(r, b.select(_floor_adjust(b, r, a[1]), a[1], _c(r.type, 0)))


def _float_mod(b, a, c):
    """np.mod on floats (npy_divmod): fmod, moved into the divisor's sign; zero takes y's sign."""
    x, y = a
    zero = _c(x.type, 0.0)
    m = b.frem(x, y, flags=FM)
    nonzero = b.fcmp_unordered("!=", m, zero)  # NaN counts as non-zero, like C's `if (mod)`
    flip = b.xor(b.fcmp_ordered("<", y, zero), b.fcmp_ordered("<", m, zero))
    moved = b.select(flip, b.fadd(m, y, flags=FM), m)
    return b.select(nonzero, moved, c.intrinsic(b, "copysign", zero, y))


def _int_pow(b, a, c):
    """Exponentiation by squaring (wraps like numpy); a negative exponent fails the step
    with NEGATIVE_POWER, as TF's kernel raises."""
    x, e = a
    ty = x.type
    zero, one = _c(ty, 0), _c(ty, 1)
    c.error_if(b, b.icmp_signed("<", e, zero), NEGATIVE_POWER)
    pre = b.block
    loop, done = b.append_basic_block("pow.loop"), b.append_basic_block("pow.done")
    positive = b.icmp_signed(">", e, zero) if c.dtype.is_signed else b.icmp_unsigned("!=", e, zero)
    b.cbranch(positive, loop, done)
    b.position_at_end(loop)
    acc, base, exp = b.phi(ty), b.phi(ty), b.phi(ty)
    acc2 = b.select(b.trunc(exp, I1), b.mul(acc, base), acc)
    base2, exp2 = b.mul(base, base), b.lshr(exp, one)
    for phi, start, nxt in ((acc, one, acc2), (base, x, base2), (exp, e, exp2)):
        phi.add_incoming(start, pre)
        phi.add_incoming(nxt, loop)
    b.cbranch(b.icmp_unsigned("!=", exp2, zero), loop, done)
    b.position_at_end(done)
    result = b.phi(ty)
    result.add_incoming(one, pre)
    result.add_incoming(acc2, loop)
    return result


# ---- casts and small helpers ----------------------------------------------------------

def _cast(b, a, c):
    x, src, dst = a[0], c.dtype, c.out_dtype
    to = reg_type(dst)
    if src == dst:
        return x
    if dst.is_bool:  # x != 0; NaN is True, as numpy's astype(bool)
        return b.fcmp_unordered("!=", x, _c(x.type, 0.0)) if src.is_float else b.icmp_unsigned("!=", x, _c(x.type, 0))
    if src.is_float and dst.is_float and (src.bits, dst.bits) == (64, 16):
        return _f64_to_f16(b, x, c)
    if src.is_float and dst.is_float:
        return b.fpext(x, to) if dst.bits > src.bits else b.fptrunc(x, to)
    if src.is_float:  # saturating: plain fptosi of an out-of-range value is poison
        sat = "fptosi.sat" if dst.is_signed else "fptoui.sat"
        return c.call(b, f"llvm.{sat}.{to.intrinsic_name}.{x.type.intrinsic_name}", [x], ret=to)
    if dst.is_float:
        return b.sitofp(x, to) if src.is_signed else b.uitofp(x, to)  # bool: 0/1
    if dst.bits == src.bits:
        return x
    if dst.bits < src.bits:
        return b.trunc(x, to)
    return b.sext(x, to) if src.is_signed else b.zext(x, to)  # by the *source* sign, as C


def _f64_to_f16(b, x, c):
    """Correctly rounded f64 -> f16 without LLVM's `__truncdfhf2` libcall (absent from the
    process: MCJIT would jump to address 0). Round to f32 *to odd*, then to f16 to nearest:
    round-to-odd with >= p+2 bits makes the double rounding exact (Boldo & Melquiond)."""
    f32 = ir.FloatType()
    t = b.fptrunc(x, f32)
    back = b.fpext(t, x.type)
    inexact = b.fcmp_ordered("!=", back, x)  # false for NaN and exact values
    away = b.fcmp_ordered(">", c.intrinsic(b, "fabs", back), c.intrinsic(b, "fabs", x))
    bits = b.bitcast(t, ir.IntType(32))
    bits = b.select(away, b.sub(bits, _c(bits.type, 1)), bits)  # truncate toward zero
    bits = b.select(inexact, b.or_(bits, _c(bits.type, 1)), bits)  # ... and make it odd
    return b.fptrunc(b.bitcast(bits, f32), ir.HalfType())


def _fsign(b, a, c):
    x = a[0]
    zero = _c(x.type, 0.0)
    inner = b.select(b.fcmp_ordered("<", x, zero), _c(x.type, -1.0), x)  # keeps 0 and NaN
    return b.select(b.fcmp_ordered(">", x, zero), _c(x.type, 1.0), inner)


def _isign(b, a, c):
    x = a[0]
    zero = _c(x.type, 0)
    inner = b.select(b.icmp_signed("<", x, zero), _c(x.type, -1), zero)
    return b.select(b.icmp_signed(">", x, zero), _c(x.type, 1), inner)


def _sigmoid(b, a, c):
    x = a[0]
    e = c.intrinsic(b, "exp", b.fneg(x, flags=FM))
    return b.fdiv(_one(x), b.fadd(_one(x), e, flags=FM), flags=FM)


def _math(name: str, wide: Lowering) -> Lowering:
    """Transcendental op `name`: float32 (and float16, computed in float32 and rounded once)
    through mathlib's vectorisable polynomials; float64 through `wide` (libm: LLVM would
    scalarise it either way, and libm's double accuracy is what the tests expect)."""
    poly = mathlib.FLOAT32_MATH[name]

    def lower(b, a, c):
        x = a[0]
        if isinstance(x.type, ir.FloatType):
            return poly(b, x)
        if isinstance(x.type, ir.HalfType):
            return b.fptrunc(poly(b, b.fpext(x, ir.FloatType())), x.type)
        return wide(b, a, c)
    return lower


def _fsqdiff(b, a, c):
    d = b.fsub(*a, flags=FM)
    return b.fmul(d, d, flags=FM)


def _isqdiff(b, a, c):
    d = b.sub(*a)
    return b.mul(d, d)


SCALAR_LOWERINGS: dict[str, Lowering] = {
    "lf.identity": lambda b, a, c: a[0],
    "lf.broadcast_to": lambda b, a, c: a[0],  # the loop reads the operand at the broadcast index
    "lf.neg": _pick(f=lambda b, a, c: b.fneg(a[0], flags=FM), i=lambda b, a, c: b.neg(a[0])),
    "lf.abs": _pick(f=_intr("fabs"),
                    s=lambda b, a, c: b.select(b.icmp_signed("<", a[0], _c(a[0].type, 0)), b.neg(a[0]), a[0])),
    "lf.square": _pick(f=lambda b, a, c: b.fmul(a[0], a[0], flags=FM), i=lambda b, a, c: b.mul(a[0], a[0])),
    "lf.sqrt": _intr("sqrt"),
    "lf.rsqrt": lambda b, a, c: b.fdiv(_one(a[0]), c.intrinsic(b, "sqrt", a[0]), flags=FM),
    "lf.exp": _math("lf.exp", _intr("exp")),
    "lf.expm1": _math("lf.expm1", lambda b, a, c: c.libm(b, "expm1", a[0])),
    "lf.log": _math("lf.log", _intr("log")),
    "lf.log1p": _math("lf.log1p", lambda b, a, c: c.libm(b, "log1p", a[0])),
    "lf.tanh": _math("lf.tanh", _intr("tanh")),
    "lf.sigmoid": _math("lf.sigmoid", _sigmoid),
    "lf.sin": _intr("sin"),
    "lf.cos": _intr("cos"),
    "lf.floor": _intr("floor"),
    "lf.ceil": _intr("ceil"),
    "lf.round": _intr("roundeven"),  # np.round: half to even
    "lf.sign": _pick(f=_fsign, s=_isign),
    "lf.reciprocal": lambda b, a, c: b.fdiv(_one(a[0]), a[0], flags=FM),
    "lf.relu": _pick(f=lambda b, a, c: c.intrinsic(b, "maximum", a[0], _c(a[0].type, 0.0)),
                     s=lambda b, a, c: b.select(b.icmp_signed(">", a[0], _c(a[0].type, 0)), a[0], _c(a[0].type, 0))),
    "lf.not": lambda b, a, c: b.not_(a[0]),
    "lf.add": _pick(f=lambda b, a, c: b.fadd(*a, flags=FM), i=lambda b, a, c: b.add(*a)),
    "lf.sub": _pick(f=lambda b, a, c: b.fsub(*a, flags=FM), i=lambda b, a, c: b.sub(*a)),
    "lf.mul": _pick(f=lambda b, a, c: b.fmul(*a, flags=FM), i=lambda b, a, c: b.mul(*a)),
    "lf.div": _pick(f=lambda b, a, c: b.fdiv(*a, flags=FM), i=_int_div),
    "lf.floordiv": _pick(f=lambda b, a, c: c.intrinsic(b, "floor", b.fdiv(*a, flags=FM)), i=_int_floordiv),
    "lf.mod": _pick(f=_float_mod, i=_int_mod),
    "lf.truncdiv": _pick(f=lambda b, a, c: c.intrinsic(b, "trunc", b.fdiv(*a, flags=FM)), i=_int_truncdiv),
    "lf.truncmod": _pick(f=lambda b, a, c: b.frem(*a, flags=FM), i=_int_truncmod),
    "lf.pow": _pick(f=_intr("pow"), i=_int_pow),
    "lf.max": _minmax(">", "maximum"),
    "lf.min": _minmax("<", "minimum"),
    "lf.squared_difference": _pick(f=_fsqdiff, i=_isqdiff),
    "lf.and": lambda b, a, c: b.and_(*a),
    "lf.or": lambda b, a, c: b.or_(*a),
    "lf.lt": _cmp("<"),
    "lf.le": _cmp("<="),
    "lf.gt": _cmp(">"),
    "lf.ge": _cmp(">="),
    "lf.eq": _cmp("=="),
    "lf.ne": _cmp("!="),
    "lf.cast": _cast,
    "lf.select": lambda b, a, c: b.select(*a),
}
