"""The counter-based random ops at the loop level: interp(tensor IR) == interp(loop IR) ==
native for RandomUniform (f16/f32/f64), RandomStandardNormal (f32/f64; bits equal, normals
to libm's rounding) and RandomUniformInt (int32/int64, a negative minval, a span over 2**31)
at several run counters; an empty range fails at every level; TruncatedNormal keeps its
direct kernel; the printed loop IR parses back identically."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import NativeError, compile_function
from lowerflow.backend.errors import EMPTY_RANGE
from lowerflow.ir import Module, parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import verify
from lowerflow.passes import PassManager

OUT = ("tensor<3x4xf32>, tensor<5xf16>, tensor<2x3xf64>, tensor<7xf32>, tensor<2x3xf64>, "
       "tensor<6xi32>, tensor<4xi64>")
TEXT = f"""func.func @f(%c: tensor<i64>, %lo: tensor<i32>, %hi: tensor<i32>, %lo64: tensor<i64>, %hi64: tensor<i64>) -> ({OUT}) {{
  %0 = "lf.random_uniform"(%c) {{seed = 1, seed2 = 2, shape = [3, 4], dtype = f32}} : (tensor<i64>) -> tensor<3x4xf32>
  %1 = "lf.random_uniform"(%c) {{seed = 7, seed2 = 0, shape = [5], dtype = f16}} : (tensor<i64>) -> tensor<5xf16>
  %2 = "lf.random_uniform"(%c) {{seed = 0, seed2 = 123456789, shape = [2, 3], dtype = f64}} : (tensor<i64>) -> tensor<2x3xf64>
  %3 = "lf.random_normal"(%c) {{seed = 3, seed2 = 9, shape = [7], dtype = f32}} : (tensor<i64>) -> tensor<7xf32>
  %4 = "lf.random_normal"(%c) {{seed = 3, seed2 = 9, shape = [2, 3], dtype = f64}} : (tensor<i64>) -> tensor<2x3xf64>
  %5 = "lf.random_uniform_int"(%c, %lo, %hi) {{seed = 5, seed2 = 6, shape = [6], dtype = i32}} : (tensor<i64>, tensor<i32>, tensor<i32>) -> tensor<6xi32>
  %6 = "lf.random_uniform_int"(%c, %lo64, %hi64) {{seed = 8, seed2 = 1, shape = [4], dtype = i64}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  "func.return"(%0, %1, %2, %3, %4, %5, %6) : ({OUT}) -> ()
}}"""


@pytest.fixture(scope="module")
def levels():
    m = parse_module(TEXT)
    PassManager("plan-buffers,lower-to-loops").run(m)
    (func,) = m.functions
    assert [op.name for op in func.ops[:-1]] == ["loop.kernel"] * 7
    return parse_module(TEXT).functions[0], func, compile_function(func)


def _args(counter: int, lo: int = -5, hi: int = 1000):
    return [np.array(counter, np.int64), np.array(lo, np.int32), np.array(hi, np.int32),
            np.array(-(1 << 40), np.int64), np.array(3 << 31, np.int64)]


@pytest.mark.parametrize("counter", [0, 1, 12345])
def test_random_ops_mean_the_same_at_every_level(levels, counter):
    tensor_level, loop_level, native = levels
    want = run_function(tensor_level, _args(counter))
    for level, got in (("loop IR", run_function(loop_level, _args(counter))), ("native", native.run(_args(counter)))):
        for k, (a, b) in enumerate(zip(got, want)):
            assert a.dtype == b.dtype and a.shape == b.shape, (level, k)
            if k in (3, 4) and level == "native":  # normals: libm's log/cos against numpy's
                np.testing.assert_allclose(a, b, rtol=1e-6 if a.dtype == np.float32 else 1e-14, err_msg=level)
            else:
                np.testing.assert_array_equal(a, b, err_msg=f"{level} result #{k}")
    assert not np.array_equal(want[0], run_function(tensor_level, _args(counter + 1))[0])


def test_loop_ir_parses_back_identically(levels):
    text = print_module(Module([levels[1]]))
    again = parse_module(text)
    verify(again)
    assert print_module(again) == text


def test_an_empty_range_fails_at_every_level(levels):
    tensor_level, loop_level, native = levels
    for run in (lambda a: run_function(tensor_level, a), lambda a: run_function(loop_level, a)):
        with pytest.raises(ValueError):
            run(_args(0, lo=4, hi=4))
    with pytest.raises(NativeError) as info:
        native.run(_args(0, lo=4, hi=4))
    assert info.value.code == EMPTY_RANGE


def test_truncated_normal_keeps_its_direct_kernel():
    text = """func.func @f(%c: tensor<i64>) -> tensor<64xf32> {
  %0 = "lf.truncated_normal"(%c) {seed = 1, seed2 = 2, shape = [64], dtype = f32} : (tensor<i64>) -> tensor<64xf32>
  "func.return"(%0) : (tensor<64xf32>) -> ()
}"""
    m = parse_module(text)
    PassManager("plan-buffers,lower-to-loops").run(m)
    assert [op.name for op in m.functions[0].ops[:-1]] == ["lf.truncated_normal"]
    (got,) = compile_function(m.functions[0]).run([np.array(3, np.int64)])
    (want,) = run_function(parse_module(text).functions[0], [np.array(3, np.int64)])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.abs(got).max() <= 2.0
