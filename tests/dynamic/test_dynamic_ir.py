"""The IR of value-dependent shapes (ir/ops/dynamic.py): `?` dims print, parse and verify;
the ops interpret; `lf.mask_positions`, the one native kernel, agrees with its reference;
a `?` dim never reaches native code."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir import parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import VerifyError, verify

DYNAMIC = """module {
  func.func @step(%c: tensor<3x2xi1>, %v: tensor<5xf32>, %p: tensor<5xi32>) -> (tensor<?x2xi64>, tensor<?xf32>, tensor<5xi32>, tensor<?xf32>, tensor<?xf32>) {
    %0 = "lf.where"(%c) : (tensor<3x2xi1>) -> tensor<?x2xi64>
    %1:2 = "lf.unique"(%v) {out_idx = i32} : (tensor<5xf32>) -> (tensor<?xf32>, tensor<5xi32>)
    %2:2 = "lf.dynamic_partition"(%v, %p) {num_partitions = 2} : (tensor<5xf32>, tensor<5xi32>) -> (tensor<?xf32>, tensor<?xf32>)
    "func.return"(%0, %1#0, %1#1, %2#0, %2#1) : (tensor<?x2xi64>, tensor<?xf32>, tensor<5xi32>, tensor<?xf32>, tensor<?xf32>) -> ()
  }
}"""

POSITIONS = """module {
  func.func @step(%m: tensor<Nxi1>) -> (tensor<Nxi64>, tensor<i64>) {
    %0:2 = "lf.mask_positions"(%m) : (tensor<Nxi1>) -> (tensor<Nxi64>, tensor<i64>)
    "func.return"(%0#0, %0#1) : (tensor<Nxi64>, tensor<i64>) -> ()
  }
}"""


def test_dynamic_dims_round_trip_and_verify():
    module = parse_module(DYNAMIC)
    verify(module)
    text = print_module(module)
    assert "tensor<?x2xi64>" in text and "tensor<?xf32>" in text
    assert print_module(parse_module(text)) == text


def test_dynamic_ops_interpret():
    func = parse_module(DYNAMIC).functions[0]
    cond = np.array([[1, 0], [0, 0], [1, 1]], bool)
    v = np.array([2, np.nan, 2, 1, np.nan], np.float32)
    where, y, idx, p0, p1 = run_function(func, [cond, v, np.array([0, 1, 1, 0, 1], np.int32)])
    np.testing.assert_array_equal(where, [[0, 0], [2, 0], [2, 1]])
    np.testing.assert_array_equal(y, [2, np.nan, 1, np.nan])
    np.testing.assert_array_equal(idx, [0, 1, 0, 2, 3])
    np.testing.assert_array_equal(p0, [2, 1])
    np.testing.assert_array_equal(p1, [np.nan, 2, np.nan])


def test_verifier_refuses_a_wrong_dynamic_type():
    bad = DYNAMIC.replace('-> tensor<?x2xi64>\n', '-> tensor<?x3xi64>\n').replace(
        "(tensor<?x2xi64>, tensor<?xf32>, tensor<5xi32>, tensor<?xf32>, tensor<?xf32>)",
        "(tensor<?x3xi64>, tensor<?xf32>, tensor<5xi32>, tensor<?xf32>, tensor<?xf32>)")
    with pytest.raises(VerifyError, match=r"tensor<\?x3xi64> does not match inferred tensor<\?x2xi64>"):
        verify(parse_module(bad))


def test_native_code_refuses_a_dynamic_dim():
    with pytest.raises(ValueError, match="static shapes"):
        compile_function(parse_module(DYNAMIC).functions[0])


@pytest.mark.parametrize("n", [1, 9, 40])
def test_mask_positions_kernel(n):
    func = parse_module(POSITIONS.replace("N", str(n))).functions[0]
    exe = compile_function(func)
    rng = np.random.default_rng(n)
    for mask in [rng.random(n) < 0.3, np.zeros(n, bool), np.ones(n, bool)]:
        positions, count = exe.run([mask])
        want_pos, want_count = run_function(func, [mask])
        np.testing.assert_array_equal(positions, want_pos)
        assert count == want_count == mask.sum()
        np.testing.assert_array_equal(positions[:count], np.flatnonzero(mask))
        assert not positions[count:].any()  # padding is index 0: a valid gather index
