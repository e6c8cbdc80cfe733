"""clip_by_value, add_n and tensordot: TF1 compositions of native ops, against numpy."""
import numpy as np
import pytest

import lowerflow as tf


@pytest.fixture
def sess():
    with tf.Graph().as_default() as g, tf.Session(graph=g) as s:
        yield s


def test_clip_by_value(sess):
    x = np.array([[-3.0, 0.5, 4.0]], np.float32)
    hi = np.array([[1.0], [2.0]], np.float32)
    t = tf.constant(x)
    np.testing.assert_array_equal(sess.run(tf.clip_by_value(t, -1.0, 1.0)), np.clip(x, -1, 1))
    np.testing.assert_array_equal(sess.run(tf.clip_by_value(tf.constant([5, -5]), 0, 3)), [3, 0])
    with pytest.raises(ValueError):
        tf.clip_by_value(t, -1.0, tf.constant(hi))  # would broadcast t to [2, 3]


def test_add_n(sess):
    xs = [np.arange(6, dtype=np.float64).reshape(2, 3) * i for i in range(1, 4)]
    out = tf.add_n([tf.constant(x) for x in xs])
    np.testing.assert_array_equal(sess.run(out), sum(xs))
    assert sess.run(tf.add_n([tf.constant([1, 2])])).tolist() == [1, 2]
    with pytest.raises(ValueError):
        tf.add_n([])
    with pytest.raises(ValueError):
        tf.add_n([tf.constant([1.0]), tf.constant([1.0, 2.0])])


@pytest.mark.parametrize("a_shape,b_shape,axes", [
    ((2, 3, 4), (4, 5), 1), ((2, 3, 4), (3, 4, 5), 2), ((3, 4), (4, 3), [[0, 1], [1, 0]]),
    ((2, 3), (5,), 0), ((4, 2, 3), (3, 2), [[1, 2], [1, 0]]),
])
def test_tensordot(sess, a_shape, b_shape, axes):
    rng = np.random.default_rng(0)
    a = rng.normal(size=a_shape).astype(np.float32)
    b = rng.normal(size=b_shape).astype(np.float32)
    got = sess.run(tf.tensordot(tf.constant(a), tf.constant(b), axes))
    np.testing.assert_allclose(got, np.tensordot(a, b, axes), rtol=1e-5, atol=1e-5)


def test_tensordot_with_unknown_batch(sess):
    x = tf.placeholder(tf.float32, [None, 3])
    w = np.ones((3, 2), np.float32)
    out = tf.tensordot(x, tf.constant(w), 1)
    assert out.shape.as_list() == [None, 2]
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_allclose(sess.run(out, {x: data}), data @ w)
    with pytest.raises(ValueError):
        tf.tensordot(x, tf.constant(np.ones((4, 2), np.float32)), 1)
