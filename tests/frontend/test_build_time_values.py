"""One reading of build-time values: a reduction's axis may be any tensor computed from
constants, as for the shape ops (`array_ops.constant_value`)."""
import numpy as np
import pytest

import lowerflow as tf

X = np.arange(6, dtype=np.float32).reshape(2, 3)


def _sums(module) -> list:
    with module.Graph().as_default():
        x = module.constant(X)
        axis = module.constant(2) - 1  # computed from constants: known when the graph is built
        fetches = [module.reduce_sum(x, axis=axis), module.reduce_max(x, axis=[axis - 1]),
                   module.argmax(x, axis=axis)]
        with module.Session() as sess:
            return [v.tolist() for v in sess.run(fetches)]


def test_reduction_axis_computed_from_constants():
    assert _sums(tf) == [[3.0, 12.0], [3.0, 4.0, 5.0], [2, 2]]


def test_reduction_axis_computed_from_constants_as_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    tf1.disable_eager_execution()
    assert _sums(tf) == _sums(tf1)


def test_a_fed_axis_is_refused_by_name():
    with tf.Graph().as_default():
        axis = tf.placeholder(tf.int32, [])
        with pytest.raises(NotImplementedError, match="reduction axis"):
            tf.reduce_sum(tf.constant(X), axis=axis)
