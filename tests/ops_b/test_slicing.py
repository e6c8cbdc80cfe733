"""`Tensor.__getitem__` (StridedSlice) against numpy's basic indexing: ints, negative
indices, slices with any step, tf.newaxis, Ellipsis, shrink axes; through the reference
interpreter and natively, with static and with unknown dims."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import lowerflow as tf
from ops_a.helpers import reference_run
from ops_b.cases import sample

INDICES = [
    0, -1, 1, slice(None), slice(1, None), slice(None, -1), slice(None, None, 2), slice(None, None, -1),
    slice(-1, 0, -1), slice(5, -10, -2), slice(10, 20), slice(-100, 100), slice(2, 1), slice(1, sys.maxsize),
    (Ellipsis, 0), (None, 1), (0, None, Ellipsis, None), (slice(None), None, -1), (Ellipsis, slice(None, None, -2), 1),
    (1, 2, 3), (-2, -3, -4), (slice(1, 3), slice(None), slice(None, None, -3)), (None, Ellipsis, None), (Ellipsis,),
    (Ellipsis, None), (slice(None, None, -1), slice(None, None, -1), slice(None, None, -1)), (0, Ellipsis, 0),
    (slice(None), 1, slice(1, -1)), (Ellipsis, 2, slice(None), None), (None, None, 0, slice(1, 3)), (),
    (slice(3, None, -2), Ellipsis), (1, slice(-1, -4, -1), Ellipsis, slice(None, 2)),
]
SHAPE = (2, 3, 4)


def _build(x):
    return [x[i] for i in INDICES] + [x[[1, 2]], x[tf.constant(1), tf.constant(-1)], x[np.int64(1), ::np.int32(2)]]


def _want(x):
    return [x[i] for i in INDICES] + [x[1, 2], x[1, -1], x[1, ::2]]


def _check(outs, got, want):
    assert len(got) == len(want)
    for out, g, w, idx in zip(outs, got, want, INDICES + ["list", "tensor", "numpy ints"]):
        assert g.dtype == w.dtype and g.shape == w.shape, idx
        assert out.shape.is_compatible_with(w.shape), idx
        np.testing.assert_array_equal(g, w, err_msg=str(idx))


def test_static_shapes_match_numpy():
    x = np.zeros(SHAPE)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float64, SHAPE)
        for out, w in zip(_build(ph), _want(x)):
            assert out.shape.as_list() == list(w.shape)


def test_reference_matches_numpy():
    x = sample(SHAPE, np.float32)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float32, SHAPE)
        outs = _build(ph)
        _check(outs, reference_run(outs, {ph: x}), _want(x))


@pytest.mark.parametrize("dims", ["static", "unknown"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
def test_native_matches_numpy(dtype, dims):
    x = sample(SHAPE, dtype)
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.as_dtype(dtype), SHAPE if dims == "static" else [None] * 3)
        outs = _build(ph)
        _check(outs, sess.run(outs, {ph: x}), _want(x))


def test_slicing_variables_and_scalars():
    with tf.Graph().as_default(), tf.Session() as sess:
        v = tf.Variable(np.arange(6.0).reshape(2, 3))
        s = tf.constant(5)
        sess.run(tf.global_variables_initializer())
        got = sess.run([v[1, ::-1], v[..., 0], s[tf.newaxis], s[...]])
    np.testing.assert_array_equal(got[0], [5.0, 4.0, 3.0])
    np.testing.assert_array_equal(got[1], [0.0, 3.0])
    assert got[2].shape == (1,) and got[3] == 5


def test_out_of_range_index_with_unknown_dims_is_invalid_argument():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [None])
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
            sess.run(x[-4], {x: np.zeros(3)})
        assert sess.run(x[-3], {x: np.arange(3.0)}) == 0.0
