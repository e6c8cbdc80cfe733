"""Regularization losses: `variable_scope(regularizer=...)` and `get_variable(regularizer=...)`
fill REGULARIZATION_LOSSES; `tf.losses.get_regularization_loss(es)` and `get_total_loss` sum
them with the collected losses; `tf.keras.regularizers` give Keras's penalties."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf

W0 = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
B0 = np.array([1.0, -2.0, 3.0], np.float32)


def _model():
    """Two regularized variables (scope default and override), one unregularized, one loss."""
    with tf.variable_scope("net", regularizer=lambda v: tf.multiply(0.1, tf.nn.l2_loss(v))):
        w = tf.get_variable("w", initializer=tf.constant(W0))
        b = tf.get_variable("b", initializer=tf.constant(B0), regularizer=tf.keras.regularizers.l1(0.5))
        c = tf.get_variable("c", [3], initializer=tf.ones_initializer(), regularizer=lambda v: None)
    with tf.variable_scope("net", reuse=True):
        assert tf.get_variable("w") is w  # reuse adds no second loss
    plain = tf.get_variable("plain", [2], initializer=tf.zeros_initializer())
    loss = tf.losses.mean_squared_error(tf.constant([[1.0, 2.0, 3.0]]), tf.matmul(tf.ones([1, 2]), w) + b)
    return w, b, c, plain, loss


def test_regularizers_fill_the_collection_and_sum():
    with tf.Graph().as_default():
        w, b, c, plain, loss = _model()
        reg = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        assert [t.name for t in reg] == ["net/w/Regularizer/Mul:0", "net/b/Regularizer/Mul:0"]
        assert tf.losses.get_regularization_losses() == reg
        assert tf.losses.get_regularization_losses(scope="net/b") == reg[1:]
        total_reg = tf.losses.get_regularization_loss()
        total = tf.losses.get_total_loss()
        without = tf.losses.get_total_loss(add_regularization_losses=False, name="data_loss")
        none = tf.losses.get_regularization_loss(scope="nothing")
        assert total_reg.name == "total_regularization_loss:0" and total.name == "total_loss:0"
        assert without.name == "data_loss:0" and none.op.type == "Const"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run({"reg": reg, "total_reg": total_reg, "total": total, "without": without, "none": none,
                            "loss": loss})
    want_reg = [0.1 * (W0.astype(np.float64) ** 2).sum() / 2, 0.5 * np.abs(B0).sum()]
    data = ((W0.sum(0) + B0 - [1.0, 2.0, 3.0]) ** 2).mean()
    np.testing.assert_allclose(got["reg"], want_reg, rtol=1e-6)
    np.testing.assert_allclose(got["total_reg"], sum(want_reg), rtol=1e-6)
    np.testing.assert_allclose([got["loss"], got["without"]], [data, data], rtol=1e-6)
    np.testing.assert_allclose(got["total"], data + sum(want_reg), rtol=1e-6)
    assert got["none"] == 0.0


def test_add_loss_and_scoped_total():
    with tf.Graph().as_default():
        extra = tf.constant(2.5, name="extra")
        tf.losses.add_loss(extra)
        tf.losses.add_loss(tf.constant(7.0), loss_collection=None)  # nothing added
        with tf.name_scope("head"):
            head = tf.losses.absolute_difference(tf.constant([1.0]), tf.constant([4.0]), scope="head_loss")
        assert tf.losses.get_losses() == [extra, head]
        one = tf.losses.get_total_loss(scope="head")
        both = tf.losses.get_total_loss()
        assert one.op.type == "Identity" and one.name == "total_loss:0"
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run([one, both]), [3.0, 5.5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keras_regularizers(dtype):
    x = np.array([[1.5, -2.0], [0.25, 3.0]], dtype)
    k = tf.keras.regularizers
    with tf.Graph().as_default():
        t = tf.constant(x)
        outs = [k.l2()(t), k.L2(0.3)(t), k.l1(0.2)(t), k.L1L2(l1=0.1, l2=0.2)(t), k.l1_l2()(t), k.L1L2(l2=0.5)(t)]
        assert all(o.dtype == t.dtype and o.shape.as_list() == [] for o in outs)
        with tf.Session() as sess:
            got = sess.run(outs)
    sq, ab = (x.astype(np.float64) ** 2).sum(), np.abs(x.astype(np.float64)).sum()
    np.testing.assert_allclose(got, [0.01 * sq, 0.3 * sq, 0.2 * ab, 0.1 * ab + 0.2 * sq, 0.0, 0.5 * sq], rtol=1e-6)
    assert k.L1L2(l1=0.1).get_config() == {"l1": 0.1, "l2": 0.0} and k.L2.from_config({"l2": 0.2}).l2 == 0.2
    with pytest.raises(ValueError, match="Invalid value for argument l2"):
        k.L2(float("nan"))
