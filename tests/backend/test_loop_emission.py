"""LLVM emission from the loop level: native == interp(loop IR) for what `lower-to-loops`
lowers, errors raised inside a loop kernel, the threaded split of a large nest, the same
optimised code whether the pass or the backend lowered the step (names aside), and
reductions' folds vectorised with their liberties (reassociated sums, NaN-propagating max)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from lowerflow.backend import NativeError, compile_function, jit
from lowerflow.backend.executable import jit_module_text
from lowerflow.ir import parse_module
from lowerflow.ir.interp import run_function
from lowerflow.passes import PassManager

from conftest import assert_same

LOOPS = "plan-buffers,lower-to-loops"


def lowered(text: str, pipeline: str = LOOPS):
    m = parse_module(text)
    PassManager(pipeline).run(m)
    (func,) = m.functions
    assert all(op.name in ("loop.kernel", "lf.constant", "lf.matmul") for op in func.ops[:-1]), \
        [op.name for op in func.ops] if pipeline == LOOPS else None
    return func


def _f(sig: str, body: str, ret: str) -> str:
    """A function text; `ret` is "values) : (types" as the return op spells it."""
    types = ret.split(") : (")[1]
    return f"func.func @f({sig}) -> ({types}) {{\n{body}\n  \"func.return\"({ret}) -> ()\n}}"


CASES = {
    "unary": _f("%x: tensor<3x5xf32>", '  %0 = "lf.sigmoid"(%x) : (tensor<3x5xf32>) -> tensor<3x5xf32>',
                "%0) : (tensor<3x5xf32>"),
    "broadcast": _f("%x: tensor<3x1x4xf64>, %y: tensor<5x1xf64>",
                    '  %0 = "lf.sub"(%x, %y) : (tensor<3x1x4xf64>, tensor<5x1xf64>) -> tensor<3x5x4xf64>',
                    "%0) : (tensor<3x5x4xf64>"),
    "int_floordiv": _f("%x: tensor<7xi32>, %y: tensor<7xi32>",
                       '  %0 = "lf.floordiv"(%x, %y) : (tensor<7xi32>, tensor<7xi32>) -> tensor<7xi32>',
                       "%0) : (tensor<7xi32>"),
    "cast": _f("%x: tensor<2x3xf32>", '  %0 = "lf.cast"(%x) {to = i8} : (tensor<2x3xf32>) -> tensor<2x3xi8>',
               "%0) : (tensor<2x3xi8>"),
    "select": _f("%c: tensor<4x1xi1>, %x: tensor<4x3xf32>, %y: tensor<3xf32>",
                 '  %0 = "lf.select"(%c, %x, %y) : (tensor<4x1xi1>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>',
                 "%0) : (tensor<4x3xf32>"),
    "scalar_tensor": _f("%x: tensor<f32>, %y: tensor<f32>",
                        '  %0 = "lf.max"(%x, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>', "%0) : (tensor<f32>"),
    "fusion": _f("%x: tensor<6x4xf32>, %y: tensor<4xf32>", '''  %0:2 = "lf.fusion"(%x, %y) ({
  ^bb0(%a: tensor<6x4xf32>, %b: tensor<4xf32>):
    %1 = "lf.mul"(%a, %b) : (tensor<6x4xf32>, tensor<4xf32>) -> tensor<6x4xf32>
    %2 = "lf.tanh"(%1) : (tensor<6x4xf32>) -> tensor<6x4xf32>
    %3 = "lf.ge"(%2, %a) : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xi1>
    "lf.yield"(%2, %3) : (tensor<6x4xf32>, tensor<6x4xi1>) -> ()
  }) : (tensor<6x4xf32>, tensor<4xf32>) -> (tensor<6x4xf32>, tensor<6x4xi1>)''',
                 "%0#0, %0#1) : (tensor<6x4xf32>, tensor<6x4xi1>"),
    "sum_rows": _f("%x: tensor<6x40xf32>",
                   '  %0 = "lf.reduce_sum"(%x) {axes = [1], keepdims = false} : (tensor<6x40xf32>) -> tensor<6xf32>',
                   "%0) : (tensor<6xf32>"),
    "max_cols_i64": _f("%x: tensor<6x5xi64>",
                       '  %0 = "lf.reduce_max"(%x) {axes = [0], keepdims = true} : (tensor<6x5xi64>) -> tensor<1x5xi64>',
                       "%0) : (tensor<1x5xi64>"),
    "empty": _f("%x: tensor<0x4xf32>", '  %0 = "lf.exp"(%x) : (tensor<0x4xf32>) -> tensor<0x4xf32>',
                "%0) : (tensor<0x4xf32>"),
}


def _inputs(func, rng):
    out = []
    for a in func.args:
        t = a.type
        if t.dtype.is_bool:
            out.append(rng.random(t.shape) < 0.5)
        elif t.dtype.is_float:
            out.append(rng.normal(size=t.shape).astype(t.dtype.np_dtype))
        else:
            out.append((rng.integers(1, 9, t.shape) * rng.choice([-1, 1], t.shape)).astype(t.dtype.np_dtype))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_native_equals_loop_interpreter(name, native):
    func = lowered(CASES[name])
    rng = np.random.default_rng(len(name))
    args = _inputs(func, rng)
    got, want = native(func).run(args), run_function(func, args)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, rtol=1e-5 if g.dtype.kind == "f" else 0, what=f"{name} result {i}")


def test_integer_division_by_zero_fails_the_step(native):
    func = lowered(CASES["int_floordiv"])
    x, y = np.arange(7, dtype=np.int32), np.array([1, 2, 3, 0, 5, 6, 7], np.int32)
    with pytest.raises(NativeError, match="Integer division by zero"):
        native(func).run([x, y])


BIG = _f("%x: tensor<600x1024xf32>, %y: tensor<1024xf32>", '''  %0 = "lf.fusion"(%x, %y) ({
  ^bb0(%a: tensor<600x1024xf32>, %b: tensor<1024xf32>):
    %1 = "lf.add"(%a, %b) : (tensor<600x1024xf32>, tensor<1024xf32>) -> tensor<600x1024xf32>
    %2 = "lf.tanh"(%1) : (tensor<600x1024xf32>) -> tensor<600x1024xf32>
    "lf.yield"(%2) : (tensor<600x1024xf32>) -> ()
  }) : (tensor<600x1024xf32>, tensor<1024xf32>) -> tensor<600x1024xf32>''', "%0) : (tensor<600x1024xf32>")


def test_large_parallel_nest_on_two_threads():
    """Above the parallel threshold the outer loop runs in chunks on libgomp threads."""
    tensor_level = parse_module(BIG).functions[0]
    func = lowered(BIG)
    exe = compile_function(func, threads=2)
    rng = np.random.default_rng(1)
    args = [rng.normal(size=(600, 1024)).astype(np.float32), rng.normal(size=1024).astype(np.float32)]
    (got,) = exe.run(args)
    (want,) = run_function(tensor_level, args)
    assert_same(got, want, rtol=2e-6, atol=1e-7)


def _normalised_llvm(text: str, pipeline: str, threads: int) -> str:
    m = parse_module(text)
    PassManager(pipeline).run(m)
    s = str(jit.optimise(jit_module_text(m.functions[0], "step", threads)))
    s = re.sub(r"step\.k(\d+)\.[\w.]+", r"step.k\1", s)  # kernels are named after their op
    s = re.sub(r"%[\w.\-]+", "%v", s)
    s = re.sub(r"^[\w.\-]+:.*$", "L:", s, flags=re.M)
    return re.sub(r"; preds = .*", "", s)


@pytest.mark.parametrize("threads", [1, 2])
def test_pass_and_backend_routes_emit_the_same_code(threads):
    """A step lowered by the `lower-to-loops` pass and one the backend lowers itself (the
    default pipeline's) optimise to the same code, serial or threaded. (When the loop level
    came in, this also held against the elementwise kernels that emitted LLVM from tensor ops.)"""
    assert _normalised_llvm(BIG, "plan-buffers", threads) == _normalised_llvm(BIG, LOOPS, threads)


REDUCE = _f("%x: tensor<64x256xf32>, %v: tensor<256xf32>", '''  %0 = "lf.reduce_fusion"(%x, %v) ({
  ^bb0(%a: tensor<64x256xf32>, %b: tensor<256xf32>):
    %1 = "lf.mul"(%a, %b) : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64x256xf32>
    %2 = "lf.reduce_sum"(%1) {axes = [1], keepdims = false} : (tensor<64x256xf32>) -> tensor<64xf32>
    "lf.yield"(%2) : (tensor<64xf32>) -> ()
  }) : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64xf32>
  %3 = "lf.reduce_max"(%x) {axes = [1], keepdims = false} : (tensor<64x256xf32>) -> tensor<64xf32>''',
           "%0, %3) : (tensor<64xf32>, tensor<64xf32>")


def test_reductions_vectorise_with_their_liberties():
    """The fold loops of a float sum (reassociated) and max (`llvm.maximum`, NaN-propagating,
    either zero) vectorise, and both routes emit the same code."""
    code = _normalised_llvm(REDUCE, LOOPS, 1)
    assert code == _normalised_llvm(REDUCE, "plan-buffers", 1)
    assert re.search(r"fadd reassoc contract <\d+ x float>", code)
    assert re.search(r"call nsz <\d+ x float> @llvm\.maximum\.v\d+f32", code)


def test_avx512_cpus_get_512_bit_loops():
    """LLVM tunes Intel AVX-512 cores to prefer ymm; the JIT's features lift that, so an
    auto-vectorised loop uses 16 floats per vector wherever the host has AVX-512."""
    assert jit.tuned_features("+avx2,+avx512f") == "+avx2,+avx512f,-prefer-256-bit"
    assert jit.tuned_features("+avx2,-avx512f") == "+avx2,-avx512f"
    if "+avx512f" not in jit.host_cpu()[1].split(","):
        pytest.skip("the host has no AVX-512")
    add = _f("%x: tensor<4096xf32>, %y: tensor<4096xf32>",
             '  %0 = "lf.add"(%x, %y) : (tensor<4096xf32>, tensor<4096xf32>) -> tensor<4096xf32>',
             "%0) : (tensor<4096xf32>")
    assert re.search(r"fadd [a-z ]*<16 x float>", _normalised_llvm(add, LOOPS, 1))
