"""GraphDef out and in: protos on the wire, our graphs in TensorFlow, TensorFlow's graphs here,
and tf.graph_util's freezing and pruning (frontend/graph_def.py, frontend/graph_util.py)."""
from __future__ import annotations

import numpy as np
import pytest
from google.protobuf import text_format

import lowerflow as tf

RNG = np.random.RandomState(0)
X = RNG.randn(5, 4).astype(np.float32)
LABELS = np.array([0, 2, 1, 1, 0], np.int32)


def _build_ours():
    """A graph over most op families; returns (graph, fetch names)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        i = tf.placeholder(tf.int32, [None], name="labels")
        w = tf.Variable(RNG.randn(4, 6).astype(np.float32), name="w")
        b = tf.get_variable("b", [6], initializer=tf.constant_initializer(0.25))
        h = tf.nn.relu(tf.matmul(x, w) + b)
        fetch = [
            tf.nn.softmax(h), tf.reduce_sum(h, axis=1, keepdims=True), tf.reduce_mean(h),
            tf.argmax(h, 1), tf.reshape(h, [-1, 2, 3]), tf.transpose(h), tf.expand_dims(h, 0),
            tf.squeeze(tf.expand_dims(h, 0), [0]), tf.concat([h, h], 1), tf.stack([h, h]),
            tf.unstack(w)[1], tf.cast(h, tf.int32), tf.tile(h, [2, 1]), tf.pad(h, [[1, 1], [0, 2]]),
            tf.pad(h, [[0, 1], [1, 0]], constant_values=2.0), tf.gather(w, i), tf.slice(h, [1, 0], [2, 3]),
            h[:, 1:4:2], tf.one_hot(i, 5), tf.range(2, 9, 3), tf.fill([2, 2], 3.0), tf.zeros_like(h),
            tf.ones_like(h), tf.shape(h), tf.where(h > 0.5, h, -h), tf.broadcast_to(b, [2, 6]),
            tf.unsorted_segment_sum(h, i, 3), tf.linspace(0.0, 1.0, 5), tf.squared_difference(h, 1.0),
            tf.split(h, 2, axis=1)[1], tf.split(h, [2, 4], axis=1)[0], tf.reduce_max(h, 0),
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=i, logits=h), tf.logical_not(h > 1.0),
            tf.maximum(h, 0.3), tf.sqrt(h + 1.0), tf.exp(-h), tf.pow(h, 2.0), tf.floordiv(i, 2),
        ]
        tf.global_variables_initializer()
    return g, [t.name for t in fetch]


@pytest.fixture(scope="module")
def ours():
    g, names = _build_ours()
    with tf.Session(graph=g) as sess:
        sess.run("init")
        values = sess.run(names, {"x:0": X, "labels:0": LABELS})
    return g, names, values


def test_protos_round_trip_bytes_and_text(ours):
    g = ours[0]
    gd = g.as_graph_def()
    again = tf.GraphDef()
    again.ParseFromString(gd.SerializeToString())
    assert again == gd
    assert text_format.Parse(text_format.MessageToString(gd), tf.GraphDef()) == gd
    node = next(n for n in gd.node if n.name == "Reshape")
    assert node.op == "Reshape" and list(node.input) == ["Relu", "Reshape/shape"]
    assert node.attr["T"].type == 1 and node.attr["Tshape"].type == 3
    shape = next(n for n in gd.node if n.name == "Reshape/shape")
    assert shape.op == "Const" and np.frombuffer(shape.attr["value"].tensor.tensor_content, "<i4").tolist() == [-1, 2, 3]
    assert gd.versions.producer > 0


def test_reimport_keeps_names_and_values(ours):
    g, names, values = ours
    gd = g.as_graph_def()
    g2 = tf.Graph()
    with g2.as_default():
        tf.import_graph_def(gd, name="")
    assert g2.as_graph_def() == gd  # the folded constants point at the same Const nodes
    with tf.Session(graph=g2) as sess:
        sess.run("init")
        got = sess.run(names, {"x:0": X, "labels:0": LABELS})
    for name, want, have in zip(names, values, got):
        np.testing.assert_array_equal(have, want, err_msg=name)


def test_import_prefix_input_map_return_elements():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [2], name="a")
        tf.multiply(a, 3.0, name="out")
    gd = g.as_graph_def()
    with tf.Graph().as_default() as h:
        feed = tf.constant([1.0, 2.0])
        out, op = tf.import_graph_def(gd, input_map={"a:0": feed}, return_elements=["out:0", "out"])
        assert out.name == "import/out:0" and op is out.op
        out2 = tf.import_graph_def(gd, input_map={"a": feed}, return_elements=["out:0"])[0]
        assert out2.name == "import_1/out:0"
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run([out, out2]), [[3.0, 6.0]] * 2)
        assert h.get_tensor_by_name("import/a:0").op.type == "Placeholder"
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="not found in graph_def"):
            tf.import_graph_def(gd, input_map={"nope:0": tf.constant(1.0)})
        with pytest.raises(ValueError, match="not found in graph_def"):
            tf.import_graph_def(gd, return_elements=["missing"])
        with pytest.raises(TypeError):
            tf.import_graph_def("not a graph def")


def test_unknown_op_type_is_refused_by_name():
    gd = tf.GraphDef()
    gd.node.add(name="q", op="QueueDequeueV2")
    with tf.Graph().as_default(), pytest.raises(NotImplementedError, match="'QueueDequeueV2'"):
        tf.import_graph_def(gd)


def test_extract_sub_graph_and_remove_training_nodes():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [2], name="a")
        b = tf.identity(a, name="b")
        c = tf.add(b, 1.0, name="c")
        tf.multiply(a, 2.0, name="unused")
    gd = g.as_graph_def()
    sub = tf.graph_util.extract_sub_graph(gd, ["c"])
    assert [n.name for n in sub.node] == ["a", "b", "Const", "c"]
    with pytest.raises(TypeError, match="must be a list"):
        tf.graph_util.extract_sub_graph(gd, "c")
    with pytest.raises(AssertionError, match="zz is not in graph"):
        tf.graph_util.extract_sub_graph(gd, ["zz"])
    pruned = tf.graph_util.remove_training_nodes(sub)
    assert [n.name for n in pruned.node] == ["a", "Const", "c"] and list(pruned.node[-1].input) == ["a", "Const"]
    assert [n.name for n in tf.graph_util.remove_training_nodes(sub, ["b"]).node] == ["a", "b", "Const", "c"]
    del c


def test_freeze_and_write_graph(tmp_path, ours):
    g, names, values = ours
    with tf.Session(graph=g) as sess:
        sess.run("init")
        frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["Softmax"])
    assert {n.name: n.op for n in frozen.node}["w"] == "Const"
    assert not any(n.op in ("VariableV2", "Assign") for n in frozen.node)
    path = tf.train.write_graph(frozen, str(tmp_path / "d"), "frozen.pbtxt")
    binary = tf.train.write_graph(g, str(tmp_path), "g.pb", as_text=False)
    assert tf.GraphDef.FromString(open(binary, "rb").read()) == g.as_graph_def()
    with tf.Graph().as_default():
        (prob,) = tf.import_graph_def(text_format.Parse(open(path).read(), tf.GraphDef()),
                                      return_elements=["Softmax:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(prob, {"x:0": X}), values[names.index("Softmax:0")])


# ---- against TensorFlow ----------------------------------------------------------------------

def test_our_graph_def_runs_in_tensorflow(ours, tf1):
    g, names, values = ours
    tg = tf1.Graph()
    with tg.as_default():
        tf1.import_graph_def(tf1.GraphDef.FromString(g.as_graph_def().SerializeToString()), name="")
        with tf1.Session() as sess:
            sess.run("init")
            got = sess.run(names, {"x:0": X, "labels:0": LABELS})
    for name, want, have in zip(names, values, got):
        np.testing.assert_allclose(have, want, rtol=2e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("resource", [True, False])
def test_tensorflow_graph_def_runs_here(tf1, resource):
    """A TF1 model (resource or reference variables) built and initialised in TensorFlow, its
    GraphDef imported here: every output equal."""
    tg = tf1.Graph()
    with tg.as_default():
        x = tf1.placeholder(tf1.float32, [None, 4], name="x")
        lab = tf1.placeholder(tf1.int32, [None], name="labels")
        with tf1.variable_scope("m", use_resource=resource):
            w1 = tf1.get_variable("w1", initializer=RNG.randn(4, 8).astype(np.float32))
            b1 = tf1.get_variable("b1", [8], initializer=tf1.constant_initializer(0.1))
            w2 = tf1.get_variable("w2", initializer=RNG.randn(8, 3).astype(np.float32))
        h = tf1.nn.relu(tf1.nn.bias_add(tf1.matmul(x, w1), b1))
        logits = tf1.matmul(h, w2, name="logits")
        fetch = [
            tf1.nn.softmax(logits), tf1.nn.log_softmax(logits),
            tf1.reduce_mean(tf1.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=logits)),
            tf1.reduce_sum(tf1.transpose(tf1.reshape(h, [-1, 2, 4]), [0, 2, 1]), axis=[1], keepdims=True),
            tf1.argmax(logits, 1), tf1.where(logits > 0, logits, -logits), tf1.stack([logits, -logits], 1),
            tf1.strided_slice(h, [0, 1], [3, 5], [1, 2]), h[:, -1], tf1.reduce_max(h),
            tf1.pad(h, [[1, 0], [0, 2]]), tf1.tile(h, [1, 2]), tf1.one_hot(lab, 3), tf1.gather(w1, lab),
            tf1.cast(h, tf1.int32), tf1.add_n([h, h, h]), tf1.nn.relu6(h * 3), tf1.split(h, 2, axis=1)[1],
            tf1.concat([h, logits], 1), tf1.nn.leaky_relu(logits, 0.1), tf1.squeeze(tf1.expand_dims(h, 0)),
        ]
        names = [t.name for t in fetch]
        init = tf1.global_variables_initializer()
        with tf1.Session() as sess:
            sess.run(init)
            want = sess.run(fetch, {x: X, lab: LABELS})
        gd = tg.as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(gd.SerializeToString(), name="")
        with tf.Session() as sess:
            sess.run(init.name)
            got = sess.run(names, {"x:0": X, "labels:0": LABELS})
    for name, a, b in zip(names, want, got):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=name)
