"""Running one graph-building function under lowerflow and under tensorflow.compat.v1."""
from __future__ import annotations

import os

import numpy as np
import pytest

import lowerflow


def tf1():
    """tensorflow.compat.v1 in graph mode, or skip."""
    tf = pytest.importorskip("tensorflow.compat.v1")
    tf.disable_eager_execution()
    return tf


def tf1_layers():
    """tensorflow.compat.v1 whose `layers` work: TF 2.16+ routes them to tf_keras (Keras 2)."""
    pytest.importorskip("tf_keras")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"  # read when tf.compat.v1.layers is first touched
    return tf1()


def run(tf, build, feeds: dict, init: bool = False, steps: int = 1):
    """build(tf) -> (placeholders by key, fetches); the fetched values of the last step, and
    the static shapes of the fetches."""
    with tf.Graph().as_default():
        inputs, fetches = build(tf)
        with tf.Session() as sess:
            if init:
                sess.run(tf.global_variables_initializer())
            feed = {inputs[k]: v for k, v in feeds.items()}
            for _ in range(steps):
                values = sess.run(fetches, feed)
        shapes = [f.shape.as_list() if f.shape.ndims is not None else None for f in fetches]
    return values, shapes


def compare(build, feeds: dict, rtol: float = 1e-5, atol: float = 1e-6, **kwargs) -> list:
    """Values, dtypes and static shapes of lowerflow and TF agree; lowerflow's values."""
    ours, our_shapes = run(lowerflow, build, feeds, **kwargs)
    theirs, their_shapes = run(tf1(), build, feeds, **kwargs)
    assert our_shapes == their_shapes
    for a, b in zip(ours, theirs):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return ours
