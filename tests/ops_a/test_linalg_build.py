"""Matmul at build time and in the reference interpreter: op types, static shapes,
TF1's build-time errors, batch broadcasting, values against numpy."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from ops_a.helpers import reference_run


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_matmul_matches_numpy(ta, tb, batch):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(batch + ((4, 2) if ta else (2, 4)))
    b = rng.standard_normal(batch + ((5, 4) if tb else (4, 5)))
    with tf.Graph().as_default():
        pa, pb = tf.placeholder(tf.float64, a.shape), tf.placeholder(tf.float64, b.shape)
        out = tf.matmul(pa, pb, transpose_a=ta, transpose_b=tb)
        assert out.op.type == ("BatchMatMulV2" if batch else "MatMul")
        assert out.shape.as_list() == list(batch) + [2, 5]
        (got,) = reference_run([out], {pa: a, pb: b})
    want = np.swapaxes(a, -1, -2) if ta else a
    want = want @ (np.swapaxes(b, -1, -2) if tb else b)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_operator_adjoint_and_batch_broadcast():
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    b = np.arange(8, dtype=np.int32).reshape(4, 2)
    with tf.Graph().as_default():
        pa, pb = tf.placeholder(tf.int32, a.shape), tf.placeholder(tf.int32, b.shape)
        outs = [pa @ pb, tf.linalg.matmul(pb, pa, adjoint_a=True, adjoint_b=True)]
        assert [o.shape.as_list() for o in outs] == [[2, 3, 2], [2, 2, 3]]
        got = reference_run(outs, {pa: a, pb: b})
    np.testing.assert_array_equal(got[0], a @ b)
    np.testing.assert_array_equal(got[1], b.T @ np.swapaxes(a, 1, 2))


def test_matmul_build_errors():
    with tf.Graph().as_default():
        a, b = tf.placeholder(tf.float32, [2, 3]), tf.placeholder(tf.float32, [4, 5])
        with pytest.raises(ValueError) as e:
            tf.matmul(a, b)
        assert str(e.value) == ("Dimensions must be equal, but are 3 and 4 for 'MatMul' (op: 'MatMul') "
                                "with input shapes: [2,3], [4,5].")
        with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
            tf.matmul(tf.placeholder(tf.float32, [3]), b)
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.matmul(tf.placeholder(tf.float32, [2, 3]), tf.placeholder(tf.float32, [3, 2]),
                      transpose_a=True)
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.matmul(tf.placeholder(tf.float32, [3, 4, 4]), tf.placeholder(tf.float32, [2, 4, 4]))
        with pytest.raises(TypeError, match="Input 'b' of 'MatMul' Op has type float64"):
            tf.matmul(a, tf.placeholder(tf.float64, [3, 4]))
        with pytest.raises(TypeError):
            tf.matmul(tf.placeholder(tf.bool, [2, 2]), tf.placeholder(tf.bool, [2, 2]))
        with pytest.raises(ValueError, match="Only one of transpose_a and adjoint_a"):
            tf.matmul(a, b, transpose_a=True, adjoint_a=True)


def test_unknown_dims_and_rank():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None, 3])
        assert tf.matmul(a, tf.placeholder(tf.float32, [None, 7])).shape.as_list() == [None, 7]
        out = tf.matmul(tf.placeholder(tf.float32), tf.placeholder(tf.float32, [3, 5]))
        assert out.op.type == "BatchMatMulV2" and out.shape.ndims is None


def test_dtype_mismatch_is_reported_before_rank():
    """TF checks an op's input types before its shape function (found by tests/fuzz)."""
    a = tf.constant(1.0, tf.float64)
    b = tf.constant(1, tf.int8)
    with pytest.raises(TypeError, match="does not match type float64"):
        tf.matmul(a, b)
