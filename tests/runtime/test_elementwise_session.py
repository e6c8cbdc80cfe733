"""Differential tests: each TF1 elementwise function, compiled through Session.run, equals numpy."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import lowerflow as tf

UNARY_FLOAT = {
    "negative": np.negative, "abs": np.abs, "square": np.square, "sqrt": np.sqrt,
    "exp": np.exp, "log": np.log, "tanh": np.tanh, "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "floor": np.floor, "ceil": np.ceil, "round": np.round, "sign": np.sign,
    "reciprocal": lambda x: 1 / x, "rsqrt": lambda x: 1 / np.sqrt(x), "sin": np.sin, "cos": np.cos,
    "log1p": np.log1p, "expm1": np.expm1,
}
BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "maximum": np.maximum,
    "minimum": np.minimum, "squared_difference": lambda x, y: (x - y) ** 2,
    "less": np.less, "less_equal": np.less_equal, "greater": np.greater,
    "greater_equal": np.greater_equal, "equal": np.equal, "not_equal": np.not_equal,
}


@pytest.fixture(scope="module")
def session():
    g = tf.Graph()
    with g.as_default(), tf.Session(graph=g) as sess:
        yield sess


def _run(session, build, *arrays):
    with session.graph.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
        out = build(*phs)
    return session.run(out, dict(zip(phs, arrays)))


@pytest.mark.parametrize("name", sorted(UNARY_FLOAT))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary(session, name, dtype):
    x = np.linspace(0.1, 3.0, 12, dtype=dtype).reshape(3, 4)
    got = _run(session, getattr(tf, name), x)
    with np.errstate(all="ignore"):
        want = UNARY_FLOAT[name](x).astype(dtype)
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_binary_broadcasting(session, name, dtype):
    x = (np.arange(12).reshape(3, 4) - 5).astype(dtype)
    y = np.array([1, -2, 3, 0], dtype=dtype)
    got = _run(session, getattr(tf, name), x, y)
    np.testing.assert_array_equal(got, BINARY[name](x, y))


def test_operators(session):
    x = np.array([[1.0, -2.0, 3.5]], np.float32)
    y = np.array([[2.0], [4.0]], np.float32)
    got = _run(session, lambda a, b: [a + b, a - b, a * b, a / b, a // b, a % b, a ** 2, -a,
                                      abs(a), a < b, a >= b], x, y)
    want = [x + y, x - y, x * y, x / y, x // y, x % y, x ** 2, -x, abs(x), x < y, x >= y]
    for g_, w in zip(got, want):
        np.testing.assert_allclose(g_, w, rtol=1e-6)


def test_integer_division_semantics(session):
    x = np.array([7, -7, 7, -7], np.int32)
    y = np.array([2, 2, -2, -2], np.int32)
    floordiv, mod, truediv = _run(session, lambda a, b: [a // b, a % b, a / b], x, y)
    np.testing.assert_array_equal(floordiv, x // y)
    np.testing.assert_array_equal(mod, x % y)
    assert truediv.dtype == np.float64
    np.testing.assert_allclose(truediv, x / y)


def test_integer_division_by_zero_is_an_error_not_a_crash(session):
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        _run(session, lambda a, b: a // b, np.array([1, 2], np.int32), np.array([1, 0], np.int32))


def test_cast_and_logical(session):
    x = np.array([-1.7, 0.0, 2.5], np.float32)
    as_int, as_bool, back = _run(session, lambda a: [tf.cast(a, tf.int32), tf.cast(a, tf.bool),
                                                     tf.cast(tf.cast(a, tf.int64), tf.float64)], x)
    np.testing.assert_array_equal(as_int, [-1, 0, 2])
    np.testing.assert_array_equal(as_bool, [True, False, True])
    assert back.dtype == np.float64
    p = np.array([True, False, True])
    q = np.array([True, True, False])
    a, o, n, xo = _run(session, lambda a, b: [tf.logical_and(a, b), tf.logical_or(a, b),
                                               tf.logical_not(a), tf.logical_xor(a, b)], p, q)
    np.testing.assert_array_equal(a, p & q)
    np.testing.assert_array_equal(o, p | q)
    np.testing.assert_array_equal(n, ~p)
    np.testing.assert_array_equal(xo, p ^ q)


def test_where_and_relu(session):
    c = np.array([True, False, True])
    x = np.array([1.0, -2.0, -3.0], np.float32)
    w, r = _run(session, lambda cond, a: [tf.where(cond, a, -a), tf.nn.relu(a)], c, x)
    np.testing.assert_array_equal(w, np.where(c, x, -x))
    np.testing.assert_array_equal(r, np.maximum(x, 0))


_CHAIN = [lambda t: t * 2.0, lambda t: t + 1.0, tf.tanh, tf.sigmoid, lambda t: t - 0.5, tf.square,
          lambda t: tf.maximum(t, 0.25), tf.exp]
_NP_CHAIN = [lambda t: t * 2, lambda t: t + 1, np.tanh, lambda t: 1 / (1 + np.exp(-t)),
             lambda t: t - 0.5, np.square, lambda t: np.maximum(t, 0.25), np.exp]


@settings(max_examples=15, deadline=None)
@given(ops=st.lists(st.integers(0, len(_CHAIN) - 1), min_size=1, max_size=6),
       shape=st.lists(st.integers(0, 5), min_size=0, max_size=3), seed=st.integers(0, 2 ** 16))
def test_random_chains_match_numpy(ops, shape, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        ph = tf.placeholder(tf.float32, shape)
        t = ph
        for i in ops:
            t = _CHAIN[i](t)
        with tf.Session() as sess:
            got = sess.run(t, {ph: x})
    want = x
    for i in ops:
        want = _NP_CHAIN[i](want).astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
