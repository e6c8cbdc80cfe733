"""`canonicalize`: every rule has a trigger here. Exact rules keep every bit on special values
(signed zeros, NaN, Inf, integer extremes); each fast-math rule has a witness input that it
changes, and runs only with fast-math. Random graphs keep their bits under exact rules."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.ir import Function, Module, build, tensor
from lowerflow.ir.interp import run_function
from lowerflow.ir.types import BOOL, F32, I32
from lowerflow.passes import PassManager, PipelineError, clone_function, parse_pipeline
from lowerflow.passes.canonicalize import Canonicalize
from lowerflow.passes.rewrite_rules import EXACT, FAST, RULES

from pass_testing import EFFECT, assert_same_bits, random_function

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # square(1e30)

INPUTS = {  # x, y: specials, with x == y at index 1 (so x - y is +0.0 there)
    F32: (np.array([-0.0, 1.0, 0.0, np.nan, np.inf, -np.inf, 1e30, -2.5], np.float32),
          np.array([0.0, 1.0, -0.0, 3.0, np.inf, 2.0, -np.nan, 0.5], np.float32)),
    I32: (np.array([-2**31, 1, 0, 2**31 - 1, -1, 7, 3, -5], np.int32),
          np.array([1, 1, -2**31, 2**31 - 1, 0, -7, 2, 9], np.int32)),
    BOOL: (np.array([0, 1, 0, 1, 1, 0, 1, 0], bool), np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)),
}


class Ops:
    """`o.add(x, y)` builds "lf.add"; `o.c(v, like)` a constant of like's type filled with v."""

    def __init__(self, func: Function):
        self.block = func.body

    def __getattr__(self, name: str):
        return lambda *operands, **attrs: build(self.block, "lf." + name.rstrip("_"), list(operands), attrs).result

    def c(self, value, like):
        return build(self.block, "lf.constant", [], {"value": np.full(like.type.shape, value, like.type.dtype.np_dtype)}).result


TRIGGERS = {  # rule -> (dtype of x and y, expression that fires it)
    "constant-right": (F32, lambda o, x, y: o.mul(o.c(2.0, x), x)),
    "add-zero-int": (I32, lambda o, x, y: o.add(x, o.c(0, x))),
    "add-neg-zero": (F32, lambda o, x, y: o.add(x, o.c(-0.0, x))),
    "add-zero": (F32, lambda o, x, y: o.add(x, o.c(0.0, x))),
    "add-neg": (F32, lambda o, x, y: o.add(x, o.neg(y))),
    "sub-zero": (F32, lambda o, x, y: o.sub(x, o.c(0.0, x))),
    "sub-neg": (I32, lambda o, x, y: o.sub(x, o.neg(y))),
    "zero-sub-int": (I32, lambda o, x, y: o.sub(o.c(0, x), x)),
    "neg-zero-sub": (F32, lambda o, x, y: o.sub(o.c(-0.0, x), x)),
    "zero-sub": (F32, lambda o, x, y: o.sub(o.c(0.0, x), x)),
    "sub-self-int": (I32, lambda o, x, y: o.sub(x, x)),
    "sub-self": (F32, lambda o, x, y: o.sub(x, x)),
    "mul-one": (F32, lambda o, x, y: o.mul(x, o.c(1.0, x))),
    "mul-minus-one": (I32, lambda o, x, y: o.mul(x, o.c(-1, x))),
    "mul-zero-int": (I32, lambda o, x, y: o.mul(x, o.c(0, x))),
    "mul-zero": (F32, lambda o, x, y: o.mul(x, o.c(0.0, x))),
    "mul-self": (F32, lambda o, x, y: o.mul(x, x)),
    "div-one": (I32, lambda o, x, y: o.div(x, o.c(1, x))),
    "neg-neg": (F32, lambda o, x, y: o.neg(o.neg(x))),
    "neg-sub-int": (I32, lambda o, x, y: o.neg(o.sub(x, y))),
    "neg-sub": (F32, lambda o, x, y: o.neg(o.sub(x, y))),
    "abs-abs": (I32, lambda o, x, y: o.abs(o.abs(x))),
    "abs-neg": (F32, lambda o, x, y: o.abs(o.neg(x))),
    "square-neg": (I32, lambda o, x, y: o.square(o.neg(x))),
    "square-abs": (F32, lambda o, x, y: o.square(o.abs(x))),
    "sqrt-square": (F32, lambda o, x, y: o.sqrt(o.square(x))),
    "not-not": (BOOL, lambda o, x, y: o.not_(o.not_(x))),
    "identity": (F32, lambda o, x, y: o.identity(x)),
    "cast-same": (I32, lambda o, x, y: o.cast(x, to=I32)),
    "select-same": (F32, lambda o, x, y: o.select(o.lt(x, y), y, y)),
    "max-self": (F32, lambda o, x, y: o.max(x, x)),
    "min-self": (I32, lambda o, x, y: o.min(x, x)),
    "and-self": (BOOL, lambda o, x, y: o.and_(x, x)),
    "or-self": (BOOL, lambda o, x, y: o.or_(y, y)),
}


def trigger(rule: str) -> tuple[Function, list[np.ndarray]]:
    dtype, expr = TRIGGERS[rule]
    f = Function("step", [tensor((8,), dtype)] * 2)
    f.set_return([expr(Ops(f), *f.args)])
    return f, list(INPUTS[dtype])


def test_every_rule_has_a_trigger_and_a_tag():
    assert {r.name for r in RULES} == set(TRIGGERS)
    assert len(RULES) == len(TRIGGERS)
    assert {r.tag for r in RULES} == {EXACT, FAST}


@pytest.mark.parametrize("rule", [r.name for r in RULES if r.tag == EXACT])
def test_exact_rules_keep_every_bit(rule):
    func, args = trigger(rule)
    before = clone_function(func)
    p = Canonicalize()
    assert p.run(Module([func])) is True
    assert rule in [r.rule for r in p.log]
    assert_same_bits(before, func, args)


@pytest.mark.parametrize("rule", [r.name for r in RULES if r.tag == FAST])
def test_fast_math_rules_need_the_option_and_have_a_witness(rule):
    func, args = trigger(rule)
    before = clone_function(func)
    exact = Canonicalize()
    exact.run(Module([func]))
    assert rule not in [r.rule for r in exact.log]
    fast = Canonicalize(fast_math=True)
    assert fast.run(Module([func])) is True
    assert rule in [r.rule for r in fast.log]
    (want,), (got,) = run_function(before, args), run_function(func, args)
    assert not np.array_equal(np.signbit(want) | np.isnan(want), np.signbit(got) | np.isnan(got)) or \
        not np.array_equal(want, got, equal_nan=True), "no input here shows why the rule is fast-math only"


def test_log_is_per_run_and_names_the_op():
    func, _ = trigger("neg-neg")
    p = parse_pipeline("canonicalize")[0]
    p.run(Module([func]))
    assert [(r.func, r.rule, r.op) for r in p.log] == [("step", "neg-neg", "lf.neg %1")]
    p.run(Module([func]))
    assert p.log == []


def test_options_are_checked():
    assert parse_pipeline("canonicalize{fast-math=true max-size=8}") == [Canonicalize(fast_math=True, max_size=8)]
    with pytest.raises(PipelineError, match="option 'fast-math' of pass 'canonicalize' expects true or false"):
        parse_pipeline("canonicalize{fast-math=1}")
    with pytest.raises(PipelineError, match="pass 'canonicalize': max-size must be >= 0, got -1"):
        parse_pipeline("canonicalize{max-size=-1}")


def test_impure_ops_are_never_rewritten():
    f = Function("step", [tensor((4,), F32)])
    f.set_return([build(f.body, EFFECT, [build(f.body, EFFECT, [f.args[0]]).result]).result])
    assert Canonicalize().run(Module([f])) is False


def test_large_constants_are_not_created():
    f = Function("step", [tensor((300, 300), I32)])
    (x,) = f.args
    f.set_return([build(f.body, "lf.sub", [x, x]).result])
    assert Canonicalize().run(Module([f])) is False  # 90,000 elements > max-size
    assert Canonicalize(max_size=90_000).run(Module([f])) is True
    assert f.ops[0].name == "lf.constant"


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       pipeline=st.sampled_from(["canonicalize", "canonicalize,dce", "cse,canonicalize,dce,fuse"]))
def test_exact_canonicalize_keeps_bits_on_random_graphs(seed, pipeline):
    oracle, args = random_function(seed, specials=True)
    func, _ = random_function(seed, specials=True)
    m = Module([func])
    PassManager(pipeline).run(m)
    assert func.result_types == oracle.result_types
    assert_same_bits(oracle, func, args)
    assert Canonicalize().run(m) is False  # a fixpoint
