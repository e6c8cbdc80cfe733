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
