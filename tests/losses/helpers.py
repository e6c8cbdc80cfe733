"""One graph, one compile: a test module builds all its outputs together and fetches them
in a single `Session.run`, so each module compiles a handful of native steps."""
from __future__ import annotations

import numpy as np

import lowerflow as tf


def run_graph(build) -> tuple[dict, dict]:
    """`build(tf)` returns ({name: tensor}, {placeholder: value}); gives (values, tensors)."""
    with tf.Graph().as_default():
        outputs, feeds = build(tf)
        with tf.Session() as sess:
            values = sess.run(outputs, feeds)
    return values, outputs


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)
