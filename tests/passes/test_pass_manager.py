"""The pass manager: running, verification between passes, statistics, hooks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from lowerflow.ir import Function, Module, build, tensor
from lowerflow.ir.types import F32
from lowerflow.ir.verifier import VerifyError
from lowerflow.passes import DEFAULT_PIPELINE, FunctionPass, PassFailed, PassManager, clone_module
from lowerflow.passes.dce import DeadCodeElimination
from lowerflow.passes.prune import Prune

from pass_testing import assert_same_results, op_names, random_module


def small_module() -> Module:
    """exp(x) + 1 returned; a dead tanh and a foldable constant expression."""
    f = Function("step", [tensor((4,), F32)], ["x:0"])
    (x,) = f.args
    one = build(f.body, "lf.constant", [], {"value": np.ones(4, np.float32)}).result
    two = build(f.body, "lf.add", [one, one]).result
    e = build(f.body, "lf.exp", [x]).result
    build(f.body, "lf.tanh", [e])
    y = build(f.body, "lf.mul", [e, two]).result
    z = build(f.body, "lf.sub", [y, x]).result
    f.set_return([z], ["z:0"])
    return Module([f])


@dataclass(frozen=True)
class BreakDominance(FunctionPass):
    """Moves the last op before the return to the front: a use before its definition."""

    name: ClassVar[str] = "break-dominance"

    def run_on_function(self, func) -> bool:
        func.body.ops.insert(0, func.body.ops.pop(-2))
        return True


def test_default_pipeline_runs_in_place_and_keeps_results():
    m = small_module()
    before = clone_module(m)
    pm = PassManager(DEFAULT_PIPELINE)
    assert pm.run(m) is m
    assert op_names(m["step"]) == ["lf.constant", "lf.fusion", "func.return"]
    assert_same_results(before["step"], m["step"], [np.arange(4, dtype=np.float32)])


def test_stats_record_each_pass():
    pm = PassManager("prune,constant-fold,dce,fuse{max-ops=8}")
    pm.run(small_module())
    assert [s.name for s in pm.stats] == ["prune", "constant-fold", "dce", "fuse{max-ops=8}"]
    assert [(s.ops_before, s.ops_after, s.changed) for s in pm.stats] == [
        (7, 6, True), (6, 6, True), (6, 5, True), (5, 3, True)]
    assert all(s.ms >= 0 for s in pm.stats)
    pm.run(small_module())
    assert len(pm.stats) == 4  # the last run only


def test_stats_table_is_aligned():
    pm = PassManager(DEFAULT_PIPELINE)
    pm.run(small_module())
    lines = pm.stats_table().splitlines()
    assert lines[0].split() == ["pass", "ops", "before", "ops", "after", "delta", "time", "(ms)", "changed"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[:5] == ["prune", "7", "6", "-1", lines[2].split()[4]]
    assert lines[-1].split()[:4] == ["total", "7", "3", "-4"]
    # Right-aligned numeric columns end at the same offset on every row.
    ends = {len(line.rsplit(maxsplit=1)[0]) for line in lines[2:]}  # all but the "changed" column
    assert len(ends) == 1
    assert PassManager("").stats_table().splitlines()[0].startswith("pass")


def test_unchanged_pass_reports_false():
    m = small_module()
    PassManager("prune").run(m)
    pm = PassManager("prune")
    pm.run(m)
    assert pm.stats[0].changed is False and pm.stats[0].ops_before == pm.stats[0].ops_after


def test_broken_pass_is_named():
    pm = PassManager([Prune(), BreakDominance(), DeadCodeElimination()])
    with pytest.raises(PassFailed, match=r"pass 'break-dominance' produced invalid IR: 'lf.sub': operand #0 does not dominate") as info:
        pm.run(small_module())
    assert isinstance(info.value.error, VerifyError)
    assert [s.name for s in pm.stats] == ["prune"]


def test_invalid_input_is_a_verify_error_before_any_pass():
    m = small_module()
    m["step"].body.ops.reverse()
    with pytest.raises(VerifyError):
        PassManager("prune").run(m)


def test_without_verification_breakage_goes_unnoticed():
    pm = PassManager([BreakDominance()], verify_each=False)
    pm.run(small_module())
    assert pm.stats[0].changed


def test_hooks_see_every_pass_in_order():
    events = []
    pm = PassManager("prune,dce", before_pass=[lambda p, m: events.append(("before", p.name))])
    pm.after_pass.append(lambda p, m, s: events.append(("after", p.name, s.changed)))
    pm.run(small_module())
    assert events == [("before", "prune"), ("after", "prune", True), ("before", "dce"), ("after", "dce", False)]


def test_passes_run_on_every_function():
    a, _ = random_module(1)
    b, _ = random_module(2)
    b.functions[0].name = "other"
    m = Module(a.functions + b.functions)
    before = clone_module(m)
    PassManager(DEFAULT_PIPELINE).run(m)
    for f, g in zip(before.functions, m.functions):
        args = [np.ones(v.type.shape, np.float32) for v in f.args]
        assert_same_results(f, g, args)
