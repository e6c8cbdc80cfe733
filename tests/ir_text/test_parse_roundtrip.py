"""Hand-written IR parses to the right objects and prints back byte for byte."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.ir import (
    ELEM_TYPES, Function, Module, TensorType, build, parse_module, print_module, tensor,
)
from lowerflow.ir.types import BOOL, F16, F32, F64, I32
from lowerflow.ir.verifier import verify

EXAMPLE = """\
module {
  func.func @step(%arg0: tensor<2x?xf32> {lf.name = "x:0"}, %arg1: tensor<i32>) -> (tensor<2x?xi32> {lf.name = "y:0"}) {
    %0 = "lf.constant"() {value = dense<1.5> : tensor<f32>} : () -> tensor<f32>
    %1 = "lf.add"(%arg0, %0) : (tensor<2x?xf32>, tensor<f32>) -> tensor<2x?xf32>
    %2:2 = "lf.fusion"(%1, %0) ({
    ^bb0(%arg2: tensor<2x?xf32>, %arg3: tensor<f32>):
      %3 = "lf.mul"(%arg2, %arg3) : (tensor<2x?xf32>, tensor<f32>) -> tensor<2x?xf32>
      "lf.yield"(%3, %3) : (tensor<2x?xf32>, tensor<2x?xf32>) -> ()
    }) : (tensor<2x?xf32>, tensor<f32>) -> (tensor<2x?xf32>, tensor<2x?xf32>)
    %4 = "lf.cast"(%2#0) {to = i32} : (tensor<2x?xf32>) -> tensor<2x?xi32>
    "func.return"(%4) : (tensor<2x?xi32>) -> ()
  }
}
"""


def roundtrip(text: str, locations: bool = False) -> Module:
    m = parse_module(text)
    assert print_module(m, locations=locations) == text
    return m


def one_op_module(attr_text: str) -> str:
    return ("module {\n  func.func @f() -> () {\n"
            f'    "t.op"() {{a = {attr_text}}} : () -> ()\n'
            '    "func.return"() : () -> ()\n  }\n}\n')


def attr_of(attr_text: str, canonical: bool = True):
    """The attribute parsed from `attr_text`; canonical text must also print back unchanged."""
    text = one_op_module(attr_text)
    m = roundtrip(text) if canonical else parse_module(text)
    return m["f"].ops[0].attributes["a"]


def test_example_round_trips_and_verifies():
    m = roundtrip(EXAMPLE)
    f = m["step"]
    verify(m)
    assert f.arg_names == ["x:0", None] and f.result_names == ["y:0"]
    assert f.args[0].type == TensorType((2, None), F32) and f.args[1].type == TensorType((), I32)
    fusion = f.ops[2]
    assert [r.type for r in fusion.results] == [tensor((2, None), F32)] * 2
    assert fusion.regions[0].args[0].type == tensor((2, None), F32)
    assert fusion.regions[0].ops[0].parent is fusion.regions[0]
    assert f.ops[3].operands == [fusion.results[0]] and f.ops[3].attributes["to"] is I32


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("false", False), ("3 : i64", 3), ("-7 : i64", -7),
    ("123456789012345678901234567890 : i64", 123456789012345678901234567890),
    ("1.5 : f64", 1.5), ("-0.0 : f64", -0.0), ("1e-05 : f64", 1e-05), ("1.5e+300 : f64", 1.5e300),
    ('"a \\"q\\" \\\\ b\\nc"', 'a "q" \\ b\nc'), ('""', ""), ("[]", []),
    ('[1 : i64, "s", [true, 2.5 : f64], f32]', [1, "s", [True, 2.5], F32]),
    ("f16", F16), ("i1", BOOL), ("tensor<2x?xf32>", TensorType((2, None), F32)),
])
def test_attribute_kinds(text, expected):
    got = attr_of(text)
    assert got == expected and type(got) is type(expected)


def test_non_finite_float_attributes_use_bits():
    assert np.isnan(attr_of("0x7FF8000000000000 : f64"))
    assert attr_of("0x7FF0000000000000 : f64") == np.inf
    assert attr_of("0xFFF0000000000000 : f64") == -np.inf


def test_mlir_leniencies():
    m = parse_module("""
        // RUN: lowerflow-opt %s | filecheck %s
        func.func @g(%x: tensor<3xf32>) -> tensor<3xf32> {  // no module, no parens
          %y_1, %z = "t.two"(%x) {n = 3, f = 2.5, h = 0x10, key = "v"}
              : (tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
          %w = "t.region"() ({
            "t.inner"(%y_1) : (tensor<3xf32>) -> ()
          }) : () -> tensor<3xf32> loc("w")
          "func.return"(%z#0) : (tensor<3xf32>) -> ()
        }
        func.func @"h i"() {
          "func.return"() : () -> ()
        }""")
    g = m["g"]
    assert g.ops[0].attributes == {"n": 3, "f": 2.5, "h": 16, "key": "v"}
    assert g.ops[1].location == "w" and g.ops[1].regions[0].args == []
    assert g.results == [g.ops[0].results[1]]
    assert m["h i"].result_types == []
    assert parse_module("").functions == []
    roundtrip(print_module(m))  # the label-less region prints as `^bb0():` and parses back


@pytest.mark.parametrize("arr", [
    np.array(1.5, np.float32), np.zeros((2, 3), np.float64),
    np.arange(6, dtype=np.int8).reshape(2, 3),
    np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-8], np.float32),
    np.array([np.nan, -np.inf, 65504.0, -0.0, 6e-8], np.float16),
    np.array([np.nan, np.inf, 5e-324, -0.0, 1.7976931348623157e308, 0.1], np.float64),
    np.array([[True, False], [False, True]]), np.ones((2, 2), bool), np.array([-0.0, -0.0]),
    np.array([np.nan, np.nan], np.float32), np.zeros((0,), np.float32),
    np.zeros((2, 0, 3), np.int32),
    *(np.array([np.iinfo(t.np_dtype).min, 0, np.iinfo(t.np_dtype).max], t.np_dtype)
      for t in ELEM_TYPES.values() if t.is_int),
])
def test_dense_arrays_round_trip_bitwise(arr):
    f = Function("f")
    c = build(f.body, "lf.constant", [], {"value": arr})
    f.set_return([c.result])
    m = roundtrip(print_module(Module([f])))
    got = m["f"].ops[0].attributes["value"]
    assert got.dtype == arr.dtype and got.shape == arr.shape
    assert got.tobytes() == arr.tobytes()  # bitwise: keeps -0.0 and NaN payloads


def test_dense_spellings():
    nan2 = attr_of("dense<0x7FC00000> : tensor<2xf32>")
    assert nan2.tobytes() == np.full(2, np.nan, np.float32).tobytes()
    assert attr_of("dense<0x3C00> : tensor<f16>", canonical=False) == np.float16(1.0)
    np.testing.assert_array_equal(attr_of("dense<[1, 2.5]> : tensor<2xf64>", False), [1.0, 2.5])
    np.testing.assert_array_equal(attr_of("dense<0x10> : tensor<ui8>", False), 16)


def test_locations_names_and_several_functions():
    f = Function("first", [tensor((4,), F32)], ["in:0"])
    e = build(f.body, "lf.exp", [f.args[0]], location='exp/"quoted"\\n')
    f.set_return([e.result, f.args[0]], ["out:0", None])
    g = Function("second", [tensor((), F64)])
    g.set_return([g.args[0]])
    m = roundtrip(print_module(Module([f, g]), locations=True), locations=True)
    assert [fn.name for fn in m.functions] == ["first", "second"]
    assert m["first"].ops[0].location == 'exp/"quoted"\\n'
    assert m["first"].result_names == ["out:0", None] and m["second"].arg_names == [None]
    assert m["first"].results[1] is m["first"].args[0]


def test_odd_names_print_quoted_and_parse():
    f = Function("my func")
    f.body.add("t.op", [], [], {"weird key": 1, "ok_key": 2})
    f.body.ops[0].name = 'odd"name'
    f.set_return([])
    m = roundtrip(print_module(Module([f])))
    assert m["my func"].ops[0].name == 'odd"name'
    assert m["my func"].ops[0].attributes == {"weird key": 1, "ok_key": 2}


def test_empty_module_and_zero_arity():
    roundtrip("module {\n\n}\n")
    roundtrip(one_op_module("[[], [[]]]"))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8", "uint16", "int64"])
def test_large_dense_values_print_as_exact_hex(dtype):
    """Past HEX_FROM elements a constant prints as its bytes (MLIR's hex form), bit-exact:
    NaN payloads, -0.0 and denormals included."""
    from lowerflow.ir.printer import HEX_FROM

    value = (np.random.default_rng(0).standard_normal(HEX_FROM + 7) * 100).astype(dtype)
    if value.dtype.kind == "f":
        value[:3] = [np.nan, -0.0, np.finfo(dtype).tiny / 2]
    func = Function("f")
    func.set_return([build(func.body, "lf.constant", [], {"value": value}).result], [])
    text = print_module(Module([func]))
    assert 'dense<"0x' in text
    again = parse_module(text)
    assert print_module(again) == text
    parsed = again.functions[0].ops[0].attributes["value"]
    assert parsed.dtype == value.dtype and parsed.tobytes() == value.tobytes()
