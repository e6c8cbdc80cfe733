"""Large constants are arguments of JIT steps, not bytes in their code (backend.kernels.BIND_FROM)."""
from __future__ import annotations

import numpy as np

import lowerflow as tf
from lowerflow.backend import NATIVE_STATS
from lowerflow.backend.kernels import BIND_FROM


def big(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(BIND_FROM // 4 + 3).astype(np.float32)


def test_same_typed_big_constants_share_one_compile_and_keep_their_values():
    with tf.Graph().as_default():
        values = [big(0), big(1)]
        x = tf.placeholder(tf.float32, values[0].shape)
        ys = [x * tf.constant(v) + 1.0 for v in values]
        feed = {x: np.full(values[0].shape, 2, np.float32)}
        with tf.Session() as sess:
            before = NATIVE_STATS["compiles"] + NATIVE_STATS["cache_hits"]
            got = [sess.run(y, feed) for y in ys]
            assert NATIVE_STATS["compiles"] + NATIVE_STATS["cache_hits"] - before <= 1
    for g, v in zip(got, values):
        np.testing.assert_array_equal(g, 2 * v + 1.0)


def test_variable_initialised_from_a_big_array_and_fetched_constant():
    value = big(2).reshape(-1, 1)
    with tf.Graph().as_default():
        w = tf.Variable(value)
        c = tf.constant(value[:, 0])
        with tf.Session() as sess:
            sess.run(w.initializer)
            np.testing.assert_array_equal(sess.run(w), value)
            np.testing.assert_array_equal(sess.run(c), value[:, 0])  # a bound value returned as is


def test_ahead_of_time_objects_embed_big_constants(tmp_path):
    value = big(3)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, value.shape)
        y = x + tf.constant(value)
        tf.aot.compile([y], [x], name="bigconst", out_dir=str(tmp_path), shared=True)
    step = tf.aot.load(tmp_path, "bigconst")  # a library that stands alone: the bytes are in it
    np.testing.assert_array_equal(step(np.ones_like(value)), 1 + value)


def test_cached_code_keeps_no_constant_alive():
    """The process-wide compile cache holds code; a plan holds its own constants."""
    from lowerflow.backend.compile_cache import CACHE

    value = big(4)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, value.shape)
        y = x + tf.constant(value)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {x: np.zeros_like(value)}), value)
            cached = [CACHE.get(k) for k in CACHE.keys() if k[0] == "jit"]
    assert any(exe.n_bound for exe in cached)
    assert all(exe._bound == [] for exe in cached)
