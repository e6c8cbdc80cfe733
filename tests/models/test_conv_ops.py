"""tf.nn.conv2d, conv2d_transpose, max_pool, avg_pool and bias_add against numpy and
tensorflow.compat.v1: values, dtypes, static shapes and gradients, in both layouts."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow
import lowerflow as tf
from tests.models.helpers import compare

R = np.random.default_rng(0)
X = R.standard_normal((2, 7, 8, 3)).astype(np.float32)
F = R.standard_normal((3, 2, 3, 4)).astype(np.float32)
CONVS = [([1, 1, 1, 1], "SAME", [1, 1, 1, 1]), ([1, 2, 2, 1], "VALID", [1, 1, 1, 1]),
         ([1, 1, 1, 1], "SAME", [1, 2, 2, 1]), ([1, 2, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]], [1, 1, 1, 1]),
         (2, "SAME", 1)]
POOLS = [("max_pool", [1, 3, 3, 1], [1, 2, 2, 1], "SAME"), ("avg_pool", [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
         ("avg_pool", 2, 2, "VALID"), ("max_pool2d", 2, 1, "VALID"), ("avg_pool2d", [3, 2], [1, 2], "SAME")]


def _nchw(v):
    """NHWC-form arguments (strides, dilations, explicit paddings) in NCHW order."""
    if isinstance(v, list) and len(v) == 4:
        return [v[0], v[3], v[1], v[2]]
    return v


def _build(data_format: str):
    """NCHW under lowerflow; TF's CPU kernels are NHWC only, so its side computes NHWC and
    transposes the results to NCHW."""
    def build(tf):
        x = tf.placeholder(tf.float32, [None, 7, 8, 3])
        nchw = data_format == "NCHW" and tf is lowerflow
        xin = tf.transpose(x, [0, 3, 1, 2]) if nchw else x
        order = _nchw if nchw else (lambda v: v)
        form = "NCHW" if nchw else "NHWC"
        outs = [tf.nn.conv2d(xin, tf.constant(F), order(s), order(p) if isinstance(p, list) else p,
                             data_format=form, dilations=order(d)) for s, p, d in CONVS]
        outs += [getattr(tf.nn, fn)(xin, order(k), order(s), p, data_format=form) for fn, k, s, p in POOLS]
        outs.append(tf.nn.bias_add(outs[0], tf.constant([1.0, -2.0, 3.0, 0.5]), data_format=form))
        if data_format == "NCHW" and not nchw:
            outs = [tf.transpose(o, [0, 3, 1, 2]) for o in outs]
        loss = tf.add_n([tf.reduce_sum(o * o) for o in outs])
        return {"x": x}, outs + tf.gradients(loss, [x])
    return build


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_against_tf(data_format):
    compare(_build(data_format), {"x": X}, rtol=1e-4, atol=1e-4)


def _numpy_conv(x, f, stride, pads):
    x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    kh, kw = f.shape[:2]
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, f.shape[3]), np.float32)
    for i in range(oh):
        for j in range(ow):
            window = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j] = np.tensordot(window, f, axes=3)
    return out


def test_against_numpy_unknown_batch():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 7, 8, 3])
        y = tf.nn.conv2d(x, F, [1, 2, 2, 1], "SAME")
        m = tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        assert y.shape.as_list() == [None, 4, 4, 4] and y.op.name == "Conv2D"
        with tf.Session() as sess:
            for batch in (X, X[:1]):
                a, b = sess.run([y, m], {x: batch})
                np.testing.assert_allclose(a, _numpy_conv(batch, F, 2, [(1, 1), (0, 1)]), rtol=1e-4, atol=1e-5)
                np.testing.assert_array_equal(b, batch[:, :6].reshape(len(batch), 3, 2, 4, 2, 3).max((2, 4)))


def test_conv2d_transpose_against_tf():
    w = R.standard_normal((3, 3, 2, 4)).astype(np.float32)  # [kh, kw, out, in]

    def build(tf):
        v = tf.placeholder(tf.float32, [2, 4, 4, 4])
        outs = [tf.nn.conv2d_transpose(v, tf.constant(w), [2, 8, 8, 2], [1, 2, 2, 1], "SAME"),
                tf.nn.conv2d_transpose(v, tf.constant(w), [2, 6, 6, 2], [1, 1, 1, 1], "VALID")]
        loss = tf.add_n([tf.reduce_sum(o * o) for o in outs])
        return {"v": v}, outs + tf.gradients(loss, [v])
    compare(build, {"v": R.standard_normal((2, 4, 4, 4)).astype(np.float32)}, rtol=1e-4, atol=1e-4)


def test_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [1, 5, 5, 3])
        with pytest.raises(ValueError, match="Depth of input"):
            tf.nn.conv2d(x, np.zeros((2, 2, 4, 1), np.float32), [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="padding"):
            tf.nn.max_pool(x, 2, 2, "FULL")
        with pytest.raises(ValueError, match="negative"):
            tf.nn.conv2d(x, np.zeros((7, 7, 3, 1), np.float32), [1, 1, 1, 1], "VALID")
        with pytest.raises(ValueError, match="Unknown data format"):
            tf.nn.avg_pool(x, 2, 2, "SAME", data_format="HWCN")


def test_conv1d_and_softsign_against_tf():
    w = R.standard_normal((3, 2, 4)).astype(np.float32)

    def build(tf):
        v = tf.placeholder(tf.float32, [None, 9, 2])
        outs = [tf.nn.conv1d(v, tf.constant(w), 2, "SAME"), tf.nn.conv1d(v, tf.constant(w), [1, 1, 1], "VALID"),
                tf.nn.softsign(v)]
        loss = tf.add_n([tf.reduce_sum(o * o) for o in outs])
        return {"v": v}, outs + tf.gradients(loss, [v])
    compare(build, {"v": R.standard_normal((2, 9, 2)).astype(np.float32)}, rtol=1e-4, atol=1e-4)
