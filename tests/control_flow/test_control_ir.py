"""lf.if and lf.while at the IR level: the verifier's region signatures, print∘parse∘print,
the reference interpreter, and native code for the cases the backend treats apart
(yields written in place, arguments and constants copied, carried values rotated)."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir import parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import VerifyError, verify
from lowerflow.passes import PassManager
from lowerflow.passes.clone import clone_module

S, V = "tensor<f32>", "tensor<3xf32>"


def _if(then_body: str, else_body: str, types: str = f"(tensor<i1>, {V}) -> {V}", operands="%p, %x",
        arg=f"%a: {V}") -> str:
    return (f'%r = "lf.if"({operands}) ({{\n  ^bb0({arg}):\n{then_body}\n  }}, {{\n  ^bb0({arg}):\n'
            f'{else_body}\n  }}) : {types}')


def _func(body: str, args: str = f"%p: tensor<i1>, %x: {V}", result: str = V) -> str:
    return f'func.func @f({args}) -> {result} {{\n{body}\n  "func.return"(%r) : ({result}) -> ()\n}}'


NEG = f'    %n = "lf.neg"(%a) : ({V}) -> {V}\n    "lf.yield"(%n) : ({V}) -> ()'
YIELD_A = f'    "lf.yield"(%a) : ({V}) -> ()'


def test_if_verifies_prints_and_parses_back():
    m = parse_module(_func(_if(NEG, YIELD_A)))
    verify(m)
    text = print_module(m)
    assert print_module(parse_module(text)) == text
    assert '"lf.if"(%arg0, %arg1) ({' in text and "}, {" in text


@pytest.mark.parametrize("text, message", [
    (_func(_if(NEG, YIELD_A, f"(tensor<3xi1>, {V}) -> {V}"), args=f"%p: tensor<3xi1>, %x: {V}"),
     r"predicate must be a tensor<i1> scalar, got tensor<3xi1>"),
    (_func(_if(NEG, '    "lf.yield"() : () -> ()')), r"else region must yield \(tensor<3xf32>\), yields \(\)"),
    (_func(_if(f'    %k = "lf.constant"() {{value = dense<7.0> : {V}}} : () -> {V}\n    "lf.yield"(%k) : ({V}) -> ()',
               f'    %k = "lf.constant"() {{value = dense<7.0> : {V}}} : () -> {V}\n    "lf.yield"(%k) : ({V}) -> ()',
               arg=f"%a: {S}")),
     r"then region's arguments must be \(tensor<3xf32>\)"),
    (_func(f'%r = "lf.if"(%p, %x) ({{\n  ^bb0(%a: {V}):\n{YIELD_A}\n  }}) : (tensor<i1>, {V}) -> {V}'),
     r"needs 2 regions, has 1"),
], ids=["predicate", "yield", "arguments", "one-region"])
def test_if_verifier_rejects_bad_signatures(text, message):
    with pytest.raises(VerifyError, match=message):
        verify(parse_module(text))


def _while(cond: str, body: str, carried: str = "tensor<i32>", captures: str = "tensor<i32>",
           operands: str = "%i0, %n", results: str = "tensor<i32>") -> str:
    args = ", ".join(f"%c{k}: {t}" for k, t in enumerate(f"{carried}, {captures}".split(", ")))
    return (f'%r = "lf.while"({operands}) ({{\n  ^bb0({args}):\n{cond}\n  }}, {{\n  ^bb0({args}):\n{body}\n'
            f'  }}) : ({carried}, {captures}) -> {results}')


COUNT_COND = ('    %lt = "lf.lt"(%c0, %c1) : (tensor<i32>, tensor<i32>) -> tensor<i1>\n'
              '    "lf.yield"(%lt) : (tensor<i1>) -> ()')
COUNT_BODY = ('    %one = "lf.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>\n'
              '    %j = "lf.add"(%c0, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>\n'
              '    "lf.yield"(%j) : (tensor<i32>) -> ()')
COUNT = _func(_while(COUNT_COND, COUNT_BODY), "%i0: tensor<i32>, %n: tensor<i32>", "tensor<i32>")


def test_while_verifies_roundtrips_and_interprets():
    m = parse_module(COUNT)
    verify(m)
    text = print_module(m)
    assert print_module(parse_module(text)) == text
    assert run_function(m.functions[0], [np.int32(2), np.int32(7)])[0] == 7
    assert run_function(m.functions[0], [np.int32(9), np.int32(7)])[0] == 9  # cond false at once


@pytest.mark.parametrize("cond, body, message", [
    ('    "lf.yield"(%c0) : (tensor<i32>) -> ()', COUNT_BODY, r"cond region must yield \(tensor<i1>\)"),
    (COUNT_COND, '    "lf.yield"(%c1, %c1) : (tensor<i32>, tensor<i32>) -> ()',
     r"body region must yield \(tensor<i32>\), yields \(tensor<i32>, tensor<i32>\)"),
], ids=["cond", "body"])
def test_while_verifier_rejects_bad_regions(cond, body, message):
    with pytest.raises(VerifyError, match=message):
        verify(parse_module(_func(_while(cond, body), "%i0: tensor<i32>, %n: tensor<i32>", "tensor<i32>")))


def test_while_initial_values_must_have_the_carried_types():
    text = _func(_while(COUNT_COND, COUNT_BODY).replace(
        "}) : (tensor<i32>, tensor<i32>) -> tensor<i32>", "}) : (tensor<i64>, tensor<i32>) -> tensor<i32>"),
        "%i0: tensor<i64>, %n: tensor<i32>", "tensor<i32>")
    with pytest.raises(VerifyError, match=r"initial values \(tensor<i64>\) must have the carried types"):
        verify(parse_module(text))


ROTATE = f"""func.func @rot(%a0: {V}, %b0: {V}, %c0: {V}, %n: tensor<i32>) -> ({V}, {V}, {V}, tensor<i32>) {{
  %z = "lf.constant"() {{value = dense<0> : tensor<i32>}} : () -> tensor<i32>
  %r:4 = "lf.while"(%a0, %b0, %c0, %z, %n) ({{
  ^bb0(%a: {V}, %b: {V}, %c: {V}, %i: tensor<i32>, %m: tensor<i32>):
    %lt = "lf.lt"(%i, %m) : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "lf.yield"(%lt) : (tensor<i1>) -> ()
  }}, {{
  ^bb0(%a: {V}, %b: {V}, %c: {V}, %i: tensor<i32>, %m: tensor<i32>):
    %one = "lf.constant"() {{value = dense<1> : tensor<i32>}} : () -> tensor<i32>
    %j = "lf.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s = "lf.add"(%a, %b) : ({V}, {V}) -> {V}
    "lf.yield"(%b, %c, %s, %j) : ({V}, {V}, {V}, tensor<i32>) -> ()
  }}) : ({V}, {V}, {V}, tensor<i32>, tensor<i32>) -> ({V}, {V}, {V}, tensor<i32>)
  "func.return"(%r#0, %r#1, %r#2, %r#3) : ({V}, {V}, {V}, tensor<i32>) -> ()
}}"""


@pytest.fixture(scope="module")
def rotate():
    func = parse_module(ROTATE).functions[0]
    return func, compile_function(func)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_rotated_carried_values_read_the_old_values(rotate, n):
    """(a, b, c) -> (b, c, a + b): a carried buffer is overwritten only after every next value
    that reads it was staged."""
    func, exe = rotate
    args = [np.float32([1, 2, 3]), np.float32([10, 20, 30]), np.float32([100, 200, 300]), np.array(n, np.int32)]
    a, b, c = (x.copy() for x in args[:3])
    for _ in range(n):
        a, b, c = b, c, a + b
    for got, interp, want in zip(exe.run(args), run_function(func, args), [a, b, c, np.int32(n)]):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(interp, want)


BRANCHES = _func(_if(NEG, YIELD_A)).replace("@f", "@branches")
CONSTANT_YIELD = _func(_if(NEG, f'    %k = "lf.constant"() {{value = dense<7.0> : {V}}} : () -> {V}\n'
                                f'    "lf.yield"(%k) : ({V}) -> ()'))


@pytest.mark.parametrize("text", [BRANCHES, CONSTANT_YIELD], ids=["argument", "constant"])
@pytest.mark.parametrize("pred", [True, False])
def test_if_native_matches_the_interpreter(text, pred):
    func = parse_module(text).functions[0]
    args = [np.array(pred), np.float32([1, -2, 3])]
    np.testing.assert_array_equal(compile_function(func).run(args)[0], run_function(func, args)[0])


def test_default_pipeline_keeps_the_meaning():
    m = parse_module(ROTATE)
    optimised = PassManager().run(clone_module(m))
    args = [np.float32([1, 2, 3]), np.float32([4, 5, 6]), np.float32([7, 8, 9]), np.array(4, np.int32)]
    for a, b in zip(run_function(m.functions[0], args), run_function(optimised.functions[0], args)):
        np.testing.assert_array_equal(a, b)


M = "tensor<4x3xf32>"
ROWS = f"""func.func @rows(%b0: {M}, %n: tensor<i32>) -> ({M}, {M}, {V}, {M}) {{
  %z = "lf.constant"() {{value = dense<0> : tensor<i32>}} : () -> tensor<i32>
  %a0 = "lf.constant"() {{value = dense<0.0> : {V}}} : () -> {V}
  %r:5 = "lf.while"(%b0, %b0, %a0, %b0, %z, %n) ({{
  ^bb0(%b: {M}, %c: {M}, %acc: {V}, %d: {M}, %i: tensor<i32>, %m: tensor<i32>):
    %lt = "lf.lt"(%i, %m) : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "lf.yield"(%lt) : (tensor<i1>) -> ()
  }}, {{
  ^bb0(%b: {M}, %c: {M}, %acc: {V}, %d: {M}, %i: tensor<i32>, %m: tensor<i32>):
    %one = "lf.constant"() {{value = dense<1> : tensor<i32>}} : () -> tensor<i32>
    %j = "lf.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %row = "lf.gather"(%b, %i) {{axis = 0 : i64}} : ({M}, tensor<i32>) -> {V}
    %twice = "lf.add"(%row, %row) : ({V}, {V}) -> {V}
    %nb = "lf.update_row"(%b, %i, %twice) : ({M}, tensor<i32>, {V}) -> {M}
    %nc = "lf.update_row"(%c, %i, %twice) : ({M}, tensor<i32>, {V}) -> {M}
    %late = "lf.gather"(%c, %i) {{axis = 0 : i64}} : ({M}, tensor<i32>) -> {V}
    %nacc = "lf.add"(%acc, %late) : ({V}, {V}) -> {V}
    %nd = "lf.update_row"(%d, %i, %row) : ({M}, tensor<i32>, {V}) -> {M}
    "lf.yield"(%nb, %nc, %nacc, %nb, %j) : ({M}, {M}, {V}, {M}, tensor<i32>) -> ()
  }}) : ({M}, {M}, {V}, {M}, tensor<i32>, tensor<i32>) -> ({M}, {M}, {V}, {M}, tensor<i32>)
  "func.return"(%r#0, %r#1, %r#2, %r#3) : ({M}, {M}, {V}, {M}) -> ()
}}"""


@pytest.fixture(scope="module")
def rows():
    func = parse_module(ROWS).functions[0]
    return func, compile_function(func)


def test_only_update_rows_of_buffers_no_later_op_reads_go_in_place(rows):
    """b is read before its row is written (in place); c is read after (a temporary); d's
    update is dead (the body yields b's update in its place)."""
    from lowerflow.backend.control import _in_place

    func, _ = rows
    loop = next(op for op in func.ops if op.name == "lf.while")
    assert sorted(_in_place(loop).values()) == [0]


@pytest.mark.parametrize("n", [0, 1, 4])
def test_rows_written_in_place_match_the_interpreter(rows, n):
    func, exe = rows
    args = [np.arange(12, dtype=np.float32).reshape(4, 3), np.array(n, np.int32)]
    b, acc = args[0].copy(), np.zeros(3, np.float32)
    c = b.copy()
    for i in range(n):
        twice = 2 * b[i]
        acc = acc + c[i]
        b, c = b.copy(), c.copy()
        b[i] = c[i] = twice
    want = [b, c, acc, b]
    for got, interp, w in zip(exe.run(args), run_function(func, args), want):
        np.testing.assert_array_equal(got, w)
        np.testing.assert_array_equal(interp, w)


def test_a_row_written_in_place_out_of_range_fails_the_run(rows):
    from lowerflow.backend import NativeError

    _, exe = rows
    with pytest.raises(NativeError, match="out of range"):
        exe.run([np.zeros((4, 3), np.float32), np.array(5, np.int32)])
