"""`lower-to-loops` and the loop level: interp(tensor IR) == interp(loop IR) on random graphs,
print -> parse -> print of loop IR, and what the loop level's verifier and interpreter do
with hand-written loop IR."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.ir import Module, ParseError, parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import VerifyError, verify
from lowerflow.passes import DEFAULT_PIPELINE, PassManager, parse_pipeline

from pass_testing import assert_same_bits, random_function

PIPELINES = ["plan-buffers,lower-to-loops", DEFAULT_PIPELINE + ",lower-to-loops"]


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pipeline=st.sampled_from(PIPELINES), specials=st.booleans())
def test_loop_ir_means_what_the_tensor_ir_means(seed, pipeline, specials):
    oracle, args = random_function(seed, specials=specials)
    func, _ = random_function(seed, specials=specials)
    m = Module([func])
    PassManager(pipeline).run(m)
    assert not any(op.name == "lf.fusion" or op.name.startswith("lf.") and op.name != "lf.constant"
                   for op in func.ops[:-1]), [op.name for op in func.ops]
    assert_same_bits(oracle, func, args)
    text = print_module(m)
    again = parse_module(text)
    verify(again)
    assert print_module(again) == text
    assert_same_bits(oracle, again.functions[0], args)


def test_second_run_changes_nothing():
    func, _ = random_function(7)
    m = Module([func])
    PassManager("plan-buffers,lower-to-loops").run(m)
    text = print_module(m)
    (lower,) = parse_pipeline("lower-to-loops")
    assert lower.run(m) is False
    assert print_module(m) == text


KERNEL_HEAD = """
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "loop.kernel"(%x) ({
  ^bb0(%out: memref<4xf32>, %in: memref<4xf32>):
"""
KERNEL_TAIL = """
    "lf.yield"() : () -> ()
  }) : (tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%0) : (tensor<4xf32>) -> ()
}
"""


def _kernel(body: str) -> Module:
    return parse_module(KERNEL_HEAD + body + KERNEL_TAIL)


def _loop(body: str, upper: int = 4, extra: str = "") -> str:
    return f"""
    "loop.for"() ({{
    ^bb0(%i: index):
{body}
      "lf.yield"() : () -> ()
    }}) {{lower = 0, step = 1, upper = {upper}{extra}}} : () -> ()"""


REVERSE = _loop("""
      %c3 = "loop.const_index"() {value = 3} : () -> index
      %j = "loop.index_arith"(%c3, %i) {op = "sub"} : (index, index) -> index
      %v = "loop.load"(%in, %j) : (memref<4xf32>, index) -> f32
      %w = "loop.scalar"(%v) {op = "lf.neg"} : (f32) -> f32
      "loop.store"(%w, %out, %i) : (f32, memref<4xf32>, index) -> ()""")


def test_hand_written_loop_ir_interprets():
    m = _kernel(REVERSE)
    verify(m)
    (got,) = run_function(m.functions[0], [np.array([1, 2, 3, 4], np.float32)])
    np.testing.assert_array_equal(got, [-4, -3, -2, -1])


@pytest.mark.parametrize("body, message", [
    (_loop('      %v = "loop.load"(%in, %i) : (memref<4xf32>, index) -> f32', upper=5),
     "index #0 runs over [0, 4] outside dim 0 of size 4"),
    (_loop('      %v = "loop.load"(%out, %i) : (memref<4xf32>, index) -> f32\n'
           '      "loop.store"(%v, %in, %i) : (f32, memref<4xf32>, index) -> ()'),
     "stores into an operand's buffer"),
    ('    %v = "loop.view"(%in) {shape = [2, 2], strides = [2, 2]} : '
     '(memref<4xf32>) -> memref<2x2xf32, strided<[2, 2]>>',
     "reads outside"),
    (_loop('      %v = "loop.load"(%in, %i) : (memref<4xf32>, index) -> f32\n'
           '      %w = "loop.scalar"(%v) {op = "lf.reduce_sum", axis = [0], keepdims = false} : (f32) -> f32'),
     "not an elementwise op"),
    (_loop('      %v = "loop.load"(%in, %i) : (memref<4xf32>, index) -> f32', extra=", parallel = 1"),
     "'parallel' must be a bool"),
    ('    "loop.call_kernel"(%out, %in) {name = "conv_tile"} : (memref<4xf32>, memref<4xf32>) -> ()',
     "unknown micro-kernel 'conv_tile'"),
    ('    %s = "loop.alloc"() {shape = [-4], type = f32} : () -> memref<4xf32>',
     "'shape' must be a list of non-negative ints"),
    ('    %s = "loop.alloc"() {shape = [4], type = f32} : () -> memref<4xf64>', "memref<4xf32>"),
    ('    %s = "loop.alloc"() {shape = [4]} : () -> memref<4xf32>', "type"),
    (_loop('      %v = "loop.load"(%in, %i) : (memref<4xf32>, index) -> f32\n'
           '      %j = "loop.to_index"(%v) : (f32) -> index'), "takes one integer scalar"),
    (_loop('      %v = "loop.load"(%in, %i) : (memref<4xf32>, index) -> f32\n'
           '      "loop.check"(%v) {error = "label_range"} : (f32) -> ()'), "takes one i1 condition"),
    (_loop('      %v = "loop.load"(%in, %i) : (memref<4xf32>, index) -> f32\n'
           '      %b = "loop.scalar"(%v, %v) {op = "lf.lt"} : (f32, f32) -> i1\n'
           '      "loop.check"(%b) {error = "no_such_error"} : (i1) -> ()'), "unknown error 'no_such_error'"),
    (_loop('      %j = "loop.index_cast"(%i) {type = i64} : (index) -> i64\n'
           '      %m = "loop.mix"(%j) : (i64) -> ui64'), "mixes one ui64"),
    (_loop('      %v = "loop.load"(%in, %i) : (memref<4xf32>, index) -> f32\n'
           '      %w = "loop.scalar"(%v, %v) {op = "lf.mul", contract = 0} : (f32, f32) -> f32'),
     "'contract' must be a bool"),
])
def test_verifier_rejects(body, message):
    try:
        m = _kernel(body)
    except Exception as e:  # noqa: BLE001  (the parser may refuse first)
        assert message in str(e)
        return
    with pytest.raises(VerifyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        verify(m)


def test_step_must_be_positive():
    text = (KERNEL_HEAD + _loop("").replace("step = 1", "step = 0") + KERNEL_TAIL)
    with pytest.raises(VerifyError, match="step must be positive"):
        verify(parse_module(text))


def test_kernel_block_arguments_are_checked():
    text = KERNEL_HEAD.replace("%in: memref<4xf32>", "%in: memref<4xf64>") + KERNEL_TAIL
    with pytest.raises(VerifyError, match="block arguments must be"):
        verify(parse_module(text))


def test_gemm_tile_micro_kernel_interprets():
    text = """
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %0 = "loop.kernel"(%a, %b) ({
  ^bb0(%c: memref<2x2xf32>, %x: memref<2x3xf32>, %y: memref<3x2xf32>):
    %zero = "loop.scalar"() {op = "lf.constant", value = dense<0.0> : tensor<f32>} : () -> f32
    "lf.yield"() : () -> ()
  }) : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  "func.return"(%0) : (tensor<2x2xf32>) -> ()
}"""
    with pytest.raises(VerifyError, match="not an elementwise op"):
        verify(parse_module(text))
    zeroed = text.replace(
        '    %zero = "loop.scalar"() {op = "lf.constant", value = dense<0.0> : tensor<f32>} : () -> f32\n',
        _zero_fill() + '    "loop.call_kernel"(%c, %x, %y) {name = "gemm_tile"} : '
                       '(memref<2x2xf32>, memref<2x3xf32>, memref<3x2xf32>) -> ()\n')
    m = parse_module(zeroed)
    verify(m)
    a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(6, dtype=np.float32).reshape(3, 2)
    (got,) = run_function(m.functions[0], [a, b])
    np.testing.assert_array_equal(got, a @ b)


def _zero_fill() -> str:
    """Zeros into %c through a flat view: x - x of the first element of %x is 0."""
    return """    %flat = "loop.view"(%c) {shape = [4], strides = [1]} : (memref<2x2xf32>) -> memref<4xf32>
    %c0 = "loop.const_index"() {value = 0} : () -> index
    %x0 = "loop.load"(%x, %c0, %c0) : (memref<2x3xf32>, index, index) -> f32
    %z = "loop.scalar"(%x0, %x0) {op = "lf.sub"} : (f32, f32) -> f32
    "loop.for"() ({
    ^bb0(%i: index):
      "loop.store"(%z, %flat, %i) : (f32, memref<4xf32>, index) -> ()
      "lf.yield"() : () -> ()
    }) {lower = 0, step = 1, upper = 4} : () -> ()
"""


def test_memref_types_round_trip_and_run_time_sizes_are_flat():
    m = _kernel('    %v = "loop.view"(%in) {shape = [2, 4], strides = [0, 1]} : '
                '(memref<4xf32>) -> memref<2x4xf32, strided<[0, 1]>>')
    verify(m)
    assert "memref<2x4xf32, strided<[0, 1]>>" in print_module(m)
    for bad in ("memref<?x4xf32>", "memref<4x?xf32>", "memref<?xf32, strided<[2]>>"):
        with pytest.raises(ParseError, match="run-time size is flat"):
            parse_module(KERNEL_HEAD.replace("%in: memref<4xf32>", f"%in: {bad}") + KERNEL_TAIL)
    with pytest.raises(VerifyError, match="block arguments must be"):  # a static tensor's buffer is static
        verify(parse_module(KERNEL_HEAD.replace("%in: memref<4xf32>", "%in: memref<?xf32>") + KERNEL_TAIL))


#: the input reversed through a scratch buffer: stored in order, read back from the end
THROUGH_SCRATCH = """
    %s = "loop.alloc"() {shape = [4], type = f32} : () -> memref<4xf32>""" + _loop("""
      %v = "loop.load"(%in, %i) : (memref<4xf32>, index) -> f32
      "loop.store"(%v, %s, %i) : (f32, memref<4xf32>, index) -> ()""") + _loop("""
      %c3 = "loop.const_index"() {value = 3} : () -> index
      %j = "loop.index_arith"(%c3, %i) {op = "sub"} : (index, index) -> index
      %w = "loop.load"(%s, %j) : (memref<4xf32>, index) -> f32
      "loop.store"(%w, %out, %i) : (f32, memref<4xf32>, index) -> ()""")


def test_scratch_buffer_round_trips_interprets_and_runs_natively():
    from lowerflow.backend import compile_function
    m = _kernel(THROUGH_SCRATCH)
    verify(m)
    text = print_module(m)
    assert '"loop.alloc"() {shape = [4 : i64], type = f32} : () -> memref<4xf32>' in text
    assert print_module(parse_module(text)) == text
    x = np.array([1, 2, 3, 4], np.float32)
    (got,) = run_function(m.functions[0], [x])
    np.testing.assert_array_equal(got, x[::-1])
    (native,) = compile_function(m.functions[0]).run([x])
    np.testing.assert_array_equal(native, x[::-1])


def test_scratch_buffer_starts_undefined_in_the_interpreter():
    """A read before any store gives NaN (floats), so a lowering that relies on a zeroed
    scratch buffer fails its differential tests."""
    m = _kernel('    %s = "loop.alloc"() {shape = [4], type = f32} : () -> memref<4xf32>' + _loop("""
      %v = "loop.load"(%s, %i) : (memref<4xf32>, index) -> f32
      "loop.store"(%v, %out, %i) : (f32, memref<4xf32>, index) -> ()"""))
    (got,) = run_function(m.functions[0], [np.zeros(4, np.float32)])
    assert np.isnan(got).all()
