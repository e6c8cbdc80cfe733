"""Every elementwise op, every dtype it allows: native == reference interpreter.

Ops are batched: one function per dtype computes every applicable unary op of `x` (one
result each), another every binary op, so a dtype costs two compiles, not one per op.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import EXACT_RTOL, TRANSCENDENTAL_RTOL, assert_same
from lowerflow.ir import ELEM_TYPES, OPS, Function, build, get_op, tensor
from lowerflow.ir.interp import run_function

UNARY = ["lf.identity", "lf.neg", "lf.abs", "lf.square", "lf.sqrt", "lf.rsqrt", "lf.exp", "lf.expm1",
         "lf.log", "lf.log1p", "lf.tanh", "lf.sigmoid", "lf.sin", "lf.cos", "lf.floor", "lf.ceil",
         "lf.round", "lf.sign", "lf.reciprocal", "lf.relu", "lf.not"]
BINARY = ["lf.add", "lf.sub", "lf.mul", "lf.div", "lf.floordiv", "lf.mod", "lf.truncdiv", "lf.truncmod", "lf.pow", "lf.max", "lf.min",
          "lf.squared_difference", "lf.and", "lf.or", "lf.lt", "lf.le", "lf.gt", "lf.ge", "lf.eq", "lf.ne"]
OTHER = ["lf.cast", "lf.select", "lf.broadcast_to"]  # below, in test_structure.py, tests/gradients
TRANSCENDENTAL = {"lf.exp", "lf.expm1", "lf.log", "lf.log1p", "lf.tanh", "lf.sigmoid", "lf.sin",
                  "lf.cos", "lf.pow", "lf.rsqrt"}
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy on NaN/Inf inputs
DIVISIONS = {"lf.div", "lf.floordiv", "lf.mod", "lf.truncdiv", "lf.truncmod"}

DTYPES = ["f16", "f32", "f64", "i8", "i16", "i32", "i64", "ui8", "ui16", "ui32", "ui64", "i1"]
SHAPE = (5, 7)
SPECIALS = [0.0, -0.0, np.nan, np.inf, -np.inf, 0.5, 1.5, 2.5, -2.5, -1.0, 1.0, 1e-3, 30.0, -30.0]


def test_every_elementwise_op_is_covered():
    elementwise = {name for name, d in OPS.items() if d.has("elementwise")}
    assert elementwise == set(UNARY) | set(BINARY) | set(OTHER), "add new ops to these tests"


def applies(name: str, dtype: str, arity: int) -> bool:
    t = tensor(SHAPE, ELEM_TYPES[dtype])
    try:
        get_op(name).infer([t] * arity, {})
    except TypeError:
        return False
    return True


def sample(dtype: str, rng: np.random.Generator, shape=SHAPE, kind: str = "any") -> np.ndarray:
    """Random values of `dtype`; kind 'nonzero' (divisors) or 'exponent' (small, >= 0)."""
    np_dtype = ELEM_TYPES[dtype].np_dtype
    n = int(np.prod(shape))
    if np_dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if kind == "exponent":
        return rng.integers(0, 6, shape).astype(np_dtype)
    if np_dtype.kind == "f":
        v = (rng.standard_normal(n) * 4).astype(np_dtype)
        if kind == "any":
            k = min(n, len(SPECIALS))
            v[:k] = SPECIALS[:k]
        else:
            v[v == 0] = 1
            k = min(n, 6)
            v[:k] = [np.inf, -np.inf, np.nan, 0.25, -3.0, 7.0][:k]
        return v.reshape(shape)
    lo = 0 if np_dtype.kind == "u" else -100
    v = rng.integers(lo, 101, n).astype(np_dtype)
    if kind == "nonzero":
        v[v == 0] = 3
        k = min(n, 4)
        v[:k] = ([7, 1, 100, 3] if np_dtype.kind == "u" else [-7, -1, 1, 7])[:k]
    return v.reshape(shape)


def rtol_for(name: str, dtype: str) -> tuple[float, float]:
    np_name = ELEM_TYPES[dtype].np_name
    if np_name not in EXACT_RTOL:
        return 0.0, 0.0
    if name in TRANSCENDENTAL:
        return TRANSCENDENTAL_RTOL[np_name], 1e-6 if np_name != "float16" else 1e-3
    return EXACT_RTOL[np_name], 0.0


@pytest.fixture(scope="module", params=DTYPES)
def unary_case(request):
    dtype = request.param
    names = [n for n in UNARY if applies(n, dtype, 1)]
    f = Function("step", [tensor(SHAPE, ELEM_TYPES[dtype])])
    f.set_return([build(f.body, n, [f.args[0]]).result for n in names])
    return dtype, names, f


@pytest.fixture(scope="module", params=DTYPES)
def binary_case(request):
    """x, y general; d nonzero divisors; e small exponents broadcast along the last dim."""
    dtype = request.param
    t = ELEM_TYPES[dtype]
    f = Function("step", [tensor(SHAPE, t), tensor(SHAPE, t), tensor(SHAPE, t), tensor(SHAPE[-1:], t)])
    x, y, d, e = f.args
    names = [n for n in BINARY if applies(n, dtype, 2)]
    second = {n: d if n in DIVISIONS else e if n == "lf.pow" and t.is_int else y for n in names}
    f.set_return([build(f.body, n, [x, second[n]]).result for n in names])
    return dtype, names, f


def test_unary(unary_case, native):
    dtype, names, f = unary_case
    args = [sample(dtype, np.random.default_rng(1))]
    got, want = native(f).run(args), run_function(f, args)
    for name, g, w in zip(names, got, want):
        rtol, atol = rtol_for(name, dtype)
        assert_same(g, w, rtol, atol, f"{name} on {dtype}")


def test_binary(binary_case, native):
    dtype, names, f = binary_case
    rng = np.random.default_rng(2)
    args = [sample(dtype, rng), sample(dtype, rng), sample(dtype, rng, kind="nonzero"),
            sample(dtype, rng, SHAPE[-1:], kind="exponent")]
    got, want = native(f).run(args), run_function(f, args)
    for name, g, w in zip(names, got, want):
        rtol, atol = rtol_for(name, dtype)
        assert_same(g, w, rtol, atol, f"{name} on {dtype}")


@pytest.mark.parametrize("src", DTYPES)
def test_cast(src, check):
    """Every source to every target dtype. Integer sources use their full range (narrowing
    and sign changes wrap, as in numpy); float sources use values every target can hold,
    with NaN/Inf only towards float and bool."""
    s = ELEM_TYPES[src]
    rng = np.random.default_rng(3)
    f = Function("step", [tensor(SHAPE, s), tensor(SHAPE, s)])
    in_range, special = f.args
    outs = []
    for dst in DTYPES:
        d = ELEM_TYPES[dst]
        arg = special if (d.is_float or d.is_bool) else in_range
        outs.append(build(f.body, "lf.cast", [arg], {"to": d}).result)
    f.set_return(outs)
    if s.is_float:
        x = (rng.random(SHAPE) * 120).astype(s.np_dtype)
        x[0, :3] = [0.0, 0.99, 119.5]
        sp = sample(src, rng)
    elif s.is_bool:
        x = sp = sample(src, rng)
    else:
        info = np.iinfo(s.np_dtype)
        x = rng.integers(info.min, info.max, SHAPE, dtype=s.np_dtype, endpoint=True)
        x[0, :2] = [info.min, info.max]
        sp = x
    check(f, [x, sp], names=[f"{src}->{d}" for d in DTYPES])


@pytest.mark.parametrize("dtype", ["f32", "i32", "i1"])
def test_select(dtype, check):
    t = ELEM_TYPES[dtype]
    f = Function("step", [tensor([3, 1], ELEM_TYPES["i1"]), tensor([4], t), tensor([], t)])
    f.set_return([build(f.body, "lf.select", list(f.args)).result])
    rng = np.random.default_rng(4)
    check(f, [sample("i1", rng, (3, 1)), sample(dtype, rng, (4,)), sample(dtype, rng, ())])


def test_f64_to_f16_rounds_once(check):
    """f64 -> f16 must not round twice through f32 (1 + 2**-11 + 2**-40 is just above a
    half-way point; via f32 it would land on it and round to even, down)."""
    f = Function("step", [tensor([8], ELEM_TYPES["f64"])])
    f.set_return([build(f.body, "lf.cast", [f.args[0]], {"to": ELEM_TYPES["f16"]}).result])
    x = np.array([1 + 2**-11 + 2**-40, -(1 + 2**-11 + 2**-40), 1 + 2**-11, 65519.99, 65520.0,
                  1e300, 2**-25 + 2**-60, 3e-8], dtype=np.float64)
    check(f, [x])
