"""Row fusions at the loop level: interp(tensor IR) == interp(loop IR) == native for softmax,
log-softmax with a bias (two results, a carried value read back from its result row), the
softmax-xent rows (a row-scalar result and a row result), a layer norm (means) in float64,
a float16 softmax (folded in float32) and row scalars read from an operand; a threaded
softmax against the tensor level; the loop IR printed parses back identically."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir import Module, parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import verify
from lowerflow.passes import PassManager


def _t(shape, dtype="f32") -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{dtype}>"


def _softmax(r: int, c: int, dtype: str = "f32") -> str:
    x, s = _t((r, c), dtype), _t((r, 1), dtype)
    return f"""func.func @f(%x: {x}) -> {x} {{
  %m = "lf.reduce_max"(%x) {{axes = [-1], keepdims = true}} : ({x}) -> {s}
  %d = "lf.sub"(%x, %m) : ({x}, {s}) -> {x}
  %e = "lf.exp"(%d) : ({x}) -> {x}
  %z = "lf.reduce_sum"(%e) {{axes = [-1], keepdims = true}} : ({x}) -> {s}
  %y = "lf.div"(%e, %z) : ({x}, {s}) -> {x}
  "func.return"(%y) : ({x}) -> ()
}}"""


X3, B, S3 = _t((4, 3, 10)), _t((10,)), _t((4, 3, 1))
BIASED_LOG_SOFTMAX = f"""func.func @f(%x: {X3}, %b: {B}) -> ({X3}, {X3}) {{
  %l = "lf.add"(%x, %b) : ({X3}, {B}) -> {X3}
  %m = "lf.reduce_max"(%l) {{axes = [-1], keepdims = true}} : ({X3}) -> {S3}
  %d = "lf.sub"(%l, %m) : ({X3}, {S3}) -> {X3}
  %e = "lf.exp"(%d) : ({X3}) -> {X3}
  %s = "lf.reduce_sum"(%e) {{axes = [-1], keepdims = true}} : ({X3}) -> {S3}
  %g = "lf.log"(%s) : ({S3}) -> {S3}
  %y = "lf.sub"(%d, %g) : ({X3}, {S3}) -> {X3}
  "func.return"(%y, %l) : ({X3}, {X3}) -> ()
}}"""
X, S, L = _t((6, 12)), _t((6, 1)), _t((6,))
XENT = f"""func.func @f(%x: {X}, %y: {X}) -> ({L}, {X}) {{
  %m = "lf.reduce_max"(%x) {{axes = [-1], keepdims = true}} : ({X}) -> {S}
  %d = "lf.sub"(%x, %m) : ({X}, {S}) -> {X}
  %e = "lf.exp"(%d) : ({X}) -> {X}
  %s = "lf.reduce_sum"(%e) {{axes = [-1], keepdims = true}} : ({X}) -> {S}
  %g = "lf.log"(%s) : ({S}) -> {S}
  %ls = "lf.sub"(%d, %g) : ({X}, {S}) -> {X}
  %p = "lf.mul"(%y, %ls) : ({X}, {X}) -> {X}
  %q = "lf.reduce_sum"(%p) {{axes = [-1], keepdims = true}} : ({X}) -> {S}
  %n = "lf.neg"(%q) : ({S}) -> {S}
  %loss = "lf.reshape"(%n) {{shape = [6]}} : ({S}) -> {L}
  %r = "lf.reciprocal"(%s) : ({S}) -> {S}
  %pr = "lf.mul"(%e, %r) : ({X}, {S}) -> {X}
  %gr = "lf.sub"(%pr, %y) : ({X}, {X}) -> {X}
  "func.return"(%loss, %gr) : ({L}, {X}) -> ()
}}"""
XD, SD = _t((5, 20), "f64"), _t((5, 1), "f64")
LAYER_NORM = f"""func.func @f(%x: {XD}) -> {XD} {{
  %m = "lf.reduce_mean"(%x) {{axes = [-1], keepdims = true}} : ({XD}) -> {SD}
  %d = "lf.sub"(%x, %m) : ({XD}, {SD}) -> {XD}
  %q = "lf.square"(%d) : ({XD}) -> {XD}
  %v = "lf.reduce_mean"(%q) {{axes = [-1], keepdims = true}} : ({XD}) -> {SD}
  %r = "lf.rsqrt"(%v) : ({SD}) -> {SD}
  %y = "lf.mul"(%d, %r) : ({XD}, {SD}) -> {XD}
  "func.return"(%y) : ({XD}) -> ()
}}"""
X8, S8 = _t((8, 16)), _t((8, 1))
SHIFTED = f"""func.func @f(%x: {X8}, %t: {S8}) -> {X8} {{
  %m = "lf.reduce_max"(%x) {{axes = [-1], keepdims = true}} : ({X8}) -> {S8}
  %mt = "lf.add"(%m, %t) : ({S8}, {S8}) -> {S8}
  %d = "lf.sub"(%x, %mt) : ({X8}, {S8}) -> {X8}
  %w = "lf.mul"(%d, %t) : ({X8}, {S8}) -> {X8}
  %e = "lf.exp"(%w) : ({X8}) -> {X8}
  %z = "lf.reduce_sum"(%e) {{axes = [-1], keepdims = true}} : ({X8}) -> {S8}
  %y = "lf.div"(%e, %z) : ({X8}, {S8}) -> {X8}
  "func.return"(%y) : ({X8}) -> ()
}}"""
CASES = {"softmax": _softmax(8, 16), "biased_log_softmax": BIASED_LOG_SOFTMAX, "xent": XENT,
         "layer_norm_f64": LAYER_NORM, "softmax_f16": _softmax(4, 33, "f16"), "shifted": SHIFTED}
TOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-13}


@pytest.fixture(scope="module", params=list(CASES))
def levels(request):
    """(the tensor-level function, its row fusion, its loop level, the native executable)."""
    text = CASES[request.param]
    fused = parse_module(text)
    PassManager("fuse-rows{min-row=2}").run(fused)
    assert [op.name for op in fused.functions[0].ops if op.name.startswith("lf.row")] == ["lf.row_fusion"]
    m = parse_module(text)
    PassManager("fuse-rows{min-row=2},plan-buffers,lower-to-loops").run(m)
    (func,) = m.functions
    assert "lf.row_fusion" not in [op.name for op in func.ops]
    return parse_module(text).functions[0], fused.functions[0], func, compile_function(func)


def _inputs(func, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(a.type.shape) * 3).astype(a.type.dtype.np_dtype) for a in func.args]


@pytest.mark.parametrize("seed", [0, 1])
def test_row_fusions_mean_the_same_at_every_level(levels, seed):
    tensor_level, fused, loop_level, native = levels
    args = _inputs(tensor_level, seed)
    want = run_function(tensor_level, args)
    for level, got in (("row fusion", run_function(fused, args)), ("loop IR", run_function(loop_level, args)),
                       ("native", native.run(args))):
        for k, (a, b) in enumerate(zip(got, want)):
            assert a.dtype == b.dtype and a.shape == b.shape, (level, k)
            tol = TOL[a.dtype.type]
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol,
                                       err_msg=f"{level} result #{k}")


def test_loop_ir_parses_back_identically(levels):
    text = print_module(Module([levels[2]]))
    again = parse_module(text)
    verify(again)
    assert print_module(again) == text


def test_the_scratch_row_is_allocated_per_row():
    """Softmax keeps exp(x - max) in one "loop.alloc" inside the parallel row loop (each
    thread its own), read back in the last phase; no other buffer is allocated."""
    m = parse_module(_softmax(8, 16))
    PassManager("fuse-rows{min-row=2},plan-buffers,lower-to-loops").run(m)
    (kernel,) = [op for op in m.functions[0].ops if op.name == "loop.kernel"]
    allocs = [op for op in kernel.walk() if op.name == "loop.alloc"]
    assert len(allocs) == 1 and allocs[0].attributes["shape"] == [16]
    (row_loop,) = [op for op in kernel.regions[0].ops if op.name == "loop.for"]
    assert row_loop.attributes.get("parallel") and allocs[0].parent is row_loop.regions[0]


def test_threaded_softmax_matches_the_tensor_level():
    """Large enough to split the row loop across two threads (a chunk function, with its
    own scratch row)."""
    text = _softmax(512, 256)
    m = parse_module(text)
    PassManager("fuse-rows,plan-buffers").run(m)
    x = _inputs(m.functions[0], 5)
    (want,) = run_function(parse_module(text).functions[0], x)
    (got,) = compile_function(m.functions[0], threads=2).run(x)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-7)
