"""Reductions at build time and in the reference interpreter: TF1 signatures, static
shapes, TF1's build-time errors, and values against numpy."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import ir
from ops_a.helpers import reference_run

REDUCERS = {"reduce_sum": np.sum, "reduce_mean": np.mean, "reduce_max": np.max, "reduce_min": np.min,
            "reduce_prod": np.prod}
AXES = [None, 0, 1, -1, [0, 2], [-1, 0], []]


@pytest.mark.parametrize("fn", sorted(REDUCERS))
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_float_reductions_match_numpy(fn, axis, keepdims):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float32, [2, 3, 4])
        out = getattr(tf, fn)(ph, axis=axis, keepdims=keepdims)
        (got,) = reference_run([out], {ph: x})
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    want = REDUCERS[fn](x, axis=np_axis, keepdims=keepdims)
    assert tuple(out.shape.as_list()) == want.shape == got.shape
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_static_shapes_and_names():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4])
        assert tf.reduce_sum(x).shape.as_list() == []
        assert tf.reduce_sum(x).op.name == "Sum_1"
        assert tf.reduce_mean(x, 1, keepdims=True).shape.as_list() == [None, 1, 4]
        assert tf.reduce_max(x, [0, -1]).shape.as_list() == [3]
        assert tf.reduce_min(x, reduction_indices=2, keep_dims=True).shape.as_list() == [None, 3, 1]
        assert tf.reduce_prod(x, tf.constant([1])).shape.as_list() == [None, 4]
        assert tf.argmax(x, 1).shape.as_list() == [None, 4]
        assert tf.argmax(x).dtype == tf.int64 and tf.argmin(x, output_type=tf.int32).dtype == tf.int32
        assert tf.reduce_any(tf.placeholder(tf.bool, [2]), name="any").op.name == "any"
        assert tf.math.reduce_all is tf.reduce_all and tf.math.argmin is tf.argmin


def test_unknown_rank_input():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32)
        assert tf.reduce_sum(x).shape.as_list() == []
        assert tf.reduce_sum(x, 1).shape.ndims is None
        assert tf.reduce_mean(x, keepdims=True).shape.ndims is None
        assert tf.argmax(x, -2).shape.ndims is None
        out = tf.reduce_sum(x, 1)
        (got,) = reference_run([out], {x: np.ones((2, 3), np.float32)})
        np.testing.assert_array_equal(got, [3, 3])
        with pytest.raises(TypeError):
            tf.reduce_any(x, 0)


def test_build_time_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 3])
        with pytest.raises(ValueError, match=r"Invalid reduction dimension 2 for input with 2 "
                                             r"dimensions.*'Sum'.*\[2,3\]"):
            tf.reduce_sum(x, 2)
        with pytest.raises(ValueError, match="Invalid reduction dimension -3"):
            tf.reduce_mean(x, -3)
        with pytest.raises(TypeError):
            tf.reduce_any(x)
        with pytest.raises(TypeError):
            tf.reduce_sum(tf.placeholder(tf.bool, [2]))
        with pytest.raises(ValueError, match="Cannot specify both 'axis' and 'reduction_indices'"):
            tf.reduce_sum(x, axis=0, reduction_indices=0)
        with pytest.raises(ValueError, match="Cannot specify both 'keepdims' and 'keep_dims'"):
            tf.reduce_sum(x, keepdims=True, keep_dims=True)
        with pytest.raises(ValueError, match="Cannot specify both 'axis' and 'dimension'"):
            tf.argmax(x, axis=0, dimension=0)
        with pytest.raises(ValueError):
            tf.argmax(x, 2)
        with pytest.raises(NotImplementedError, match="reduction axis when the graph is built"):
            tf.reduce_sum(x, tf.placeholder(tf.int32, []))
        with pytest.raises(TypeError):
            tf.reduce_sum(x, 0.5)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8])
def test_integer_reductions(dtype):
    x = np.array([[7, -7, 3], [2, 5, -9]]).astype(dtype)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.as_dtype(dtype), x.shape)
        outs = [tf.reduce_sum(ph, 1), tf.reduce_mean(ph, 1), tf.reduce_mean(ph, 0), tf.reduce_prod(ph),
                tf.reduce_max(ph, 0), tf.reduce_min(ph), tf.argmax(ph, 1), tf.argmin(ph, 0)]
        got = reference_run(outs, {ph: x})

    def mean(axis):  # the sum wraps in 64 bits (as TF's), the division truncates toward zero (C)
        total = x.sum(axis, dtype=np.int64 if np.dtype(dtype).kind == "i" else np.uint64)
        return np.trunc(total.astype(np.float64) / x.shape[axis]).astype(dtype)

    want = [x.sum(1, dtype=dtype), mean(1), mean(0), x.prod(dtype=dtype), x.max(0), x.min(),
            x.argmax(1), x.argmin(0)]
    for g, w in zip(got, want):
        assert g.dtype == np.asarray(w).dtype or g.dtype == np.int64
        np.testing.assert_array_equal(g, w)


def test_empty_and_special_values():
    with tf.Graph().as_default():
        e = tf.placeholder(tf.float32, [0, 3])
        i = tf.placeholder(tf.int32, [0])
        b = tf.placeholder(tf.bool, [2, 0])
        outs = [tf.reduce_sum(e, 0), tf.reduce_prod(e, 0), tf.reduce_max(e, 0), tf.reduce_min(e),
                tf.reduce_mean(e, 0), tf.reduce_mean(i), tf.reduce_max(i), tf.reduce_any(b, 1),
                tf.reduce_all(b, 1), tf.reduce_sum(e, 1)]
        got = reference_run(outs, {e: np.zeros((0, 3)), i: np.zeros(0), b: np.zeros((2, 0))})
    want = [[0, 0, 0], [1, 1, 1], [-np.inf] * 3, np.inf, [np.nan] * 3, 0, np.iinfo(np.int32).min,
            [False, False], [True, True], np.zeros(0)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_nan_propagates_and_argmax_ignores_it():
    """max/min propagate NaN; argmax/argmin skip it, as TF's kernel (a NaN never wins)."""
    x = np.array([[1.0, np.nan, 3.0], [2.0, 2.0, -1.0]], np.float32)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float32, x.shape)
        got = reference_run([tf.reduce_max(ph, 1), tf.reduce_min(ph, 1), tf.argmax(ph, 1),
                             tf.argmin(ph, 1)], {ph: x})
    np.testing.assert_array_equal(got[0], [np.nan, 2.0])
    np.testing.assert_array_equal(got[1], [np.nan, -1.0])
    np.testing.assert_array_equal(got[2], [2, 0])
    np.testing.assert_array_equal(got[3], [0, 2])


def test_float16_accumulates_in_float32():
    x = np.full(4096, 0.1, np.float16)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float16, x.shape)
        total, mean = reference_run([tf.reduce_sum(ph), tf.reduce_mean(ph)], {ph: x})
    assert total.dtype == np.float16
    np.testing.assert_allclose(total, 4096 * 0.1, rtol=2e-3)
    np.testing.assert_allclose(mean, 0.1, rtol=2e-3)


def test_ir_text_round_trip():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 3])
        module = tf.to_ir([tf.reduce_sum(x, [-1], keepdims=True), tf.reduce_max(x), tf.argmax(x, 1)], [x])
    text = str(module)
    assert '"lf.reduce_sum"' in text and "axes = [-1 : i64]" in text and "output_type = i64" in text
    assert str(ir.parse_module(text)) == text
