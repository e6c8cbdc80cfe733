"""`infer-shapes`: with concrete argument types it recovers every result type of a function
whose results were all `?`, keeps results the same, and names the op on contradictions."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.ir import Function, Module, build, tensor
from lowerflow.ir.types import F32
from lowerflow.passes import PassFailed, PassManager
from lowerflow.passes.infer_shapes import InferShapes, refine

from pass_testing import assert_same_results, random_function


def typed_values(func: Function) -> list:
    """What infer-shapes types: every op result and region argument."""
    return [v for op in func.body.walk() for v in [*op.results, *(a for b in op.regions for a in b.args)]]


def test_refine_keeps_what_either_side_knows():
    assert refine(tensor((None, 3), F32), tensor((2, None), F32)) == tensor((2, 3), F32)
    with pytest.raises(ValueError, match=r"inferred tensor<2x4xf32> contradicts tensor<\?x3xf32>"):
        refine(tensor((None, 3), F32), tensor((2, 4), F32))
    with pytest.raises(ValueError):
        refine(tensor((3,), F32), tensor((1, 3), F32))


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), fused=st.booleans())
def test_recovers_every_type_from_concrete_arguments(seed, fused):
    oracle, args = random_function(seed)
    func, _ = random_function(seed)
    m = Module([func])
    if fused:
        PassManager("fuse").run(m)
    want = {v: v.type for v in typed_values(func)}
    for v in want:  # forget every dim, as if the ops were built for `?` inputs
        v.type = v.type.with_shape([None] * v.type.rank)
    assert InferShapes().run(m) is any(t.rank for t in want.values())
    assert {v: v.type for v in typed_values(func)} == want
    assert func.result_types == oracle.result_types
    assert_same_results(oracle, func, args)
    assert InferShapes().run(m) is False


def contradiction() -> Module:
    """`?x3` arguments made concrete as 2x3 and 5x3: their sum cannot be typed."""
    f = Function("step", [tensor((None, 3), F32)] * 2)
    x, y = f.args
    s = build(f.body, "lf.add", [x, y]).result
    f.set_return([build(f.body, "lf.exp", [s]).result])
    x.type, y.type = tensor((2, 3), F32), tensor((5, 3), F32)
    return Module([f])


def test_contradictions_fail_the_pass_naming_the_op():
    with pytest.raises(PassFailed, match=r"pass 'infer-shapes' failed: 'lf.add': operand types "
                                         r"\(tensor<2x3xf32>, tensor<5x3xf32>\) are invalid: "
                                         r"Dimensions must be equal, but are 2 and 5"):
        PassManager("infer-shapes", verify_each=False).run(contradiction())
    f = Function("step", [tensor((None,), F32)])
    e = build(f.body, "lf.exp", [f.args[0]]).result
    e.type = tensor((4,), F32)  # written by someone who knew better
    f.set_return([e])
    f.args[0].type = tensor((3,), F32)
    with pytest.raises(PassFailed, match=r"'lf.exp': inferred tensor<3xf32> contradicts tensor<4xf32>"):
        PassManager("infer-shapes", verify_each=False).run(Module([f]))
