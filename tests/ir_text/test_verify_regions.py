"""The verifier checks regions against each op's definition (its `region` trait): an op
that takes none given one is an error, as is a region op without exactly one, or without a
verify hook (only the op knows what its block arguments and yield mean).
The backend ignores a region the interpreter would run, so such IR must never verify."""
from __future__ import annotations

import pytest

from lowerflow.ir.parser import parse_module
from lowerflow.ir.verifier import VerifyError, verify

T = "tensor<3xf32>"
BODY = f"""({{
    ^bb0(%a: {T}, %b: {T}):
      %s = "lf.add"(%a, %b) : ({T}, {T}) -> {T}
      "lf.yield"(%s) : ({T}) -> ()
    }})"""


def module(op_line: str) -> str:
    return (f"module {{\n  func.func @f(%x: {T}, %y: {T}) -> ({T}) {{\n    {op_line}\n"
            f'    "func.return"(%r) : ({T}) -> ()\n  }}\n}}\n')


def test_region_op_with_its_region_verifies():
    verify(parse_module(module(f'%r = "lf.fusion"(%x, %y) {BODY} : ({T}, {T}) -> ({T})')))


@pytest.mark.parametrize("op", ["lf.pow", "lf.add", "lf.max"])
def test_elementwise_op_given_a_region_fails(op):
    with pytest.raises(VerifyError, match=f"'{op}'.*takes no regions, has 1"):
        verify(parse_module(module(f'%r = "{op}"(%x, %y) {BODY} : ({T}, {T}) -> ({T})')))


def test_region_op_without_a_region_fails():
    with pytest.raises(VerifyError, match="'lf.fusion'.*needs exactly one region, has 0"):
        verify(parse_module(module(f'%r = "lf.fusion"(%x, %y) : ({T}, {T}) -> ({T})')))


def test_region_op_with_two_regions_fails():
    with pytest.raises(VerifyError, match="'lf.fusion'.*needs exactly one region, has 2"):
        verify(parse_module(module(f'%r = "lf.fusion"(%x, %y) {BODY[:-1]}, {BODY[1:]} : ({T}, {T}) -> ({T})')))


def test_ops_inside_a_region_are_checked_too():
    inner = BODY.replace("%a", "%c").replace("%b", "%d").replace("%s", "%t")
    nested = BODY.replace('"lf.add"(%a, %b) :', f'"lf.sub"(%a, %b) {inner} :')
    with pytest.raises(VerifyError, match="'lf.sub'.*takes no regions"):
        verify(parse_module(module(f'%r = "lf.fusion"(%x, %y) {nested} : ({T}, {T}) -> ({T})')))


def test_result_types_still_checked_for_non_region_ops():
    with pytest.raises(VerifyError, match="does not match inferred"):
        verify(parse_module(module(f'%z = "lf.add"(%x, %y) : ({T}, {T}) -> tensor<3xf64>\n'
                                   f'    %r = "lf.identity"(%x) : ({T}) -> {T}')))


def test_fusion_arguments_and_yield_are_checked_by_its_hook():
    f64 = "tensor<3xf64>"
    body = f"""({{
    ^bb0(%a: {T}, %b: {f64}):
      "lf.yield"(%a) : ({T}) -> ()
    }})"""
    with pytest.raises(VerifyError, match="'lf.fusion'.*region arguments do not match operands"):
        verify(parse_module(module(f'%r = "lf.fusion"(%x, %y) {body} : ({T}, {T}) -> ({T})')))
    cast = f"""({{
    ^bb0(%a: {T}, %b: {T}):
      %c = "lf.cast"(%a) {{to = f64}} : ({T}) -> {f64}
      "lf.yield"(%c) : ({f64}) -> ()
    }})"""
    with pytest.raises(VerifyError, match="'lf.fusion'.*yield types do not match results"):
        verify(parse_module(module(f'%r = "lf.fusion"(%x, %y) {cast} : ({T}, {T}) -> ({T})')))


def test_every_region_op_has_a_verify_hook(monkeypatch):
    import dataclasses

    from lowerflow.ir import opdef
    from lowerflow.ir.ops.structure import REGION

    region_ops = [d for d in opdef.OPS.values() if d.has(REGION)]
    assert len(region_ops) >= 7 and all(d.verify is not None for d in region_ops)
    monkeypatch.setitem(opdef.OPS, "lf.fusion", dataclasses.replace(opdef.OPS["lf.fusion"], verify=None))
    with pytest.raises(VerifyError, match="'lf.fusion'.*needs a verify hook"):
        verify(parse_module(module(f'%r = "lf.fusion"(%x, %y) {BODY} : ({T}, {T}) -> ({T})')))
