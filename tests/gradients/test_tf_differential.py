"""Gradients against TensorFlow's (tf.compat.v1 graph mode) on the shared cases."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from tests.gradients.cases import CASES, build_loss

tf1 = pytest.importorskip("tensorflow.compat.v1")


def gradient_value(tf, name: str, value: np.ndarray) -> np.ndarray:
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3, 4])
        (grad,) = tf.gradients(build_loss(tf, name, x), x)
        with tf.Session() as sess:
            return sess.run(grad, {x: value})


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_tensorflow(name):
    tf1.disable_eager_execution()
    value = np.random.default_rng(2).uniform(0.1, 1.0, (3, 4))
    np.testing.assert_allclose(gradient_value(lf, name, value), gradient_value(tf1, name, value),
                               rtol=1e-9, atol=1e-12)


def test_unconnected_and_integer_paths_match_tensorflow():
    tf1.disable_eager_execution()
    for tf in (lf, tf1):
        with tf.Graph().as_default():
            x = tf.constant([1.5, 2.5])
            assert tf.gradients(tf.cast(tf.cast(x, tf.int32), tf.float32), x) == [None]
            assert tf.gradients(tf.constant(1.0), x) == [None]


def test_unsorted_segment_sum_matches_tensorflow():
    """Values, dtype and the error class of an id past num_segments, against TF."""
    tf1.disable_eager_execution()
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    results = []
    for tf in (lf, tf1):
        with tf.Graph().as_default():
            ids = tf.placeholder(tf.int32, [4])
            out = tf.math.unsorted_segment_sum(tf.constant(data), ids, 3)
            (grad,) = tf.gradients(tf.reduce_sum(out * tf.constant(np.arange(9.0, dtype=np.float32).reshape(3, 3))),
                                   [out.op.inputs[0]])
            with tf.Session() as sess:
                value, g = sess.run([out, grad], {ids: [2, -1, 0, 2]})
                with pytest.raises(tf.errors.InvalidArgumentError):
                    sess.run(out, {ids: [0, 3, 1, 1]})
            results.append((value, g))
    (got, got_g), (want, want_g) = results
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_g, want_g)


def test_registered_gradient_and_override_map_match_tensorflow():
    tf1.disable_eager_execution()
    got = []
    for tf in (lf, tf1):
        @tf.RegisterGradient("DiffTestClipped")
        def _clipped(op, grad):
            return tf.clip_by_value(grad, -1.0, 1.0)

        with tf.Graph().as_default() as g:
            x = tf.constant([1.0, 2.0])
            with g.gradient_override_map({"Identity": "DiffTestClipped"}):
                y = tf.identity(x)
            grads = tf.gradients(y * 5.0, x) + tf.gradients(tf.identity(x) * 5.0, x)
            with tf.Session() as sess:
                got.append(sess.run(grads))
    np.testing.assert_array_equal(got[0], got[1])
