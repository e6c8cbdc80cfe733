"""The sparse softmax cross entropy at the loop level: interp(tensor IR) == interp(loop IR)
== native over logits dtypes (f16 folded in f32, f32, f64), int32/int64 labels, ranks 1-3,
no rows; a label outside [0, classes) (or any label of zero classes) fails at every level;
the printed loop IR parses back identically."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import NativeError, compile_function
from lowerflow.backend.errors import LABEL_RANGE
from lowerflow.ir import Module, parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import verify
from lowerflow.passes import PassManager


def _t(shape, dtype) -> str:
    return f"tensor<{'x'.join(map(str, shape))}{'x' if shape else ''}{dtype}>"


def _function(shape: tuple, dtype: str, label_type: str) -> str:
    x, lab, out = _t(shape, dtype), _t(shape[:-1], label_type), _t(shape[:-1], dtype)
    return f"""func.func @f(%x: {x}, %l: {lab}) -> {out} {{
  %0 = "lf.sparse_softmax_xent"(%x, %l) : ({x}, {lab}) -> {out}
  "func.return"(%0) : ({out}) -> ()
}}"""


CASES = [((6, 7), "f32", "i32"), ((2, 3, 5), "f32", "i64"), ((5, 9), "f64", "i32"), ((4, 33), "f16", "i64"),
         ((7,), "f32", "i32"), ((0, 5), "f32", "i32")]
TOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-13}


@pytest.fixture(scope="module", params=CASES, ids=["x".join(map(str, s)) + f"-{d}-{l}" for s, d, l in CASES])
def levels(request):
    """(the case, the tensor-level function, its loop level, the native executable)."""
    text = _function(*request.param)
    m = parse_module(text)
    PassManager("plan-buffers,lower-to-loops").run(m)
    (func,) = m.functions
    assert [op.name for op in func.ops[:-1]] == ["loop.kernel"]
    return request.param, parse_module(text).functions[0], func, compile_function(func)


def _inputs(case, seed: int) -> list[np.ndarray]:
    shape, dtype, label_type = case
    rng = np.random.default_rng(seed)
    np_dtype = {"f16": np.float16, "f32": np.float32, "f64": np.float64}[dtype]
    x = (rng.standard_normal(shape) * 4).astype(np_dtype)
    labels = rng.integers(0, shape[-1], shape[:-1]).astype({"i32": np.int32, "i64": np.int64}[label_type])
    return [x, labels]


@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_xent_means_the_same_at_every_level(levels, seed):
    case, tensor_level, loop_level, native = levels
    args = _inputs(case, seed)
    (want,) = run_function(tensor_level, args)
    for level, (got,) in (("loop IR", run_function(loop_level, args)), ("native", native.run(args))):
        assert got.dtype == want.dtype and got.shape == want.shape, level
        tol = TOL[got.dtype.type]
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol,
                                   err_msg=level)


def test_loop_ir_parses_back_identically(levels):
    text = print_module(Module([levels[2]]))
    again = parse_module(text)
    verify(again)
    assert print_module(again) == text


@pytest.mark.parametrize("bad", [-1, 7, 1 << 20])
def test_a_label_out_of_range_fails_at_every_level(bad):
    case = ((6, 7), "f32", "i32")
    m = parse_module(_function(*case))
    PassManager("plan-buffers,lower-to-loops").run(m)
    x, labels = _inputs(case, 2)
    labels[3] = bad
    with pytest.raises(ValueError, match="outside the valid range"):
        run_function(parse_module(_function(*case)).functions[0], [x, labels])
    with pytest.raises(ValueError, match="label_range"):
        run_function(m.functions[0], [x, labels])
    with pytest.raises(NativeError) as info:
        compile_function(m.functions[0]).run([x, labels])
    assert info.value.code == LABEL_RANGE


def test_zero_classes_reject_every_label():
    m = parse_module(_function((3, 0), "f32", "i64"))
    PassManager("plan-buffers,lower-to-loops").run(m)
    args = [np.zeros((3, 0), np.float32), np.zeros(3, np.int64)]
    with pytest.raises(ValueError, match="label_range"):
        run_function(m.functions[0], args)
    with pytest.raises(NativeError) as info:
        compile_function(m.functions[0]).run(args)
    assert info.value.code == LABEL_RANGE
