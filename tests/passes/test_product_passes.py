"""`sum-products`, `narrow-products`, `pretranspose` and `hoist-invariants` keep the meaning:
their FileCheck cases (tests/ir/sum-products.mlir, narrow-products.mlir, pretranspose.mlir,
control-hoist-invariants.mlir) run through the interpreter and natively before and after the
pass, and an unrolled RNN's gradient, whose kernel and bias gradients
are such sums and whose input gradients such splits, against TensorFlow."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lowerflow as lf
from lowerflow.backend import compile_function
from lowerflow.ir import parse_module
from lowerflow.ir.interp import run_function
from lowerflow.passes import PassManager

HERE = Path(__file__).parents[1] / "ir"
CASES = [("sum-products", t) for t in (HERE / "sum-products.mlir").read_text().split("// -----")] + \
    [("narrow-products", t) for t in (HERE / "narrow-products.mlir").read_text().split("// -----")] + \
    [("pretranspose", t) for t in (HERE / "pretranspose.mlir").read_text().split("// -----")] + \
    [("hoist-invariants", t) for t in (HERE / "control-hoist-invariants.mlir").read_text().split("// -----")]


def _inputs(func, rng):
    """Normal floats; integers in [1, 3), so that the loops' counters run and indices fit."""
    return [rng.standard_normal(a.type.shape).astype(a.type.dtype.np_dtype) if a.type.dtype.is_float
            else rng.integers(1, 3, a.type.shape).astype(a.type.dtype.np_dtype) for a in func.args]


@pytest.mark.parametrize("name, text", CASES, ids=["kernel_grad", "bias_grad", "kept", "columns", "rows",
                                                           "shared_b", "loop_b", "hoisted", "integer_operand"])
def test_the_pass_keeps_the_values(name, text):
    before = parse_module(text).functions[0]
    after = PassManager(f"{name},cse,dce").run(parse_module(text)).functions[0]
    args = _inputs(before, np.random.default_rng(0))
    for want, interp, native in zip(run_function(before, args), run_function(after, args),
                                    compile_function(after).run(args)):
        np.testing.assert_allclose(interp, want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(native, want, rtol=1e-5, atol=1e-5)


def _rnn_grads(m):
    """d loss / d (kernel, bias) of 5 unrolled tanh steps sharing one kernel and bias."""
    rng = np.random.RandomState(3)
    g = m.Graph()
    with g.as_default():
        xs = m.constant(rng.randn(5, 4, 3).astype(np.float32))
        kernel = m.constant(rng.randn(6, 3).astype(np.float32) * 0.5)
        bias = m.constant(rng.randn(3).astype(np.float32))
        h = m.zeros([4, 3])
        for t in range(5):
            h = m.tanh(m.matmul(m.concat([xs[t], h], 1), kernel) + bias)
        grads = m.gradients(m.reduce_sum(h * h), [kernel, bias])
        with m.Session() as sess:
            return sess.run(grads)


def test_an_unrolled_rnns_gradients_match_tensorflow():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    for ours, theirs in zip(_rnn_grads(lf), _rnn_grads(tf1)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
