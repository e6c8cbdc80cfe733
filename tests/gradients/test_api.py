"""tf.gradients' API: seeds, several ys, cuts, unconnected xs, names, user rules, errors."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_several_ys_sum_and_grad_ys_seed():
    x = tf.constant([1.0, 2.0])
    (g,) = tf.gradients([x * x, 3.0 * x], x)
    (seeded,) = tf.gradients(x * x, x, grad_ys=tf.constant([10.0, 100.0]))
    got, got_seeded = run([g, seeded])
    np.testing.assert_allclose(got, [5.0, 7.0])
    np.testing.assert_allclose(got_seeded, [20.0, 400.0])


def test_grad_ys_dtype_must_match():
    x = tf.constant([1.0])
    with pytest.raises(TypeError):
        tf.gradients(x * 2.0, x, grad_ys=tf.constant([1.0], tf.float64))


def test_unconnected_gives_none_or_zeros():
    x, z = tf.constant([1.0, 2.0]), tf.constant([[3.0]])
    assert tf.gradients(x * 2.0, z) == [None]
    (zero,) = tf.gradients(x * 2.0, z, unconnected_gradients="zero")
    np.testing.assert_array_equal(run(zero), [[0.0]])
    with pytest.raises(ValueError):
        tf.gradients(x, z, unconnected_gradients="some")


def test_stop_gradient_and_stop_gradients_cut():
    x = tf.constant(3.0)
    y = x * x
    (g_op,) = tf.gradients(tf.stop_gradient(y) * x, x)
    (g_arg,) = tf.gradients(y * x, x, stop_gradients=[y])
    assert run([g_op, g_arg]) == [9.0, 9.0]


def test_integer_and_boolean_paths_give_no_gradient():
    x = tf.constant([1.5, 2.5])
    rounded = tf.cast(tf.cast(x, tf.int32) * 2, tf.float32)
    assert tf.gradients(rounded, x) == [None]
    assert tf.gradients(tf.cast(x > 2.0, tf.float32), x) == [None]
    assert tf.gradients(tf.floor(x), x) == [None]


def test_variables_identity_control_dependencies_and_names():
    w = tf.Variable([[1.0, 2.0]], name="w")
    with tf.control_dependencies([tf.no_op()]):
        y = tf.identity(tf.reduce_sum(w * w))
    (g,) = tf.gradients(y, w)
    assert g.name.startswith("gradients/")
    (again,) = tf.gradients(y, w)
    assert again.name.startswith("gradients_1/")
    np.testing.assert_allclose(run(g), [[2.0, 4.0]])


def test_gradients_are_tensors_that_can_be_transformed():
    x = tf.placeholder(tf.float32, [2])
    (g,) = tf.gradients(tf.reduce_sum(tf.exp(x)), x)
    np.testing.assert_allclose(run(g * 2.0 + 1.0, {x: [0.0, 1.0]}), [3.0, 2 * np.e + 1], rtol=1e-6)


def test_op_without_rule_raises_lookup_error_naming_type():
    x = tf.constant([[1.0, 2.0]])
    with tf.get_default_graph().gradient_override_map({"Square": "NeverRegistered"}):
        y = tf.square(x)
    with pytest.raises(LookupError, match="NeverRegistered"):
        tf.gradients(y, x)


def test_register_gradient_and_override_map():
    @tf.RegisterGradient("TimesTen")
    def _times_ten(op, grad):
        return grad * 10.0

    x = tf.constant(2.0)
    g = tf.get_default_graph()
    with g.gradient_override_map({"Identity": "TimesTen"}):
        y = tf.identity(x)
    plain = tf.identity(x)
    assert run(tf.gradients(y, x) + tf.gradients(plain, x)) == [10.0, 1.0]
    with pytest.raises(KeyError):
        tf.RegisterGradient("TimesTen")(_times_ten)


def test_no_gradient_registration():
    tf.no_gradient("MyStopType")
    with pytest.raises(TypeError):
        tf.no_gradient(3)


def test_gradient_of_gradient_through_softmax_rows():
    x = tf.placeholder(tf.float64, [2, 3])
    loss = tf.reduce_sum(tf.nn.softmax(x) * tf.constant([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]], tf.float64))
    (g,) = tf.gradients(loss, x)
    (h,) = tf.gradients(tf.reduce_sum(g * g), x)
    value = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]])
    got_h = run(h, {x: value})
    eps, want = 1e-6, np.zeros_like(value)
    for i in np.ndindex(value.shape):
        up, down = value.copy(), value.copy()
        up[i] += eps
        down[i] -= eps
        want[i] = (run(tf.reduce_sum(g * g), {x: up}) - run(tf.reduce_sum(g * g), {x: down})) / (2 * eps)
    np.testing.assert_allclose(got_h, want, rtol=1e-5, atol=1e-7)
