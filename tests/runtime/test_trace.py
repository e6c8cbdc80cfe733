"""Traced runs (runtime/tracing.py, backend/codegen.py's traced step) and their Chrome trace
(runtime/timeline.py): one NodeExecStats per native kernel, times from the native step."""
from __future__ import annotations

import json

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import timeline

X = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
COMPUTE = {"MatMul", "AddV2", "Relu", "Exp", "Sum", "Mul", "Tanh"}  # types of the graph's ops that compute


def _graph(lib):
    """The same user code under lowerflow and tensorflow.compat.v1."""
    x = lib.placeholder(lib.float32, [None, 8], name="x")
    w = lib.Variable(np.linspace(-1, 1, 24, dtype=np.float32).reshape(8, 3), name="w")
    h = lib.nn.relu(lib.matmul(x, w) + 0.5, name="h")
    y = lib.reduce_sum(lib.exp(h), axis=1, name="y")
    z = lib.tanh(y * 0.01, name="z")
    return x, z


def _traced(lib, timeline_module):
    """(untraced value, traced value, run metadata, chrome trace) from `lib`."""
    with lib.Graph().as_default() as g:
        x, z = _graph(lib)
        with lib.Session() as sess:
            sess.run(lib.global_variables_initializer())
            plain = sess.run(z, {x: X})
            meta = lib.RunMetadata()
            options = lib.RunOptions(trace_level=lib.RunOptions.FULL_TRACE)
            traced = sess.run(z, {x: X}, options=options, run_metadata=meta)
            trace = timeline_module.Timeline(meta.step_stats).generate_chrome_trace_format(
                show_dataflow=True, show_memory=False)
    return g, plain, traced, meta, trace


@pytest.fixture(scope="module")
def ours():
    return _traced(tf, timeline)


def test_traced_values_equal_untraced(ours):
    g, plain, traced, meta, trace = ours
    np.testing.assert_array_equal(plain, traced)
    assert plain.shape == (16,) and np.isfinite(plain).all()


def test_one_node_stats_per_kernel(ours):
    g, plain, traced, meta, trace = ours
    (dev,) = meta.step_stats.dev_stats
    assert dev.device == "/job:localhost/replica:0/task:0/device:CPU:0"
    names = [n.node_name for n in dev.node_stats]
    assert len(names) == len(set(names)) >= 2
    covered = {op for n in dev.node_stats for op in n.timeline_label.split("ops=[")[1][:-1].split(", ")}
    wanted = {op.name for op in g.get_operations() if op.type in COMPUTE}
    assert wanted and wanted <= covered
    fused = [n for n in dev.node_stats if "MatMul" in n.timeline_label]
    assert fused and {"MatMul", "add", "h"} <= set(fused[0].timeline_label.split("ops=[")[1][:-1].split(", "))


def test_times_nonnegative_and_ordered(ours):
    (dev,) = ours[3].step_stats.dev_stats
    previous_end = 0
    for n in dev.node_stats:
        assert n.all_end_rel_nanos >= 0 and n.op_end_rel_nanos == n.all_end_rel_nanos
        assert n.all_start_nanos >= previous_end and n.all_start_micros == n.all_start_nanos // 1000
        previous_end = n.all_start_nanos + n.all_end_rel_nanos
    assert 0 < previous_end - dev.node_stats[0].all_start_nanos < 10**9


def test_chrome_trace_names_every_kernel(ours):
    (dev,) = ours[3].step_stats.dev_stats
    events = json.loads(ours[4])["traceEvents"]
    ops = [e for e in events if e["ph"] == "X"]
    assert [e["args"]["name"] for e in ops] == [n.node_name for n in dev.node_stats]
    assert all(e["dur"] >= 0 and e["cat"] == "Op" for e in ops)
    assert [e["ts"] for e in ops] == sorted(e["ts"] for e in ops)
    assert any(e["name"].startswith("MatMul+") for e in ops)
    flows = [e for e in events if e["ph"] in "st"]
    assert flows and len(flows) % 2 == 0 and {e["name"] for e in flows} <= {n.node_name for n in dev.node_stats}
    assert {e["name"] for e in events if e["ph"] == "M"} >= {"process_name", "thread_name"}


def test_untraced_step_has_no_clock_and_metadata_stays_empty(ours):
    with tf.Graph().as_default():
        x, z = _graph(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            meta = tf.RunMetadata()
            sess.run(z, {x: X}, run_metadata=meta)  # no trace level: nothing recorded
            assert not meta.step_stats.dev_stats
            sess.run(z, {x: X}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=meta)
            plain, traced = list(sess._plans.values())[-2:]  # z untraced, then traced
    assert "clock_gettime" not in plain.exe.source_ir and "clock_gettime" in traced.exe.source_ir
    assert len(traced.exe.result_types) == len(plain.exe.result_types) + 1


def test_traced_training_step_commits():
    with tf.Graph().as_default():
        v = tf.Variable(1.0, name="v")
        step = tf.assign_add(v, 2.0)
        with tf.Session() as sess:
            sess.run(v.initializer)
            meta = tf.RunMetadata()
            assert sess.run(step, options=tf.RunOptions(trace_level=tf.RunOptions.SOFTWARE_TRACE),
                            run_metadata=meta) == 3.0
            assert sess.run(v) == 3.0 and len(meta.step_stats.dev_stats[0].node_stats) >= 1


def test_make_callable_traces():
    with tf.Graph().as_default():
        x, z = _graph(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            run = sess.make_callable(z, [x])
            meta = tf.RunMetadata()
            traced = run(X, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=meta)
            np.testing.assert_array_equal(traced, run(X))
    assert len(meta.step_stats.dev_stats[0].node_stats) >= 2


@pytest.fixture(scope="module")
def tf1():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    return tf1


def test_same_code_under_tensorflow(ours, tf1):
    from tensorflow.python.client import timeline as tf_timeline

    g, plain, traced, meta, trace = _traced(tf1, tf_timeline)
    np.testing.assert_allclose(traced, ours[2], rtol=1e-5)
    theirs = {e["args"]["name"] for e in json.loads(trace)["traceEvents"] if e["ph"] == "X"}
    assert {"MatMul", "y", "z"} <= theirs  # TF traces each of its (grappler-fused) kernels too
    assert meta.step_stats.dev_stats[0].node_stats[0].all_start_micros > 0


def test_tensorflow_timeline_reads_our_step_stats(ours, tf1):
    from tensorflow.core.framework import step_stats_pb2
    from tensorflow.python.client import timeline as tf_timeline

    stats = step_stats_pb2.StepStats.FromString(ours[3].step_stats.SerializeToString())
    theirs = [e for e in json.loads(tf_timeline.Timeline(stats).generate_chrome_trace_format())["traceEvents"]
              if e["ph"] == "X"]
    mine = [e for e in json.loads(ours[4])["traceEvents"] if e["ph"] == "X"]
    assert [(e["name"], e["args"]) for e in theirs] == [(e["name"], e["args"]) for e in mine]
    # TF's timeline reads the microsecond fields; ours the nanosecond ones (floats of ~0.25 µs resolution)
    assert all(abs(a["ts"] - b["ts"]) <= 1 for a, b in zip(theirs, mine))
