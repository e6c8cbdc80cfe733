"""Property test: random elementwise/reduction graphs, compiled through Session.run, equal the
reference interpreter run on the same lowered IR (cf. the style guide's interp == native)."""
import numpy as np
from hypothesis import given, settings, strategies as st

import lowerflow as tf
from lowerflow.ir.interp import run_function

UNARY = [tf.tanh, tf.sigmoid, tf.abs, tf.square, lambda t: tf.nn.relu(t) + 0.5, tf.negative,
         lambda t: tf.exp(-tf.square(t)), lambda t: tf.sqrt(tf.abs(t) + 1.0)]
BINARY = [tf.add, tf.subtract, tf.multiply, tf.maximum, tf.minimum,
          lambda a, b: tf.where(a > b, a, b * 0.5)]
REDUCE = [tf.reduce_sum, tf.reduce_mean, tf.reduce_max, tf.reduce_min]


@st.composite
def programs(draw):
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    steps = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 99), st.integers(0, 99)),
                          min_size=1, max_size=8))
    return shape, steps, draw(st.integers(0, 2 ** 16))


def build(x, steps):
    """Apply random steps; a reduction keeps dims so later binary ops still broadcast."""
    values = [x]
    for kind, i, j in steps:
        a = values[i % len(values)]
        if kind == 0:
            values.append(UNARY[j % len(UNARY)](a))
        elif kind == 1:
            values.append(BINARY[j % len(BINARY)](a, values[j % len(values)]))
        else:
            axis = j % a.shape.ndims
            values.append(REDUCE[i % len(REDUCE)](a, axis=axis, keepdims=True))
    return values[-1]


@settings(max_examples=25, deadline=None)
@given(programs())
def test_random_graphs_compiled_equal_reference(program):
    shape, steps, seed = program
    data = np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, shape)
        out = build(x, steps)
        with tf.Session() as sess:
            got = sess.run(out, {x: data})
        module = tf.to_ir([out], [x])
    (want,) = run_function(module.functions[0], [data])
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5)
