"""A 10,000-op graph (bench/ir_scaling.py's) goes through the default pipeline: it verifies
after every pass, every pass does its work, and the interpreter's results do not change.
Time is the benchmark's business, not this test's."""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from lowerflow.ir import Module, parse_module, print_module
from lowerflow.ir.buffers import ARENA_ATTR
from lowerflow.passes import DEFAULT_PIPELINE, PassManager, clone_function

from pass_testing import assert_same_results

_BENCH = pathlib.Path(__file__).parents[2] / "bench" / "ir_scaling.py"
_spec = importlib.util.spec_from_file_location("ir_scaling", _BENCH)
ir_scaling = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ir_scaling)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # square chains reach Inf
def test_ten_thousand_ops_through_the_default_pipeline():
    func = ir_scaling.random_graph(10_000, seed=0)
    oracle = clone_function(func)
    m = Module([func])
    pm = PassManager(DEFAULT_PIPELINE)
    pm.run(m)
    stats = {s.name: s for s in pm.stats}
    changed = {s.name for s in pm.stats if s.changed}  # a pass that runs twice: either run
    assert stats["prune"].ops_before == 10_001  # and the return
    assert {"cse", "canonicalize", "dce", "fuse", "plan-buffers"} <= changed
    assert stats["fuse"].ops_after < stats["fuse"].ops_before / 4
    assert ARENA_ATTR in func.return_op.attributes
    rng = np.random.default_rng(0)
    args = [rng.normal(size=a.type.shape).astype(np.float32) for a in func.args]
    assert_same_results(oracle, func, args)
    text = print_module(m)
    assert print_module(parse_module(text)) == text
