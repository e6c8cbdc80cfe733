"""Random shapes and random small graphs: native gradients against finite differences."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lowerflow as tf
from tests.gradients.test_rules import finite_difference

BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / (b + 2.0), "max": tf.maximum, "min": tf.minimum,
          "sqdiff": tf.squared_difference, "pow": lambda a, b: tf.pow(a + 1.0, b)}
UNARY = {"exp": tf.exp, "tanh": tf.tanh, "sigmoid": tf.sigmoid, "square": tf.square,
         "log": lambda a: tf.log(a + 2.0), "sqrt": lambda a: tf.sqrt(a + 2.0), "relu": tf.nn.relu}
REDUCE = {"sum": tf.reduce_sum, "mean": tf.reduce_mean, "max": tf.reduce_max}


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: a base and a suffix of it with some dims set to 1."""
    base = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    rank = draw(st.integers(0, len(base)))
    other = [1 if draw(st.booleans()) else d for d in base[len(base) - rank:]]
    return (base, other) if draw(st.booleans()) else (other, base)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes=broadcast_pair(), ops=st.lists(st.sampled_from(sorted(BINARY)), min_size=1, max_size=2),
       unary=st.sampled_from(sorted(UNARY)), reduce=st.sampled_from(sorted(REDUCE)),
       axis=st.integers(-1, 0), seed=st.integers(0, 2**16))
def test_random_graph_gradients(shapes, ops, unary, reduce, axis, seed):
    rng = np.random.default_rng(seed)
    values = [rng.uniform(0.2, 1.0, s) for s in shapes]
    with tf.Graph().as_default():
        a, b = (tf.placeholder(tf.float64, s) for s in shapes)
        y = a
        for name in ops:
            y = BINARY[name](y, b)
        y = UNARY[unary](y)
        if len(y.shape) > 0:
            y = REDUCE[reduce](y, axis=axis)
        loss = tf.reduce_sum(y * tf.constant(rng.standard_normal(y.shape.as_list())))
        grads = tf.gradients(loss, [a, b])
        with tf.Session() as sess:
            feed = dict(zip((a, b), values))
            got = sess.run([g if g is not None else tf.zeros_like(x) for g, x in zip(grads, (a, b))], feed)
            for i, x in enumerate((a, b)):
                def f(v, i=i):
                    return sess.run(loss, {**feed, x: v})
                np.testing.assert_allclose(got[i], finite_difference(f, values[i]), rtol=1e-5, atol=1e-6)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4), batch=st.sampled_from([(), (2,), (1,)]),
       other_batch=st.sampled_from([(), (2,)]), ta=st.booleans(), tb=st.booleans(), seed=st.integers(0, 99))
def test_random_matmul_gradients(m, k, n, batch, other_batch, ta, tb, seed):
    """Shapes, transposes and broadcast batch dims drawn at random: d(a @ b) against FD."""
    rng = np.random.default_rng(seed)
    shape_a = batch + ((k, m) if ta else (m, k))
    shape_b = other_batch + ((n, k) if tb else (k, n))
    if (batch or other_batch) and len(shape_a) == len(shape_b) == 2:
        return
    values = [rng.standard_normal(shape_a), rng.standard_normal(shape_b)]
    with tf.Graph().as_default():
        a, b = tf.placeholder(tf.float64, shape_a), tf.placeholder(tf.float64, shape_b)
        y = tf.matmul(a, b, transpose_a=ta, transpose_b=tb)
        loss = tf.reduce_sum(y * tf.constant(rng.standard_normal(y.shape.as_list())))
        grads = tf.gradients(loss, [a, b])
        with tf.Session() as sess:
            feed = dict(zip((a, b), values))
            got = sess.run(grads, feed)
            for i, x in enumerate((a, b)):
                want = finite_difference(lambda v, x=x: sess.run(loss, {**feed, x: v}), values[i])
                np.testing.assert_allclose(got[i], want, rtol=1e-6, atol=1e-7)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dims=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data(),
       reduce=st.sampled_from(["sum", "mean", "max", "prod"]), keepdims=st.booleans(), seed=st.integers(0, 99))
def test_random_reduction_gradients(dims, data, reduce, keepdims, seed):
    axes = data.draw(st.one_of(st.none(), st.lists(st.integers(0, len(dims) - 1), min_size=1, unique=True)))
    value = np.random.default_rng(seed).uniform(0.5, 1.5, dims)
    fn = {"sum": tf.reduce_sum, "mean": tf.reduce_mean, "max": tf.reduce_max, "prod": tf.reduce_prod}[reduce]
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, dims)
        y = fn(x, axis=axes, keepdims=keepdims)
        loss = tf.reduce_sum(y * tf.constant(np.random.default_rng(seed + 1).standard_normal(y.shape.as_list())))
        (g,) = tf.gradients(loss, x)
        with tf.Session() as sess:
            got = sess.run(g, {x: value})
            want = finite_difference(lambda v: sess.run(loss, {x: v}), value)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
