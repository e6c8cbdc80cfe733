"""The warm path of Session.run and make_callable (runtime/warm_run.py): every run after the
first of a fetch structure and feed keys goes through it, so each test repeats its runs and
checks that they answer exactly as the first (cold) one, TF1's types and errors included."""
import collections
import threading

import numpy as np
import pytest

import lowerflow as tf
from lowerflow.backend import NATIVE_STATS

Pair = collections.namedtuple("Pair", ["a", "b"])


@pytest.fixture(scope="module")
def scalar_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        n = tf.placeholder(tf.int32, [], name="n")
        v = tf.placeholder(tf.float32, [None], name="v")
        y = x + 1.0
        m = n * 2
        w = v * 2.0
    with tf.Session(graph=g) as sess:
        yield sess, x, n, v, y, m, w


def test_warm_runs_answer_as_the_cold_one(scalar_graph):
    sess, x, _, _, y, _, _ = scalar_graph
    for _ in range(3):
        out = sess.run(y, {x: np.array(2.0, np.float32)})
        assert type(out) is np.float32 and out == 3.0  # a 0-d fetch is a numpy scalar
    assert sess._warm  # the warm path was taken


def test_python_floats_convert_as_numpy_does(scalar_graph):
    """Floats are converted by the native entry: the rounding is np.asarray(v, float32)'s."""
    sess, x, _, _, y, _, _ = scalar_graph
    for value in (0.1, 1e-46, 3.4e38, float("inf"), -0.0, 16777217.0):
        for _ in range(2):
            out = sess.run(y, {x: value})
            assert type(out) is np.float32
            assert out == np.float32(value) + np.float32(1.0)
    assert np.isnan(sess.run(y, {x: float("nan")}))


def test_numpy_scalars_python_ints_and_bools_convert_natively():
    """A 0-d feed may be a numpy scalar, a Python int of one digit (|v| < 2**30) or a bool:
    the native entry converts it as np.asarray(v, dtype) does, and the run stays on the
    warm path's one native call (`WarmRun.pure`); others (2**40, a bool for a float) take
    the checked path and still convert."""
    g = tf.Graph()
    with g.as_default():
        feeds = {d: tf.placeholder(d, []) for d in (tf.float32, tf.float64, tf.int32, tf.int64, tf.bool)}
        outs = {d: tf.identity(p) if d is not tf.bool else tf.logical_not(p) for d, p in feeds.items()}
    cases = {tf.float32: [np.float32(0.1), np.float64(0.1), 5, -7, 2**29 + 3, 2**40, True],
             tf.float64: [np.float32(0.1), np.float64(0.1), -(2**29 + 3), 0],
             tf.int32: [5, -5, 0, np.int32(-7), 2**29 + 3],
             tf.int64: [12345, np.int64(-9), -(2**29)],
             tf.bool: [True, False, np.bool_(True), np.bool_(False)]}
    native = (float, int, bool, np.float32, np.float64, np.int32, np.int64, np.bool_)
    with tf.Session(graph=g) as sess:
        for d, values in cases.items():
            for value in values:
                want = np.asarray(value, d.as_numpy_dtype)
                want = ~want if d is tf.bool else want
                for _ in range(3):
                    out = sess.run(outs[d], {feeds[d]: value})
                    assert type(out) is type(want[()]) and out == want, (d, value, out)
                warm = [w for w in sess._warm.values() if getattr(w, "tensors", None) == [feeds[d]]]
                small = not isinstance(value, (int, np.integer)) or abs(int(value)) < 2**30
                if type(value) in native and small and not (d is tf.float32 and type(value) is bool):
                    assert warm and warm[0].pure is not None, (d, value)


def test_values_the_native_entry_refuses_are_converted_or_rejected(scalar_graph):
    sess, x, n, _, y, m, _ = scalar_graph
    assert sess.run(y, {x: 2.0}) == 3.0
    assert sess.run(y, {x: 2}) == 3.0  # a Python int
    assert sess.run(y, {x: np.array(2.0, np.float64)}) == 3.0  # another dtype
    assert sess.run(y, {x: np.float32(4.0)}) == 5.0  # a numpy scalar
    assert sess.run(y, {x: np.array([2.0], np.float32).reshape(())}) == 3.0
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        sess.run(y, {x: [1.0, 2.0]})
    with pytest.raises(TypeError, match="cannot be a tf.Tensor"):
        sess.run(y, {x: y})
    with pytest.raises(ValueError, match="Cannot feed value"):
        sess.run(y, {x: "text"})
    for _ in range(2):  # ints past one digit take the checked path, with its overflow check
        assert sess.run(m, {n: 5}) == 10
        assert sess.run(m, {n: 2.7}) == 4
        with pytest.raises(TypeError, match="not compatible"):
            sess.run(m, {n: 2 ** 40})
    assert sess.run(y, {x: 2.0}) == 3.0


def test_new_feed_shapes_and_layouts(scalar_graph):
    sess, _, _, v, _, _, w = scalar_graph
    for n in (1, 3, 1, 5, 3):
        np.testing.assert_array_equal(sess.run(w, {v: np.arange(n, dtype=np.float32)}), np.arange(n) * 2.0)
    strided = np.arange(10, dtype=np.float32)[::2]
    np.testing.assert_array_equal(sess.run(w, {v: strided}), strided * 2)
    np.testing.assert_array_equal(sess.run(w, {v: [1, 2, 3]}), [2, 4, 6])
    np.testing.assert_array_equal(sess.run(w, {"v:0": np.ones(3, np.float32)}), [2, 2, 2])
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        sess.run(w, {v: np.ones((2, 2), np.float32)})
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key"):
        sess.run(w, {"nope:0": np.ones(3, np.float32)})


def test_fetch_structures_keep_their_types(scalar_graph):
    """Equal keys that are different structures (a namedtuple equals the plain tuple of its
    fields) never share a warm run."""
    sess, x, _, _, y, _, _ = scalar_graph
    feed = {x: np.array(1.0, np.float32)}
    for _ in range(2):
        assert sess.run(y, feed) == 2.0
        assert sess.run([y], feed) == [2.0] and type(sess.run([y], feed)) is list
        assert type(sess.run((y,), feed)) is tuple
        pair = sess.run(Pair(y, x), feed)
        assert type(pair) is Pair and pair == (2.0, 1.0)
        plain = sess.run((y, x), feed)
        assert type(plain) is tuple and plain == (2.0, 1.0)
        assert sess.run({"k": y}, feed) == {"k": 2.0}
        assert sess.run([y, [x]], feed) == [2.0, [1.0]]
        assert sess.run([y, y.op], feed) == [2.0, None]
        assert sess.run("add:0", feed) == 2.0


def test_feed_orders(scalar_graph):
    sess, x, _, v, y, _, w = scalar_graph
    both = [y, w]
    for feed in ({x: 1.0, v: [1.0]}, {v: [1.0], x: 1.0}, {v: [3.0], x: 2.0}, {x: 2.0, v: [3.0]}):
        out = sess.run(both, feed)
        assert out[0] == feed[x] + 1.0
        np.testing.assert_array_equal(out[1], np.asarray(feed[v]) * 2.0)


def test_graph_changes_after_the_first_run():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = x * 3.0
        with tf.Session() as sess:
            assert sess.run(y, {x: 1.0}) == 3.0
            assert sess.run(y, {x: 2.0}) == 6.0
            z = y + x
            assert sess.run(z, {x: 2.0}) == 8.0
            assert sess.run(y, {x: 3.0}) == 9.0
            assert sess.run([y, z], {x: 1.0}) == [3.0, 4.0]


def test_closed_session_refuses_warm_runs():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [])
        y = x + 1.0
        v = tf.Variable(1.0)
        sess = tf.Session()
        sess.run(v.initializer)
        fn = sess.make_callable(y, [x])
        for _ in range(2):
            assert sess.run(y, {x: 1.0}) == 2.0 and sess.run(v) == 1.0 and fn(1.0) == 2.0
        sess.close()
        for run in (lambda: sess.run(y, {x: 1.0}), lambda: sess.run(v)):
            with pytest.raises(RuntimeError, match="closed Session"):
                run()
        with pytest.raises(tf.errors.CancelledError):
            fn(1.0)


def test_variable_counter_and_reinitialisation():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros(4, np.float32))
        step = tf.assign_add(v, tf.constant(np.ones(4, np.float32))).op
        inc = tf.assign_add(v, tf.constant(np.ones(4, np.float32)))
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized"):
                sess.run(step)
            sess.run(v.initializer)
            for _ in range(5):
                assert sess.run(step) is None
            np.testing.assert_array_equal(sess.run(v), [5] * 4)
            sess.run(v.initializer)  # re-initialised: the warm run reads the new value
            sess.run(step)
            np.testing.assert_array_equal(sess.run(v), [1] * 4)
            np.testing.assert_array_equal(sess.run(inc), [2] * 4)
            np.testing.assert_array_equal(sess.run(inc), [3] * 4)
            np.testing.assert_array_equal(sess.run(v), [3] * 4)


def test_failed_warm_step_commits_nothing():
    g = tf.Graph()
    with g.as_default():
        d = tf.placeholder(tf.int32, [])
        v = tf.Variable(10)
        upd = tf.assign(v, v // d)
        with tf.Session() as sess:
            sess.run(v.initializer)
            for _ in range(2):
                assert sess.run(upd, {d: 1}) == 10
            for _ in range(2):
                with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
                    sess.run(upd, {d: np.array(0, np.int32)})
            assert sess.run(v) == 10
            assert sess.run(upd, {d: np.array(2, np.int32)}) == 5


def test_concurrent_warm_updates_lose_nothing():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [])
        v = tf.Variable(0.0)
        add = tf.assign_add(v, x).op
        with tf.Session() as sess:
            sess.run(v.initializer)
            fn = sess.make_callable(add, [x])

            def work():
                for i in range(200):
                    sess.run(add, {x: 1.0}) if i % 2 else fn(1.0)
            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sess.run(v) == 800.0


def test_make_callable_warm_path(scalar_graph):
    sess, x, n, v, y, m, w = scalar_graph
    fn = sess.make_callable([w, y], feed_list=[x, v])
    calls = NATIVE_STATS["calls"]
    for k in (1, 2, 1):
        out = fn(1.5, np.arange(k, dtype=np.float32))
        assert type(out) is list and out[1] == 2.5
        np.testing.assert_array_equal(out[0], np.arange(k) * 2.0)
    assert NATIVE_STATS["calls"] == calls + 3  # a refused value is not a call
    ints = sess.make_callable(m, feed_list=[n])
    assert [ints(3), ints(np.int32(4)), ints(5)] == [6, 8, 10]
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        fn(1.0, np.ones((1, 1), np.float32))
    with pytest.raises(TypeError, match="Expected 2 feed values"):
        fn(1.0)


def test_pure_warm_runs_go_through_the_allocating_entry():
    """A step without state fetched as it is runs as one native call that makes its outputs
    (`warm_run.pure_entry`); a failing one raises TF1's error every time, and results are
    fresh objects each run."""
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.int32, [3])
        b = tf.placeholder(tf.int32, [3])
        q = a // b
        s = tf.reduce_sum(q)
        with tf.Session() as sess:
            feeds = {a: np.arange(3, dtype=np.int32), b: np.ones(3, np.int32)}
            outs = [sess.run([q, s], feeds) for _ in range(3)]
            assert sess._warm[((q, s), (a, b))].pure is not None
            for out in outs:
                np.testing.assert_array_equal(out[0], [0, 1, 2])
                assert type(out[1]) is np.int32 and out[1] == 3
            assert outs[1][0] is not outs[2][0]
            calls = NATIVE_STATS["calls"]
            for _ in range(2):
                with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
                    sess.run([q, s], {a: feeds[a], b: np.zeros(3, np.int32)})
            assert NATIVE_STATS["calls"] == calls + 2  # each failed run counted once
            out = sess.run((s, q), {b: feeds[b], a: feeds[a]})  # another key order
            assert type(out) is tuple and out[0] == 3


def test_fetched_op_on_the_warm_path_gives_none(scalar_graph):
    sess, x, _, _, y, _, _ = scalar_graph
    for _ in range(3):
        assert sess.run(y.op, {x: 1.0}) is None
        assert sess.run([y.op, y], {x: 1.0}) == [None, 2.0]
