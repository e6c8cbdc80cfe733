"""The counter-based random ops at the loop level: interp(tensor IR) == interp(loop IR) ==
native for RandomUniform (f16/f32/f64), RandomStandardNormal (f32/f64; bits equal, normals
to libm's rounding), RandomUniformInt (int32/int64, a negative minval, a span over 2**31)
and TruncatedNormal (f32/f16/f64, enough elements that some are redrawn: "loop.retry") at
several run counters; an empty range fails at every level; "loop.retry" stops at its first
accepted attempt or at its limit, in the interpreter and natively; the printed loop IR
parses back identically."""
from __future__ import annotations

import re

import numpy as np
import pytest

from lowerflow.backend import NativeError, compile_function
from lowerflow.backend.errors import EMPTY_RANGE
from lowerflow.ir import Module, parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import verify
from lowerflow.passes import PassManager

OUT = ("tensor<3x4xf32>, tensor<5xf16>, tensor<2x3xf64>, tensor<7xf32>, tensor<2x3xf64>, "
       "tensor<6xi32>, tensor<4xi64>, tensor<3x50xf32>, tensor<30xf16>, tensor<40xf64>")
NORMALS = (3, 4, 7, 8, 9)
TEXT = f"""func.func @f(%c: tensor<i64>, %lo: tensor<i32>, %hi: tensor<i32>, %lo64: tensor<i64>, %hi64: tensor<i64>) -> ({OUT}) {{
  %0 = "lf.random_uniform"(%c) {{seed = 1, seed2 = 2, shape = [3, 4], dtype = f32}} : (tensor<i64>) -> tensor<3x4xf32>
  %1 = "lf.random_uniform"(%c) {{seed = 7, seed2 = 0, shape = [5], dtype = f16}} : (tensor<i64>) -> tensor<5xf16>
  %2 = "lf.random_uniform"(%c) {{seed = 0, seed2 = 123456789, shape = [2, 3], dtype = f64}} : (tensor<i64>) -> tensor<2x3xf64>
  %3 = "lf.random_normal"(%c) {{seed = 3, seed2 = 9, shape = [7], dtype = f32}} : (tensor<i64>) -> tensor<7xf32>
  %4 = "lf.random_normal"(%c) {{seed = 3, seed2 = 9, shape = [2, 3], dtype = f64}} : (tensor<i64>) -> tensor<2x3xf64>
  %5 = "lf.random_uniform_int"(%c, %lo, %hi) {{seed = 5, seed2 = 6, shape = [6], dtype = i32}} : (tensor<i64>, tensor<i32>, tensor<i32>) -> tensor<6xi32>
  %6 = "lf.random_uniform_int"(%c, %lo64, %hi64) {{seed = 8, seed2 = 1, shape = [4], dtype = i64}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %7 = "lf.truncated_normal"(%c) {{seed = 1, seed2 = 2, shape = [3, 50], dtype = f32}} : (tensor<i64>) -> tensor<3x50xf32>
  %8 = "lf.truncated_normal"(%c) {{seed = 4, seed2 = 0, shape = [30], dtype = f16}} : (tensor<i64>) -> tensor<30xf16>
  %9 = "lf.truncated_normal"(%c) {{seed = 0, seed2 = 8, shape = [40], dtype = f64}} : (tensor<i64>) -> tensor<40xf64>
  "func.return"(%0, %1, %2, %3, %4, %5, %6, %7, %8, %9) : ({OUT}) -> ()
}}"""


@pytest.fixture(scope="module")
def levels():
    m = parse_module(TEXT)
    PassManager("plan-buffers,lower-to-loops").run(m)
    (func,) = m.functions
    assert [op.name for op in func.ops[:-1]] == ["loop.kernel"] * 10
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
            if k in NORMALS and level == "native":  # normals: libm's log/cos against numpy's
                rtol = {np.float16: 1e-3, np.float32: 1e-6}.get(a.dtype.type, 1e-14)
                np.testing.assert_allclose(a, b, rtol=rtol, err_msg=level)
            else:
                np.testing.assert_array_equal(a, b, err_msg=f"{level} result #{k}")
    assert not np.array_equal(want[0], run_function(tensor_level, _args(counter + 1))[0])
    for k in (7, 8, 9):
        assert np.abs(want[k]).max() <= 2.0
    redrawn = np.abs(run_function(parse_module(TEXT.replace('"lf.truncated_normal"', '"lf.random_normal"'))
                                  .functions[0], _args(counter))[7]) > 2.0
    assert redrawn.any()  # some elements took a second attempt


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


#: the direct kernel's first 20 float32 bit patterns of the TruncatedNormal below at counter 3
#: (element 17 is a second attempt's), saved before it moved to the loop level
SAVED = np.array([1062748951, 1058024382, 3216824076, 3197019074, 1066126607, 1023598539, 1058506367, 3209403778,
                  3195340842, 1035531990, 3172069671, 1063921079, 3213249747, 3209409482, 3197238234, 3216824579,
                  1068895516, 1068997072, 1041044162, 1059342008], np.uint32)

RETRY = """func.func @f(%x: tensor<4xi64>) -> tensor<4xi64> {
  %0 = "loop.kernel"(%x) ({
  ^bb0(%out: memref<4xi64>, %in: memref<4xi64>):
    %three = "loop.constant"() {type = i64, value = 3 : i64} : () -> i64
    "loop.for"() ({
    ^bb0(%i: index):
      %want = "loop.load"(%in, %i) : (memref<4xi64>, index) -> i64
      %got = "loop.retry"() ({
      ^bb0(%t: index):
        %v = "loop.index_cast"(%t) {type = i64} : (index) -> i64
        %w = "loop.scalar"(%v, %three) {op = "lf.mul"} : (i64, i64) -> i64
        %ok = "loop.scalar"(%v, %want) {op = "lf.ge"} : (i64, i64) -> i1
        "lf.yield"(%ok, %w) : (i1, i64) -> ()
      }) {limit = LIMIT} : () -> i64
      "loop.store"(%got, %out, %i) : (i64, memref<4xi64>, index) -> ()
      "lf.yield"() : () -> ()
    }) {lower = 0, step = 1, upper = 4} : () -> ()
    "lf.yield"() : () -> ()
  }) : (tensor<4xi64>) -> tensor<4xi64>
  "func.return"(%0) : (tensor<4xi64>) -> ()
}"""


@pytest.mark.parametrize("limit", [1, 5, 100])
def test_retry_stops_at_the_first_accepted_attempt_or_its_limit(limit):
    """Attempt t yields 3t, accepted once t reaches the element: the limit caps t at limit - 1."""
    (func,) = parse_module(RETRY.replace("LIMIT", str(limit))).functions
    verify(func)
    x = np.array([0, 2, 4, 50], np.int64)
    want = 3 * np.minimum(x, limit - 1)
    np.testing.assert_array_equal(run_function(func, [x])[0], want)
    np.testing.assert_array_equal(compile_function(func).run([x])[0], want)


@pytest.mark.parametrize("change, message", [
    ("{limit = 0}", "'limit' must be a positive integer"),
    ('"lf.yield"(%w) : (i64) -> ()', "the body must yield (i1, i64)"),
    ('"lf.yield"(%ok, %ok) : (i1, i1) -> ()', "the body must yield (i1, i64)"),
])
def test_retry_verifier_rejects(change, message):
    text = RETRY.replace("LIMIT", "3")
    text = text.replace("{limit = 3}", change) if change.startswith("{") else \
        text.replace('"lf.yield"(%ok, %w) : (i1, i64) -> ()', change)
    with pytest.raises(Exception, match=re.escape(message)):
        verify(parse_module(text))


def test_truncated_normal_bits_are_the_saved_ones():
    """Seeded TruncatedNormal values did not change when it moved to the loop level: these are
    the direct kernel's (float32, the first elements and the ones after a redraw)."""
    text = """func.func @f(%c: tensor<i64>) -> tensor<64xf32> {
  %0 = "lf.truncated_normal"(%c) {seed = 1, seed2 = 2, shape = [64], dtype = f32} : (tensor<i64>) -> tensor<64xf32>
  "func.return"(%0) : (tensor<64xf32>) -> ()
}"""
    m = parse_module(text)
    PassManager("plan-buffers,lower-to-loops").run(m)
    assert [op.name for op in m.functions[0].ops[:-1]] == ["loop.kernel"]
    assert any(op.name == "loop.retry" for op in m.functions[0].ops[0].walk())
    (got,) = compile_function(m.functions[0]).run([np.array(3, np.int64)])
    assert got.view(np.uint32)[:SAVED.size].tolist() == SAVED.tolist()
    assert np.abs(got).max() <= 2.0
