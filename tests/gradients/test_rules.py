"""Every gradient rule against central finite differences in float64 (native runs)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from tests.gradients.cases import CASES, build_loss


def finite_difference(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        out[i] = (f(up) - f(down)) / (2 * eps)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_matches_finite_differences(name):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3, 4])
        loss = build_loss(tf, name, x)
        (grad,) = tf.gradients(loss, x)
        assert grad.shape.as_list() == [3, 4]
        with tf.Session() as sess:
            value = np.random.default_rng(1).uniform(0.1, 1.0, (3, 4))
            got = sess.run(grad, {x: value})
            want = finite_difference(lambda v: sess.run(loss, {x: v}), value)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_unknown_batch_dim_sums_broadcast_back():
    """[None, 3] + [3]: which axes to sum is known only when the run fixes the batch size."""
    x = tf.placeholder(tf.float32, [None, 3])
    b = tf.Variable(np.zeros(3, np.float32))
    loss = tf.reduce_sum((x + b) * (x + b))
    gb, gx = tf.gradients(loss, [b, x])
    assert gb.shape.as_list() == [3] and gx.shape.as_list() == [None, 3]
    with tf.Session() as sess:
        sess.run(b.initializer)
        for rows in (1, 5):
            value = np.arange(3 * rows, dtype=np.float32).reshape(rows, 3)
            got_b, got_x = sess.run([gb, gx], {x: value})
            np.testing.assert_allclose(got_b, 2 * value.sum(0))
            np.testing.assert_allclose(got_x, 2 * value)


def test_second_order_elementwise_reduction_and_matmul():
    x = tf.placeholder(tf.float64, [2, 2])
    w = tf.constant(np.array([[1.0, 2.0], [3.0, 4.0]]))
    y = tf.reduce_sum(tf.matmul(x * x * x, w))
    (g,) = tf.gradients(y, x)
    (h,) = tf.gradients(tf.reduce_sum(g), x)
    value = np.array([[1.0, -2.0], [0.5, 3.0]])
    with tf.Session() as sess:
        got_g, got_h = sess.run([g, h], {x: value})
    rows = np.array([3.0, 7.0])  # d sum(x^3 @ w) / d x[i, j] = 3 x[i, j]^2 * (row j of w summed)
    np.testing.assert_allclose(got_g, 3 * value ** 2 * rows)
    np.testing.assert_allclose(got_h, 6 * value * rows)


def test_segment_sum_drops_negative_ids_and_checks_range():
    data = tf.constant(np.arange(8.0).reshape(4, 2))
    ids = tf.placeholder(tf.int32, [4])
    out = tf.math.unsorted_segment_sum(data, ids, 3)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {ids: [0, -1, 2, 0]}), [[6, 8], [0, 0], [4, 5]])
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(out, {ids: [0, 3, 1, 1]})


def test_backward_broadcasts_fuse_into_their_readers():
    """Mean and bias gradients broadcast a row vector back: inside the loops that read it,
    never as a materialised tensor, and the count of a mean is folded to a constant."""
    from lowerflow.passes import DEFAULT_PIPELINE, PassManager

    x = tf.placeholder(tf.float32, [8, 5])
    b = tf.Variable(np.ones(5, np.float32))
    loss = tf.reduce_mean(tf.reduce_sum(tf.square(x + b), 1))
    gx, gb = tf.gradients(loss, [x, b])
    module = tf.to_ir([gx, gb], [x])
    PassManager(DEFAULT_PIPELINE, verify_each=False).run(module)
    top = [op.name for op in module.functions[0].ops]
    assert "lf.broadcast_to" not in top and "lf.size" not in top, top
    value = np.arange(40, dtype=np.float32).reshape(8, 5)
    with tf.Session() as sess:
        sess.run(b.initializer)
        got_x, got_b = sess.run([gx, gb], {x: value})
    np.testing.assert_allclose(got_x, 2 * (value + 1) / 8, rtol=1e-6)
    np.testing.assert_allclose(got_b, 2 * (value + 1).sum(0) / 8, rtol=1e-6)


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = tf.placeholder(tf.float64, [3, 4])
    (g,) = tf.gradients(tf.reduce_prod(x, axis=1), x)
    value = np.array([[0.5, 0.0, 2.0, 3.0], [0.0, 0.0, 1.0, 2.0], [1.0, 2.0, 3.0, 0.5]])
    with tf.Session() as sess:
        got = sess.run(g, {x: value})
    want = [[0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [3.0, 1.5, 1.0, 6.0]]
    np.testing.assert_allclose(got, want)
