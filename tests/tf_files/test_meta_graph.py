"""Meta graphs (frontend/meta_graph.py): export, import with collections, and the .meta a Saver
writes, here and against TensorFlow."""
from __future__ import annotations

import numpy as np
import pytest
from google.protobuf import text_format

import lowerflow as tf

X = np.random.RandomState(3).randn(4, 3).astype(np.float32)


def _model(lib, train=True):
    x = lib.placeholder(lib.float32, [None, 3], name="x")
    w = lib.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 10, name="w")
    b = lib.Variable(np.zeros(2, np.float32), name="b", trainable=False)
    out = lib.nn.softmax(lib.matmul(x, w) + b, name="out")
    if train:
        lib.train.GradientDescentOptimizer(0.1).minimize(lib.reduce_sum(out * out), name="train")  # a train_op
    lib.add_to_collection("outputs", out)
    return out


def test_export_import_round_trip(tmp_path):
    path = str(tmp_path / "m.meta")
    with tf.Graph().as_default():
        out = _model(tf)
        meta = tf.train.export_meta_graph(path)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run("train", {"x:0": X})
            prefix = tf.train.Saver().save(sess, str(tmp_path / "ck"), write_meta_graph=False)
            sess.run("train", {"x:0": X})
            want = sess.run(out, {"x:0": X})
    assert set(meta.collection_def) >= {"variables", "trainable_variables", "train_op", "outputs"}
    for text in (False, True):
        if text:
            open(path, "w").write(text_format.MessageToString(meta))
        with tf.Graph().as_default():
            saver = tf.train.import_meta_graph(path)
            assert [v.name for v in tf.global_variables()] == ["w:0", "b:0"]
            assert [v.name for v in tf.trainable_variables()] == ["w:0"]
            assert tf.global_variables()[0] is tf.trainable_variables()[0]
            (train,) = tf.get_collection("train_op")
            (out,) = tf.get_collection("outputs")
            with tf.Session() as sess:
                saver.restore(sess, prefix)
                sess.run(train, {"x:0": X})
                np.testing.assert_allclose(sess.run(out, {"x:0": X}), want, rtol=1e-6)


def test_saver_writes_meta_and_scoped_import(tmp_path):
    with tf.Graph().as_default():
        _model(tf, train=False)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = tf.train.Saver().save(sess, str(tmp_path / "s"))
            want = sess.run("out:0", {"x:0": X})
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta", import_scope="imp")
        assert [v.op.name for v in tf.global_variables()] == ["imp/w", "imp/b"]
        with tf.Session() as sess:
            tf.train.Saver({"w": tf.global_variables()[0], "b": tf.global_variables()[1]}).restore(sess, prefix)
            np.testing.assert_allclose(sess.run("imp/out:0", {"imp/x:0": X}), want, rtol=1e-6)
        assert saver is not None
    with tf.Graph().as_default():
        tf.placeholder(tf.float32, name="p")
        tf.train.export_meta_graph(str(tmp_path / "novars.meta"))
    with tf.Graph().as_default():
        assert tf.train.import_meta_graph(str(tmp_path / "novars.meta")) is None
    with pytest.raises(OSError, match="does not exist"):
        tf.train.import_meta_graph(str(tmp_path / "nothing.meta"))


@pytest.fixture(scope="module")
def tf1(tf1_reference_variables):
    return tf1_reference_variables


def test_tensorflow_meta_graph_imports_here(tf1, tmp_path):
    with tf1.Graph().as_default():
        _model(tf1, train=False)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(tf1.assign_add(tf1.global_variables()[1], [0.5, -0.5]))
            prefix = tf1.train.Saver().save(sess, str(tmp_path / "tfm"))
            want = sess.run("out:0", {"x:0": X})
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        (out,) = tf.get_collection("outputs")
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            np.testing.assert_allclose(sess.run(out, {"x:0": X}), want, rtol=1e-6)


def test_our_meta_graph_imports_in_tensorflow(tf1, tmp_path):
    with tf.Graph().as_default():
        _model(tf, train=False)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.assign_add(tf.global_variables()[1], [0.5, -0.5]))
            prefix = tf.train.Saver().save(sess, str(tmp_path / "lfm"))
            want = sess.run("out:0", {"x:0": X})
    with tf1.Graph().as_default():
        saver = tf1.train.import_meta_graph(prefix + ".meta")
        assert [v.op.name for v in tf1.global_variables()] == ["w", "b"]
        with tf1.Session() as sess:
            saver.restore(sess, prefix)
            np.testing.assert_allclose(sess.run(tf1.get_collection("outputs")[0], {"x:0": X}), want, rtol=1e-6)
