"""`prune`: only what reaches the return survives, pure or not."""
from __future__ import annotations

import numpy as np

from lowerflow.ir import Function, Module, build, tensor
from lowerflow.ir.types import F32
from lowerflow.passes.prune import Prune

from pass_testing import EFFECT, op_names


def test_removes_what_does_not_reach_the_return():
    f = Function("step", [tensor((3,), F32), tensor((3,), F32)], ["x:0", "unused:0"])
    x, _ = f.args
    c = build(f.body, "lf.constant", [], {"value": np.ones(3, np.float32)}).result
    e = build(f.body, "lf.exp", [x]).result
    build(f.body, EFFECT, [build(f.body, "lf.neg", [e]).result])  # impure, but nobody fetches it
    kept_effect = build(f.body, EFFECT, [e]).result
    build(f.body, "lf.add", [c, c])
    f.set_return([kept_effect], ["y:0"])
    signature = (list(f.args), f.arg_names, f.result_types, f.result_names)

    assert Prune().run(Module([f])) is True
    assert op_names(f) == ["lf.exp", EFFECT, "func.return"]
    assert (list(f.args), f.arg_names, f.result_types, f.result_names) == signature
    assert all(op.parent is f.body for op in f.ops)


def test_nothing_to_prune():
    f = Function("step", [tensor((), F32)])
    f.set_return([build(f.body, "lf.exp", f.args).result])
    assert Prune().run(Module([f])) is False
    assert op_names(f) == ["lf.exp", "func.return"]


def test_returning_an_argument_empties_the_body():
    f = Function("step", [tensor((2,), F32)])
    build(f.body, "lf.exp", f.args)
    f.set_return(f.args)
    assert Prune().run(Module([f])) is True
    assert op_names(f) == ["func.return"]
