"""`dce`: unused pure ops go, impure ones stay; fusions lose unused results and arguments."""
from __future__ import annotations

import numpy as np

from lowerflow.ir import Function, Module, build, print_module, tensor
from lowerflow.ir.parser import parse_module
from lowerflow.ir.types import F32
from lowerflow.ir.verifier import verify
from lowerflow.passes import clone_module
from lowerflow.passes.dce import DeadCodeElimination

from pass_testing import EFFECT, assert_same_results, op_names

FUSION = """
func.func @step(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %f:3 = "lf.fusion"(%a, %b) ({
  ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
    %e = "lf.exp"(%x) : (tensor<4xf32>) -> tensor<4xf32>
    %n = "lf.neg"(%y) : (tensor<4xf32>) -> tensor<4xf32>
    %s = "lf.add"(%e, %e) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %dead = "lf.tanh"(%s) : (tensor<4xf32>) -> tensor<4xf32>
    "lf.yield"(%e, %n, %s) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> ()
  }) : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %t = "lf.sqrt"(%f#2) : (tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%f#2, %t) : (tensor<4xf32>, tensor<4xf32>) -> ()
}
"""


def test_removes_dead_chains_but_keeps_impure_ops():
    f = Function("step", [tensor((2,), F32)])
    (x,) = f.args
    dead = build(f.body, "lf.exp", [x]).result
    build(f.body, "lf.neg", [build(f.body, "lf.tanh", [dead]).result])
    build(f.body, EFFECT, [build(f.body, "lf.abs", [x]).result])  # unused, but has an effect
    f.set_return([build(f.body, "lf.sqrt", [x]).result])
    assert DeadCodeElimination().run(Module([f])) is True
    assert op_names(f) == ["lf.abs", EFFECT, "lf.sqrt", "func.return"]
    assert DeadCodeElimination().run(Module([f])) is False


def test_trims_fusion_results_body_and_arguments():
    m = parse_module(FUSION)
    before = clone_module(m)
    assert DeadCodeElimination().run(m) is True
    verify(m)
    f = m["step"]
    fusion = f.ops[0]
    assert op_names(f) == ["lf.fusion", "lf.sqrt", "func.return"]
    assert fusion.operands == [f.args[0]]  # %b only fed the unused neg
    assert [op.name for op in fusion.regions[0].ops] == ["lf.exp", "lf.add", "lf.yield"]
    assert [r.index for r in fusion.results] == [0] and fusion.regions[0].args[0].index == 0
    assert f.ops[1].operands == [fusion.results[0]] and f.results[0] is fusion.results[0]
    assert '%0 = "lf.fusion"(%arg0)' in print_module(m)
    args = [np.arange(4, dtype=np.float32), np.ones(4, np.float32)]
    assert_same_results(before["step"], f, args)


def test_removes_a_fusion_nobody_uses():
    m = parse_module(FUSION.replace('"func.return"(%f#2, %t)', '"func.return"(%a, %a)'))
    assert DeadCodeElimination().run(m) is True
    assert op_names(m["step"]) == ["func.return"]
