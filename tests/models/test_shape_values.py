"""Shape-like arguments computed from run-time shapes (frontend/shape_values.py): values at
each run signature, the best static shape at build time, gradients through them; against
numpy and tensorflow.compat.v1."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from tests.models.helpers import compare

X = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
X5 = np.linspace(-1, 1, 5 * 3 * 4, dtype=np.float32).reshape(5, 3, 4)


def _shapes(tf):
    x = tf.placeholder(tf.float32, [None, 3, 4])
    s = tf.shape(x)
    y = tf.reshape(x, [s[0], -1])
    outs = [y, tf.reshape(x, [-1, s[1] * s[2]]), tf.reshape(x, tf.concat([s[:1], [-1]], 0)),
            tf.zeros(tf.stack([s[0], 2])), tf.ones([s[0], 2], tf.int32), tf.fill([s[0] * 2, 3], 7.0),
            tf.fill(s, 1.5), tf.tile(x, [1, s[0], 1]), tf.slice(x, [0, 1, 0], [s[0], -1, 2]),
            tf.slice(x, tf.stack([s[0] - 1, 0, 0]), [1, 2, 2])]
    grads = tf.gradients(tf.reduce_sum(y * y) + tf.reduce_sum(outs[8] * 3.0), x)
    return {"x": x}, outs + grads


@pytest.mark.parametrize("x", [X, X5], ids=["batch2", "batch5"])
def test_run_shapes_match_tf(x):
    compare(_shapes, {"x": x})


def test_values_against_numpy():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4])
        s = tf.shape(x)
        y, z = tf.reshape(x, [s[0], -1]), tf.slice(x, [0, 1, 0], [s[0], -1, 2])
        g = tf.gradients(tf.reduce_sum(z), x)[0]
        with tf.Session() as sess:
            for v in (X, X5):
                a, b, c = sess.run([y, z, g], {x: v})
                np.testing.assert_array_equal(a, v.reshape(len(v), -1))
                np.testing.assert_array_equal(b, v[:, 1:, :2])
                expected = np.zeros_like(v)
                expected[:, 1:, :2] = 1
                np.testing.assert_array_equal(c, expected)


def test_random_shape_from_run_shape():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        r = tf.random_uniform(tf.shape(x), seed=3)
        n = tf.random_normal([tf.shape(x)[0], 2], seed=4)
        assert r.shape.as_list() == [None, 4] and n.shape.as_list() == [None, 2]
        with tf.Session() as sess:
            a, b = sess.run([r, n], {x: np.zeros((7, 4), np.float32)})
        assert a.shape == (7, 4) and b.shape == (7, 2)
        assert a.dtype == np.float32 and 0 <= a.min() and a.max() < 1


def test_value_dependent_shape_runs():
    """A shape set by a fed value is computed when the step runs (frontend/run_dims.py)."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        n = tf.placeholder(tf.int32, [])
        y = tf.reshape(x, [n, -1])
        assert y.shape.as_list() == [None, None]
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {x: np.arange(4, dtype=np.float32), n: 2}), [[0, 1], [2, 3]])
            with pytest.raises(tf.errors.InvalidArgumentError, match="requested shape requires a multiple of 3"):
                sess.run(y, {x: np.zeros(4, np.float32), n: 3})
