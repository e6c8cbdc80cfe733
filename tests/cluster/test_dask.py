"""lowerflow.dask on a real cluster: `LocalCluster(processes=True, n_workers=2)`, one for the module.

Starting the cluster costs ~5 s and each compile ~0.3 s, so the graphs are small and built
once (module-scoped fixtures). The worker-killing test runs last: the cluster's nanny
restarts the worker, and the fixture's teardown checks that closing the cluster leaves no
process behind.
"""
from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest

_REASON = "lowerflow.dask needs the 'dask' extra: pip install 'lowerflow[dask]'"
da = pytest.importorskip("dask.array", reason=_REASON)
distributed = pytest.importorskip("distributed", reason=_REASON)
psutil = pytest.importorskip("psutil", reason=_REASON)  # a dependency of distributed
cloudpickle = pytest.importorskip("cloudpickle", reason=_REASON)

import lowerflow as tf  # noqa: E402
import lowerflow.dask as lfd  # noqa: E402
from lowerflow.runtime import dask_program  # noqa: E402

# helpers of this module run on the workers, which cannot import the tests package
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROWS, FEATURES, HIDDEN, CLASSES = 250, 16, 32, 4
_RS = np.random.RandomState(0)
W1 = (_RS.randn(FEATURES, HIDDEN) * 0.3).astype(np.float32)
B1 = (_RS.randn(HIDDEN) * 0.1).astype(np.float32)
W2 = (_RS.randn(HIDDEN, CLASSES) * 0.3).astype(np.float32)
X = _RS.randn(ROWS, FEATURES).astype(np.float32)
SHIFT = np.float32(0.25)


def _worker_pids(client) -> list[int]:
    """The worker processes (their nannies live in this process)."""
    return sorted(client.run(os.getpid).values())


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.wait_for_workers(2, timeout=60)
    pids = _worker_pids(client)
    client.close()
    cluster.close()
    _, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=10)
    assert not alive, f"processes left after close(): {alive}"


@pytest.fixture(scope="module")
def mlp():
    """An MLP with trained weights, a placeholder fed a plain value, and its Session."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, FEATURES], name="x")
        shift = tf.placeholder(tf.float32, [], name="shift")
        w1 = tf.Variable(np.zeros_like(W1), name="w1")
        b1 = tf.Variable(B1, name="b1")
        w2 = tf.Variable(np.zeros_like(W2), name="w2")
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1 - shift, name="hidden")
        probs = tf.nn.softmax(tf.matmul(hidden, w2), name="probs")
        sess = tf.Session(graph=g)
        sess.run(tf.global_variables_initializer())
        w1.load(W1, sess)
        w2.load(W2, sess)
    yield sess, x, shift, hidden, probs
    sess.close()


@pytest.fixture(scope="module")
def mapped(client, mlp):
    """map_batches of the MLP over 250 rows in chunks of 100 (two chunk sizes, two programs)."""
    sess, x, shift, hidden, probs = mlp
    out = lfd.map_batches({"probs": probs, "layers": [hidden]}, {x: da.from_array(X, chunks=100), shift: SHIFT},
                          session=sess)
    return out, out["probs"].compute(), out["layers"][0].compute()


def test_map_batches_equals_session_run_on_all_rows(mlp, mapped):
    sess, x, shift, hidden, probs = mlp
    out, probs_value, hidden_value = mapped
    assert isinstance(out["probs"], da.Array) and out["probs"].chunks == ((100, 100, 50), (CLASSES,))
    assert out["probs"].dtype == np.float32 and isinstance(out["layers"], list)
    want_probs, want_hidden = sess.run([probs, hidden], {x: X, shift: SHIFT})
    np.testing.assert_allclose(probs_value, want_probs, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hidden_value, want_hidden, rtol=1e-5, atol=1e-6)


def test_map_batches_matches_tensorflow(mapped):
    real_tf = pytest.importorskip("tensorflow")
    v1 = real_tf.compat.v1
    g = v1.Graph()
    with g.as_default():
        x = v1.placeholder(v1.float32, [None, FEATURES])
        hidden = v1.nn.relu(v1.matmul(x, W1) + B1 - SHIFT)
        probs = v1.nn.softmax(v1.matmul(hidden, W2))
        with v1.Session(graph=g) as sess:
            want = sess.run(probs, {x: X})
    np.testing.assert_allclose(mapped[1], want, rtol=1e-5, atol=1e-6)


def test_workers_load_each_program_once(client, mapped):
    for _ in range(3):
        np.testing.assert_array_equal(mapped[0]["probs"].compute(), mapped[1])
    loaded = client.run(lambda: (dask_program.PROGRAM_STATS["loads"],
                                 sum(k[0] == "aot" for k in dask_program.CACHE.keys())))
    assert all(loads == distinct <= 2 for loads, distinct in loaded.values())  # by content hash
    assert sum(loads for loads, _ in loaded.values()) >= 2


def test_variables_default_to_their_initial_values(client):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [None, 3], name="x")
        scale = tf.Variable(np.array([1.0, -2.0, 0.5]), name="scale")
        y = x * scale + 1.0
    data = np.arange(21.0).reshape(7, 3)
    got = lfd.map_batches(y, {"x:0": da.from_array(data, chunks=3)}, graph=g).compute()
    np.testing.assert_array_equal(got, data * [1.0, -2.0, 0.5] + 1.0)


def test_a_worker_on_another_cpu_compiles_the_ir_text(client):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 2], name="x")
        y = tf.tanh(x) * 3.0
    func = tf.aot.graph_function([y], [x])
    program = dask_program.build_program(func, "foreign")
    foreign = dask_program.Program(program.compiled, "another-cpu:0123456789abcdef", program.ir_text)
    data = np.linspace(-2, 2, 8, dtype=np.float32).reshape(4, 2)
    (got,) = client.submit(dask_program.run_program, foreign, data, pure=False).result()
    np.testing.assert_allclose(got, np.tanh(data) * 3.0, rtol=1e-6)
    stats = client.run(lambda: dask_program.PROGRAM_STATS["recompiles"])
    assert sum(stats.values()) == 1


def test_a_native_error_on_a_worker_is_the_tf_error_class(client):
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.int32, [None], name="a")
        b = tf.placeholder(tf.int32, [None], name="b")
        q = tf.floordiv(a, b)
    divisors = np.array([1, 2, 3, 4, 0, 6], np.int32)  # the zero is in the second chunk
    out = lfd.map_batches(q, {a: da.from_array(np.arange(6, dtype=np.int32), chunks=3),
                              b: da.from_array(divisors, chunks=3)}, graph=g)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
        out.compute()
    np.testing.assert_array_equal(out[:3].compute(), [0, 0, 0])  # the first chunk is fine


def test_a_compile_error_on_a_worker_is_the_tf_error_class(client):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        y = x + 7.0
    program = dask_program.build_program(tf.aot.graph_function([y], [x]), "broken")
    broken = dask_program.Program(program.compiled, "another-cpu:0", "module { not ir }")
    with pytest.raises(tf.errors.InternalError, match="cannot load compiled step 'broken' on this worker"):
        client.submit(dask_program.run_program, broken, np.zeros(2, np.float32), pure=False).result()


def test_map_batches_rejects_bad_jobs_on_the_client(mlp):
    sess, x, shift, hidden, probs = mlp
    rows = da.from_array(X, chunks=100)
    with pytest.raises(TypeError, match="fetches tensors, not operations"):
        lfd.map_batches(probs.op, {x: rows, shift: SHIFT}, session=sess)
    with pytest.raises(ValueError, match="at least one feed that is a dask array"):
        lfd.map_batches(probs, {x: X, shift: SHIFT}, session=sess)
    with pytest.raises(ValueError, match="first axis"):
        lfd.map_batches(tf.reduce_sum(probs), {x: rows, shift: SHIFT}, session=sess)
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        lfd.map_batches(probs, {x: da.ones((10, 3), chunks=5), shift: SHIFT}, session=sess)
    with pytest.raises(ValueError, match="different row counts"):
        lfd.map_batches(probs, {x: rows, shift: da.ones(7, chunks=7)}, session=sess)
    with pytest.raises(tf.errors.InvalidArgumentError, match="shift"):
        lfd.map_batches(probs, {x: rows}, session=sess)


def _logistic_regression(graph):
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 8], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        w = tf.Variable(np.zeros((8, 1), np.float32), name="w")
        b = tf.Variable(np.zeros(1, np.float32), name="b")
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tf.matmul(x, w) + b))
    return x, y, w, b, loss


TRAIN_X = np.random.RandomState(1).randn(300, 8).astype(np.float32)
TRAIN_Y = (TRAIN_X[:, :1] - TRAIN_X[:, 1:2] > 0.2).astype(np.float32)


@pytest.fixture(scope="module")
def single_process():
    """Ten steps of Momentum on the whole batch in one Session: losses, w, b."""
    g = tf.Graph()
    x, y, w, b, loss = _logistic_regression(g)
    with g.as_default(), tf.Session(graph=g) as sess:
        train = tf.train.MomentumOptimizer(0.5, 0.9).minimize(loss)
        sess.run(tf.global_variables_initializer())
        losses = [sess.run([loss, train], {x: TRAIN_X, y: TRAIN_Y})[0] for _ in range(10)]
        return np.array(losses), sess.run(w), sess.run(b)


def test_data_parallel_training_equals_one_process(client, single_process):
    g = tf.Graph()
    x, y, w, b, loss = _logistic_regression(g)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer([w, b]))
        feeds = {x: da.from_array(TRAIN_X, chunks=128), y: da.from_array(TRAIN_Y, chunks=128)}
        losses = lfd.train_data_parallel(loss, tf.train.MomentumOptimizer(0.5, 0.9), feeds, 10, sess)
        want_losses, want_w, want_b = single_process
        np.testing.assert_allclose(sess.run(w), want_w, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(sess.run(b), want_b, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
        assert losses.dtype == np.float32 and losses[-1] < losses[0]


def test_data_parallel_training_matches_tensorflow(single_process):
    real_tf = pytest.importorskip("tensorflow")
    v1 = real_tf.compat.v1
    g = v1.Graph()
    with g.as_default():
        x = v1.placeholder(v1.float32, [None, 8])
        y = v1.placeholder(v1.float32, [None, 1])
        w = v1.Variable(np.zeros((8, 1), np.float32))
        b = v1.Variable(np.zeros(1, np.float32))
        loss = v1.reduce_mean(v1.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=v1.matmul(x, w) + b))
        train = v1.train.MomentumOptimizer(0.5, 0.9).minimize(loss)
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            for _ in range(10):
                sess.run(train, {x: TRAIN_X, y: TRAIN_Y})
            want_w = sess.run(w)
    np.testing.assert_allclose(single_process[1], want_w, rtol=1e-4, atol=1e-6)


def test_data_parallel_training_rejects_bad_arguments(client):
    g = tf.Graph()
    x, y, w, b, loss = _logistic_regression(g)
    feeds = {x: da.from_array(TRAIN_X, chunks=150), y: da.from_array(TRAIN_Y, chunks=150)}
    with tf.Session(graph=g) as sess:
        with g.as_default():
            train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with pytest.raises(TypeError, match="needs the loss tensor"):
            lfd.train_data_parallel(train, tf.train.GradientDescentOptimizer(0.1), feeds, 1, sess)
        with pytest.raises(ValueError, match="non-negative int"):
            lfd.train_data_parallel(loss, tf.train.GradientDescentOptimizer(0.1), feeds, -1, sess)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value w"):
            lfd.train_data_parallel(loss, tf.train.GradientDescentOptimizer(0.1), feeds, 1, sess)


def _slow_copy(block):
    time.sleep(0.3)
    return block.copy()


def test_a_worker_killed_mid_job_changes_nothing(client, mlp, mapped):
    """Runs last: the nanny restarts the killed worker (the fixture waits for it)."""
    sess, x, shift, hidden, probs = mlp
    rows = da.from_array(X, chunks=42).map_blocks(_slow_copy)  # 6 chunks, 0.3 s each
    job = client.compute(lfd.map_batches(probs, {x: rows, shift: SHIFT}, session=sess))
    deadline = time.monotonic() + 10
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    victim = next(iter(client.run(os.getpid).values()))
    os.kill(victim, signal.SIGKILL)
    np.testing.assert_allclose(job.result(timeout=60), mapped[1], rtol=1e-6, atol=1e-7)
    assert victim not in _worker_pids(client)
