"""tf.matmul through tf.Session (native code) against numpy: shapes (batched, broadcast
batch dims, empty and size-1 dims) x transposes, one graph per dtype."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf

# (a shape, b shape) before transposition: A is [.., m, k], B is [.., k, n]
SHAPES = [((2, 3), (3, 4)), ((1, 1), (1, 1)), ((5, 1), (1, 3)), ((4, 2, 3), (4, 3, 5)),
          ((2, 1, 3, 2), (5, 2, 4)), ((1, 2, 3), (3, 3, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3)),
          ((3, 0, 2), (3, 2, 4)), ((17, 33), (33, 65))]
TOLERANCE = {np.float16: 2e-2, np.float32: 1e-5, np.float64: 1e-12, np.int32: 0, np.int64: 0}


def _operand(shape, transpose, dtype, rng):
    x = rng.integers(-3, 4, shape) if np.dtype(dtype).kind == "i" else rng.standard_normal(shape)
    x = x.astype(dtype)
    return np.ascontiguousarray(np.swapaxes(x, -1, -2)) if transpose else x


@pytest.mark.parametrize("dtype", list(TOLERANCE))
def test_matmul_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    cases, feeds, outs = [], {}, []
    with tf.Graph().as_default(), tf.Session() as sess:
        for sa, sb in SHAPES:
            for ta in (False, True):
                for tb in (False, True):
                    a, b = _operand(sa, ta, dtype, rng), _operand(sb, tb, dtype, rng)
                    pa, pb = tf.placeholder(tf.as_dtype(dtype), a.shape), tf.placeholder(tf.as_dtype(dtype), b.shape)
                    feeds.update({pa: a, pb: b})
                    outs.append(tf.matmul(pa, pb, transpose_a=ta, transpose_b=tb))
                    cases.append((a, b, ta, tb))
        got = sess.run(outs, feeds)
    for (a, b, ta, tb), g, out in zip(cases, got, outs):
        a = np.swapaxes(a, -1, -2) if ta else a
        b = np.swapaxes(b, -1, -2) if tb else b
        want = np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(dtype)
        assert g.dtype == dtype and g.shape == want.shape == tuple(out.shape.as_list())
        np.testing.assert_allclose(g.astype(np.float64), want.astype(np.float64), rtol=TOLERANCE[dtype],
                                   atol=TOLERANCE[dtype], err_msg=f"{a.shape} @ {b.shape} ta={ta} tb={tb}")


def test_integer_matmul_wraps():
    a = np.full((1, 3), 2**20, np.int32)
    b = np.full((3, 1), 2**12, np.int32)
    with tf.Graph().as_default(), tf.Session() as sess:
        got = sess.run(tf.matmul(tf.constant(a), tf.constant(b)))
    np.testing.assert_array_equal(got, a @ b)  # numpy wraps int32 the same way


def test_matmul_inside_a_model():
    """A dense layer: matmul, bias and activation compose (and fuse around the kernel)."""
    rng = np.random.default_rng(1)
    x, w, bias = rng.standard_normal((8, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    with tf.Graph().as_default(), tf.Session() as sess:
        px = tf.placeholder(tf.float64, x.shape)
        y = tf.nn.relu(tf.nn.bias_add(px @ tf.constant(w), tf.constant(bias)))
        got = sess.run(y, {px: x})
    np.testing.assert_allclose(got, np.maximum(x @ w + bias, 0), rtol=1e-12)
