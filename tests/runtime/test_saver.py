"""tf.train.Saver: save/restore round trips, subsets, name maps, latest_checkpoint, errors."""
import os

import numpy as np
import pytest

import lowerflow as tf


@pytest.fixture
def model():
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
        b = tf.Variable(np.zeros(3, np.float64), name="b")
        step = tf.Variable(0, name="step")
        train = tf.group(w.assign(w * 2.0), b.assign_add(np.ones(3)), step.assign_add(1))
        yield g, w, b, step, train


def test_save_restore_round_trip(model, tmp_path):
    g, w, b, step, train = model
    with g.as_default():
        saver = tf.train.Saver()
        init = tf.global_variables_initializer()
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=g) as sess:
        sess.run(init)
        sess.run(train)
        path = saver.save(sess, prefix, global_step=sess.run(step))
        expected = sess.run([w, b, step])
    assert path == prefix + "-1"
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    with tf.Session(graph=g) as sess:
        saver.restore(sess, path)
        for got, want in zip(sess.run([w, b, step]), expected):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(tf.train.load_variable(path, "w"), expected[0])  # TF's V2 format


def test_subset_and_name_map(model, tmp_path):
    g, w, b, step, train = model
    with g.as_default():
        only_w = tf.train.Saver([w])
        renamed = tf.train.Saver({"weights": w})
    with tf.Session(graph=g) as sess:
        sess.run(w.initializer)
        only_w.save(sess, str(tmp_path / "a"))
        renamed.save(sess, str(tmp_path / "b"))
    assert tf.train.list_variables(str(tmp_path / "b")) == [("weights", [2, 3])]
    with tf.Session(graph=g) as sess:
        renamed.restore(sess, str(tmp_path / "b"))
        np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3))
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(b)


def test_restore_errors_keep_session_intact(model, tmp_path):
    g, w, b, step, train = model
    with g.as_default():
        saver = tf.train.Saver()
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        with pytest.raises(tf.errors.NotFoundError):
            saver.restore(sess, str(tmp_path / "missing"))
        np.savez(open(str(tmp_path / "bad.lfckpt"), "wb"), w=np.zeros((3, 3), np.float32),
                 b=np.zeros(3), step=np.int32(5))
        with pytest.raises(tf.errors.InvalidArgumentError):
            saver.restore(sess, str(tmp_path / "bad"))
        assert sess.run(step) == 0


def test_max_to_keep(model, tmp_path):
    g, w, b, step, train = model
    with g.as_default():
        saver = tf.train.Saver(max_to_keep=2)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer([w, b, step]))
        for i in range(4):
            saver.save(sess, str(tmp_path / "m"), global_step=i)
    kept = sorted(f for f in os.listdir(tmp_path) if f.startswith("m-"))
    assert kept == ["m-2.data-00000-of-00001", "m-2.index", "m-2.meta", "m-3.data-00000-of-00001", "m-3.index",
                    "m-3.meta"]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("m-3")
    assert tf.train.latest_checkpoint(str(tmp_path / "nowhere")) is None
