"""tf.nn.dropout, embedding_lookup, batch_normalization, in_top_k and tf.arg_max/arg_min
against numpy and tensorflow.compat.v1 (values, dtypes, shapes, gradients)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from tests.models.helpers import compare

R = np.random.default_rng(1)
TABLE = R.standard_normal((10, 3)).astype(np.float32)
IDS = np.array([[0, 9, 4], [7, 7, 2]], np.int32)
SHARDS_MOD = [TABLE[i::3] for i in range(3)]  # id i lives in shard i % 3, row i // 3
WEIGHTS = R.standard_normal((2, 3, 3)).astype(np.float32)
SHARDS_DIV = [TABLE[:4], TABLE[4:7], TABLE[7:]]  # 10 ids over 3 shards: sizes 4, 3, 3


def _embeddings(tf):
    ids = tf.placeholder(tf.int32, [None, 3])
    one = tf.Variable(TABLE)
    mod = [tf.Variable(s) for s in SHARDS_MOD]
    div = [tf.Variable(s) for s in SHARDS_DIV]
    outs = [tf.nn.embedding_lookup(one, ids), tf.nn.embedding_lookup(mod, ids),
            tf.nn.embedding_lookup(div, ids, partition_strategy="div")]
    w = tf.constant(WEIGHTS)
    loss = tf.add_n([tf.reduce_sum(o * w) for o in outs])
    grads = [tf.convert_to_tensor(g) for g in tf.gradients(loss, [one] + mod + div)]
    return {"ids": ids}, outs + grads


def test_embedding_lookup_against_tf():
    values = compare(_embeddings, {"ids": IDS}, init=True)
    for v in values[:3]:
        np.testing.assert_array_equal(v, TABLE[IDS])


def _normalization(tf):
    x = tf.placeholder(tf.float32, [None, 4])
    mean, var = tf.nn.moments(x, [0])
    gamma, beta = tf.constant([1.0, 2.0, 0.5, 1.5]), tf.constant([0.0, 1.0, -1.0, 2.0])
    y = tf.nn.batch_normalization(x, mean, var, beta, gamma, 1e-3)
    z = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)
    loss = tf.reduce_sum(y * y * tf.constant([1.0, 2.0, 3.0, 4.0])) + tf.reduce_sum(z[:, :2])
    return {"x": x}, [y, z, mean, var] + tf.gradients(loss, [x])


def test_batch_normalization_against_tf():
    x = R.standard_normal((6, 4)).astype(np.float32)
    y = compare(_normalization, {"x": x}, rtol=1e-4, atol=1e-4)[0]
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3) * [1.0, 2.0, 0.5, 1.5] + [0.0, 1.0, -1.0, 2.0]
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


def _top_k(tf):
    p = tf.placeholder(tf.float32, [4, 4])
    t = tf.placeholder(tf.int32, [None])
    values, indices = tf.nn.top_k(tf.gather(p, [0, 1, 3]), 3)
    grad = [tf.convert_to_tensor(g) for g in tf.gradients(tf.reduce_sum(values * tf.constant([3.0, 2.0, 1.0])), p)]
    return {"p": p, "t": t}, [tf.nn.in_top_k(p, t, 1), tf.nn.in_top_k(p, t, 2), tf.arg_max(p, 1),
                              tf.arg_min(p, 1, output_type=tf.int32), values, indices] + grad


def test_in_top_k_and_arg_max_against_tf():
    p = np.array([[0.1, 0.5, 0.5, 0.2], [1, 2, 3, 4], [np.nan, 0, 1, 2], [3, 3, 3, 3]], np.float32)
    t = np.array([2, 2, 0, 1], np.int32)
    a, b, c, d, values, indices, grad = compare(_top_k, {"p": p, "t": t})
    np.testing.assert_array_equal(indices, [[1, 2, 3], [3, 2, 1], [0, 1, 2]])  # ties: lower index first
    np.testing.assert_array_equal(a, [True, False, False, True])
    np.testing.assert_array_equal(b, [True, True, False, True])


@pytest.fixture(scope="module")
def dropout_run():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 1000])
        y = tf.nn.dropout(x, keep_prob=0.75, seed=5)
        z = tf.nn.dropout(x, rate=0.5, noise_shape=[1, 1000], seed=6)
        g = tf.gradients(tf.reduce_sum(y), x)[0]
        with tf.Session() as sess:
            ones = np.ones((4, 1000), np.float32)
            yield sess.run([y, z, g], {x: ones}), sess.run(y, {x: ones})


def test_dropout_keeps_and_scales(dropout_run):
    (y, z, g), y2 = dropout_run
    assert y.shape == (4, 1000) and y.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y > 0).mean() - 0.75) < 0.03
    np.testing.assert_array_equal(g, y)  # d(x * mask * scale)/dx
    assert (z == z[:1]).all() and set(np.unique(z)) <= {0.0, 2.0}  # one mask per column
    assert not np.array_equal(y, y2)  # each run draws a new mask


def test_dropout_errors_match_tf():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2])
        with pytest.raises(ValueError, match="range"):
            tf.nn.dropout(x, rate=1.0)
        with pytest.raises(ValueError, match="both"):
            tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
        with pytest.raises(ValueError, match="floating point"):
            tf.nn.dropout(tf.placeholder(tf.int32, [2]), rate=0.5)
