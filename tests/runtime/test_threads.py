"""Many threads on one Session: no lost updates, consistent snapshots, no needless waiting.

Counts are exact: `n` threads x `k` increments must leave exactly n*k (TF1 gives that with
and without `use_locking`). Each scenario repeats, since a race shows only sometimes.
"""
import threading

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot, ir
from lowerflow.ir.interp import run_function

THREADS, STEPS = 8, 400


def _in_threads(fn, n: int = THREADS) -> None:
    errors = []

    def work():
        try:
            fn()
        except BaseException as e:  # surfaced below: a failing thread must fail the test
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.fixture(scope="module")
def counters():
    """One session, compiled once: v += 1 (default and use_locking), a and b += 1 together."""
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(0, dtype=tf.int64, name="v")
        w = tf.Variable(0, dtype=tf.int64, name="w")
        a = tf.Variable(0.0, dtype=tf.float64, name="a")
        b = tf.Variable(0.0, dtype=tf.float64, name="b")
        incs = {False: tf.assign_add(v, 1).op, True: tf.assign_add(v, 1, use_locking=True).op}
        inc_w = tf.assign_add(w, 1).op
        both = tf.group(tf.assign_add(a, 1.0), tf.assign_add(b, 1.0))
        sess = tf.Session(graph=g)
        sess.run(tf.global_variables_initializer())
        for op in (*incs.values(), inc_w, both):  # compile before the threads start
            sess.run(op)
        yield dict(sess=sess, v=v, w=w, a=a, b=b, incs=incs, inc_w=inc_w, both=both, graph=g)
        sess.close()


@pytest.mark.parametrize("use_locking", [False, True])
def test_concurrent_assign_add_loses_nothing(counters, use_locking):
    sess, v, inc = counters["sess"], counters["v"], counters["incs"][use_locking]
    for _ in range(10):
        start = int(sess.run(v))
        _in_threads(lambda: [sess.run(inc) for _ in range(STEPS)])
        assert int(sess.run(v)) - start == THREADS * STEPS


def test_make_callable_loses_nothing(counters):
    sess, v = counters["sess"], counters["v"]
    inc = sess.make_callable(counters["incs"][False])
    for _ in range(3):
        start = int(sess.run(v))
        _in_threads(lambda: [inc() for _ in range(STEPS)])
        assert int(sess.run(v)) - start == THREADS * STEPS


def test_mixed_writers_of_two_variables(counters):
    """Steps writing v and steps writing w, interleaved: both counts exact."""
    sess, v, w = counters["sess"], counters["v"], counters["w"]
    start_v, start_w = int(sess.run(v)), int(sess.run(w))
    ops = [counters["incs"][False], counters["inc_w"]]
    _in_threads(lambda: [sess.run(ops[i % 2]) for i in range(STEPS)])
    assert int(sess.run(v)) - start_v == THREADS * STEPS // 2
    assert int(sess.run(w)) - start_w == THREADS * STEPS // 2


def test_steps_writing_other_variables_do_not_wait(counters):
    """Holding v's lock (a long step writing v) blocks writers of v only: a writer of w and
    a reader of v finish meanwhile."""
    sess, v, w = counters["sess"], counters["v"], counters["w"]
    before_v, before_w = int(sess.run(v)), int(sess.run(w))
    held = sess._state.locks.hold([v.op])
    done = {}
    with held:
        threads = {name: threading.Thread(target=lambda n=name, f=f: done.setdefault(n, f()))
                   for name, f in [("w", lambda: sess.run(counters["inc_w"])),
                                   ("read", lambda: int(sess.run(v))),
                                   ("v", lambda: sess.run(counters["incs"][True]))]}
        for t in threads.values():
            t.start()
        threads["w"].join(30)
        threads["read"].join(30)
        threads["v"].join(0.2)
        assert "w" in done and done.get("read") == before_v
        assert threads["v"].is_alive()  # waits for v's lock
    threads["v"].join(30)
    assert int(sess.run(v)) == before_v + 1 and int(sess.run(w)) == before_w + 1


def test_read_only_steps_take_no_lock(counters):
    sess, v = counters["sess"], counters["v"]
    doubled = v * 2
    sess.run(doubled)
    plan = next(p for p in sess._plans.values() if not p.writes)
    assert plan.locks is None


def test_save_and_freeze_see_consistent_snapshots(counters, tmp_path):
    """a and b are incremented by one step: every snapshot taken meanwhile has a == b."""
    sess, a, b, both = counters["sess"], counters["a"], counters["b"], counters["both"]
    saver = tf.train.Saver([a, b])
    stop = threading.Event()
    seen = []

    def observe():
        try:
            for i in range(30):
                prefix = saver.save(sess, str(tmp_path / f"ck{i % 3}"), write_state=False)
                reader = tf.train.NewCheckpointReader(prefix)
                seen.append((float(reader.get_tensor(a.op.name)), float(reader.get_tensor(b.op.name))))
                func = aot.graph_function([a - b], [], session=sess)  # a, b frozen from a snapshot
                seen.append((run_function(func, [])[0].item(), 0.0))
        finally:
            stop.set()

    watcher = threading.Thread(target=observe)
    watcher.start()
    _in_threads(lambda: [sess.run(both) for _ in range(STEPS) if not stop.is_set()], n=4)
    watcher.join()
    assert len(seen) == 60 and all(x == y for x, y in seen), [s for s in seen if s[0] != s[1]][:5]
    assert sess.run(a) == sess.run(b)


def test_restore_is_atomic_against_steps(counters, tmp_path):
    """Restoring (a, b) = (0, 0) while steps increment both never leaves a != b."""
    sess, a, b, both = counters["sess"], counters["a"], counters["b"], counters["both"]
    saver = tf.train.Saver([a, b])
    sess.run([a.initializer, b.initializer])
    prefix = saver.save(sess, str(tmp_path / "zero"), write_state=False)
    done = threading.Event()

    def restorer():
        for _ in range(50):
            saver.restore(sess, prefix)
        done.set()

    t = threading.Thread(target=restorer)
    t.start()
    _in_threads(lambda: [sess.run(both) for _ in range(STEPS) if not done.is_set()], n=4)
    t.join()
    assert sess.run(a) == sess.run(b)


def test_concurrent_random_runs_draw_each_value_once():
    """A random op's run counter is state too: 8 threads x 50 runs draw the same 400 values
    as 400 runs in a row (the replay of a seeded graph), none twice."""
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(7)
        r = tf.random_uniform([], seed=3)
        with tf.Session() as sess:
            sequential = {float(sess.run(r)) for _ in range(400)}
        with tf.Session() as sess:
            draws = []
            _in_threads(lambda: draws.extend([float(sess.run(r)) for _ in range(50)]))
    assert len(sequential) == 400 and len(draws) == 400 and set(draws) == sequential


def test_a_compile_blocks_only_its_own_signature(monkeypatch):
    """While one thread's compile is stalled, the same session runs a compiled signature and
    compiles another one, and other sessions compile; a second caller of the stalled
    signature waits for that compile instead of starting its own."""
    from lowerflow.backend import compile_cache

    real, entered, release, stalled = compile_cache.compile_function, threading.Event(), threading.Event(), []

    def slow_compile(func, **kwargs):
        if "lf.tanh" in ir.print_function(func):
            stalled.append(func)
            entered.set()
            assert release.wait(60)
        return real(func, **kwargs)

    monkeypatch.setattr(compile_cache, "compile_function", slow_compile)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3])
        compiled, slow, other = x * 2.0 + 1.0, tf.tanh(x * 1234.5), x - 7.25
        feed = {x: np.array([0.0, 1.0, -1.0], np.float32)}
        sess = tf.Session()
        np.testing.assert_allclose(sess.run(compiled, feed), [1, 3, -1])
        results = {}
        first = threading.Thread(target=lambda: results.setdefault("first", sess.run(slow, feed)))
        first.start()
        assert entered.wait(60)
        np.testing.assert_allclose(sess.run(compiled, feed), [1, 3, -1])
        np.testing.assert_allclose(sess.run(other, feed), [-7.25, -6.25, -8.25])
        with tf.Session() as sess2:
            np.testing.assert_allclose(sess2.run(other * 2.0, feed), [-14.5, -12.5, -16.5])
        second = threading.Thread(target=lambda: results.setdefault("second", sess.run(slow, feed)))
        second.start()
        second.join(0.2)
        assert first.is_alive() and second.is_alive() and not results
        release.set()
        first.join(60)
        second.join(60)
        want = np.tanh(np.array([0.0, 1234.5, -1234.5], np.float32))
        np.testing.assert_allclose(results["first"], want, rtol=1e-6)
        np.testing.assert_allclose(results["second"], want, rtol=1e-6)
        assert len(stalled) == 1
        sess.close()


def test_short_runs_of_several_threads_queue(monkeypatch):
    """A tiny stateless step is short: once a second thread runs it too, its runs hold the
    process-wide token (the GIL is left to other threads); a long step or a writer never
    takes it, and a thread running alone stops taking it."""
    from lowerflow.runtime import warm_run

    taken = []
    monkeypatch.setattr(warm_run, "_acquire_short", lambda: taken.append(threading.get_ident()))
    monkeypatch.setattr(warm_run, "_release_short", lambda: None)
    monkeypatch.setattr(warm_run, "ALONE_RUNS", 3)
    monkeypatch.setattr(warm_run, "_last_thread", -1)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [])
        tiny = x * 2.0 + 1.0
        big = tf.reduce_sum(tf.matmul(tf.ones([512, 512]) * x, tf.ones([512, 512])))
        v = tf.Variable(0.0)
        inc = v.assign_add(x)
        with tf.Session() as sess:
            sess.run(v.initializer)
            for fetch in (tiny, big, inc):
                sess.run(fetch, {x: 1.0})
            assert [p.short for p in sess._plans.values()] == [False, True, False, False]  # init first
            other = threading.Thread(target=lambda: sess.run(tiny, {x: 2.0}))
            other.start()
            other.join()
            got = [float(sess.run(tiny, {x: float(i)})) for i in range(6)]
            assert got == [2.0 * i + 1 for i in range(6)]
            assert taken == [other.ident] + [threading.get_ident()] * 4  # then alone: no token
            taken.clear()
            assert float(sess.run(big, {x: 1.0})) == 512.0 ** 3 and sess.run(inc, {x: 1.0}) == 2.0
            assert not taken
