"""tf.nn at build time and in the reference interpreter: names, shapes, TF1's errors,
values against numpy oracles (nn_oracles.py)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from ops_a import nn_oracles as oracle
from ops_a.helpers import reference_run

X = np.array([[-3.0, -0.5, 0.0, 0.25, 2.0, 8.0], [100.0, -100.0, 1.0, 1e-3, -7.0, 6.0]])


@pytest.mark.parametrize("name", sorted(oracle.ACTIVATIONS))
def test_activation_values_and_names(name):
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float64, X.shape)
        out = getattr(tf.nn, name)(ph, name="out")
        assert out.name == "out:0" and out.shape.as_list() == list(X.shape)
        default = getattr(tf.nn, name)(ph)
        (got,) = reference_run([default], {ph: X})
    np.testing.assert_allclose(got, oracle.ACTIVATIONS[name](X), rtol=1e-12, atol=1e-300)


def test_softmax_axes_and_stability():
    x = np.array([[1000.0, 1000.0], [-1000.0, 0.0]], np.float32)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float32, x.shape)
        outs = [tf.nn.softmax(ph), tf.nn.softmax(ph, axis=0), tf.nn.softmax(ph, dim=0),
                tf.nn.log_softmax(ph), tf.math.log_softmax(ph, 0)]
        assert outs[0].op.name == "Softmax" and outs[3].op.name == "LogSoftmax"
        got = reference_run(outs, {ph: x})
    np.testing.assert_allclose(got[0], [[0.5, 0.5], [0.0, 1.0]])
    np.testing.assert_allclose(got[1], oracle.softmax(x.astype(np.float64), 0), rtol=1e-6)
    np.testing.assert_array_equal(got[1], got[2])
    np.testing.assert_allclose(got[3], [[-np.log(2), -np.log(2)], [-1000.0, 0.0]], rtol=1e-6)
    np.testing.assert_allclose(got[4], oracle.log_softmax(x.astype(np.float64), 0), rtol=1e-6)


def test_integer_activations():
    x = np.array([-4, 0, 3, 9], np.int32)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.int32, x.shape)
        r6, lr = tf.nn.relu6(ph), tf.nn.leaky_relu(ph, alpha=0.5)
        assert r6.dtype == tf.int32 and lr.dtype == tf.float32  # TF1 casts leaky_relu's ints
        got = reference_run([r6, lr], {ph: x})
    np.testing.assert_array_equal(got[0], [0, 0, 3, 6])
    np.testing.assert_array_equal(got[1], [-2, 0, 3, 9])
    with tf.Graph().as_default(), pytest.raises(TypeError):
        tf.nn.elu(tf.placeholder(tf.int32, [2]))


def test_bias_add():
    v = np.arange(12.0).reshape(2, 2, 3)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float64, v.shape)
        out = tf.nn.bias_add(ph, [1.0, 2.0, 3.0])
        assert out.op.name == "BiasAdd"
        (got,) = reference_run([out], {ph: v})
        np.testing.assert_array_equal(got, v + [1, 2, 3])
        x = tf.placeholder(tf.float32, [2, 3])
        with pytest.raises(ValueError, match=r"are 3 and 4 for 'BiasAdd_1' \(op: 'BiasAdd'\)"):
            tf.nn.bias_add(x, tf.placeholder(tf.float32, [4]))
        with pytest.raises(ValueError, match="Shape must be at least rank 2 but is rank 1"):
            tf.nn.bias_add(tf.placeholder(tf.float32, [3]), tf.placeholder(tf.float32, [3]))
        with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
            tf.nn.bias_add(x, tf.placeholder(tf.float32, [1, 3]))
        with pytest.raises(ValueError, match="data_format"):
            tf.nn.bias_add(x, tf.placeholder(tf.float32, [3]), data_format="NWC")


def test_l2_normalize_axis_and_epsilon():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float64, x.shape)
        got = reference_run([tf.nn.l2_normalize(ph, axis=1), tf.nn.l2_normalize(ph, dim=0, epsilon=100.0)],
                            {ph: x})
    np.testing.assert_allclose(got[0], [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(got[1], [[0.3, 0.4], [0.0, 0.0]])


def test_cross_entropies():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((4, 5)) * 3
    labels = oracle.softmax(rng.standard_normal((4, 5)))
    binary = rng.uniform(size=(4, 5))
    with tf.Graph().as_default():
        lg, lb = tf.placeholder(tf.float64, logits.shape), tf.placeholder(tf.float64, labels.shape)
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=lb, logits=lg)
        v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=lb, logits=lg, axis=0)
        sig = tf.nn.sigmoid_cross_entropy_with_logits(labels=lb, logits=lg, name="sig")
        assert v1.shape.as_list() == [4] and v2.shape.as_list() == [5] and sig.name == "sig:0"
        assert v1.op.name == "softmax_cross_entropy_with_logits_sg"
        got = reference_run([v1, v2, sig], {lg: logits, lb: labels})
        (sig_binary,) = reference_run([sig], {lg: logits, lb: binary})
    np.testing.assert_allclose(got[0], oracle.softmax_xent(labels, logits), rtol=1e-12)
    np.testing.assert_allclose(got[1], oracle.softmax_xent(labels, logits, 0), rtol=1e-12)
    np.testing.assert_allclose(got[2], oracle.sigmoid_xent(labels, logits), rtol=1e-12)
    np.testing.assert_allclose(sig_binary, oracle.sigmoid_xent(binary, logits), rtol=1e-12)


def test_cross_entropy_argument_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 3])
        assert tf.nn.softmax_cross_entropy_with_logits(x, x).shape.as_list() == [2]  # TF 2.21: no sentinel
        with pytest.raises(ValueError, match="Both `labels` and `logits` must be provided"):
            tf.nn.sigmoid_cross_entropy_with_logits(logits=x)
        with pytest.raises(ValueError, match=r"`logits` and `labels` must have the same shape"):
            tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.placeholder(tf.float32, [2, 4]), logits=x)


@pytest.mark.parametrize("keep_dims", [False, True])
def test_moments(keep_dims):
    x = np.random.default_rng(3).standard_normal((3, 4, 5))
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float64, x.shape)
        mean, var = tf.nn.moments(ph, [0, 2], keep_dims=keep_dims)
        assert mean.shape.as_list() == var.shape.as_list() == ([1, 4, 1] if keep_dims else [4])
        got = reference_run([mean, var], {ph: x})
        half = tf.nn.moments(tf.placeholder(tf.float16, [3]), [0])
        assert [t.dtype for t in half] == [tf.float16, tf.float16]
    np.testing.assert_allclose(got[0], x.mean((0, 2), keepdims=keep_dims), rtol=1e-12)
    np.testing.assert_allclose(got[1], x.var((0, 2), keepdims=keep_dims), rtol=1e-12)


def test_sparse_softmax_cross_entropy():
    logits = np.random.default_rng(4).standard_normal((2, 3, 5)) * 3
    labels = np.array([[0, 4, 2], [1, 1, 3]])
    with tf.Graph().as_default():
        lg, lb = tf.placeholder(tf.float64, logits.shape), tf.placeholder(tf.int64, labels.shape)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lb, logits=lg)
        assert loss.op.type == "SparseSoftmaxCrossEntropyWithLogits" and loss.shape.as_list() == [2, 3]
        (got,) = reference_run([loss], {lg: logits, lb: labels})
        with pytest.raises(ValueError, match="Received a label value of 5"):
            reference_run([loss], {lg: logits, lb: labels + 1})
        with pytest.raises(ValueError, match=r"`labels.shape.rank` must equal `logits.shape.rank - 1`"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lg, logits=lg)
        with pytest.raises(ValueError, match="`labels.shape` must equal `logits.shape` except for the last"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.placeholder(tf.int32, [2, 4]), logits=lg)
        with pytest.raises(TypeError):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.placeholder(tf.float32, [2, 3]), logits=lg)
        assert tf.nn.sparse_softmax_cross_entropy_with_logits(lb, lg).shape.as_list() == [2, 3]
    one_hot = np.eye(5)[labels]
    np.testing.assert_allclose(got, oracle.softmax_xent(one_hot, logits), rtol=1e-12)
