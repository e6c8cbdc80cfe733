"""The GEMM family at the loop level (`ir/loop_lowering_gemm.py`): interp(tensor IR) ==
interp(loop IR) == native for matmuls (every kernel the backend picks: loop nest, packed,
narrow; transposes, batches, float16 and integers), matmul fusions, the three convolutions
and the conv2d fusion (one and two results, no channels); the verifier on hand-written
micro-kernel calls."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir import parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import VerifyError, verify
from lowerflow.passes import PassManager


def _t(shape, dtype="f32") -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{dtype}>" if shape else f"tensor<{dtype}>"


def _matmul(a, b, c, ta=False, tb=False, dtype="f32", epilogue=False) -> str:
    ty = [_t(s, dtype) for s in (a, b, c)]
    head = f"func.func @f(%a: {ty[0]}, %b: {ty[1]}"
    body = (f'  %p = "lf.matmul"(%a, %b) {{transpose_a = {str(ta).lower()}, transpose_b = {str(tb).lower()}}} : '
            f"({ty[0]}, {ty[1]}) -> {ty[2]}\n")
    if not epilogue:
        return head + f") -> {ty[2]} {{\n{body}" + f'  "func.return"(%p) : ({ty[2]}) -> ()\n}}'
    bias = _t(c[-1:], dtype)
    return (head + f", %bias: {bias}) -> ({ty[2]}, {ty[2]}) {{\n{body}"
            f'  %s = "lf.add"(%p, %bias) : ({ty[2]}, {bias}) -> {ty[2]}\n'
            f'  %r = "lf.relu"(%s) : ({ty[2]}) -> {ty[2]}\n'
            f'  %t = "lf.tanh"(%s) : ({ty[2]}) -> {ty[2]}\n'
            f'  "func.return"(%r, %t) : ({ty[2]}, {ty[2]}) -> ()\n}}')


GEOM = 'strides = [1, {s}, {s}, 1], dilations = [1, {d}, {d}, 1], explicit_paddings = [0, 0, {p}, {p}, {p}, {p}, 0, 0]'


def _conv(x, f, y, s=1, d=1, p=0, epilogue=0) -> str:
    geom = GEOM.format(s=s, d=d, p=p)
    tx, tf, ty = _t(x), _t(f), _t(y)
    bias = _t(y[-1:])
    lines = [f'  %y = "lf.conv2d"(%x, %w) {{{geom}}} : ({tx}, {tf}) -> {ty}']
    outs = ["%y"]
    if epilogue:
        lines += [f'  %s = "lf.add"(%y, %bias) : ({ty}, {bias}) -> {ty}', f'  %r = "lf.relu"(%s) : ({ty}) -> {ty}']
        outs = ["%r", "%s"][:epilogue]
    lines += [f'  %dx = "lf.conv2d_backprop_input"(%x, %w, %y) {{{geom}}} : ({tx}, {tf}, {ty}) -> {tx}',
              f'  %df = "lf.conv2d_backprop_filter"(%x, %y) {{{geom}, filter_sizes = [{", ".join(map(str, f))}]}} : '
              f'({tx}, {ty}) -> {tf}']
    outs += ["%dx", "%df"]
    types = [ty] * (len(outs) - 2) + [tx, tf]
    args = f"%x: {tx}, %w: {tf}" + (f", %bias: {bias}" if epilogue else "")
    return (f"func.func @f({args}) -> ({', '.join(types)}) {{\n" + "\n".join(lines) +
            f'\n  "func.return"({", ".join(outs)}) : ({", ".join(types)}) -> ()\n}}')


CASES = {
    "small": _matmul((3, 5), (5, 4), (3, 4)),
    "packed": _matmul((48, 40), (40, 36), (48, 36)),
    "packed_tt": _matmul((40, 48), (36, 40), (48, 36), ta=True, tb=True),
    "narrow": _matmul((64, 64), (64, 10), (64, 10)),
    "narrow_ta": _matmul((64, 64), (64, 3), (64, 3), ta=True),
    "batch_broadcast": _matmul((2, 3, 40, 40), (40, 33), (2, 3, 40, 33), tb=False),
    "batch_tb": _matmul((2, 7, 5), (2, 6, 5), (2, 7, 6), tb=True),
    "row_vector": _matmul((1, 64), (64, 64), (1, 64)),
    "f16": _matmul((5, 7), (7, 6), (5, 6), dtype="f16"),
    "f64_ta": _matmul((7, 5), (7, 6), (5, 6), ta=True, dtype="f64"),
    "i32": _matmul((4, 3), (3, 5), (4, 5), dtype="i32"),
    "empty_k": _matmul((4, 0), (0, 5), (4, 5)),
    "fusion_small": _matmul((3, 5), (5, 4), (3, 4), epilogue=True),
    "fusion_packed": _matmul((48, 40), (40, 36), (48, 36), tb=False, epilogue=True),
    "fusion_narrow": _matmul((64, 64), (64, 10), (64, 10), epilogue=True),
    "conv_same": _conv((2, 7, 7, 3), (3, 3, 3, 8), (2, 7, 7, 8), p=1),
    "conv_fused": _conv((2, 7, 7, 3), (3, 3, 3, 8), (2, 7, 7, 8), p=1, epilogue=1),
    "conv_fused_two": _conv((2, 6, 6, 4), (3, 3, 4, 5), (2, 3, 3, 5), s=2, p=1, epilogue=2),
    "conv_strided_dilated": _conv((1, 9, 9, 2), (2, 2, 2, 6), (1, 4, 4, 6), s=2, d=2),
    "conv_no_channels": _conv((1, 4, 4, 0), (2, 2, 0, 3), (1, 3, 3, 3), epilogue=1),
}


def _inputs(func, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for a in func.args:
        dt = a.type.dtype.np_dtype
        x = rng.integers(-4, 5, a.type.shape) if np.issubdtype(dt, np.integer) else rng.standard_normal(a.type.shape)
        out.append(x.astype(dt))
    return out


@pytest.fixture(scope="module", params=sorted(CASES))
def levels(request):
    """(the tensor-level function, its loop level printed and parsed back, the native executable)."""
    text = CASES[request.param]
    m = parse_module(text)
    PassManager("fuse,plan-buffers,lower-to-loops").run(m)
    (func,) = m.functions
    assert all(op.name == "loop.kernel" for op in func.ops[:-1]), [op.name for op in func.ops]
    printed = print_module(m)
    again = parse_module(printed)
    verify(again)
    assert print_module(again) == printed
    return parse_module(text).functions[0], again.functions[0], compile_function(func)


@pytest.mark.parametrize("seed", [0, 1])
def test_gemm_family_means_the_same_at_every_level(levels, seed):
    tensor_level, loop_level, native = levels
    args = _inputs(tensor_level, seed)
    want = run_function(tensor_level, args)
    for g, w in zip(run_function(loop_level, args), want):  # the same numpy references
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w, err_msg="loop IR")
    for k, (g, w) in enumerate(zip(native.run(args), want)):
        assert g.dtype == w.dtype and g.shape == w.shape
        tol = {np.float16: 2e-2, np.float32: 2e-5, np.float64: 1e-12}.get(w.dtype.type, 0)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * np.abs(w).max(initial=1), err_msg=f"native #{k}")


CALL = '''func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = "loop.kernel"(%a, %b) ({
  ^bb0(%c: memref<2x4xf32>, %x: memref<2x3xf32>, %y: memref<3x4xf32>):
CALL_LINE
    "lf.yield"() : () -> ()
  }) : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  "func.return"(%0) : (tensor<2x4xf32>) -> ()
}'''
GEMM = '    "loop.call_kernel"(%c, %x, %y) {name = "gemm", transpose_a = false, transpose_b = false} : ' \
       '(memref<2x4xf32>, memref<2x3xf32>, memref<3x4xf32>) -> ()'
FUSED = '''    "loop.call_fused"(%c, %x, %y) ({
    ^bb0(%p: f32):
      %r = "loop.scalar"(%p) {op = "lf.relu"} : (f32) -> f32
      "lf.yield"(%r) : (f32) -> ()
    }) {name = "gemm", inputs = 2, transpose_a = false, transpose_b = false} : (memref<2x4xf32>, memref<2x3xf32>, memref<3x4xf32>) -> ()'''


def test_a_fused_gemm_call_interprets_and_runs():
    """"loop.call_fused" {name = "gemm"}: the product, then the epilogue on it (the backend
    applies it to each block of rows the GEMM computes)."""
    m = parse_module(CALL.replace("CALL_LINE", FUSED))
    verify(m)
    a, b = np.arange(6, dtype=np.float32).reshape(2, 3) - 3, np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    want = np.maximum(a @ b, 0)
    np.testing.assert_array_equal(run_function(m.functions[0], [a, b])[0], want)
    np.testing.assert_allclose(compile_function(m.functions[0]).run([a, b])[0], want)


def test_a_gemm_call_interprets_and_runs():
    m = parse_module(CALL.replace("CALL_LINE", GEMM))
    verify(m)
    a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(run_function(m.functions[0], [a, b])[0], a @ b)
    np.testing.assert_allclose(compile_function(m.functions[0]).run([a, b])[0], a @ b)


@pytest.mark.parametrize("line, message", [
    (GEMM.replace("transpose_b = true", "").replace(", transpose_b = false", ""), "needs attribute"),
    (GEMM.replace("transpose_a = false", "transpose_a = true"), "lf.matmul kernel"),
    (GEMM.replace("%c, %x, %y", "%c, %y, %x").replace("memref<2x3xf32>, memref<3x4xf32>)",
                                                       "memref<3x4xf32>, memref<2x3xf32>)"), "lf.matmul kernel"),
    (GEMM.replace('"gemm"', '"gemm_fast"'), "unknown micro-kernel 'gemm_fast'"),
    (FUSED.replace('"gemm"', '"gemm_tile"'), "takes no epilogue"),
    (GEMM.replace("%c, %x, %y", "%y, %x, %c").replace("transpose_a = false", "transpose_a = true").replace(
        "(memref<2x4xf32>, memref<2x3xf32>, memref<3x4xf32>)", "(memref<3x4xf32>, memref<2x3xf32>, memref<2x4xf32>)"),
     "writes an operand's buffer"),
])
def test_verifier_rejects_bad_calls(line, message):
    with pytest.raises(VerifyError, match=message):
        verify(parse_module(CALL.replace("CALL_LINE", line)))


CONV_FUSED = '''func.func @f(%a: tensor<1x3x3x2xf32>, %w: tensor<1x1x2x4xf32>, %b: tensor<4xf32>) -> tensor<1x3x3x4xf32> {
  %0 = "loop.kernel"(%a, %w, %b) ({
  ^bb0(%y: memref<1x3x3x4xf32>, %x: memref<1x3x3x2xf32>, %f: memref<1x1x2x4xf32>, %bias: memref<4xf32>):
    "loop.call_fused"(%y, %x, %f, %bias) ({
    ^bb0(%p: f32, %q: BIAS_TYPE):
      %s = "loop.scalar"(%p, %q) {op = "lf.add"} : (f32, f32) -> f32
      "lf.yield"(%s) : (f32) -> ()
    }) {name = "conv2d", inputs = 2, strides = [1, 1, 1, 1], dilations = [1, 1, 1, 1], explicit_paddings = [0, 0, 0, 0, 0, 0, 0, 0]} : (memref<1x3x3x4xf32>, memref<1x3x3x2xf32>, memref<1x1x2x4xf32>, memref<4xf32>) -> ()
    "lf.yield"() : () -> ()
  }) : (tensor<1x3x3x2xf32>, tensor<1x1x2x4xf32>, tensor<4xf32>) -> tensor<1x3x3x4xf32>
  "func.return"(%0) : (tensor<1x3x3x4xf32>) -> ()
}'''


def test_a_fused_conv_call_interprets_and_runs():
    m = parse_module(CONV_FUSED.replace("BIAS_TYPE", "f32"))
    verify(m)
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((1, 3, 3, 2), (1, 1, 2, 4), (4,)))
    want = np.einsum("nhwc,co->nhwo", x, w[0, 0]) + b
    np.testing.assert_allclose(run_function(m.functions[0], [x, w, b])[0], want, rtol=1e-6)
    np.testing.assert_allclose(compile_function(m.functions[0]).run([x, w, b])[0], want, rtol=1e-5)


def test_a_fused_calls_region_is_typed():
    with pytest.raises(VerifyError, match="the epilogue takes"):
        verify(parse_module(CONV_FUSED.replace("BIAS_TYPE", "f32, %extra: f32")))
