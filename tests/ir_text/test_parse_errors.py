"""Bad IR text fails with a ParseError at the right line:col, and nothing else ever escapes."""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowerflow.ir import Function, Module, ParseError, build, parse_module, print_module, tensor
from lowerflow.ir.types import F16, I8
from .test_parse_roundtrip import EXAMPLE


def body(*ops: str, sig: str = "(%arg0: tensor<2xf32>) -> (tensor<2xf32>)") -> str:
    """A module whose function @f has the given ops, one per line from line 3."""
    lines = ["module {", f"  func.func @f{sig} {{", *("    " + op for op in ops), "  }", "}"]
    return "\n".join(lines)


def ops(*lines: str) -> str:
    """`body` with a valid return after `lines`."""
    return body(*lines, '"func.return"(%arg0) : (tensor<2xf32>) -> ()')


def attr(text: str) -> str:
    """`ops` with one op whose attribute `a` is `text` (it starts at 3:19)."""
    return ops(f'"t.op"() {{a = {text}}} : () -> ()')


TWO = '%0:2 = "t.op"() : () -> (tensor<2xf32>, tensor<2xf32>)'


@pytest.mark.parametrize("text, message", [
    (ops('%0 = "lf.add"(%arg0, %arg0) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>',
         '%1 = "lf.add"(%0 %1) : (tensor<2xf32>) -> tensor<2xf32>'),
     "4:22: expected ')' but found '%1'"),
    (ops('"t.op"(%nope) : (tensor<2xf32>) -> ()'), "3:12: use of undefined value %nope"),
    (ops('%0 = "t.op"(%0) : (tensor<2xf32>) -> tensor<2xf32>'), "3:17: use of undefined value %0"),
    (ops('%arg0 = "t.op"() : () -> tensor<2xf32>'), "3:5: redefinition of value %arg0"),
    (ops(TWO, '"t.u"(%0) : (tensor<2xf32>) -> ()'), "4:11: %0 has 2 results: use %0#N"),
    (ops(TWO, '"t.u"(%0#2) : (tensor<2xf32>) -> ()'), "4:11: %0 has only 2 result(s)"),
    (ops('%0:2 = "t.op"() : () -> tensor<2xf32>'),
     "3:12: t.op defines 2 value(s) but has 1 result type(s)"),
    (ops('"t.op"(%arg0) : (tensor<3xf32>) -> ()'),
     "3:21: operand #0 has type tensor<2xf32> but tensor<3xf32> is written for it"),
    (ops('"t.op"(%arg0) : () -> ()'), "3:21: 1 operand(s) but 0 operand type(s)"),
    (ops('"t.op"() : () -> tensor<2xf17>'), "3:31: expected an element type"),
    (ops('"t.op"() : () -> tensor<2x3>'), "3:31: expected an element type"),
    (attr("dense<[1, 2]> : tensor<3xi32>"),
     "3:35: dense literal of shape [2] does not match tensor<3xi32>"),
    (attr("dense<[[1], [2, 3]]> : tensor<2x2xi32>"),
     "3:19: dense literal is not rectangular"),
    (attr("dense<300> : tensor<i8>"), "3:25: 300 is out of range for i8"),
    (attr('dense<"0x0102"> : tensor<2xi16>'), "3:25: 2 bytes of hex data do not fill tensor<2xi16> (4 bytes)"),
    (attr('dense<"0xZZ"> : tensor<1xi8>'), "3:25: a dense string must be hex digits after '0x'"),
    (attr('dense<"0x01"> : tensor<1xi1>'), "3:35: a hex dense attribute needs a static numeric type, not tensor<1xi1>"),
    (attr("dense<1.5> : tensor<i32>"), "3:25: expected an integer for i32"),
    (attr("dense<true> : tensor<f32>"), "3:25: true is not a value of type"),
    (attr("dense<0x1FFFF> : tensor<f16>"), "3:25: 0x1FFFF has more than 16"),
    (attr("dense<1.0> : tensor<?xf32>"), "3:32: a dense attribute needs a"),
    (attr("1, a = 2"), "3:22: duplicate attribute 'a'"),
    (attr('"open'), "3:19: unterminated string"),
    (attr('"\\q"'), "3:20: unknown escape"),
    (attr("1.5 : i32"), "3:19: expected an integer literal for i32"),
    (ops('t.op() : () -> ()'), "3:5: expected an op name in quotes"),
    (ops('"t.op"() : () -> () loc(3)'), "3:29: expected location string"),
    (ops('"t.op"() : () -> () $'), "3:25: unexpected character '$'"),
    (body('"t.op"() : () -> ()'), '2:57: body of @f must end in "func.return"'),
    (body('"func.return"() : () -> ()'),
     "2:57: @f returns () but its signature says (tensor<2xf32>)"),
    (ops('"t.op"() ({\n^bb0:\n "t.y"() : () -> ()\n^bb1:\n}) : () -> ()'),
     "6:1: expected an operation (a region holds one block)"),
    ("func.func @f(%a: tensor<2xf32> {lf.other = 1}) {\n}", '1:32: only {lf.name = "..."} may'),
    ("module {", "1:9: expected 'func.func' but found end of input"),
    ('func.func @f() {\n"func.return"() : () -> ()\n}\nfunc.func @f() {', "4:11: redefinition of"),
    ("module {\n}\n}", "3:1: expected end of input but found '}'"),
    ("func.func @f(%a: tensor<99999999999999999999xf32>) {}", "1:25: dimension 9999999999"),
])
def test_error_messages(text, message):
    with pytest.raises(ParseError) as info:
        parse_module(text)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("text, message", [
    (attr("[" * 5000 + "]" * 5000), "nesting deeper than 64 levels"),
    (attr("dense<" + "[" * 5000 + "1" + "]" * 5000 + "> : tensor<f32>"), "nesting deeper than 64"),
    (ops('"t.op"() ({' * 3000 + "})" * 3000 + " : () -> ()"), "nesting deeper than 64 levels"),
    (attr("dense<1.0> : tensor<100000x100000x100000xf64>"), "splat of 1000000000000000 elements"),
    (attr("dense<[]> : tensor<0x999999999999999999x999999999999999999xf64>"), "cannot make a"),
    (attr("9" * 5000), "integer literal too long"),
    (ops('"t.op"(%arg0#99999999999999999999) : (tensor<2xf32>) -> ()'), "%arg0 has only 1"),
])
def test_resource_limits_are_parse_errors(text, message):
    with pytest.raises(ParseError, match=r"^\d+:\d+: " + re.escape(message)):
        parse_module(text)


# -- fuzzing: any input gives a Module or a ParseError with an in-range line:col -------------

_FRAGMENTS = ["module", "func.func", "@f", "(", ")", "{", "}", "[", "]", "<", ">", ",", "=", ":",
              "->", "%0", "%arg0", "%1#1", "%2:2", "^bb0", '"lf.add"', '"func.return"', '"s\\n"',
              "tensor", "tensor<2x?xf32>", "tensor<i1>", "f32", "i64", "dense", "true",
              "0x7FC00000", "-1.5e3", "3", "loc", "// c\n", "\n", " ", "?", "x", "#", '"', "\\"]


def _constants_module() -> str:
    """A second seed: dense constants of several dtypes, a cast, locations and odd names."""
    f = Function("g", [tensor((2, None), I8)], ["a:0"])
    halves = np.array([[np.nan, -0.0], [1.5, np.inf]], np.float16)
    c = build(f.body, "lf.constant", [], {"value": halves}, location="c")
    b = build(f.body, "lf.constant", [], {"value": np.array([True, False])})
    cast = build(f.body, "lf.cast", [f.args[0]], {"to": F16}, location='cast "1"')
    f.set_return([c.result, b.result, cast.result], ["x", None, 'q"\n'])
    return print_module(Module([f]), locations=True)


_PRINTED = [EXAMPLE, print_module(parse_module(EXAMPLE), locations=True), _constants_module()]


def check_parse(text: str) -> None:
    try:
        m = parse_module(text)
    except ParseError as e:
        match = re.match(r"(\d+):(\d+): \S", str(e))
        assert match, str(e)
        line, col = int(match[1]), int(match[2])
        lines = text.split("\n")
        assert 1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]) + 1, (str(e), text)
        return
    printed = print_module(m)  # whatever parses must print stably
    assert print_module(parse_module(printed)) == printed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80),
                 st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(" ".join),
                 st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join)))
def test_random_text(text):
    check_parse(text)


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(_PRINTED))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 12)))
        edit = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate"]))
        piece = draw(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=3)))
        text = {"delete": text[:i] + text[j:], "insert": text[:i] + piece + text[i:],
                "replace": text[:i] + piece + text[j:], "truncate": text[:i],
                "duplicate": text[:j] + text[i:j] + text[j:]}[edit]
    return text


@settings(max_examples=500, deadline=None)
@given(mutated())
def test_mutated_ir(text):
    check_parse(text)
