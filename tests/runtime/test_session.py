"""Session.run semantics: fetch structures, feeds, variables, errors, defaults, native execution."""
import collections

import numpy as np
import pytest

import lowerflow as tf
from lowerflow.backend import NATIVE_STATS


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def test_fetch_structures(graph):
    a = tf.constant([10, 20])
    b = tf.constant([1.0, 2.0])
    MyData = collections.namedtuple("MyData", ["a", "b"])
    with tf.Session() as sess:
        v = sess.run({"k1": MyData(a, b), "k2": [b, a], "k3": (a,), "op": a.op})
        assert isinstance(v["k1"], MyData)
        np.testing.assert_array_equal(v["k1"].a, [10, 20])
        assert v["k1"].b.dtype == np.float32
        assert isinstance(v["k2"], list) and isinstance(v["k3"], tuple)
        assert v["op"] is None
        od = sess.run(collections.OrderedDict([("z", a), ("y", b)]))
        assert list(od) == ["z", "y"] and isinstance(od, collections.OrderedDict)
        dd = sess.run(collections.defaultdict(list, {"x": a}))
        assert isinstance(dd, collections.defaultdict) and dd.default_factory is list
        dup = sess.run([a, a, "Const:0", [a]])
        for x in (dup[0], dup[1], dup[2], dup[3][0]):
            np.testing.assert_array_equal(x, [10, 20])
        assert sess.run(a.op.name) is None
        assert sess.run([]) == []


def test_bad_fetches(graph):
    a = tf.constant(1.0)
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(None)
        with pytest.raises(TypeError):
            sess.run([a, 3])
        with pytest.raises(ValueError):
            sess.run("nope:0")
        with tf.Graph().as_default():
            other = tf.constant(2.0)
        with pytest.raises(ValueError):
            sess.run(other)
        assert sess.run(a) == 1.0


def test_feeds(graph):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = x * 2.0
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [[1, 2]]}), [[2, 4]])
        np.testing.assert_allclose(sess.run(y, {"x:0": np.ones((3, 2))}), np.full((3, 2), 2.0))
        out = sess.run(y, {x: np.arange(4, dtype=np.float64).reshape(2, 2)})
        assert out.dtype == np.float32
        fed, fetched = sess.run([x, y], {x: [[5, 6]]})
        np.testing.assert_array_equal(fed, [[5, 6]])
        np.testing.assert_array_equal(fetched, [[10, 12]])
        # any tensor can be fed, and a fed tensor returns the fed value
        np.testing.assert_array_equal(sess.run(y, {y: [[7, 7]]}), [[7, 7]])
        noncontig = np.arange(12, dtype=np.float32).reshape(2, 6)[:, ::3]
        np.testing.assert_array_equal(sess.run(y, {x: noncontig}), noncontig * 2)


def test_feed_errors_leave_session_usable(graph):
    x = tf.placeholder(tf.float32, [2], name="x")
    v = tf.Variable([1.0, 1.0])
    upd = v.assign_add(x)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            sess.run(upd, {x: [1.0, 2.0, 3.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value for placeholder"):
            sess.run(upd)
        with pytest.raises(TypeError):
            sess.run(upd, {x: tf.constant([1.0, 2.0])})
        with pytest.raises(TypeError):
            sess.run(upd, {3: [1.0, 2.0]})
        np.testing.assert_array_equal(sess.run(v), [1.0, 1.0])
        np.testing.assert_array_equal(sess.run(upd, {x: [1.0, 2.0]}), [2.0, 3.0])
        np.testing.assert_array_equal(sess.run(v), [2.0, 3.0])


def test_run_time_shape_mismatch_is_invalid_argument(graph):
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    z = x + y
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. \[3\]"):
            sess.run(z, {x: [1, 2], y: [1, 2, 3]})
        np.testing.assert_array_equal(sess.run(z, {x: [1, 2], y: [3, 4]}), [4, 6])


def test_uninitialized_variable_error_and_state_kept(graph):
    v = tf.Variable(42, name="foo")
    w = tf.Variable(1, name="bar")
    s = v + w
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value foo"):
            sess.run(v)
        sess.run(w.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="foo"):
            sess.run(s)
        assert sess.run(w) == 1
        sess.run(v.initializer)
        assert sess.run(s) == 43


def test_sessions_are_independent(graph):
    v = tf.Variable(0, name="counter")
    inc = tf.assign_add(v, 1)
    init = tf.global_variables_initializer()
    s1, s2 = tf.Session(), tf.Session()
    s1.run(init)
    s2.run(init)
    for _ in range(3):
        s1.run(inc)
    assert s1.run(v) == 3 and s2.run(v) == 0
    s1.close()
    with pytest.raises(RuntimeError, match="closed"):
        s1.run(v)
    assert s2.run(inc) == 1


def test_assign_ordering_with_control_dependencies(graph):
    v = tf.Variable(1.0)
    a = v.assign(5.0)
    with tf.control_dependencies([a]):
        after = v.read_value()
    before = v.value() * 1.0
    with tf.Session() as sess:
        sess.run(v.initializer)
        b_val, a_val, after_val = sess.run([before, a, after])
        assert (b_val, a_val, after_val) == (1.0, 5.0, 5.0)
        assert sess.run(v) == 5.0


def test_variable_initialized_from_other_and_queries(graph):
    a = tf.Variable(2.0, name="a")
    b = tf.Variable(a.initialized_value() * 3.0, name="b")
    with tf.Session() as sess:
        names = sess.run(tf.report_uninitialized_variables())
        assert sorted(names) == [b"a", b"b"]
        assert not sess.run(tf.is_variable_initialized(a))
        sess.run(tf.global_variables_initializer())
        assert sess.run(b) == 6.0
        assert sess.run(tf.is_variable_initialized(a))
        assert len(sess.run(tf.report_uninitialized_variables())) == 0


def test_placeholder_with_default(graph):
    x = tf.placeholder_with_default(tf.constant([1.0, 2.0]), [None])
    y = x * 10.0
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), [10.0, 20.0])
        np.testing.assert_array_equal(sess.run(y, {x: [3.0]}), [30.0])


def test_make_callable(graph):
    x = tf.placeholder(tf.float32, [3])
    v = tf.Variable(0.0)
    step = tf.assign_add(v, 1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        f = sess.make_callable([x * 2.0, step.op], feed_list=[x])
        out, none = f(np.ones(3, np.float32))
        np.testing.assert_array_equal(out, [2, 2, 2])
        assert none is None
        g = sess.make_callable(v)
        assert g() > 0


def test_eval_and_default_sessions(graph):
    c = tf.constant(5.0) * tf.constant(6.0)
    with pytest.raises(ValueError, match="No default session"):
        c.eval()
    sess = tf.Session()
    with sess.as_default():
        assert tf.get_default_session() is sess
        assert c.eval() == 30.0
    assert tf.get_default_session() is None
    assert c.eval(session=sess) == 30.0
    v = tf.Variable(3.0)
    with tf.Session():
        v.initializer.run()
        assert v.eval() == 3.0
    isess = tf.InteractiveSession()
    assert tf.get_default_session() is isess
    assert c.eval() == 30.0
    isess.close()
    assert tf.get_default_session() is None


def test_session_enters_graph(graph):
    other = tf.Graph()
    with tf.Session(graph=other) as sess:
        assert tf.get_default_graph() is other
        c = tf.constant(1.5)
        assert sess.run(c) == 1.5
    assert tf.get_default_graph() is graph


def test_config_options_accepted(graph):
    c = tf.constant(2.0) + 1.0
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    meta = tf.RunMetadata()
    cfg = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True,
                         intra_op_parallelism_threads=1)
    cfg.gpu_options.allow_growth = True
    with tf.Session(config=cfg) as sess:
        assert sess.run(c, options=opts, run_metadata=meta) == 3.0


def test_runs_execute_native_code(graph, monkeypatch):
    """Each run calls the compiled step once; numpy's reference interpreter is never used."""
    import lowerflow.ir.interp as interp

    x = tf.placeholder(tf.float32, [4])
    y = tf.tanh(x) * 3.0 + x
    with tf.Session() as sess:
        sess.run(y, {x: np.zeros(4)})  # compile (constant folding may use the interpreter)
        monkeypatch.setattr(interp, "run_op", lambda *a: pytest.fail("numpy computed a run result"))
        monkeypatch.setattr(interp, "run_function", lambda *a: pytest.fail("numpy computed a run result"))
        calls, compiles = NATIVE_STATS["calls"], NATIVE_STATS["compiles"]
        for i in range(5):
            data = np.arange(4, dtype=np.float32) + i
            np.testing.assert_allclose(sess.run(y, {x: data}), np.tanh(data) * 3 + data, rtol=1e-6)
        assert NATIVE_STATS["calls"] == calls + 5
        assert NATIVE_STATS["compiles"] == compiles  # one executable per run signature, cached


def test_one_executable_per_signature(graph):
    x = tf.placeholder(tf.float32, [None])
    y = tf.sqrt(x) + 1.0
    with tf.Session() as sess:
        sess.run(y, {x: [1.0]})
        n = NATIVE_STATS["compiles"]
        sess.run(y, {x: [4.0]})
        assert NATIVE_STATS["compiles"] == n
        assert sess.run(y, {x: [4.0, 9.0]}).tolist() == [3.0, 4.0]  # new shape, new signature


def test_bad_constant_inputs_fail_at_run_time_not_compile_time(graph):
    """constant-fold leaves an op whose reference rejects its constants: the native check reports it."""
    logits = tf.constant([[1.0, 2.0]])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([5]), logits=logits)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value outside"):
            sess.run(loss)
        assert sess.run(logits).shape == (1, 2)


def test_feed_fast_path_keeps_every_check(graph):
    """Cached feed info must not skip TF1's checks: dtype conversion, shape, layout."""
    x = tf.placeholder(tf.float32, [None, 2], name="xf")
    y = x + 1.0
    with tf.Session() as sess:
        ok = np.ones((3, 2), np.float32)
        np.testing.assert_array_equal(sess.run(y, {x: ok}), ok + 1)
        np.testing.assert_array_equal(sess.run(y, {x: np.ones((1, 2), np.float64)}), [[2, 2]])
        np.testing.assert_array_equal(sess.run(y, {x: np.ones((2, 4), np.float32)[:, ::2]}), [[2, 2]] * 2)
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            sess.run(y, {x: np.ones((3, 3), np.float32)})
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            sess.run(y, {x: 1.5})
    s = tf.placeholder(tf.int32, [])
    with tf.Session() as sess:
        assert sess.run(s * 2, {s: 2.7}) == 4  # TF1 truncates a float fed to an int tensor
        with pytest.raises(TypeError, match="not compatible"):
            sess.run(s * 2, {s: 2 ** 40})
