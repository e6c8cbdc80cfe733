"""tf.clip_by_norm, tf.global_norm, tf.clip_by_global_norm: numpy formulas and TensorFlow."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf

A = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
B = np.random.default_rng(3).standard_normal(5).astype(np.float32) * 0.1


def _build(m):
    a, b = m.constant(A), m.constant(B)
    clipped, norm = m.clip_by_global_norm([a, None, b], 2.0)
    small, small_norm = m.clip_by_global_norm([a * 1e-3, b * 1e-3], 2.0)
    return {
        "norm_all": m.clip_by_norm(a, 1.5),
        "norm_axes": m.clip_by_norm(a, 1.0, axes=[1]),
        "norm_unclipped": m.clip_by_norm(b, 10.0),
        "norm_zero": m.clip_by_norm(m.zeros([3]), 1.0),
        "norm_tensor_clip": m.clip_by_norm(a, m.constant(0.5)),
        "global_norm": m.global_norm([a, None, b]),
        "clipped_a": clipped[0], "clipped_b": clipped[2], "norm": norm,
        "small_a": small[0], "small_norm": small_norm,
    }


def _values(m) -> dict:
    with m.Graph().as_default():
        outs = _build(m)
        with m.Session() as sess:
            return sess.run(outs)


@pytest.fixture(scope="module")
def ours():
    return _values(tf)


def _clip(x, c, axis=None):
    n = np.sqrt(np.sum(x.astype(np.float64) ** 2, axis=axis, keepdims=True))
    return x * c / np.maximum(n, c)


def test_values_match_formulas(ours):
    g = np.sqrt(np.sum(A.astype(np.float64) ** 2) + np.sum(B.astype(np.float64) ** 2))
    want = {"norm_all": _clip(A, 1.5), "norm_axes": _clip(A, 1.0, axis=1), "norm_unclipped": B,
            "norm_zero": np.zeros(3), "norm_tensor_clip": _clip(A, 0.5), "global_norm": g,
            "clipped_a": A * 2.0 / g, "clipped_b": B * 2.0 / g, "norm": g, "small_a": A * 1e-3,
            "small_norm": g * 1e-3}
    for k, w in want.items():
        np.testing.assert_allclose(ours[k], w, rtol=1e-5, atol=1e-7, err_msg=k)
        assert ours[k].dtype == np.float32


def test_values_match_tensorflow(ours):
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    theirs = _values(tf1)
    for k in theirs:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-6, atol=1e-8, err_msg=k)


def test_none_entries_kept_and_shapes():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [2, 3])
        clipped, norm = tf.clip_by_global_norm([None, a, None], 1.0)
        assert clipped[0] is None and clipped[2] is None
        assert clipped[1].shape.as_list() == [2, 3] and norm.shape.as_list() == []
        assert tf.clip_by_norm(a, 1.0, axes=0).shape.as_list() == [2, 3]
        with tf.Session() as sess:
            x = np.full((2, 3), 2.0, np.float32)
            got, n = sess.run([clipped[1], norm], {a: x})
        np.testing.assert_allclose(n, np.sqrt(24.0), rtol=1e-6)
        np.testing.assert_allclose(got, x / np.sqrt(24.0), rtol=1e-6)


def test_infinite_norm_gives_nan_and_bad_lists_raise():
    with tf.Graph().as_default():
        clipped, norm = tf.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0)
        with tf.Session() as sess:
            got, n = sess.run([clipped[0], norm])
        assert np.isinf(n) and np.all(np.isnan(got))
        with pytest.raises(TypeError, match="should be a sequence of tensors"):
            tf.clip_by_global_norm(tf.constant([1.0]), 1.0)
        with pytest.raises(TypeError, match="should be a sequence of tensors"):
            tf.global_norm("abc")
