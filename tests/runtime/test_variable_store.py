"""The session's state owners: variables (read, commit, snapshot, restore) apart from the
random ops' run counters, which no save, restore or freeze sees."""
import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot
from lowerflow.ir.interp import run_function
from lowerflow.runtime.variable_store import RunCounters, SessionState, StateLocks, VariableStore


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.arange(3, dtype=np.float32), name="v")
        w = tf.Variable(1.0, name="w")
        tf.set_random_seed(5)
        r = tf.random_uniform([], seed=2, name="r")
    return g, v, w, r


def test_variable_store_read_commit_snapshot_restore(graph):
    _, v, w, _ = graph
    store = VariableStore(StateLocks())
    with pytest.raises(tf.errors.FailedPreconditionError, match="Attempting to use uninitialized value v"):
        store.read(v.op)
    assert not store.initialized(v.op) and store.snapshot([v.op, w.op]) == {}
    store.commit([v.op], [np.ones(3, np.float32)])
    assert store.initialized(v.op) and store.read(v.op).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value w"):
        store.read_all([v.op, w.op])
    store.restore({w.op: np.float32(4.0)})
    values = store.read_all([v.op, w.op])
    assert values[v.op].tolist() == [1.0, 1.0, 1.0] and float(values[w.op]) == 4.0
    store.clear()
    assert store.snapshot() == {}


def test_run_counters_start_once(graph):
    _, _, _, r = graph
    counters = RunCounters()
    counters.start([r.op])
    assert int(counters.values[r.op]) == 0
    counters.values[r.op] = np.int64(3)
    counters.start([r.op])  # a second plan running the op keeps its count
    assert int(counters.values[r.op]) == 3


def test_session_state_homes(graph):
    _, v, _, r = graph
    state = SessionState()
    state.start([v.op, r.op])
    assert state.home(v.op) is state.variables.values and state.home(r.op) is state.counters.values
    assert r.op in state.counters.values and not state.variables.initialized(v.op)
    assert state.locks.hold([]) is None


def test_a_session_keeps_counters_out_of_its_variables(graph):
    """Running a random op counts in the counters; the variable store holds only variables,
    so a snapshot, a save or a freeze never sees a counter."""
    g, v, w, r = graph
    with tf.Session(graph=g) as sess:
        sess.run([v.initializer, w.initializer])
        first = [float(sess.run(r)) for _ in range(3)]
        assert set(sess._store.snapshot()) == {v.op, w.op}
        assert int(sess._state.counters.values[r.op]) == 3
        func = aot.graph_function([v * w], [], session=sess)
        assert run_function(func, [])[0].tolist() == [0.0, 1.0, 2.0]
    assert len(set(first)) == 3


def test_mixed_state_step_commits_both_owners(graph):
    """A step that writes a variable and a counter (a noisy update) commits each to its
    owner: w grows by the draws another session replays, and the counter counts them."""
    g, v, w, r = graph
    with g.as_default():
        noisy = tf.assign_add(w, r)
    with tf.Session(graph=g) as sess:
        draws = [float(sess.run(r)) for _ in range(4)]
    with tf.Session(graph=g) as sess:
        sess.run(w.initializer)
        seen = [float(sess.run(noisy)) for _ in range(4)]
        assert int(sess._state.counters.values[r.op]) == 4
    assert seen == pytest.approx(list(np.float32(1.0) + np.cumsum(np.float32(draws))))


def _restore_keeps_counters(tf1, tmp_path) -> tuple[list[float], float]:
    """Draws before a save and the first draw after restoring it, in one session."""
    g = tf1.Graph()
    with g.as_default():
        v = tf1.Variable(2.0, name="v")
        tf1.set_random_seed(11)
        r = tf1.random_uniform([], seed=4)
        saver = tf1.train.Saver([v])
        with tf1.Session(graph=g) as sess:
            sess.run(v.initializer)
            drawn = [float(sess.run(r)) for _ in range(2)]
            prefix = saver.save(sess, str(tmp_path / "ck"), write_state=False)
            saver.restore(sess, prefix)
            return drawn, float(sess.run(r))


def test_restore_does_not_rewind_random_ops_as_tensorflow(tmp_path):
    tf1 = pytest.importorskip("tensorflow").compat.v1
    tf1.disable_eager_execution()
    for module in (tf, tf1):
        (tmp_path / module.__name__).mkdir()
        drawn, after = _restore_keeps_counters(module, tmp_path / module.__name__)
        assert after not in drawn, module.__name__


def test_saving_an_uninitialized_variable_fails_as_tensorflow(tmp_path):
    tf1 = pytest.importorskip("tensorflow").compat.v1
    tf1.disable_eager_execution()
    for module in (tf, tf1):
        g = module.Graph()
        with g.as_default():
            module.Variable(1.0, name="u")
            saver = module.train.Saver()
            with module.Session(graph=g) as sess, pytest.raises(module.errors.FailedPreconditionError) as e:
                saver.save(sess, str(tmp_path / "ck"), write_state=False)
        assert "u" in str(e.value) and "uninitialized" in str(e.value)
