"""tf.layers against tensorflow.compat.v1: variable names, shapes and values, outputs,
gradients, batch-norm moving averages through UPDATE_OPS, reuse; and tf.app.flags."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import lowerflow as tf
from tests.models.helpers import tf1, tf1_layers

R = np.random.default_rng(2)
X = R.standard_normal((4, 6, 6, 2)).astype(np.float32)
INIT = {"conv2d/kernel": R.standard_normal((3, 3, 2, 3)).astype(np.float32) * 0.3,
        "conv2d/bias": np.array([0.1, -0.2, 0.3], np.float32),
        "dense/kernel": R.standard_normal((27, 5)).astype(np.float32) * 0.3,
        "dense/bias": np.linspace(-1, 1, 5, dtype=np.float32)}


def _net(tf):
    x = tf.placeholder(tf.float32, [None, 6, 6, 2])
    training = tf.placeholder_with_default(True, [])
    init = {k: tf.constant_initializer(v) for k, v in INIT.items()}
    h = tf.layers.conv2d(x, 3, 3, padding="same", activation=tf.nn.relu,
                         kernel_initializer=init["conv2d/kernel"], bias_initializer=init["conv2d/bias"])
    h = tf.layers.batch_normalization(h, training=training, momentum=0.9)
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = tf.layers.average_pooling2d(h, 2, 1, padding="same")
    h = tf.layers.dropout(tf.layers.flatten(h), 0.5, training=False)
    y = tf.layers.dense(h, 5, kernel_initializer=init["dense/kernel"], bias_initializer=init["dense/bias"])
    z = tf.layers.dense(h, 5, name="dense", reuse=True)  # the same variables
    loss = tf.reduce_sum(y * y) + tf.reduce_mean(z)
    names = sorted(v.name for v in tf.global_variables())
    trainable = sorted(v.name for v in tf.trainable_variables())
    grads = tf.gradients(loss, tf.trainable_variables())
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        step = tf.identity(loss)
    stats = [v for v in tf.global_variables() if "moving" in v.name]
    return x, [y, z, step] + grads, stats, names, trainable, y.shape.as_list()


def _run(tf):
    with tf.Graph().as_default():
        x, fetches, stats, names, trainable, shape = _net(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run(fetches, {x: X})
            moved = sess.run(stats)
    return values, moved, names, trainable, shape


def test_layers_against_tf():
    ours, theirs = _run(tf), _run(tf1_layers())
    assert ours[2:] == theirs[2:]  # variable names, trainable names, static shape
    assert "dense/kernel:0" in ours[2] and "batch_normalization/moving_mean:0" in ours[2]
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


def test_default_initializers_and_names():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8])
        tf.layers.dense(x, 4)
        tf.layers.dense(x, 4)
        names = [v.name for v in tf.global_variables()]
        assert names == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            k, b = sess.run(tf.global_variables()[:2])
        limit = np.sqrt(6 / (8 + 4))  # glorot_uniform
        assert np.abs(k).max() <= limit and k.std() > 0.1 and not b.any()
        with pytest.raises(ValueError, match="last dimension"):
            tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 3)


def test_dropout_training_tensor():
    with tf.Graph().as_default():
        x = tf.ones([200, 50])
        flag = tf.placeholder(tf.bool, [])
        y = tf.layers.dropout(x, 0.5, training=flag, seed=1)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {flag: False}), np.ones((200, 50)))
            dropped = sess.run(y, {flag: True})
        assert set(np.unique(dropped)) == {0.0, 2.0}


def test_flags_and_app_run():
    values = tf.flags.FlagValues()
    tf.flags.DEFINE_integer("steps", 3, "steps", flag_values=values)
    tf.flags.DEFINE_boolean("fast", False, "fast", flag_values=values)
    tf.flags.DEFINE_string("name", "a", "name", flag_values=values)
    assert values(["prog", "--steps=5", "--fast", "--name", "b", "rest"]) == ["prog", "rest"]
    assert (values.steps, values.fast, values.name) == (5, True, "b")
    assert values(["prog", "--nofast"]) == ["prog"] and values.fast is False
    with pytest.raises(tf.flags.UnrecognizedFlagError):
        values(["prog", "--bogus=1"])
    with pytest.raises(SystemExit) as exit_info:
        tf.app.run(lambda argv: len(argv), argv=["prog", "x", "y"])
    assert exit_info.value.code == 3


DECONV_X = R.standard_normal((2, 4, 5, 3)).astype(np.float32)
DECONV_K = R.standard_normal((3, 3, 2, 3)).astype(np.float32) * 0.3
DECONV_B = [0.1, -0.1]
#: (padding, strides, batch) and the output's spatial size by Keras's deconvolution lengths
DECONV_CASES = [("same", 2, None, (8, 10)), ("valid", 2, 2, (9, 11)), ("valid", (1, 2), None, (6, 11)),
                ("same", 1, 2, (4, 5))]


def _deconv_run(tf, build):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4, 5, 3])
        y, variables = build(tf, x)
        fetches = [y] + tf.gradients(tf.reduce_sum(y * y), [x] + variables)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(fetches, {x: DECONV_X}), sorted(v.name for v in tf.global_variables()), y.shape.as_list()


def _deconv_layer(padding, strides, batch):
    def build(tf, x):
        if batch is not None:
            x = tf.reshape(x, [batch, 4, 5, 3])
        y = tf.layers.conv2d_transpose(x, 2, 3, strides, padding, activation=tf.nn.relu,
                                       kernel_initializer=tf.constant_initializer(DECONV_K),
                                       bias_initializer=tf.constant_initializer(DECONV_B))
        return y, tf.trainable_variables()
    return build


def _deconv_by_hand(padding, strides, batch, size):
    """The layer written with tf.nn (which needs no Keras), TF1's variable names."""
    def build(tf, x):
        if batch is not None:
            x = tf.reshape(x, [batch, 4, 5, 3])
        sh, sw = (strides, strides) if isinstance(strides, int) else strides
        with tf.variable_scope("conv2d_transpose"):
            kernel = tf.get_variable("kernel", initializer=tf.constant(DECONV_K))
            bias = tf.get_variable("bias", initializer=tf.constant(DECONV_B, tf.float32))
        out = tf.stack([tf.shape(x)[0], *size, 2])
        y = tf.nn.conv2d_transpose(x, kernel, out, [1, sh, sw, 1], padding.upper())
        y = tf.nn.relu(tf.nn.bias_add(tf.reshape(y, [batch or -1, *size, 2]), bias))
        return y, [kernel, bias]
    return build


@pytest.mark.parametrize("padding,strides,batch,size", DECONV_CASES)
def test_conv2d_transpose_layer_against_tf(padding, strides, batch, size):
    """Output sizes (a run-time batch too), variable names, values and the gradients of input,
    kernel and bias against TF's tf.nn with TF1's layer names (and TF's own layer, where
    tf_keras is installed)."""
    ours = _deconv_run(tf, _deconv_layer(padding, strides, batch))
    assert ours[1] == ["conv2d_transpose/bias:0", "conv2d_transpose/kernel:0"]
    assert ours[2] == [batch, *size, 2]
    references = [_deconv_run(tf1(), _deconv_by_hand(padding, strides, batch, size))]
    if importlib.util.find_spec("tf_keras"):
        references.append(_deconv_run(tf1_layers(), _deconv_layer(padding, strides, batch)))
    for theirs in references:
        assert ours[1:] == theirs[1:]
        for a, b in zip(ours[0], theirs[0]):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_layer_channels_first_is_the_transposed_channels_last():
    x = DECONV_X
    with tf.Graph().as_default():
        init = tf.constant_initializer(DECONV_K)
        last = tf.layers.conv2d_transpose(tf.constant(x), 2, 3, 2, "valid", kernel_initializer=init, name="a")
        first = tf.layers.conv2d_transpose(tf.constant(x.transpose(0, 3, 1, 2)), 2, 3, 2, "valid",
                                           data_format="channels_first", kernel_initializer=init, name="b")
        assert first.shape.as_list() == [2, 2, 9, 11]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            a, b = sess.run([last, first])
    np.testing.assert_allclose(a, b.transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)
