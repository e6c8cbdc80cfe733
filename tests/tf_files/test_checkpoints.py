"""TF's V2 checkpoints (runtime/checkpoint_v2.py, checkpoint_reader.py, saver.py): written and read
here, restored by TensorFlow, and TensorFlow's restored here."""
from __future__ import annotations

import os

import numpy as np
import pytest

import lowerflow as tf
from lowerflow.runtime import checkpoint_v2

RNG = np.random.RandomState(1)
X = RNG.randn(6, 4).astype(np.float32)
Y = RNG.randn(6, 2).astype(np.float32)


def _model(lib):
    """The same two-layer regression in lowerflow or tensorflow.compat.v1 (reference variables)."""
    x = lib.placeholder(lib.float32, [None, 4], name="x")
    y = lib.placeholder(lib.float32, [None, 2], name="y")
    with lib.variable_scope("net"):
        w1 = lib.get_variable("w1", initializer=RNG.randn(4, 5).astype(np.float32))
        b1 = lib.get_variable("b1", [5], initializer=lib.zeros_initializer())
        w2 = lib.get_variable("w2", initializer=RNG.randn(5, 2).astype(np.float32))
    out = lib.matmul(lib.tanh(lib.matmul(x, w1) + b1), w2, name="out")
    loss = lib.reduce_mean(lib.square(out - y))
    step = lib.train.get_or_create_global_step()
    train = lib.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    return out, loss, train


def test_bundle_round_trip_and_reader(tmp_path):
    prefix = str(tmp_path / "b")
    tensors = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "s/i": np.int64(7),
               "h": np.array([1.5, -2], np.float16), "flag": np.array([True, False]),
               **{f"many/{k:02d}": np.full(k, k, np.int32) for k in range(20)}}  # past one restart interval
    checkpoint_v2.write_bundle(prefix, tensors)
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map()["a"] == [2, 3]
    assert reader.get_variable_to_dtype_map()["h"] == tf.float16
    for name, want in tensors.items():
        got = reader.get_tensor(name)
        assert got.dtype == np.asarray(want).dtype
        np.testing.assert_array_equal(got, want)
    assert [n for n, _ in tf.train.list_variables(prefix)] == sorted(tensors)
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found"):
        reader.get_tensor("nope")
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.NewCheckpointReader(str(tmp_path / "missing"))


def test_corrupt_files_are_data_loss(tmp_path):
    prefix = str(tmp_path / "c")
    checkpoint_v2.write_bundle(prefix, {"a": np.ones(4, np.float32)})
    data = bytearray(open(prefix + checkpoint_v2.DATA_SUFFIX, "rb").read())
    data[0] ^= 1
    open(prefix + checkpoint_v2.DATA_SUFFIX, "wb").write(bytes(data))
    with pytest.raises(tf.errors.DataLossError, match="Checksum does not match"):
        tf.train.load_variable(prefix, "a")
    open(prefix + ".index", "wb").write(b"\0" * 60)
    with pytest.raises(tf.errors.DataLossError):
        tf.train.NewCheckpointReader(prefix)


def test_saver_writes_v2_and_reads_legacy(tmp_path):
    with tf.Graph().as_default():
        v = tf.Variable([1.0, 2.0], name="v")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(v.initializer)
            path = saver.save(sess, str(tmp_path / "m"), global_step=5)
            assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m-5.data-00000-of-00001", "m-5.index", "m-5.meta"]
            assert tf.train.latest_checkpoint(str(tmp_path)) == path
            np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "v:0"), [1.0, 2.0])
            np.savez(open(str(tmp_path / "old.lfckpt"), "wb"), v=np.array([3.0, 4.0], np.float32))
            saver.restore(sess, str(tmp_path / "old"))  # lowerflow's earlier format still restores
            np.testing.assert_array_equal(sess.run(v), [3.0, 4.0])


# ---- against TensorFlow ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def tf1(tf1_reference_variables):
    return tf1_reference_variables


def _train_and_save(lib, path):
    with lib.Graph().as_default():
        out, loss, train = _model(lib)
        with lib.Session() as sess:
            sess.run(lib.global_variables_initializer())
            for _ in range(3):
                sess.run(train, {"x:0": X, "y:0": Y})
            lib.train.Saver().save(sess, path)
            return sess.run([out, loss], {"x:0": X, "y:0": Y})


def _restore_and_run(lib, path):
    with lib.Graph().as_default():
        out, loss, train = _model(lib)
        with lib.Session() as sess:
            lib.train.Saver().restore(sess, path)
            before = sess.run([out, loss], {"x:0": X, "y:0": Y})
            sess.run(train, {"x:0": X, "y:0": Y})  # Adam's slots and powers restored too
            return before, sess.run(loss, {"x:0": X, "y:0": Y})


@pytest.mark.parametrize("writer", ["tensorflow", "lowerflow"])
def test_trained_model_restores_on_the_other_side(tf1, tmp_path, writer):
    libs = {"tensorflow": tf1, "lowerflow": tf}
    reader = "lowerflow" if writer == "tensorflow" else "tensorflow"
    path = str(tmp_path / "model.ckpt")
    want = _train_and_save(libs[writer], path)
    (got, after), = [_restore_and_run(libs[reader], path)]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5)
    assert after < got[1]
    ours = tf.train.NewCheckpointReader(path)
    theirs = tf1.train.NewCheckpointReader(path)
    assert ours.get_variable_to_shape_map() == theirs.get_variable_to_shape_map()
    for name in theirs.get_variable_to_shape_map():
        np.testing.assert_array_equal(ours.get_tensor(name), theirs.get_tensor(name))


def test_tensorflow_graph_def_and_checkpoint_restore_here(tf1, tmp_path):
    """A model trained in TF, shipped as its inference GraphDef + checkpoint, imported and
    restored here (TF's gradient graph takes shapes at run time, which lowerflow's shape-like
    arguments cannot: the inference subgraph is what ships)."""
    path = str(tmp_path / "tf.ckpt")
    with tf1.Graph().as_default() as g:
        out, loss, train = _model(tf1)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(train, {"x:0": X, "y:0": Y})
            tf1.train.Saver().save(sess, path)
            want = sess.run(out, {"x:0": X})
        graph_def = tf.graph_util.extract_sub_graph(g.as_graph_def(), ["out"])
    with tf.Graph().as_default() as h:
        tf.import_graph_def(graph_def, name="")
        variables = {op.name: op.outputs[0] for op in h.get_operations() if op.type == "VariableV2"}
        assert sorted(variables) == ["net/b1", "net/w1", "net/w2"]
        with tf.Session() as sess:
            tf.train.Saver(variables).restore(sess, path)
            np.testing.assert_allclose(sess.run("out:0", {"x:0": X}), want, rtol=1e-5, atol=1e-6)
