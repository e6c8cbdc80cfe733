"""`fuse`: which elementwise ops end up in which "lf.fusion", the fusion's shape, and why."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.ir import Function, Module, build, print_module, tensor
from lowerflow.ir.parser import parse_module
from lowerflow.ir.types import F32
from lowerflow.ir.verifier import verify
from lowerflow.passes import clone_module
from lowerflow.passes.fuse import Fuse

from pass_testing import EFFECT, assert_same_results, op_names


def fuse(m: Module, **options) -> Fuse:
    p = Fuse(**options)
    p.run(m)
    verify(m)
    return p


def body_names(fusion) -> list[str]:
    return [op.name for op in fusion.regions[0].ops]


def reasons(p: Fuse) -> list[tuple[str, str]]:
    return [(d.op, d.reason) for d in p.decisions]


def check_results(before: Module, after: Module, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    f = before.functions[0]
    assert_same_results(f, after.functions[0], [rng.normal(size=a.type.shape).astype(np.float32) for a in f.args])


def test_chain_with_broadcast_becomes_one_fusion():
    f = Function("step", [tensor((3, 4), F32), tensor((4,), F32)])
    x, y = f.args
    a = build(f.body, "lf.add", [x, y]).result
    b = build(f.body, "lf.mul", [a, a]).result
    c = build(f.body, "lf.exp", [b]).result
    f.set_return([c, a])
    m = Module([f])
    before = clone_module(m)
    p = fuse(m)
    assert op_names(f) == ["lf.fusion", "func.return"]
    fusion = f.ops[0]
    block = fusion.regions[0]
    assert fusion.operands == [x, y]
    assert [a.type for a in block.args] == [x.type, y.type]
    assert body_names(fusion) == ["lf.add", "lf.mul", "lf.exp", "lf.yield"]
    add, mul, exp, yield_op = block.ops
    assert add.operands == block.args and mul.operands == [add.result, add.result]
    assert yield_op.operands == [add.result, exp.result]  # every value used outside, in body order
    assert f.results == [fusion.results[1], fusion.results[0]]
    assert reasons(p) == [("lf.add %0", "fused into group 1"), ("lf.mul %1", "fused into group 1"),
                          ("lf.exp %2", "fused into group 1")]
    check_results(before, m)


def test_shape_mismatch_and_lonely_ops():
    m = parse_module("""
    func.func @step(%x: tensor<3x4xf32>, %v: tensor<4xf32>) -> (tensor<3x4xf32>, tensor<4xf32>) {
      %0 = "lf.exp"(%x) : (tensor<3x4xf32>) -> tensor<3x4xf32>
      %1 = "lf.neg"(%0) : (tensor<3x4xf32>) -> tensor<3x4xf32>
      %2 = "lf.tanh"(%v) : (tensor<4xf32>) -> tensor<4xf32>
      %3 = "lf.add"(%1, %2) : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
      %4 = "lf.constant"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32>
      %5 = "lf.sub"(%4, %v) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      "func.return"(%3, %5) : (tensor<3x4xf32>, tensor<4xf32>) -> ()
    }""")
    before = clone_module(m)
    p = fuse(m)
    assert op_names(m["step"]) == ["lf.tanh", "lf.fusion", "lf.constant", "lf.sub", "func.return"]
    assert body_names(m["step"].ops[1]) == ["lf.exp", "lf.neg", "lf.add", "lf.yield"]
    assert reasons(p) == [
        ("lf.exp %0", "fused into group 1"),
        ("lf.neg %1", "fused into group 1"),
        ("lf.tanh %2", ("not fused: consumer lf.add %3: shape tensor<3x4xf32> differs from "
                        "lf.tanh %2's group's tensor<4xf32>")),
        ("lf.add %3", "fused into group 1"),
        ("lf.constant %4", "not fused: not elementwise"),
        ("lf.sub %5", "not fused: no fusible producer or consumer"),
    ]
    check_results(before, m)


def test_max_ops_splits_a_chain():
    f = Function("step", [tensor((2,), F32)])
    v = f.args[0]
    for name in ["lf.exp", "lf.neg", "lf.abs", "lf.sqrt", "lf.tanh"]:
        v = build(f.body, name, [v]).result
    f.set_return([v])
    m = Module([f])
    before = clone_module(m)
    p = fuse(m, max_ops=2)
    assert op_names(f) == ["lf.fusion", "lf.fusion", "lf.tanh", "func.return"]
    assert [body_names(op) for op in f.ops[:2]] == [["lf.exp", "lf.neg", "lf.yield"], ["lf.abs", "lf.sqrt", "lf.yield"]]
    assert f.ops[1].operands == [f.ops[0].results[0]]
    assert reasons(p)[2:] == [("lf.abs %2", "fused into group 2"), ("lf.sqrt %3", "fused into group 2"),
                              ("lf.tanh %4", "not fused: max-ops=2 reached joining lf.sqrt %3's group")]
    check_results(before, m)


def test_no_group_through_an_outside_path():
    """exp -> effect -> add and exp -> add: fusing exp with add would need the effect inside."""
    f = Function("step", [tensor((2,), F32)])
    e = build(f.body, "lf.exp", f.args).result
    side = build(f.body, EFFECT, [e]).result
    f.set_return([build(f.body, "lf.add", [e, side]).result])
    m = Module([f])
    p = fuse(m)
    assert op_names(f) == ["lf.exp", EFFECT, "lf.add", "func.return"]
    assert reasons(p)[2] == ("lf.add %2", "not fused: joining lf.exp %0's group would create a cycle")


def test_two_groups_that_would_feed_each_other():
    """a1->b2 and b1->a2 with {a1,a2} and {b1,b2} both legal alone: together they form a cycle."""
    f = Function("step", [tensor((2,), F32), tensor((2,), F32)])
    a1 = build(f.body, "lf.exp", [f.args[0]]).result
    b1 = build(f.body, "lf.tanh", [f.args[1]]).result
    a2 = build(f.body, "lf.add", [a1, b1]).result
    b2 = build(f.body, "lf.mul", [b1, a1]).result
    f.set_return([a2, b2])
    m = Module([f])
    before = clone_module(m)
    p = fuse(m, max_ops=2)
    assert reasons(p) == [
        ("lf.exp %0", "fused into group 1"),
        ("lf.tanh %1", "not fused: consumer lf.add %2: max-ops=2 reached joining lf.tanh %1's group"),
        ("lf.add %2", "fused into group 1"),
        ("lf.mul %3", "not fused: joining lf.tanh %1's group would create a cycle"),
    ]
    check_results(before, m)


def test_fusion_moves_after_an_outside_producer():
    """The group's first op comes before an op the group's last op reads."""
    f = Function("step", [tensor((2,), F32), tensor((2,), F32)])
    e = build(f.body, "lf.exp", [f.args[0]]).result
    side = build(f.body, EFFECT, [f.args[1]]).result
    f.set_return([build(f.body, "lf.add", [e, side]).result])
    m = Module([f])
    before = clone_module(m)
    fuse(m)
    assert op_names(f) == [EFFECT, "lf.fusion", "func.return"]
    assert f.ops[1].operands == [f.args[0], side]
    check_results(before, m)


def test_shared_input_is_one_operand():
    f = Function("step", [tensor((2,), F32)])
    (x,) = f.args
    f.set_return([build(f.body, "lf.mul", [build(f.body, "lf.add", [x, x]).result, x]).result])
    m = Module([f])
    fuse(m)
    fusion = f.ops[0]
    assert fusion.operands == [x] and len(fusion.regions[0].args) == 1


def test_dynamic_and_region_ops_are_not_fused():
    m = parse_module("""
    func.func @step(%x: tensor<?xf32>, %y: tensor<2xf32>) -> (tensor<?xf32>, tensor<2xf32>) {
      %0 = "lf.exp"(%x) : (tensor<?xf32>) -> tensor<?xf32>
      %1 = "lf.neg"(%0) : (tensor<?xf32>) -> tensor<?xf32>
      %2 = "lf.fusion"(%y) ({
      ^bb0(%a: tensor<2xf32>):
        %3 = "lf.exp"(%a) : (tensor<2xf32>) -> tensor<2xf32>
        %4 = "lf.neg"(%3) : (tensor<2xf32>) -> tensor<2xf32>
        "lf.yield"(%4) : (tensor<2xf32>) -> ()
      }) : (tensor<2xf32>) -> tensor<2xf32>
      %5 = "lf.neg"(%2) : (tensor<2xf32>) -> tensor<2xf32>
      "func.return"(%1, %5) : (tensor<?xf32>, tensor<2xf32>) -> ()
    }""")
    text = print_module(m)
    p = fuse(m)
    assert print_module(m) == text
    assert reasons(p) == [
        ("lf.exp %0", "not fused: shape tensor<?xf32> is not static"),
        ("lf.neg %1", "not fused: shape tensor<?xf32> is not static"),
        ("lf.fusion %2", "not fused: not elementwise"),
        ("lf.neg %5", "not fused: no fusible producer or consumer"),
    ]


def test_fuse_is_idempotent_and_decisions_are_per_run():
    f = Function("step", [tensor((2,), F32)])
    f.set_return([build(f.body, "lf.neg", [build(f.body, "lf.exp", f.args).result]).result])
    m = Module([f])
    p = Fuse()
    assert p.run(m) is True and len(p.decisions) == 2
    assert p.run(m) is False
    assert reasons(p) == [("lf.fusion %0", "not fused: not elementwise")]


def test_fused_ir_prints_and_parses_back():
    f = Function("step", [tensor((2, 2), F32)])
    e = build(f.body, "lf.exp", f.args).result
    f.set_return([build(f.body, "lf.add", [e, e]).result, e])
    m = Module([f])
    fuse(m)
    text = print_module(m)
    assert '%0:2 = "lf.fusion"(%arg0) ({' in text and "^bb0(%arg1: tensor<2x2xf32>):" in text
    assert '"func.return"(%0#1, %0#0)' in text
    assert print_module(parse_module(text)) == text


@pytest.mark.parametrize("max_ops", [0, -3])
def test_max_ops_must_be_positive(max_ops):
    with pytest.raises(ValueError, match="max-ops must be >= 1"):
        Fuse(max_ops=max_ops)
