"""Reductions through tf.Session (native code) against numpy: every reduction, axis and
keepdims combination per (shape, dtype) in one graph, so each pair compiles once."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf

FLOAT_OPS = {"reduce_sum": np.sum, "reduce_mean": np.mean, "reduce_max": np.max, "reduce_min": np.min,
             "reduce_prod": np.prod}
SHAPES = {(2, 3, 4): [None, 0, 1, 2, [0, 2], [-1, -2], []], (0, 3): [None, 0, 1], (1, 5): [None, 0, 1],
          (7,): [None, 0], (): [None, []]}
DTYPES = [np.float32, np.float64, np.int32, np.int64]
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's mean of nothing


def _sample(shape, dtype, rng):
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(-4, 5, shape).astype(dtype)


def _int_mean(x, axis, keepdims):
    total = np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    count = x.size // max(total.size, 1) if x.size else 0
    return total if count == 0 else (np.trunc(total / count)).astype(x.dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", list(SHAPES), ids=str)
def test_reductions_match_numpy(shape, dtype):
    x = _sample(shape, dtype, np.random.default_rng(0))
    cases = [(fn, axis, keep) for fn in FLOAT_OPS for axis in SHAPES[shape] for keep in (False, True)]
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.as_dtype(dtype), shape)
        outs = [getattr(tf, fn)(ph, axis, keepdims=keep) for fn, axis, keep in cases]
        got = sess.run(outs, {ph: x})
    for (fn, axis, keep), g, out in zip(cases, got, outs):
        np_axis = tuple(axis) if isinstance(axis, list) else axis
        if fn == "reduce_mean" and x.dtype.kind == "i":
            want = _int_mean(x, np_axis, keep)
        elif fn in ("reduce_max", "reduce_min") and x.size == 0:
            continue  # numpy refuses; the identity case is tested below
        else:
            want = np.asarray(FLOAT_OPS[fn](x, axis=np_axis, keepdims=keep)).astype(dtype)
        assert g.dtype == dtype and g.shape == want.shape == tuple(out.shape.as_list()), (fn, axis, keep)
        np.testing.assert_allclose(g, want, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   err_msg=f"{fn} axis={axis} keepdims={keep}")


@pytest.mark.parametrize("dtype", DTYPES + [np.uint8])
def test_argmax_argmin(dtype):
    x = _sample((3, 4, 5), dtype if dtype != np.uint8 else np.int32, np.random.default_rng(1)).astype(dtype)
    x[0, 0, :] = x[0, 0, 0]  # ties: the first index wins
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.as_dtype(dtype), x.shape)
        outs = [tf.argmax(ph, a) for a in (0, 1, 2, -1)] + [tf.argmin(ph, a, output_type=tf.int32)
                                                            for a in (0, 1, -1)]
        got = sess.run(outs, {ph: x})
    want = [x.argmax(a) for a in (0, 1, 2, -1)] + [x.argmin(a).astype(np.int32) for a in (0, 1, -1)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_bool_reductions():
    x = np.array([[True, False, True], [True, True, True]])
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.bool, x.shape)
        empty = tf.placeholder(tf.bool, [2, 0])
        outs = [tf.reduce_any(ph), tf.reduce_all(ph), tf.reduce_any(ph, 0), tf.reduce_all(ph, 1, keepdims=True),
                tf.reduce_any(empty, 1), tf.reduce_all(empty, 1)]
        got = sess.run(outs, {ph: x, empty: np.zeros((2, 0), bool)})
    want = [True, False, [True, True, True], [[False], [True]], [False, False], [True, True]]
    for g, w in zip(got, want):
        assert g.dtype == np.bool_
        np.testing.assert_array_equal(g, w)


def test_special_values_and_empty_identities():
    x = np.array([[1.0, np.nan, -np.inf], [-0.0, -0.0, 2.0], [np.inf, 1.0, 3.0]], np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.float32, x.shape)
        e = tf.placeholder(tf.float32, [0, 2])
        i = tf.placeholder(tf.int64, [3, 0])
        outs = [tf.reduce_max(ph, 1), tf.reduce_min(ph, 1), tf.reduce_sum(ph, 1), tf.argmax(ph, 1),
                tf.argmin(ph, 0), tf.reduce_sum(ph, []),
                tf.reduce_max(e, 0), tf.reduce_min(e, 0), tf.reduce_prod(e, 0), tf.reduce_mean(e, 0),
                tf.reduce_max(i, 1), tf.reduce_min(i, 1), tf.reduce_mean(i, 1)]
        got = sess.run(outs, {ph: x, e: np.zeros((0, 2)), i: np.zeros((3, 0))})
    big = np.iinfo(np.int64)
    want = [[np.nan, 2.0, np.inf], [np.nan, -0.0, 1.0], [np.nan, 2.0, np.inf], [0, 2, 0], [1, 1, 0], x,
            [-np.inf] * 2, [np.inf] * 2, [1.0, 1.0], [np.nan] * 2, [big.min] * 3, [big.max] * 3, [0] * 3]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert np.signbit(got[1][1]) and np.signbit(got[5][1, 0])  # -0.0 survives min and an empty sum


@pytest.mark.parametrize("dtype", [np.float16, np.uint8, np.int8])
def test_narrow_dtypes(dtype):
    x = (np.arange(600) % 7).astype(dtype).reshape(20, 30)
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.as_dtype(dtype), x.shape)
        got = sess.run([tf.reduce_sum(ph, 1), tf.reduce_mean(ph, 0), tf.reduce_max(ph)], {ph: x})
    acc = np.float32 if dtype == np.float16 else dtype
    np.testing.assert_array_equal(got[0], x.sum(1, dtype=acc).astype(dtype))  # integers wrap
    np.testing.assert_allclose(got[1].astype(np.float64), np.trunc(x.mean(0)) if dtype != np.float16
                               else x.astype(np.float32).mean(0), rtol=1e-3)
    assert got[2] == 6


def test_native_equals_reference_interpreter():
    """The differential oracle of the project: interp(IR) == native(IR) on random data."""
    from ops_a.helpers import reference_run

    x = np.random.default_rng(2).standard_normal((5, 6, 7))
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.float64, x.shape)
        outs = [tf.reduce_sum(ph, [0, 2]), tf.reduce_mean(ph, 1, keepdims=True), tf.reduce_max(ph, 0),
                tf.argmin(ph, 2), tf.reduce_prod(ph, [1])]
        native = sess.run(outs, {ph: x})
        reference = reference_run(outs, {ph: x})
    for n, r in zip(native, reference):
        np.testing.assert_allclose(n, r, rtol=1e-13)
