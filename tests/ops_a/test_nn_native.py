"""tf.nn through tf.Session (native code) against numpy oracles, one graph per dtype."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from ops_a import nn_oracles as oracle

TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}


@pytest.mark.parametrize("dtype", list(TOLERANCE))
def test_nn_functions_match_numpy(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 6)) * 4).astype(dtype)
    x[0, :3] = [80.0, -80.0, 0.0]  # softmax/softplus stability
    labels = oracle.softmax(rng.standard_normal((4, 6))).astype(dtype)
    with tf.Graph().as_default(), tf.Session() as sess:
        px, pl = tf.placeholder(tf.as_dtype(dtype), x.shape), tf.placeholder(tf.as_dtype(dtype), x.shape)
        names = sorted(oracle.ACTIVATIONS)
        outs = [getattr(tf.nn, n)(px) for n in names]
        mean, var = tf.nn.moments(px, [0])
        outs += [tf.nn.softmax(px, axis=0), tf.nn.log_softmax(px, axis=0),
                 tf.nn.softmax_cross_entropy_with_logits_v2(labels=pl, logits=px),
                 tf.nn.softmax_cross_entropy_with_logits(labels=pl, logits=px, dim=0),
                 tf.nn.sigmoid_cross_entropy_with_logits(labels=pl, logits=px),
                 tf.nn.bias_add(px, tf.constant(np.arange(6, dtype=dtype))), mean, var]
        got = sess.run(outs, {px: x, pl: labels})
    x64, l64 = x.astype(np.float64), labels.astype(np.float64)
    want = [oracle.ACTIVATIONS[n](x64) for n in names] + [
        oracle.softmax(x64, 0), oracle.log_softmax(x64, 0), oracle.softmax_xent(l64, x64),
        oracle.softmax_xent(l64, x64, 0), oracle.sigmoid_xent(l64, x64), x64 + np.arange(6),
        x64.mean(0), x64.var(0)]
    for name, g, w in zip(names + ["softmax0", "log_softmax0", "xent", "xent0", "sigmoid_xent", "bias",
                                   "mean", "var"], got, want):
        assert g.dtype == dtype, name
        np.testing.assert_allclose(g, w, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype], err_msg=name)


def test_softmax_of_huge_logits_is_finite():
    x = np.array([[1e4, 1e4 - 1.0, -1e4]], np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.float32, x.shape)
        s, ls = sess.run([tf.nn.softmax(ph), tf.nn.log_softmax(ph)], {ph: x})
    np.testing.assert_allclose(s, oracle.softmax(x.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(ls, [[-0.31326169, -1.31326169, -20000.31326169]], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sparse_softmax_cross_entropy(dtype):
    logits = (np.random.default_rng(1).standard_normal((6, 7)) * 5).astype(dtype)
    labels = np.array([0, 6, 3, 3, 1, 5], np.int32)
    with tf.Graph().as_default(), tf.Session() as sess:
        lg, lb = tf.placeholder(tf.as_dtype(dtype), logits.shape), tf.placeholder(tf.int32, labels.shape)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lb, logits=lg)
        got = sess.run(loss, {lg: logits, lb: labels})
        with pytest.raises(tf.errors.InvalidArgumentError, match="valid range"):
            sess.run(loss, {lg: logits, lb: labels - 1})
    want = oracle.softmax_xent(np.eye(7)[labels], logits.astype(np.float64))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=2e-3 if dtype == np.float16 else TOLERANCE[dtype])
