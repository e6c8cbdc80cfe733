"""tf.summary and FileWriter (frontend/summary_ops.py, runtime/summary_host.py,
runtime/summary_writer.py): values computed in the step, serialised on the host, event files
read back by TensorBoard's and TensorFlow's readers."""
from __future__ import annotations

import glob

import numpy as np
import pytest

import lowerflow as tf

VALUES = np.array([-3.0, -0.5, 0.0, 0.25, 0.25, 7.0, 1e-13], np.float32)


def _graph(lib):
    x = lib.placeholder(lib.float32, [None], name="x")
    loss = lib.reduce_mean(lib.square(x), name="loss")
    s1 = lib.summary.scalar("loss", loss)
    s2 = lib.summary.histogram("activations", x * 2.0)
    s3 = lib.summary.scalar("count", lib.size(x), family="stats")
    return loss, s1, s2, s3, lib.summary.merge_all()


@pytest.fixture(scope="module")
def ours():
    with tf.Graph().as_default() as g:
        loss, s1, s2, s3, merged = _graph(tf)
        with tf.Session() as sess:
            values = sess.run([loss, s1, s2, s3, merged], {"x:0": VALUES})
    return g, [t.name for t in (s1, s2, s3, merged)], values


def test_summary_values(ours):
    g, names, (loss, s1, s2, s3, merged) = ours
    assert names == ["loss_1:0", "activations:0", "stats/count:0", "Merge/MergeSummary:0"]
    assert isinstance(s1, bytes)
    (v,) = tf.Summary.FromString(s1).value
    assert v.tag == "loss_1" and v.simple_value == pytest.approx(float(loss))
    (h,) = tf.Summary.FromString(s2).value
    assert h.tag == "activations" and h.histo.num == VALUES.size and h.histo.max == 14.0
    assert sum(h.histo.bucket) == VALUES.size and h.histo.sum == pytest.approx(float(VALUES.sum() * 2))
    assert tf.Summary.FromString(s3).value[0].tag == "stats/stats/count"
    assert [v.tag for v in tf.Summary.FromString(merged).value] == ["loss_1", "activations", "stats/stats/count"]
    assert tf.get_collection("summaries") == [] and len(g.get_collection("summaries")) == 3


def test_summary_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="must be a scalar"):
            tf.summary.scalar("bad", tf.constant([1.0, 2.0]))
        assert tf.summary.merge_all() is None
        h = tf.summary.histogram("h", tf.placeholder(tf.float32, [2], name="p"))
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="Nan in summary histogram for: h"):
            sess.run(h, {"p:0": [1.0, np.nan]})


def test_file_writer_and_readers(ours, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing import event_accumulator

    g, names, values = ours
    with tf.Graph().as_default() as h:
        loss, s1, s2, s3, merged = _graph(tf)
        writer = tf.summary.FileWriter(str(tmp_path), h)
        with tf.Session() as sess:
            for step in range(3):
                writer.add_summary(sess.run(merged, {"x:0": VALUES * (step + 1)}), step)
        writer.close()
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    acc = event_accumulator.EventAccumulator(path, size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    assert set(acc.Tags()["scalars"]) == {"loss_1", "stats/stats/count"}
    scalars = acc.Scalars("loss_1")
    assert [e.step for e in scalars] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in scalars], [np.mean((VALUES * k) ** 2) for k in (1, 2, 3)], rtol=1e-6)
    assert [e.histogram_value.num for e in acc.Histograms("activations")] == [VALUES.size] * 3
    graph = acc.Graph()
    assert {n.name for n in graph.node} >= {"x", "loss", "Merge/MergeSummary"}


def test_matches_tensorflow(ours, tf1, tmp_path):
    g, names, values = ours
    with tf1.Graph().as_default():
        loss, s1, s2, s3, merged = _graph(tf1)
        with tf1.Session() as sess:
            want = sess.run([s1, s2, s3, merged], {"x:0": VALUES})
            theirs = tf1.get_default_graph().as_graph_def()
    for a, b in zip(values[1:], want):
        assert tf.Summary.FromString(a) == tf.Summary.FromString(b)
    with tf1.Graph().as_default():  # our graph, summaries included, runs in TensorFlow
        tf1.import_graph_def(tf1.GraphDef.FromString(g.as_graph_def().SerializeToString()), name="")
        with tf1.Session() as sess:
            assert tf.Summary.FromString(sess.run(names[-1], {"x:0": VALUES})) == tf.Summary.FromString(values[-1])
    with tf.Graph().as_default():  # TensorFlow's summaries (string Const tags) run here
        tf.import_graph_def(theirs, name="")
        with tf.Session() as sess:
            assert tf.Summary.FromString(sess.run(merged.name, {"x:0": VALUES})) == tf.Summary.FromString(want[-1])
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_summary(values[-1], 7)
    writer.flush()
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    events = list(tf1.train.summary_iterator(path))
    assert events[0].file_version == "brain.Event:2" and events[1].step == 7
    assert [v.tag for v in events[1].summary.value] == ["loss_1", "activations", "stats/stats/count"]
