"""Consumer fusion end to end: TF1 graphs through Session.run (default pipeline, native code)
against numpy, and the compiled step checked for what fusion promises: one kernel per fused
region and no intermediate buffer (no arena: every value left is written to its result slot).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import lowerflow as tf


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def kernels(sess: tf.Session) -> list[str]:
    """The ops the kernels of the session's only compiled step lower (codegen names each
    kernel `step.k<index>.<op name>`), and whether it allocates a temporary arena."""
    (plan,) = sess._plans.values()
    text = plan.exe.source_ir
    return re.findall(r'define internal i32 @"step\.k\d+\.([\w.]+)"', text) + ["arena"] * ("aligned_alloc" in text)


UNFUSED = tf.ConfigProto(pipeline="prune,constant-fold,cse,canonicalize,dce,plan-buffers")


@pytest.mark.parametrize("config,want", [
    (None, ["lf.matmul_fusion"]),
    (UNFUSED, ["lf.matmul", "lf.add", "lf.relu", "arena"]),  # what fusion saves
])
def test_dense_layer_is_one_matmul_kernel(graph, config, want):
    rng = np.random.default_rng(0)
    x_val, w_val, b_val = (rng.standard_normal(s).astype(np.float32) for s in [(8, 16), (16, 12), (12,)])
    x = tf.placeholder(tf.float32, [8, 16])
    y = tf.nn.relu(tf.matmul(x, tf.constant(w_val)) + tf.constant(b_val))
    with tf.Session(config=config) as sess:
        got = sess.run(y, {x: x_val})
        np.testing.assert_allclose(got, np.maximum(x_val @ w_val + b_val, 0), rtol=1e-5, atol=1e-5)
        assert kernels(sess) == want


@pytest.mark.parametrize("config,want", [
    (None, ["lf.reduce_fusion"]),
    (UNFUSED, ["lf.exp", "lf.mul", "lf.reduce_sum", "arena"]),
])
def test_reduce_of_a_chain_is_one_reduction_kernel(graph, config, want):
    x_val = np.random.default_rng(1).standard_normal((6, 10)).astype(np.float32)
    x = tf.placeholder(tf.float32, [6, 10])
    y = tf.reduce_sum(tf.exp(x) * 2, axis=1)
    with tf.Session(config=config) as sess:
        got = sess.run(y, {x: x_val})
        np.testing.assert_allclose(got, np.sum(np.exp(x_val) * 2, axis=1), rtol=1e-5)
        assert kernels(sess) == want
