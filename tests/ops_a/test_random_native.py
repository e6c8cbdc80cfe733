"""Random ops through tf.Session (native code): distributions, TF1 seeding reproducibility
across fresh sessions, new values on every run, and native == reference bits."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from ops_a.helpers import reference_run

N = 50_000


def _graph(seed=None):
    g = tf.Graph()
    with g.as_default():
        if seed is not None:
            tf.set_random_seed(seed)
        outs = [tf.random_normal([N], mean=1.0, stddev=2.0), tf.truncated_normal([N], dtype=tf.float64),
                tf.random_uniform([N], -2.0, 2.0, dtype=tf.float16), tf.random_uniform([N], 3, 9, dtype=tf.int64),
                tf.random.uniform([2, 3], seed=11)]
    return g, outs


@pytest.fixture(scope="module")
def seeded():
    """Two runs in one session and one in a fresh session of the same seeded graph."""
    g, outs = _graph(seed=42)
    with tf.Session(graph=g) as sess:
        first, second = sess.run(outs), sess.run(outs)
    with tf.Session(graph=g) as sess:
        fresh = sess.run(outs)
    return outs, first, second, fresh


def test_distributions(seeded):
    _, (normal, truncated, uniform, ints, _), _, _ = seeded
    assert normal.dtype == np.float32 and abs(normal.mean() - 1.0) < 0.05 and abs(normal.std() - 2.0) < 0.05
    assert truncated.dtype == np.float64 and np.abs(truncated).max() <= 2.0
    assert abs(truncated.std() - 0.8796) < 0.01 and abs(truncated.mean()) < 0.02
    u = uniform.astype(np.float64)
    assert uniform.dtype == np.float16 and u.min() >= -2.0 and u.max() < 2.0 and abs(u.mean()) < 0.03
    assert ints.dtype == np.int64 and set(np.unique(ints)) == set(range(3, 9))


def test_runs_differ_and_fresh_sessions_replay(seeded):
    _, first, second, fresh = seeded
    for a, b, c in zip(first, second, fresh):
        assert not np.array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_rebuilt_graph_with_same_seeds_reproduces(seeded):
    _, first, _, _ = seeded
    g, outs = _graph(seed=42)
    with tf.Session(graph=g) as sess:
        again = sess.run(outs)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    g, outs = _graph(seed=43)
    with tf.Session(graph=g) as sess:
        other = sess.run(outs)
    assert not any(np.array_equal(a, b) for a, b in zip(first, other))  # the graph seed is in every op's


def test_native_equals_reference(seeded):
    outs, first, _, _ = seeded
    with outs[0].graph.as_default():
        reference = reference_run(outs)
    for native, ref in zip(first, reference):
        np.testing.assert_allclose(native.astype(np.float64), ref.astype(np.float64), rtol=1e-12)


def test_each_op_has_its_own_counter():
    with tf.Graph().as_default() as g:
        tf.set_random_seed(3)
        a, b = tf.random_uniform([4], seed=1), tf.random_uniform([4], seed=1)
    with tf.Session(graph=g) as sess:
        a1 = sess.run(a)
        b1, a2 = sess.run([b, a])
    np.testing.assert_array_equal(a1, b1)  # same seeds, both on their first run (as TF1)
    assert not np.array_equal(a1, a2)


def test_uniform_int_empty_range_is_a_run_time_error():
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval"):
            sess.run(tf.random_uniform([3], 5, 5, dtype=tf.int32))


def test_random_initialised_variables():
    with tf.Graph().as_default() as g:
        tf.set_random_seed(1)
        with tf.variable_scope("layer"):
            w = tf.get_variable("w", [30, 40])
            b = tf.get_variable("b", [40], initializer=tf.zeros_initializer())
            h = tf.get_variable("h", [30, 40], initializer=tf.truncated_normal_initializer(stddev=0.1))
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        w1, b1, h1 = sess.run([w, b, h])
        sess.run(init)  # initialising again draws again
        w2 = sess.run(w)
    with tf.Session(graph=g) as sess:
        sess.run(init)
        w3 = sess.run(w)
    limit = np.sqrt(6.0 / 70)
    assert np.abs(w1).max() <= limit and w1.std() > limit / 3 and not b1.any()
    assert np.abs(h1).max() <= 0.2 and not np.array_equal(w1, w2)
    np.testing.assert_array_equal(w1, w3)
