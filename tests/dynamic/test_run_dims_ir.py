"""The IR of sizes set by fed values (ir/ops/dynamic.py, ir/loop_lowering_run.py): the
`lf.run_*` ops print, parse, verify and interpret; natively, each step compiles once and
runs for several dims given as arguments, into outputs allocated from them, with the
interpreter's values."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir import parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import verify

RUN_DIMS = """module {
  func.func @step(%s: tensor<f32>, %d: tensor<f32>, %i: tensor<3xi32>, %x: tensor<2x3xi64>, %n: tensor<1xi64>, %k: tensor<2xi64>, %t: tensor<2xi64>) -> (tensor<?xf32>, tensor<3x?xf32>, tensor<?x?xf32>, tensor<?x?xi64>, tensor<?x?xi64>, tensor<?xf32>, tensor<3xf32>) {
    %0 = "lf.run_range"(%s, %d, %n) : (tensor<f32>, tensor<f32>, tensor<1xi64>) -> tensor<?xf32>
    %1 = "lf.run_one_hot"(%i, %n) {axis = -1 : i64, dtype = f32, off_value = 0.0 : f64, on_value = 2.0 : f64} : (tensor<3xi32>, tensor<1xi64>) -> tensor<3x?xf32>
    %2 = "lf.run_fill"(%s, %k) : (tensor<f32>, tensor<2xi64>) -> tensor<?x?xf32>
    %3 = "lf.run_tile"(%x, %t) : (tensor<2x3xi64>, tensor<2xi64>) -> tensor<?x?xi64>
    %4 = "lf.run_reshape"(%x, %k) : (tensor<2x3xi64>, tensor<2xi64>) -> tensor<?x?xi64>
    %5 = "lf.run_map"(%0, %d, %n) {op = "lf.mul"} : (tensor<?xf32>, tensor<f32>, tensor<1xi64>) -> tensor<?xf32>
    %6 = "lf.run_reduce"(%1, %n) {axes = [1], keepdims = false, op = "lf.reduce_sum"} : (tensor<3x?xf32>, tensor<1xi64>) -> tensor<3xf32>
    "func.return"(%0, %1, %2, %3, %4, %5, %6) : (tensor<?xf32>, tensor<3x?xf32>, tensor<?x?xf32>, tensor<?x?xi64>, tensor<?x?xi64>, tensor<?xf32>, tensor<3xf32>) -> ()
  }
}"""


def _args(n: int, k: tuple) -> list[np.ndarray]:
    return [np.array(1.5, np.float32), np.array(0.5, np.float32), np.array([0, 2, 1], np.int32), np.arange(6).reshape(2, 3),
            np.array([n], np.int64), np.array(k, np.int64), np.array(_tiled(k), np.int64)]


def _tiled(k: tuple) -> tuple:
    """The tile's dims (multiples of [2, 3]) of a case."""
    return (2 * k[0], 3 * k[1] - 3)


CASES = [(4, (2, 3)), (0, (3, 2)), (7, (6, 1)), (1, (1, 6))]


def _want(n: int, k: tuple) -> list[np.ndarray]:
    r = 1.5 + 0.5 * np.arange(n, dtype=np.float32)
    hot = np.where(np.array([0, 2, 1])[:, None] == np.arange(n), 2.0, 0.0).astype(np.float32)
    x = np.arange(6).reshape(2, 3)
    t = _tiled(k)
    tile = np.tile(x, (t[0] // 2, t[1] // 3))
    return [r, hot, np.full(k, 1.5, np.float32), tile, x.reshape(k), r * 0.5,
            hot.sum(1)]


def test_round_trip_and_verify():
    module = parse_module(RUN_DIMS)
    verify(module)
    text = print_module(module)
    assert print_module(parse_module(text)) == text


@pytest.mark.parametrize("n,k", CASES)
def test_interpret(n, k):
    got = run_function(parse_module(RUN_DIMS).functions[0], _args(n, k))
    for g, w in zip(got, _want(n, k)):
        np.testing.assert_array_equal(g, w)


@pytest.fixture(scope="module")
def native():
    func = parse_module(RUN_DIMS).functions[0]
    return func, compile_function(func)


def test_native_one_compile_several_dims(native):
    """Outputs allocated from the dims (a session's prelude computes and checks them: the
    reshape's hold its 6 elements, the tile's are multiples of its operand's)."""
    func, exe = native
    for n, k in CASES:
        outs = []
        for t, j in zip(func.result_types, range(len(func.results))):
            given = iter([n] if j in (0, 1, 5) else list(_tiled(k)) if j == 3 else list(k))
            outs.append(np.empty([next(given) if d is None else d for d in t.shape], t.dtype.np_dtype))
        got = exe.run_into(_args(n, k), outs)
        for g, w in zip(got, _want(n, k)):
            np.testing.assert_array_equal(g, w)
