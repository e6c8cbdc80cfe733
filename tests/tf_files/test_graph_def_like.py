"""A lowerflow training graph's GraphDef holds only TensorFlow's op types: the gradient plumbing
ops (LfSumTo, LfBroadcastLike, LfReshapeLike, LfSplitLike, LfSliceGrad, and Conv2DBackpropInput,
which takes the forward input for its shape) export as the TF ops
TF's own gradients use, TensorFlow imports the graph and computes the same gradients and
training step, and lowerflow imports it back as it was."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from lowerflow.frontend.graph_def_like import EXPORTS

X = np.random.RandomState(0).randn(4, 6).astype(np.float32)


def _training_graph():
    """Every plumbing op: a broadcast add, a mean over an axis, a reshape, a slice, a strided
    slice, a concat of a split and a convolution, then gradients and a GradientDescent step."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 6], name="x")
        b = tf.Variable(np.linspace(-1, 1, 6).astype(np.float32), name="b")
        w = tf.Variable(np.linspace(-1, 1, 18).reshape(6, 3).astype(np.float32), name="w")
        h = tf.tanh(x + b)
        a, c = tf.split(h, [2, 4], axis=1)
        terms = [tf.reduce_mean(h, axis=1), tf.reshape(h, [-1, 3, 2]) ** 2, tf.slice(h, [0, 1], [-1, 3]),
                 h[:, ::2] * 3.0, tf.matmul(tf.concat([a * 2.0, c], axis=-1), w),
                 tf.nn.conv2d(tf.reshape(h, [-1, 2, 3, 1]),
                              np.linspace(-1, 1, 8).reshape(2, 2, 1, 2).astype(np.float32), [1, 1, 1, 1], "SAME")]
        loss = tf.add_n([tf.reduce_sum(t) for t in terms], name="loss")
        grads = tf.gradients(loss, [x, b, w])
        # Only b is trained: with reference variables TF may run w's in-place update before the
        # backward pass reads w (lowerflow's updates are out of place), so training w would race there.
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[b], name="train")
        init = tf.global_variables_initializer()
    return g, grads, train, init


@pytest.fixture(scope="module")
def case():
    g, grads, train, init = _training_graph()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        want = sess.run(grads, {"x:0": X})
        sess.run(train, {"x:0": X})
        trained = sess.run(["b:0", "w:0"])
    return g, [t.name for t in grads], want, trained


def test_only_tf_op_types(case):
    g, _, _, _ = case
    plumbing = {op.type for op in g.get_operations() if op.type in EXPORTS}
    assert plumbing == set(EXPORTS)  # the graph has every kind
    graph_def = g.as_graph_def()
    assert not [n.op for n in graph_def.node if n.op.startswith("Lf")]
    tagged = [n for n in graph_def.node if "_lf_op" in n.attr]
    assert sorted({n.attr["_lf_op"].s.decode() for n in tagged}) == sorted(EXPORTS)
    by_name = {op.name: op for op in g.get_operations()}
    for n in tagged:  # the last node keeps the op's name, so its consumers read it unchanged
        assert by_name[n.name].type == n.attr["_lf_op"].s.decode()
    assert {n.op for n in graph_def.node if "_lf_part_of" in n.attr} >= {"Shape", "BroadcastGradientArgs", "Sum"}


def test_lowerflow_imports_it_back(case):
    g, grad_names, want, _ = case
    graph_def = g.as_graph_def()
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(graph_def, name="")
        assert g2.as_graph_def() == graph_def
        assert sorted(op.type for op in g2.get_operations() if op.type.startswith("Lf")) == sorted(
            op.type for op in g.get_operations() if op.type.startswith("Lf"))
        with tf.Session() as sess:
            sess.run("init")
            for got, expected in zip(sess.run(grad_names, {"x:0": X}), want):
                np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_tensorflow_runs_it(case):
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    g, grad_names, want, trained = case
    with tf1.Graph().as_default():
        tf1.import_graph_def(tf1.GraphDef.FromString(g.as_graph_def().SerializeToString()), name="")
        with tf1.Session() as sess:
            sess.run("init")
            for got, expected in zip(sess.run(grad_names, {"x:0": X}), want):
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
            sess.run("train", {"x:0": X})
            for got, expected in zip(sess.run(["b:0", "w:0"]), trained):
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
            for got, expected in zip(sess.run(grad_names, {"x:0": X[:2]}), _grads_at(g, grad_names, X[:2])):
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)  # another batch size


def _grads_at(g, grad_names, x):
    """lowerflow's gradients after the training step, at feed `x`."""
    with tf.Session(graph=g) as sess:
        sess.run("init")
        sess.run("train", {"x:0": X})
        return sess.run(grad_names, {"x:0": x})


def test_unknown_rank_keeps_our_op():
    """A negative axis of an input of unknown rank has no TF form here: that op exports under
    its own type (only lowerflow imports it), the others still as TF's ops."""
    with tf.Graph().as_default() as g:
        a = tf.placeholder(tf.float32, None, name="a")
        b = tf.placeholder(tf.float32, None, name="b")
        grads = tf.gradients(tf.concat([a, b], axis=-1) * 2.0, [a, b])
        graph_def = g.as_graph_def()
    assert [n.op for n in graph_def.node if n.op.startswith("Lf")] == ["LfSplitLike"]
    assert sum("_lf_op" in n.attr for n in graph_def.node) == 2  # the two LfSumTo
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(graph_def, name="")
        assert g2.as_graph_def() == graph_def
        with tf.Session() as sess:
            da, db = sess.run([t.name for t in grads], {"a:0": np.ones((2, 3)), "b:0": np.ones((2, 1))})
    np.testing.assert_array_equal(da, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(db, np.full((2, 1), 2.0))
