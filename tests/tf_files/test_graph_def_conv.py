"""TensorFlow-made GraphDefs with convolutions and pooling import and give TF's values: Conv2D,
Conv2DBackpropInput and Conv2DBackpropFilter with SAME, VALID or explicit padding, NHWC and
NCHW, MaxPool, AvgPool and BiasAdd in both formats (frontend/graph_def_conv.py), and a frozen
TF CNN through `import_graph_def` and `lowerflow.aot.compile_graph_def`."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf

RNG = np.random.RandomState(0)
X = RNG.randn(2, 9, 8, 3).astype(np.float32)
F = RNG.randn(3, 3, 3, 4).astype(np.float32)
B = RNG.randn(3).astype(np.float32)
NCHW = [0, 3, 1, 2]
# name -> (data format, strides, padding, dilations), in the node's data format
CONVS = {
    "same_s2": ("NHWC", [1, 2, 2, 1], "SAME", [1, 1, 1, 1]),
    "valid_d2": ("NHWC", [1, 1, 1, 1], "VALID", [1, 2, 2, 1]),
    "explicit": ("NHWC", [1, 2, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]], [1, 1, 1, 1]),
    "nchw_same": ("NCHW", [1, 1, 2, 2], "SAME", [1, 1, 1, 1]),
    "nchw_valid": ("NCHW", [1, 1, 1, 2], "VALID", [1, 1, 1, 1]),
    "nchw_explicit": ("NCHW", [1, 1, 1, 1], [[0, 0], [0, 0], [2, 0], [1, 1]], [1, 1, 1, 1]),
}
POOLS = {
    "same": ("NHWC", [1, 3, 2, 1], [1, 2, 2, 1], "SAME"),
    "valid": ("NHWC", [1, 2, 3, 1], [1, 1, 2, 1], "VALID"),
    "nchw_same": ("NCHW", [1, 1, 3, 2], [1, 1, 2, 2], "SAME"),
    "nchw_valid": ("NCHW", [1, 1, 2, 2], [1, 1, 1, 2], "VALID"),
}


def _nhwc(value):
    """An NCHW case's strides, dilations or explicit padding in NHWC order."""
    return value if isinstance(value, str) else [value[0], value[2], value[3], value[1]]


def _tf_graph(tf1):
    """Every case on one TF placeholder; returns (graph, fetch names, reference names). TF's CPU
    kernels lack some NCHW cases (an explicitly padded input gradient), so an NCHW case's
    reference is its NHWC twin, transposed."""
    g = tf1.Graph()
    fetches, refs = [], []
    with g.as_default():
        x = tf1.placeholder(tf1.float32, [2, 9, 8, 3], name="x")
        xt = tf1.transpose(x, NCHW)
        for name, (fmt, strides, padding, dilations) in CONVS.items():
            for twin in (False, True):
                first = fmt == "NCHW" and not twin
                v, f = (xt if first else x), ("NCHW" if first else "NHWC")
                s, p, d = (strides, padding, dilations) if first or fmt == "NHWC" else map(
                    _nhwc, (strides, padding, dilations))
                y = tf1.nn.conv2d(v, F, s, p, data_format=f, dilations=d, name=f"conv_{name}_{twin}")
                dy = tf1.sin(y * 3.0)
                dx = tf1.nn.conv2d_backprop_input(v.shape.as_list(), F, dy, s, p, data_format=f, dilations=d,
                                                  name=f"dx_{name}_{twin}")
                df = tf1.nn.conv2d_backprop_filter(v, F.shape, dy, s, p, data_format=f, dilations=d,
                                                   name=f"df_{name}_{twin}")
                back = (lambda t: tf1.transpose(t, NCHW)) if fmt == "NCHW" and twin else (lambda t: t)
                (refs if twin else fetches).extend([back(y), back(dx), df])
        for name, (fmt, ksize, strides, padding) in POOLS.items():
            v = xt if fmt == "NCHW" else x
            fetches += [tf1.nn.max_pool(v, ksize, strides, padding, data_format=fmt, name=f"max_{name}"),
                        tf1.nn.avg_pool(v, ksize, strides, padding, data_format=fmt, name=f"avg_{name}")]
        x64 = tf1.cast(x, tf1.float64)  # composed here (the native ops are float32), explicit padding
        pads = [[0, 0], [1, 0], [2, 1], [0, 0]]
        y64 = tf1.nn.conv2d(x64, F.astype(np.float64), [1, 1, 2, 1], pads, name="conv64")
        fetches += [y64, tf1.nn.conv2d_backprop_filter(x64, F.shape, y64, [1, 1, 2, 1], pads, name="df64")]
        fetches += [tf1.nn.bias_add(x, B, name="bias_nhwc"),
                    tf1.nn.bias_add(xt, B, data_format="NCHW", name="bias_nchw")]
        refs += fetches[len(refs):]
    return g, [t.name for t in fetches], refs


@pytest.fixture(scope="module")
def case(tf1):
    g, names, refs = _tf_graph(tf1)
    with tf1.Session(graph=g) as sess:
        want = sess.run(refs, {"x:0": X})
    return g.as_graph_def().SerializeToString(), names, want


def test_tf_convolutions_and_pools_import(case):
    data, names, want = case
    types = {n.name: n.op for n in tf.GraphDef.FromString(data).node}
    assert {types[n.split(":")[0]] for n in names} == {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter",
                                                      "MaxPool", "AvgPool", "BiasAdd"}
    with tf.Graph().as_default():
        got_t = tf.import_graph_def(tf.GraphDef.FromString(data), return_elements=names, name="")
        assert [t.name for t in got_t] == names
        assert [t.shape.as_list() for t in got_t] == [list(w.shape) for w in want]
        with tf.Session() as sess:
            got = sess.run(got_t, {"x:0": X})
    for name, w, h in zip(names, want, got):
        np.testing.assert_allclose(h, w, rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_bad_explicit_paddings(tf1, fmt):
    g = tf1.Graph()
    with g.as_default():
        x = tf1.placeholder(tf1.float32, [1, 4, 4, 2] if fmt == "NHWC" else [1, 2, 4, 4], name="x")
        pads = [[0, 0], [1, 1], [1, 1], [0, 0]] if fmt == "NHWC" else [[0, 0], [0, 0], [1, 1], [1, 1]]
        tf1.nn.conv2d(x, np.ones([2, 2, 2, 1], np.float32), [1, 1, 1, 1], pads, data_format=fmt, name="c")
    gd = tf.GraphDef.FromString(g.as_graph_def().SerializeToString())
    node = next(n for n in gd.node if n.name == "c")
    del node.attr["explicit_paddings"].list.i[:]
    node.attr["explicit_paddings"].list.i.extend([0, 0, 1, 1])
    with tf.Graph().as_default(), pytest.raises(ValueError, match="8 explicit.paddings"):
        tf.import_graph_def(gd, name="")


def _frozen_cnn(tf1):
    """A TF-trained-shape CNN (conv + relu + pool + conv + pool + dense + softmax), frozen."""
    g = tf1.Graph()
    rng = np.random.RandomState(1)
    with g.as_default():
        x = tf1.placeholder(tf1.float32, [None, 12, 12, 1], name="x")
        w1 = tf1.Variable(rng.randn(3, 3, 1, 6).astype(np.float32) * 0.5)
        b1 = tf1.Variable(rng.randn(6).astype(np.float32) * 0.1)
        w2 = tf1.Variable(rng.randn(3, 3, 6, 8).astype(np.float32) * 0.3)
        wd = tf1.Variable(rng.randn(3 * 3 * 8, 5).astype(np.float32) * 0.2)
        h = tf1.nn.max_pool(tf1.nn.relu(tf1.nn.bias_add(tf1.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME"), b1)),
                            [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        h = tf1.nn.avg_pool(tf1.nn.relu(tf1.nn.conv2d(h, w2, [1, 1, 1, 1], "SAME")), [1, 2, 2, 1], [1, 2, 2, 1],
                            "SAME")
        tf1.nn.softmax(tf1.matmul(tf1.reshape(h, [-1, 3 * 3 * 8]), wd), name="out")
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            frozen = tf1.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["out"])
            images = rng.randn(4, 12, 12, 1).astype(np.float32)
            want = sess.run("out:0", {"x:0": images})
    return frozen.SerializeToString(), images, want


def test_frozen_tf_cnn(tf1, tmp_path):
    from lowerflow import aot

    data, images, want = _frozen_cnn(tf1)
    with tf.Graph().as_default():
        (out,) = tf.import_graph_def(tf.GraphDef.FromString(data), return_elements=["out:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(out, {"x:0": images}), want, rtol=1e-5, atol=1e-6)
    aot.compile_graph_def(data, {"x:0": (4, 12, 12, 1)}, ["out:0"], name="cnn", out_dir=tmp_path, shared=True)
    np.testing.assert_allclose(aot.load(tmp_path, "cnn")(images), want, rtol=1e-5, atol=1e-6)
