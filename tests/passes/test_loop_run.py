"""The ops sized by run-time dims (`lf.run_*`) at the loop level (ir/loop_lowering_run.py):
interp(tensor IR) == interp(loop IR) == native for one compile and several dims (empty ones
among them), over float16, int32, uint8 and bool; loops bounded by an index operand
("loop.for" without `upper`) verify, print, parse back and interpret, and bad ones are
refused with the reason."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir import Module, parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import VerifyError, verify
from lowerflow.passes import PassManager

OUT = ("tensor<2x?x2xf16>, tensor<1x?x1xf16>, tensor<?x?xi32>, tensor<i32>, tensor<?x?xi1>, tensor<i1>, "
       "tensor<?x?xi1>, tensor<i32>, tensor<?x?xi1>, tensor<?xf32>, tensor<f32>, tensor<?xf32>")
TEXT = f"""func.func @f(%u: tensor<2x2xui8>, %b: tensor<2x3xi1>, %s: tensor<i32>, %r0: tensor<f32>, %dr: tensor<f32>, %x: tensor<3xf32>, %n: tensor<1xi64>, %k: tensor<2xi64>, %t: tensor<2xi64>, %e: tensor<0xi64>, %m: tensor<1xi64>, %q: tensor<1xi64>) -> ({OUT}) {{
  %0 = "lf.run_one_hot"(%u, %n) {{axis = 1 : i64, dtype = f16, off_value = -1.0 : f64, on_value = 3.0 : f64}} : (tensor<2x2xui8>, tensor<1xi64>) -> tensor<2x?x2xf16>
  %1 = "lf.run_reduce"(%0, %n) {{axes = [0, 2], keepdims = true, op = "lf.reduce_max"}} : (tensor<2x?x2xf16>, tensor<1xi64>) -> tensor<1x?x1xf16>
  %2 = "lf.run_fill"(%s, %k) : (tensor<i32>, tensor<2xi64>) -> tensor<?x?xi32>
  %3 = "lf.run_reduce"(%2, %k) {{axes = [0, 1], keepdims = false, op = "lf.reduce_mean"}} : (tensor<?x?xi32>, tensor<2xi64>) -> tensor<i32>
  %4 = "lf.run_tile"(%b, %t) : (tensor<2x3xi1>, tensor<2xi64>) -> tensor<?x?xi1>
  %5 = "lf.run_reduce"(%4, %t) {{axes = [0, 1], keepdims = false, op = "lf.reduce_any"}} : (tensor<?x?xi1>, tensor<2xi64>) -> tensor<i1>
  %6 = "lf.run_map"(%2, %s, %k) {{op = "lf.ge"}} : (tensor<?x?xi32>, tensor<i32>, tensor<2xi64>) -> tensor<?x?xi1>
  %7 = "lf.run_fill"(%s, %e) : (tensor<i32>, tensor<0xi64>) -> tensor<i32>
  %8 = "lf.run_reshape"(%b, %t) : (tensor<2x3xi1>, tensor<2xi64>) -> tensor<?x?xi1>
  %9 = "lf.run_range"(%r0, %dr, %m) : (tensor<f32>, tensor<f32>, tensor<1xi64>) -> tensor<?xf32>
  %10 = "lf.run_reduce"(%9, %m) {{axes = [0], keepdims = false, op = "lf.reduce_sum"}} : (tensor<?xf32>, tensor<1xi64>) -> tensor<f32>
  %11 = "lf.run_tile"(%x, %q) : (tensor<3xf32>, tensor<1xi64>) -> tensor<?xf32>
  "func.return"(%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11) : ({OUT}) -> ()
}}"""
#: results compared to a tolerance (numpy sums pairwise, the loops in order or reassociated)
SUMS = (10,)
#: (depth n, fill dims k, tile and reshape dims t, range length m): t holds 6 elements
#: for the reshape and is a multiple of [2, 3] for the tile; the 1-D tile is 3 * n long
CASES = [(3, (2, 5), (2, 3), 7), (0, (0, 4), (2, 3), 0), (1, (3, 1), (2, 3), 1), (5, (1, 1), (2, 3), 100)]


def _args(n: int, k: tuple, t: tuple, m: int) -> list[np.ndarray]:
    return [np.array([[0, 255], [1, 4]], np.uint8), np.array([[True, False, False], [False, False, True]]),
            np.array(7, np.int32), np.array(0.1, np.float32), np.array(0.3, np.float32),
            np.array([1.5, -2.0, 0.25], np.float32), np.array([n], np.int64), np.array(k, np.int64),
            np.array(t, np.int64), np.zeros(0, np.int64), np.array([m], np.int64), np.array([3 * n], np.int64)]


@pytest.fixture(scope="module")
def levels():
    m = parse_module(TEXT)
    PassManager("plan-buffers,lower-to-loops").run(m)
    verify(m)
    (func,) = m.functions
    assert [op.name for op in func.ops[:-1]] == ["loop.kernel"] * 12
    return parse_module(TEXT).functions[0], func, compile_function(func)


def _outputs(func, args: list[np.ndarray]) -> list[np.ndarray]:
    """Output buffers of the run-time dims each result's op reads (its last operand, an argument)."""
    outs = []
    for v in func.results:
        dims = iter(args[v.op.operands[-1].index].tolist()) if not v.type.is_static else iter(())
        outs.append(np.empty([next(dims) if d is None else d for d in v.type.shape], v.type.dtype.np_dtype))
    return outs


@pytest.mark.parametrize("case", CASES, ids=[str(c[0]) for c in CASES])
def test_run_ops_mean_the_same_at_every_level(levels, case):
    tensor_level, loop_level, native = levels
    args = _args(*case)
    want = run_function(tensor_level, args)
    got_native = native.run_into(args, _outputs(loop_level, args))
    for level, got in (("loop IR", run_function(loop_level, args)), ("native", got_native)):
        for j, (a, b) in enumerate(zip(got, want)):
            assert a.dtype == b.dtype and a.shape == b.shape, (level, j, a.shape, b.shape)
            if j in SUMS:
                np.testing.assert_allclose(a, b, rtol=1e-5, err_msg=level)
            else:
                np.testing.assert_array_equal(a, b, err_msg=f"{level} result #{j}")
    n, k, t, m = case
    assert want[3] == (7 if np.prod(k) else 0)  # an integer mean over no elements is 0
    assert want[1].shape == (1, n, 1) and want[9].shape == (m,)


def test_loop_ir_parses_back_identically(levels):
    text = print_module(Module([levels[1]]))
    again = parse_module(text)
    verify(again)
    assert print_module(again) == text


HEAD = """func.func @f(%n: tensor<1xi64>) -> tensor<?xi64> {
  %0 = "loop.kernel"(%n) ({
  ^bb0(%out: memref<?xi64>, %dims: memref<1xi64>):
    %c0 = "loop.const_index"() {value = 0} : () -> index
    %k = "loop.load"(%dims, %c0) : (memref<1xi64>, index) -> i64
    %bound = "loop.to_index"(%k) : (i64) -> index
"""
TAIL = """    "lf.yield"() : () -> ()
  }) : (tensor<1xi64>) -> tensor<?xi64>
  "func.return"(%0) : (tensor<?xi64>) -> ()
}"""
#: out[i] = 10 * i over a run-time bound, a carried value counting the iterations stored last
SQUARES = """    %ten = "loop.constant"() {type = i64, value = 10} : () -> i64
    %zero = "loop.constant"() {type = i64, value = 0} : () -> i64
    %count = "loop.for"(%bound, %zero) ({
    ^bb0(%i: index, %acc: i64):
      %j = "loop.index_cast"(%i) {type = i64} : (index) -> i64
      %v = "loop.scalar"(%j, %ten) {op = "lf.mul"} : (i64, i64) -> i64
      "loop.store"(%v, %out, %i) : (i64, memref<?xi64>, index) -> ()
      %one = "loop.constant"() {type = i64, value = 1} : () -> i64
      %next = "loop.scalar"(%acc, %one) {op = "lf.add"} : (i64, i64) -> i64
      "lf.yield"(%next) : (i64) -> ()
    }) {lower = 0, step = 1} : (index, i64) -> i64
"""


@pytest.mark.parametrize("n", [0, 1, 9])
def test_hand_written_run_time_bound_runs_everywhere(n):
    m = parse_module(HEAD + SQUARES + TAIL)
    verify(m)
    (func,) = m.functions
    args = [np.array([n], np.int64)]
    (interp,) = run_function(func, args)
    (native,) = compile_function(func).run_into(args, [np.empty(n, np.int64)])
    np.testing.assert_array_equal(interp, 10 * np.arange(n))
    np.testing.assert_array_equal(native, interp)


@pytest.mark.parametrize("body, message", [
    ('    "loop.for"() ({\n    ^bb0(%i: index):\n      "lf.yield"() : () -> ()\n    }) {lower = 0, step = 1} : () -> ()\n',
     "the first operand must be the upper bound"),
    ('    "loop.for"(%bound) ({\n    ^bb0(%i: index):\n      "lf.yield"() : () -> ()\n'
     '    }) {lower = 0, step = 1, unroll = true} : (index) -> ()\n', "a loop of run-time bound is not unrolled"),
    ('    %v = "loop.view"(%out) {shape = [2], strides = [1]} : (memref<?xi64>) -> memref<2xi64>\n',
     "views a buffer of static size only"),
])
def test_verifier_rejects_bad_run_time_loops(body, message):
    with pytest.raises(VerifyError, match=message):
        verify(parse_module(HEAD + body + TAIL))


def test_kernel_of_run_time_results_needs_its_dims_last():
    text = (HEAD + TAIL).replace('"loop.kernel"(%n)', '"loop.kernel"()').replace(
        "%out: memref<?xi64>, %dims: memref<1xi64>", "%out: memref<?xi64>").replace(
        ": (tensor<1xi64>) -> tensor<?xi64>", ": () -> tensor<?xi64>").replace(
        '    %c0 = "loop.const_index"() {value = 0} : () -> index\n'
        '    %k = "loop.load"(%dims, %c0) : (memref<1xi64>, index) -> i64\n'
        '    %bound = "loop.to_index"(%k) : (i64) -> index\n', "")
    with pytest.raises(VerifyError, match=r"results of 1 run-time dim\(s\) need them as the last operand"):
        verify(parse_module(text))
