"""Reductions, matmul and nn ops fed non-contiguous numpy views (transposed, strided) equal numpy."""
import numpy as np
import pytest

import lowerflow as tf


@pytest.fixture(scope="module")
def case():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [None, None])
        b = tf.placeholder(tf.float32, [None, None])
        outs = {
            "sum0": tf.reduce_sum(a, axis=0), "max1": tf.reduce_max(a, axis=1, keepdims=True),
            "mean": tf.reduce_mean(a), "argmax": tf.argmax(a, axis=1), "matmul": tf.matmul(a, b),
            "softmax": tf.nn.softmax(a), "logsm": tf.nn.log_softmax(a),
        }
        with tf.Session(graph=g) as sess:
            yield sess, a, b, outs


def test_views_match_numpy(case):
    sess, a, b, outs = case
    rng = np.random.default_rng(0)
    base = rng.normal(size=(8, 12)).astype(np.float32)
    av = base[::2, ::3]          # strided view, 4x4
    bv = base[:4, :8].T[::2]     # transposed + strided view, 4x4
    assert not av.flags.c_contiguous and not bv.flags.c_contiguous
    got = sess.run(outs, {a: av, b: bv})
    sm = np.exp(av - av.max(1, keepdims=True))
    sm /= sm.sum(1, keepdims=True)
    want = {"sum0": av.sum(0), "max1": av.max(1, keepdims=True), "mean": av.mean(), "argmax": av.argmax(1),
            "matmul": av @ bv, "softmax": sm, "logsm": np.log(sm)}
    for k, w in want.items():
        np.testing.assert_allclose(got[k], w, rtol=1e-5, atol=1e-6, err_msg=k)
