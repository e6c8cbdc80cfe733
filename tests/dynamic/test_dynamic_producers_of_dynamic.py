"""A value-dependent op (Where, Unique, DynamicPartition, a fed slice) given a value whose own
leading dim is known only at run time: its padding rows (row 0 repeated) must not count.
They did (tf.unique of an empty mask gave [x[0]]); such inputs are refused now."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf


@pytest.mark.parametrize("build", [
    lambda bm, n: tf.where(bm > 1.5),
    lambda bm, n: tf.unique(bm)[0],
    lambda bm, n: tf.unique(bm)[1],
    lambda bm, n: tf.dynamic_partition(bm, tf.cast(bm > 1.5, tf.int32), 2)[0],
    lambda bm, n: bm[:n],
    lambda bm, n: tf.slice(bm, [0], tf.reshape(n, [1])),
], ids=["where", "unique", "unique-idx", "partition", "strided-slice-fed", "slice-fed"])
def test_value_dependent_op_of_a_run_time_length_is_refused(build):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4])
        n = tf.placeholder(tf.int32, [])
        y = build(tf.boolean_mask(x, x > 0), n)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.UnimplementedError, match="known only at run time"):
                sess.run(y, {x: np.array([3, -1, -1, -1], np.float32), n: 1})


def test_value_dependent_ops_of_static_inputs_still_run():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4])
        n = tf.placeholder(tf.int32, [])
        outs = [tf.where(x > 1.5), tf.unique(x)[0], tf.dynamic_partition(x, tf.cast(x > 1.5, tf.int32), 2)[1], x[:n]]
        with tf.Session() as sess:
            got = sess.run(outs, {x: np.array([3, -1, 2, -1], np.float32), n: 1})
    assert got[0].tolist() == [[0], [2]] and got[1].tolist() == [3, -1, 2]
    assert got[2].tolist() == [3, 2] and got[3].tolist() == [3]
