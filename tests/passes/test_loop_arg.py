"""ArgMax/ArgMin at the loop level: interp(tensor IR) == interp(loop IR) == native on every
dtype kind, axis and output type, with ties and NaN (the first index of the extreme; NaN
never wins, as TensorFlow's kernel), and tf.argmax/tf.argmin against TensorFlow."""
from __future__ import annotations

import re

import numpy as np
import pytest

import lowerflow as lf
from lowerflow.backend import compile_function
from lowerflow.ir import parse_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import VerifyError, verify
from lowerflow.passes import PassManager

SHAPE = (4, 1, 6, 5)
DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i32": np.int32, "i64": np.int64,
          "ui8": np.uint8}


def _t(shape: tuple, dtype: str) -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{dtype}>"


def _function(dtype: str) -> str:
    """Argmax and argmin of %x along every axis, alternating i64 and i32 results."""
    t, body, outs = _t(SHAPE, dtype), [], []
    for k, (op, axis) in enumerate((op, a) for a in range(-1, len(SHAPE)) for op in ("argmax", "argmin")):
        out = "i64" if k % 2 else "i32"
        rt = _t(tuple(n for d, n in enumerate(SHAPE) if d != axis % len(SHAPE)), out)
        body.append(f'  %r{k} = "lf.{op}"(%x) {{axis = {axis}, output_type = {out}}} : ({t}) -> {rt}')
        outs.append((f"%r{k}", rt))
    names, types = ", ".join(n for n, _ in outs), ", ".join(t for _, t in outs)
    return (f"func.func @f(%x: {t}) -> ({types}) {{\n" + "\n".join(body) +
            f'\n  "func.return"({names}) : ({types}) -> ()\n}}')


def _input(dtype: str, seed: int) -> np.ndarray:
    """Few distinct values (many ties); floats with NaN and infinities."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, SHAPE).astype(DTYPES[dtype])
    if dtype.startswith("f"):
        x[rng.random(SHAPE) < 0.15] = np.nan
        x[rng.random(SHAPE) < 0.1] = -np.inf
        x[0, 0, :, :] = np.nan  # rows of NaN only: index 0
    return x


@pytest.fixture(scope="module", params=sorted(DTYPES))
def levels(request):
    """(dtype, the tensor-level function, its loop level, the native executable)."""
    text = _function(request.param)
    m = parse_module(text)
    PassManager("plan-buffers,lower-to-loops").run(m)
    (func,) = m.functions
    assert all(op.name == "loop.kernel" for op in func.ops[:-1])
    return request.param, parse_module(text).functions[0], func, compile_function(func)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arg_reductions_mean_the_same_at_every_level(levels, seed):
    dtype, tensor_level, loop_level, native = levels
    x = _input(dtype, seed)
    want = run_function(tensor_level, [x])
    for level, got in (("loop IR", run_function(loop_level, [x])), ("native", native.run([x]))):
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.dtype, (level, k)
            np.testing.assert_array_equal(g, w, err_msg=f"{level} #{k}")


def test_first_index_of_ties_and_nan_never_wins(levels):
    dtype, _, _, native = levels
    if not dtype.startswith("f"):
        pytest.skip("NaN is a float's")
    x = np.zeros(SHAPE, DTYPES[dtype])
    x[..., 1] = x[..., 3] = 2
    x[..., 0] = np.nan
    got = native.run([x])
    np.testing.assert_array_equal(got[0], np.ones(SHAPE[:-1]))  # argmax, last axis: first of the two 2s
    np.testing.assert_array_equal(got[1], np.full(SHAPE[:-1], 2))  # argmin: first 0 after the NaN


def test_against_tensorflow(tf1):
    x = _input("f32", 7).reshape(24, 5)
    got, want = [], []
    for api, out in ((lf, got), (tf1, want)):
        with api.Graph().as_default():
            p = api.placeholder(api.float32, [24, 5])
            ops = [api.argmax(p, 1), api.argmin(p, 0, output_type=api.int32), api.arg_max(p, 0), api.arg_min(p, 1)]
            with api.Session() as s:
                out.extend(s.run(ops, {p: x}))
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


ARG_LOOP = '''func.func @f(%x: tensor<5xf32>) -> tensor<i32> {
  %0 = "loop.kernel"(%x) ({
  ^bb0(%out: memref<i32>, %in: memref<5xf32>):
    %low = "loop.constant"() {type = f32, value = 0xFFF0000000000000 : f64} : () -> f32
    %zero = "loop.const_index"() {value = 0} : () -> index
    %r:2 = "loop.for"(%low, %zero) ({
    ^bb0(%k: index, %b: f32, %bk: index):
      %v = "loop.load"(%in, %k) : (memref<5xf32>, index) -> f32
      %w = "loop.scalar"(%v, %b) {op = "lf.gt"} : (f32, f32) -> i1
      %nb = "loop.scalar"(%w, %v, %b) {op = "lf.select"} : (i1, f32, f32) -> f32
      %nk = "loop.index_select"(%w, %k, %bk) : (i1, index, index) -> index
      "lf.yield"(%nb, %nk) : (f32, index) -> ()
    }) {lower = 0, step = 1, upper = 5, unroll = true} : (f32, index) -> (f32, index)
    %i = "loop.index_cast"(%r#1) {type = i32} : (index) -> i32
    "loop.store"(%i, %out) : (i32, memref<i32>) -> ()
    "lf.yield"() : () -> ()
  }) : (tensor<5xf32>) -> tensor<i32>
  "func.return"(%0) : (tensor<i32>) -> ()
}'''


def test_hand_written_arg_loop_interprets_and_runs_unrolled():
    m = parse_module(ARG_LOOP)
    verify(m)
    x = np.array([1, 4, np.nan, 4, 2], np.float32)
    for got in (run_function(m.functions[0], [x]), compile_function(m.functions[0]).run([x])):
        assert got[0].dtype == np.int32 and got[0] == 1


@pytest.mark.parametrize("old, new, message", [
    ('{type = i32} : (index) -> i32\n    "loop.store"(%i, %out) : (i32,', '{type = f32} : (index) -> f32\n    "loop.store"(%i, %out) : (f32,',
     "casts one index to an integer type"),
    ('"loop.index_select"(%w, %k, %bk) : (i1, index, index)', '"loop.index_select"(%v, %k, %bk) : (f32, index, index)',
     "takes (i1, index, index)"),
    ("unroll = true", "unroll = 1", "'unroll' must be a bool"),
])
def test_verifier_rejects(old, new, message):
    assert old in ARG_LOOP
    with pytest.raises((VerifyError, TypeError, ValueError), match=re.escape(message)):
        verify(parse_module(ARG_LOOP.replace(old, new)))
