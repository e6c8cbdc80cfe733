"""`plan-buffers` and `lowerflow.ir.buffers`: a checker independent of the planner finds no two
live temporaries sharing bytes on random graphs; the recorded plan survives print/parse, a
stale one is refused by name, and the backend runs on the recorded plan."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.backend import compile_function
from lowerflow.backend.planner import plan_buffers as backend_plan
from lowerflow.ir import Function, Module, build, parse_module, print_module, tensor
from lowerflow.ir.buffers import ALIGN, ARENA_ATTR, OFFSET_ATTR, StalePlanError, buffer_plan, plan_buffers
from lowerflow.ir.interp import run_function
from lowerflow.ir.opdef import OPS, PURE, VIEW, OpDef, register
from lowerflow.ir.types import F32
from lowerflow.passes import DEFAULT_PIPELINE, PassManager
from lowerflow.passes.plan_buffers import PlanBuffers

from pass_testing import EFFECT, op_names, random_function

#: A reshape-like view for the analysis alone: its result is its operand's memory.
ALIAS = "test.alias"
if ALIAS not in OPS:
    register(OpDef(ALIAS, lambda types, attrs: [types[0]], lambda args, attrs: [args[0]], (),
                   frozenset({PURE, VIEW})))


def check_sound(func: Function) -> None:
    """No two temporaries live at once share a byte; returned kernel results use their slot."""
    plan = buffer_plan(func)
    ops = func.ops[:-1]
    returned = set(func.results)
    temps = []
    for i, op in enumerate(ops):
        if op.name == "lf.constant":
            continue
        for r in op.results:
            if r in returned:
                assert r not in plan.offset_of and func.results[plan.slot_of[r]] is r
                continue
            off, size = plan.offset_of[r], r.type.nbytes
            assert off % ALIGN == 0 and off + size <= plan.arena_size
            last = max([j for j, user in enumerate(ops) if r in user.operands], default=i)
            temps.append((i, last, off, off + size))
    for a in temps:
        for b in temps:
            if a is not b and a[0] <= b[1] and b[0] <= a[1] and a[2] < b[3] and b[2] < a[3]:
                pytest.fail(f"live temporaries share bytes: {a} and {b}")


def chain(n: int = 4) -> Function:
    f = Function("step", [tensor((16,), F32)])
    v = f.args[0]
    for name in ["lf.neg", "lf.exp", "lf.tanh", "lf.abs", "lf.sqrt"][:n]:
        v = build(f.body, name, [v]).result
    f.set_return([v])
    return f


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pipeline=st.sampled_from(["plan-buffers", DEFAULT_PIPELINE]))
def test_plans_are_sound_recorded_and_stable(seed, pipeline):
    func, _ = random_function(seed)
    m = Module([func])
    PassManager(pipeline).run(m)
    check_sound(func)
    fresh = plan_buffers(func)
    assert buffer_plan(func) == fresh  # the recorded plan is the analysis's
    text = print_module(m)
    reparsed = parse_module(text)
    assert [o for op in reparsed["step"].ops[:-1] for o in op.attributes.get(OFFSET_ATTR, [])] == \
        [fresh.offset_of.get(r, -1) for op in func.ops[:-1] if op.name != "lf.constant" for r in op.results]
    check_sound(reparsed["step"])
    assert PlanBuffers().run(m) is False


def test_a_view_keeps_its_temporary_alive():
    f = Function("step", [tensor((16,), F32)])
    e = build(f.body, "lf.exp", [f.args[0]]).result
    view = build(f.body, ALIAS, [e]).result
    t = build(f.body, "lf.tanh", [f.args[0]]).result
    f.set_return([build(f.body, "lf.add", [view, t]).result])
    plan = plan_buffers(f)
    assert plan.live[e] == (0, 3) and plan.offset_of[t] != plan.offset_of[e]
    assert view not in plan.offset_of and view not in plan.slot_of


def _drop(f):
    del f.ops[1].attributes[OFFSET_ATTR]


def _overlap(f):
    f.ops[1].attributes[OFFSET_ATTR] = [0]  # the exp's result on top of its own operand


def _misalign(f):
    f.ops[1].attributes[OFFSET_ATTR] = [32]


def _small_arena(f):
    f.return_op.attributes[ARENA_ATTR] = 64


@pytest.mark.parametrize("corrupt, message", [
    (_drop, r"'lf.exp' has no lf.offset list of 1 int\(s\), but other ops do"),
    (_overlap, r"'lf.exp' result #0 at \[0, 64\) overlaps 'lf.neg' result #0 at \[0, 64\), which is still live"),
    (_misalign, r"'lf.exp' result #0: offset 32 is not a non-negative multiple of 64"),
    (_small_arena, r"lf.arena_size = 64 on \"func.return\" does not hold the 128 bytes"),
])
def test_stale_plans_are_refused_by_name(corrupt, message):
    f = chain()
    PlanBuffers().run(Module([f]))
    corrupt(f)
    with pytest.raises(StalePlanError, match=message):
        buffer_plan(f)
    with pytest.raises(StalePlanError, match=message):
        compile_function(f)


def test_backend_view_lowerings_must_match_the_trait():
    f = Function("step", [])
    f.set_return([build(f.body, "lf.constant", [], {"value": np.ones(3, np.float32)}).result])
    with pytest.raises(ValueError, match="op 'lf.constant' has the 'view' trait but is not lowered as a view"):
        backend_plan(f, lambda op: False)


NATIVE_SEEDS = [s for s in range(40) if EFFECT not in op_names(random_function(s, 24)[0])][:8]  # no lowering


@pytest.mark.parametrize("seed", NATIVE_SEEDS)
def test_native_code_runs_on_the_recorded_plan(seed):
    func, args = random_function(seed, max_ops=24)
    want = run_function(func, args)
    PassManager(DEFAULT_PIPELINE).run(Module([func]))
    assert ARENA_ATTR in func.return_op.attributes
    got = compile_function(func).run(args)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
