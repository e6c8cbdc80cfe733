"""The backend's one loop builder (`backend/loops.py`): constant trip counts with and
without carried values, runtime bounds with a step, run natively."""
import ctypes

import pytest
from llvmlite import ir

from lowerflow.backend.jit import JitModule, compile_object
from lowerflow.backend.lltypes import I64
from lowerflow.backend.loops import counted_loop, for_range


def _native(build, n_args: int):
    """An `i64 f(i64...)` whose body `build(b, args)` returns the result, JIT-compiled."""
    m = ir.Module(name="loops")
    fn = ir.Function(m, ir.FunctionType(I64, [I64] * n_args), "f")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    b.ret(build(b, list(fn.args)))
    _, obj, externals = compile_object(str(m))
    jit = JitModule(obj, externals)
    f = ctypes.CFUNCTYPE(ctypes.c_int64, *[ctypes.c_int64] * n_args)(jit.address("f"))
    return jit, f


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_for_range_carries_values(n):
    """sum of i and product of (i + 1) over range(n), both carried."""
    def build(b, args):
        one = ir.Constant(I64, 1)
        total, product = for_range(b, n, lambda i, acc: [b.add(acc[0], i), b.mul(acc[1], b.add(i, one))],
                                   "k", [ir.Constant(I64, 0), one])
        return b.add(b.mul(total, ir.Constant(I64, 1000)), product)
    jit, f = _native(build, 0)
    factorial = 1
    for i in range(1, n + 1):
        factorial *= i
    assert f() == sum(range(n)) * 1000 + factorial


def test_for_range_without_carried_values_runs_the_body_n_times():
    def build(b, args):
        slot = b.alloca(I64)
        b.store(ir.Constant(I64, 0), slot)
        for_range(b, 5, lambda i: b.store(b.add(b.load(slot), b.mul(i, i)), slot))
        return b.load(slot)
    jit, f = _native(build, 0)
    assert f() == sum(i * i for i in range(5))


@pytest.mark.parametrize("lo, hi", [(0, 10), (3, 4), (5, 5), (7, 2)])
def test_counted_loop_runtime_bounds_and_step(lo, hi):
    def build(b, args):
        slot = b.alloca(I64)
        b.store(ir.Constant(I64, 0), slot)
        counted_loop(b, args[0], args[1], lambda i: b.store(b.add(b.load(slot), i), slot), step=3)
        return b.load(slot)
    jit, f = _native(build, 2)
    assert f(lo, hi) == sum(range(lo, hi, 3))
