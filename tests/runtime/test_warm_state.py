"""The warm path of steps that read and write state ops of one owner (runtime/warm_run.py
`state_entry`): a variable counter, a random op's run counter, an update of one variable
from another, a step of several variables. Each test checks that the path is taken, and
that it answers as the plan's `call` does: values, TF1's errors, no commit on failure, no
update lost between threads."""
import threading

import numpy as np
import pytest

import lowerflow as tf
from lowerflow.backend import NATIVE_STATS


@pytest.fixture(scope="module")
def counter():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros(4, np.float32), name="v")
        x = tf.placeholder(tf.float32, [4], name="x")
        step = tf.assign_add(v, tf.constant(np.ones(4, np.float32))).op
        inc = tf.assign_add(v, tf.constant(np.ones(4, np.float32)))
        fed = tf.assign_add(v, x)
    with tf.Session(graph=g) as sess:
        yield sess, v, x, step, inc, fed


def _reset(sess, v):
    sess.run(v.initializer)
    np.testing.assert_array_equal(sess.run(v), [0] * 4)


def test_counter_without_feeds_takes_the_state_path(counter):
    sess, v, _, step, inc, _ = counter
    _reset(sess, v)
    for _ in range(3):
        assert sess.run(step) is None
    assert sess._warm[(step, None)].state is not None
    calls = NATIVE_STATS["calls"]
    for _ in range(4):
        sess.run(step)
    assert NATIVE_STATS["calls"] == calls + 4  # one native call per run
    np.testing.assert_array_equal(sess.run(v), [7] * 4)
    outs = [sess.run(inc) for _ in range(3)]  # the written value, fetched
    for k, out in enumerate(outs):
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, [8 + k] * 4)
    assert outs[1] is not outs[2]
    assert sess._warm[(inc, None)].state is not None
    out = sess.run([inc, inc.op])  # a structure to build
    for _ in range(2):
        out = sess.run([inc, inc.op])
    assert out[1] is None
    np.testing.assert_array_equal(out[0], [13] * 4)


def test_make_callable_without_feeds(counter):
    sess, v, _, step, inc, _ = counter
    _reset(sess, v)
    run, value = sess.make_callable(step), sess.make_callable([inc])
    assert [run() for _ in range(3)] == [None] * 3
    out = [value() for _ in range(2)]
    assert type(out[1]) is list
    np.testing.assert_array_equal(out[1][0], [5] * 4)


def test_fed_counter_values_and_feed_errors(counter):
    """With feeds the state path takes the values unchecked; the native entry refuses
    another dtype or shape and the warm run converts it, or raises TF1's error."""
    sess, v, x, _, _, fed = counter
    _reset(sess, v)
    one = np.ones(4, np.float32)
    for _ in range(3):
        sess.run(fed, {x: one})
    assert sess._warm[(fed, (x,))].state is not None
    np.testing.assert_array_equal(sess.run(fed, {x: one.astype(np.float64)}), [4] * 4)
    np.testing.assert_array_equal(sess.run(fed, {x: [1, 1, 1, 1]}), [5] * 4)
    np.testing.assert_array_equal(sess.run(fed, {x: np.ones(8, np.float32)[::2]}), [6] * 4)
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        sess.run(fed, {x: np.ones(3, np.float32)})
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        sess.run(fed, {x: np.ones((4, 1), np.float32)})
    with pytest.raises((TypeError, ValueError)):
        sess.run(fed, {x: "abcd"})
    np.testing.assert_array_equal(sess.run(v), [6] * 4)  # refused feeds committed nothing
    np.testing.assert_array_equal(sess.run(fed, {x: one}), [7] * 4)


def test_failing_step_commits_nothing():
    """v <- 100 // (v - 1) from 3: 50, 2, 100, 1, then a division by zero every time."""
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(3)
        upd = tf.assign(v, 100 // (v - 1))
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert [sess.run(upd) for _ in range(4)] == [50, 2, 100, 1]
            assert sess._warm[(upd, None)].state is not None
            calls = NATIVE_STATS["calls"]
            for _ in range(2):
                with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
                    sess.run(upd)
            assert NATIVE_STATS["calls"] == calls + 2  # each failed run counted once
            assert sess.run(v) == 1
            sess.run(v.initializer)
            assert sess.run(upd) == 50


def test_uninitialised_variable_on_the_warm_path():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros(2, np.float32))
        step = tf.assign_add(v, tf.constant(np.ones(2, np.float32))).op
        with tf.Session() as sess:
            sess.run(v.initializer)
            sess.run(step)
            sess.run(step)
            sess._store.clear()  # as a fresh session's store: the value is gone
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized"):
                sess.run(step)
            sess.run(v.initializer)
            sess.run(step)
            np.testing.assert_array_equal(sess.run(v), [1, 1])


def test_one_variable_from_another():
    g = tf.Graph()
    with g.as_default():
        a = tf.Variable(np.arange(3, dtype=np.float32))
        b = tf.Variable(np.zeros(3, np.float32))
        copy = tf.assign(b, a * 2.0)
        with tf.Session() as sess:
            sess.run([a.initializer, b.initializer])
            for _ in range(3):
                np.testing.assert_array_equal(sess.run(copy), [0, 2, 4])
            assert sess._warm[(copy, None)].state is not None
            sess.run(tf.assign(a, np.ones(3, np.float32)))
            np.testing.assert_array_equal(sess.run(copy), [2, 2, 2])
            np.testing.assert_array_equal(sess.run(b), [2, 2, 2])


def test_several_variables_and_a_large_one():
    """Two variables read and written, one of them 64 KiB (its output allocated and aligned
    in Python: no allocating entry): the values of each step committed together, and a
    failed step commits neither."""
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(np.zeros((128, 128), np.float32))
        n = tf.Variable(1)
        x = tf.placeholder(tf.float32, [128, 128])
        step = tf.group(tf.assign_add(w, x), tf.assign(n, 12 // (n + 1) + n * 0))
        with tf.Session() as sess:
            sess.run([w.initializer, n.initializer])
            one = np.ones((128, 128), np.float32)
            for _ in range(3):
                assert sess.run(step, {x: one}) is None
            plan, state = sess._warm[(step, (x,))].state
            assert state is not None and plan.exe.allocating_entry() is None
            np.testing.assert_array_equal(sess.run(w), one * 3)
            assert sess.run(n) == 12 // (12 // (12 // 2 + 1) + 1)
            sess.run(n.assign(-1))
            with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
                sess.run(step, {x: one})
            np.testing.assert_array_equal(sess.run(w), one * 3)
            assert sess.run(n) == -1


def test_random_op_counter_advances_once_per_run():
    def draws():
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(7)
            r = tf.random_uniform([3], seed=1)
            with tf.Session() as sess:
                out = [sess.run(r) for _ in range(4)]
                assert sess._warm[(r, None)].state is not None
                return out
    first, second = draws(), draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)  # the same sequence in each session
    assert not np.array_equal(first[2], first[3])  # and a new draw each run


def test_printing_step_keeps_the_plan_path(capfd):
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(1.0)
        upd = tf.assign_add(v, tf.Print(tf.constant(1.0), [v], message="v="))
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert [sess.run(upd) for _ in range(3)] == [2.0, 3.0, 4.0]
            assert sess._warm[(upd, None)].state is None
    assert capfd.readouterr().err.count("v=") == 3


def test_concurrent_counter_steps_lose_nothing():
    """4 threads x 800 unfed steps, through run and make_callable: exactly 3200."""
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(0.0)
        add = tf.assign_add(v, 1.0).op
        with tf.Session() as sess:
            sess.run(v.initializer)
            fn = sess.make_callable(add)
            sess.run(add)
            fn()
            sess.run(v.initializer)  # warm paths made: count from 0

            def work():
                for i in range(800):
                    sess.run(add) if i % 2 else fn()
            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sess._warm[(add, None)].state is not None
            assert sess.run(v) == 3200.0


def _counter_and_failure(module):
    """The values of warm counter steps and of a failing update, and the error class."""
    g = module.Graph()
    with g.as_default():
        c = module.Variable(np.zeros(2, np.float32))
        step = module.assign_add(c, module.constant(np.ones(2, np.float32)))
        v = module.Variable(3)
        upd = module.assign(v, 100 // (v - 1))
        with module.Session(graph=g) as sess:
            sess.run([c.initializer, v.initializer])
            counts = [sess.run(step).tolist() for _ in range(3)]
            values = [int(sess.run(upd)) for _ in range(4)]
            with pytest.raises(module.errors.OpError) as e:
                sess.run(upd)
            return counts, values, type(e.value).__name__, int(sess.run(v))


def test_warm_state_steps_as_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    tf1.disable_eager_execution()
    assert _counter_and_failure(tf) == _counter_and_failure(tf1)
