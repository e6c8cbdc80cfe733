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
