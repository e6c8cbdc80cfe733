"""`cse`: pure duplicates merge (commutative ones in either order), never impure ones, and
results stay bit-identical on random graphs."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.ir import Function, Module, build, tensor
from lowerflow.ir.types import F32, F64, I64
from lowerflow.passes import PassManager
from lowerflow.passes.cse import CommonSubexpressionElimination, attr_key

from pass_testing import EFFECT, assert_same_bits, op_names, random_function


def test_attribute_keys_compare_value_and_kind():
    same = [(1, np.int64(1)), (1.5, np.float32(1.5)), ([1, "a"], (1, "a")), (F32, F32),
            (np.zeros(3, np.float32), np.zeros(3, np.float32)), (float("nan"), float("nan"))]
    for a, b in same:
        assert attr_key(a) == attr_key(b), (a, b)
    different = [(1, 1.0), (1, True), (0.0, -0.0), (F32, F64), (np.zeros(3, np.float32), np.zeros(3)),
                 (np.zeros(3), np.zeros((3, 1))), (np.zeros(2), np.array([0.0, -0.0])), ("1", 1)]
    for a, b in different:
        assert attr_key(a) != attr_key(b), (a, b)


def test_impure_and_distinct_ops_stay():
    f = Function("step", [tensor((3,), F32), tensor((3,), I64)])
    x, i = f.args
    effects = [build(f.body, EFFECT, [x]).result for _ in range(2)]  # no "pure" trait
    casts = [build(f.body, "lf.cast", [i], {"to": t}).result for t in (F32, F64)]
    f.set_return([*effects, *casts])
    assert CommonSubexpressionElimination().run(Module([f])) is False
    assert op_names(f) == [EFFECT, EFFECT, "lf.cast", "lf.cast", "func.return"]


def test_merges_duplicates_returned_twice():
    f = Function("step", [tensor((3,), F32)])
    (x,) = f.args
    a, b = (build(f.body, "lf.max", [x, build(f.body, "lf.exp", [x]).result]).result for _ in range(2))
    f.set_return([a, b])
    assert CommonSubexpressionElimination().run(Module([f])) is True
    assert op_names(f) == ["lf.exp", "lf.max", "func.return"]
    assert f.results[0] is f.results[1]


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pipeline=st.sampled_from(["cse", "fuse,cse", "cse,dce,fuse,cse"]))
def test_cse_keeps_bits_and_reaches_a_fixpoint(seed, pipeline):
    oracle, args = random_function(seed, specials=True)
    func, _ = random_function(seed, specials=True)
    m = Module([func])
    PassManager(pipeline).run(m)
    assert_same_bits(oracle, func, args)
    assert CommonSubexpressionElimination().run(m) is False
