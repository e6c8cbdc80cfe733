"""Every pass, alone and in the default pipeline, keeps the interpreter's results on random graphs.

Each example builds the same random function twice from one seed: one copy is
transformed, the other is the oracle. The transformed IR must also verify, print
in a form that parses back to the same text, and be a fixpoint of the pass.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.ir import Module, print_module
from lowerflow.ir.opdef import ELEMENTWISE, PURE, get_op
from lowerflow.ir.parser import parse_module
from lowerflow.passes import DEFAULT_PIPELINE, PassManager, clone_function, parse_pipeline

from pass_testing import assert_same_results, random_function

PIPELINES = ["prune", "dce", "constant-fold", "constant-fold{max-size=3}", "fuse", "fuse{max-ops=2}",
             DEFAULT_PIPELINE, "fuse,dce", "dce,fuse{max-ops=3},constant-fold,prune"]
seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=200, deadline=None)
@given(seed=seeds, pipeline=st.sampled_from(PIPELINES))
def test_pipeline_keeps_results(seed, pipeline):
    oracle, args = random_function(seed)
    func, _ = random_function(seed)
    m = Module([func])
    PassManager(pipeline).run(m)  # verifies after every pass
    assert func.result_types == oracle.result_types
    assert_same_results(oracle, func, args)
    text = print_module(m)
    assert print_module(parse_module(text)) == text


@settings(max_examples=100, deadline=None)
@given(seed=seeds, pipeline=st.sampled_from(PIPELINES[:6]))
def test_each_pass_reaches_a_fixpoint(seed, pipeline):
    func, _ = random_function(seed)
    m = Module([func])
    (p,) = parse_pipeline(pipeline)
    p.run(m)
    assert p.run(m) is False


@settings(max_examples=100, deadline=None)
@given(seed=seeds, max_ops=st.integers(1, 6))
def test_fusions_are_well_formed(seed, max_ops):
    func, _ = random_function(seed)
    m = Module([func])
    PassManager(f"fuse{{max-ops={max_ops}}}").run(m)
    for op in func.ops:
        if op.name != "lf.fusion":
            continue
        body = op.regions[0].ops[:-1]
        assert 2 <= len(body) <= max_ops
        assert all(get_op(b.name).has(ELEMENTWISE) for b in body)
        assert len({b.results[0].type.shape for b in body}) == 1
        assert len(set(op.operands)) == len(op.operands)


@settings(max_examples=100, deadline=None)
@given(seed=seeds)
def test_dce_leaves_no_unused_pure_op(seed):
    func, _ = random_function(seed)
    PassManager("fuse,dce").run(Module([func]))
    used = {v for op in func.body.walk() for v in op.operands}
    for op in func.body.walk():
        if get_op(op.name).has(PURE):
            assert any(r in used for r in op.results), op.name


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_clone_is_independent(seed):
    func, args = random_function(seed)
    copy = clone_function(func)
    assert print_module(Module([copy])) == print_module(Module([func]))
    PassManager(DEFAULT_PIPELINE).run(Module([func]))
    oracle, _ = random_function(seed)
    assert print_module(Module([copy])) == print_module(Module([oracle]))
    assert_same_results(oracle, copy, args)
