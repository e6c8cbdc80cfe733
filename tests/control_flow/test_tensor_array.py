"""tf.TensorArray (static and dynamic size) against TensorFlow: written and read in tf.while_loop bodies,
stacked, unstacked, gathered, concatenated, and differentiated; one graph per framework."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf

XS = (np.arange(12, dtype=np.float32).reshape(4, 3) / 10) - 0.4
W0 = np.float32([1.5, -0.5, 0.8])


def _rnn(m, x, w, **kw):
    """h_t = tanh(h_t-1 * w + x_t), every h_t written to a TensorArray in the loop."""
    inputs = m.TensorArray(m.float32, size=4, clear_after_read=False).unstack(x)
    outputs = m.TensorArray(m.float32, size=4, element_shape=[3])

    def body(i, h, ta):
        h = m.tanh(h * w + inputs.read(i))
        return i + 1, h, ta.write(i, h)

    return m.while_loop(lambda i, h, ta: i < 4, body, [0, m.zeros([3]), outputs], **kw)[2]


def _cases(m, x, w):
    replayed, bounded = _rnn(m, x, w), _rnn(m, x, w, maximum_iterations=4)
    lazy = m.TensorArray(m.float32, size=2).write(0, x[0] * w).write(1, x[1])
    return {
        "stack": replayed.stack(),
        "stack_bounded": bounded.stack(),
        "gather": bounded.gather([3, 1]),
        "concat": bounded.concat(),
        "read": bounded.read(2),
        "size": bounded.size(),
        "lazy_shape": lazy.stack(),
        "unstack_read": m.TensorArray(m.float32, size=4).unstack(x * 2.0).read(1),
    }


def _build(m):
    g = m.Graph()
    with g.as_default():
        x = m.placeholder(m.float32, [4, 3], name="x")
        w = m.Variable(W0, name="w")
        cases = _cases(m, x, w)
        grads = {k: m.gradients(m.reduce_sum(v * v), [x, w], unconnected_gradients="zero")
                 for k, v in cases.items() if k != "size"}
        init = m.global_variables_initializer()
    return g, x, cases, grads, init


def _run(m, session_cls):
    g, x, cases, grads, init = _build(m)
    with session_cls(graph=g) as sess:
        sess.run(init)
        return sess.run((cases, grads), {x: XS})


@pytest.fixture(scope="module")
def results():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    return _run(lf, lf.Session), _run(tf1, tf1.Session)


@pytest.mark.parametrize("name", ["stack", "stack_bounded", "gather", "concat", "read", "size", "lazy_shape",
                                  "unstack_read"])
def test_values_match_tensorflow(results, name):
    (ours, _), (theirs, _) = results
    np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6)
    assert np.asarray(ours[name]).dtype == np.asarray(theirs[name]).dtype


@pytest.mark.parametrize("name", ["stack", "stack_bounded", "gather", "concat", "read", "lazy_shape",
                                  "unstack_read"])
def test_gradients_match_tensorflow(results, name):
    (_, ours), (_, theirs) = results
    for a, b in zip(ours[name], theirs[name]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_stack_values_by_hand(results):
    (ours, _), _ = results
    h, want = np.zeros(3, np.float32), []
    for t in range(4):
        h = np.tanh(h * W0 + XS[t])
        want.append(h)
    np.testing.assert_allclose(ours["stack"], want, rtol=1e-5)


def _grown(m, x, n):
    """dynamic_size=True: written in a loop at ta.size() (one element per iteration after the
    first), and grown outside any loop by constant-index writes (element 1 never written)."""
    ta = m.TensorArray(m.float32, size=0, dynamic_size=True, element_shape=[3]).write(0, x)

    def body(i, ta):
        return i + 1, ta.write(ta.size(), m.tanh(ta.read(i)) * 2.0)

    looped = m.while_loop(lambda i, ta: i < n, body, [0, ta], maximum_iterations=4)[1]
    static = m.TensorArray(m.float32, size=0, dynamic_size=True).write(0, x).write(2, x * 3.0)
    stack = looped.stack()
    return {"stack": stack, "size": looped.size(), "read": looped.read(2), "concat": looped.concat(),
            "grad": m.gradients(m.reduce_sum(stack * stack), x)[0], "static_stack": static.stack(),
            "static_size": static.size(), "dynamic_size": m.constant(looped.dynamic_size)}


def _run_grown(m, n_value):
    g = m.Graph()
    with g.as_default():
        x, n = m.placeholder(m.float32, [3], name="x"), m.placeholder(m.int32, [], name="n")
        cases = _grown(m, x, n)
        with m.Session() as sess:
            return sess.run(cases, {x: XS[1], n: n_value}), sess, cases, x, n


@pytest.fixture(scope="module")
def grown():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    return _run_grown(lf, 4)[0], _run_grown(tf1, 4)[0]


@pytest.mark.parametrize("name", ["stack", "size", "read", "concat", "grad", "static_stack", "static_size",
                                  "dynamic_size"])
def test_dynamic_size_matches_tensorflow(grown, name):
    ours, theirs = grown
    np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6)
    assert np.shape(ours[name]) == np.shape(theirs[name])


def test_dynamic_size_gradient_matches_finite_differences():
    g = lf.Graph()
    with g.as_default():
        x, n = lf.placeholder(lf.float32, [3]), lf.placeholder(lf.int32, [])
        cases = _grown(lf, x, n)
        loss = lf.reduce_sum(cases["stack"] * cases["stack"])
        with lf.Session() as sess:
            got = sess.run(cases["grad"], {x: XS[1], n: 4})
            eps, numeric = 1e-3, []
            for k in range(3):
                d = np.zeros(3, np.float32)
                d[k] = eps
                hi, lo = (sess.run(loss, {x: XS[1] + s * d, n: 4}) for s in (1, -1))
                numeric.append((hi - lo) / (2 * eps))
    np.testing.assert_allclose(got, numeric, rtol=2e-2, atol=2e-3)


def test_dynamic_size_known_only_at_run_time():
    """Fewer iterations than the bound: size() is right, stacking fails clearly."""
    g = lf.Graph()
    with g.as_default():
        x, n = lf.placeholder(lf.float32, [3]), lf.placeholder(lf.int32, [])
        cases = _grown(lf, x, n)
        with lf.Session() as sess:
            assert sess.run(cases["size"], {x: XS[1], n: 2}) == 3
            with pytest.raises(lf.errors.UnimplementedError, match="fewer elements than its loop's maximum_iter"):
                sess.run(cases["stack"], {x: XS[1], n: 2})


def test_dynamic_size_needs_a_bounded_loop_or_constant_indices():
    with lf.Graph().as_default():
        ta = lf.TensorArray(lf.float32, size=0, dynamic_size=True, element_shape=[])
        with pytest.raises(NotImplementedError, match="maximum_iterations as a static number"):
            lf.while_loop(lambda i, t: i < 3, lambda i, t: (i + 1, t.write(i, 1.0)), [0, ta])
        with pytest.raises(NotImplementedError, match="index known only at run time"):
            ta.write(lf.placeholder(lf.int32, []), 1.0)


def test_unknown_element_shape_cannot_be_a_loop_variable():
    with lf.Graph().as_default():
        ta = lf.TensorArray(lf.float32, size=3)
        with pytest.raises(ValueError, match="element shape"):
            lf.while_loop(lambda i, t: i < 3, lambda i, t: (i + 1, t.write(i, 1.0)), [0, ta])


def test_write_of_another_dtype_is_refused():
    with lf.Graph().as_default():
        ta = lf.TensorArray(lf.float32, size=2, element_shape=[])
        with pytest.raises((TypeError, ValueError)):
            ta.write(0, lf.constant(1))


def test_size_must_be_static():
    with lf.Graph().as_default():
        n = lf.placeholder(lf.int32, [])
        with pytest.raises(NotImplementedError, match="size known when the graph is built"):
            lf.TensorArray(lf.float32, size=n)


def test_update_row_native_matches_its_reference_and_checks_the_index():
    """"lf.update_row" (TensorArray writes, loop stacks): native == numpy reference, its
    gradient, and an index out of range fails the run."""
    from lowerflow import ir
    from lowerflow.frontend.op_builder import apply

    with lf.Graph().as_default():
        buf, row, i = lf.placeholder(lf.float32, [4, 3]), lf.placeholder(lf.float32, [3]), lf.placeholder(lf.int32, [])
        out = apply("LfUpdateRow", [buf, i, row])
        weights = np.arange(12, dtype=np.float32).reshape(4, 3)
        g_buf, g_row = lf.gradients(lf.reduce_sum(out * weights), [buf, row])
        with lf.Session() as sess:
            b, r = XS, np.float32([5, 6, 7])
            got, gb, gr = sess.run([out, g_buf, g_row], {buf: b, row: r, i: 2})
            want = ir.get_op("lf.update_row").reference([b, np.int32(2), r], {})[0]
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(gb, np.where(np.arange(4)[:, None] == 2, 0, weights))
            np.testing.assert_array_equal(gr, weights[2])
            with pytest.raises(lf.errors.InvalidArgumentError):
                sess.run(out, {buf: b, row: r, i: 4})
