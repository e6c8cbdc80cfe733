"""`constant-fold`: all-constant pure ops become constants, within limits."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from lowerflow.ir import Function, Module, build, tensor
from lowerflow.ir.parser import parse_module
from lowerflow.ir.types import F32
from lowerflow.ir.verifier import verify
from lowerflow.passes import PassManager
from lowerflow.passes.constant_fold import ConstantFold

from pass_testing import EFFECT, op_names


def const(f: Function, value) -> object:
    return build(f.body, "lf.constant", [], {"value": np.asarray(value)}).result


def folded(f: Function) -> list[np.ndarray]:
    return [v.op.attributes["value"] for v in f.results]


def test_folds_a_constant_subgraph_in_one_sweep():
    f = Function("step", [tensor((2,), F32)])
    a = const(f, np.array([1.0, 4.0], np.float32))
    b = build(f.body, "lf.sqrt", [a]).result
    c = build(f.body, "lf.mul", [b, const(f, np.float32(3))]).result
    less = build(f.body, "lf.lt", [c, const(f, np.float32(4))]).result
    mixed = build(f.body, "lf.add", [c, f.args[0]]).result
    f.set_return([c, less, mixed])
    assert PassManager("constant-fold,dce").run(Module([f]))
    assert op_names(f) == ["lf.constant", "lf.constant", "lf.add", "func.return"]
    c_value, less_value = [v.op.attributes["value"] for v in f.results[:2]]
    np.testing.assert_array_equal(c_value, np.array([3, 6], np.float32))
    assert c_value.dtype == np.float32 and less_value.dtype == np.bool_
    np.testing.assert_array_equal(less_value, [True, False])
    assert f.ops[2].operands[0] is f.ops[0].result


def test_max_size_keeps_large_results():
    f = Function("step", [])
    big = build(f.body, "lf.neg", [const(f, np.ones((4, 4), np.float32))]).result
    small = build(f.body, "lf.neg", [const(f, np.ones(16, np.float32)[:15])]).result
    f.set_return([big, small])
    assert ConstantFold(max_size=15).run(Module([f])) is True
    assert op_names(f) == ["lf.constant", "lf.neg", "lf.constant", "lf.constant", "func.return"]
    assert ConstantFold(max_size=0).run(Module([f])) is False


def test_leaves_impure_region_and_dynamic_ops():
    m = parse_module("""
    func.func @step() -> (tensor<2xf32>, tensor<?xf32>, tensor<2xf32>) {
      %c = "lf.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
      %e = "test.effect"(%c) : (tensor<2xf32>) -> tensor<2xf32>
      %d = "lf.neg"(%c) : (tensor<2xf32>) -> tensor<?xf32>
      %f = "lf.fusion"(%c) ({
      ^bb0(%x: tensor<2xf32>):
        %n = "lf.neg"(%x) : (tensor<2xf32>) -> tensor<2xf32>
        "lf.yield"(%n) : (tensor<2xf32>) -> ()
      }) : (tensor<2xf32>) -> tensor<2xf32>
      "func.return"(%e, %d, %f) : (tensor<2xf32>, tensor<?xf32>, tensor<2xf32>) -> ()
    }""")
    verify(m)
    assert ConstantFold().run(m) is False
    assert op_names(m["step"]) == ["lf.constant", EFFECT, "lf.neg", "lf.fusion", "func.return"]


def test_undefined_arithmetic_folds_quietly():
    f = Function("step", [])
    fdiv = build(f.body, "lf.div", [const(f, np.float32([1, 0, -1])), const(f, np.float32(0))]).result
    flog = build(f.body, "lf.log", [const(f, np.float32(-1))]).result
    f.set_return([fdiv, flog])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ConstantFold().run(Module([f])) is True
    fdiv_v, flog_v = folded(f)
    np.testing.assert_array_equal(fdiv_v, [np.inf, np.nan, -np.inf])
    assert np.isnan(flog_v)


@pytest.mark.parametrize("name", ["lf.div", "lf.floordiv", "lf.mod", "lf.truncdiv", "lf.truncmod", "lf.pow"])
def test_ops_that_raise_are_never_folded(name):
    """Folding must not change whether a graph raises: an integer division by zero (or a
    negative integer power) stays for the run, whose native code raises TF's error."""
    f = Function("step", [])
    bad = np.int32([0, 2]) if name != "lf.pow" else np.int32([-1, 2])
    op = build(f.body, name, [const(f, np.int32([7, -7])), const(f, bad)])
    f.set_return([op.result])
    assert ConstantFold().run(Module([f])) is False
    assert f.results[0].op is op


def test_folded_constant_keeps_location():
    f = Function("step", [])
    op = build(f.body, "lf.neg", [const(f, np.float32(2))], location="neg:0")
    f.set_return([op.result])
    ConstantFold().run(Module([f]))
    assert f.results[0].op.location == "neg:0"


@pytest.mark.parametrize("name", ["lf.identity", "lf.cast"])
def test_folded_values_are_owned(name):
    f = Function("step", [])
    value = np.float32([1, 2])
    src = const(f, value)
    f.set_return([build(f.body, name, [src], {"to": F32} if name == "lf.cast" else {}).result])
    ConstantFold().run(Module([f]))
    assert not np.shares_memory(folded(f)[0], value)
