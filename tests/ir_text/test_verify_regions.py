"""The verifier checks regions against each op's definition (its `region` trait): an op
that takes none given one is an error, as is a region op without exactly one (issue 12).
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
