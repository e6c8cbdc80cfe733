"""Gradients through tf.cond, tf.while_loop and the functional ops on it: against finite
differences, against TensorFlow (tf.compat.v1, graph mode) and as a training step. Every
case shares one graph per framework (one compiled step per feed signature)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from lowerflow.frontend.control_flow import WHILE_TYPES

X = np.float32([0.3, -0.2, 0.1])
W0 = np.float32([1.5, -0.5, 0.8])


def _loop(m, x, w, **kw):
    return m.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, m.tanh(s * w) + x), [0, x], **kw)[1]


def _inner_loop(m, a, w):
    return m.while_loop(lambda k, b: k < 2, lambda k, b: (k + 1, m.sin(b * w)), [0, a], maximum_iterations=2)[1]


def _cases(m, x, p, w):
    """Name -> a scalar loss, built the same way with either module."""
    elems = m.stack([x, x * 2.0, -x])
    return {
        "cond": m.reduce_sum(m.cond(p, lambda: m.tanh(x * w), lambda: w * w * 3.0 + x)),
        "cond_passthrough": m.reduce_sum(m.cond(p, lambda: x, lambda: x * w)),
        "cond_nested": m.reduce_sum(m.cond(p, lambda: m.cond(m.reduce_sum(x) > 0, lambda: x * w, lambda: x),
                                           lambda: m.exp(x))),
        "while_replayed": m.reduce_sum(_loop(m, x, w) ** 2),
        "while_stacked": m.reduce_sum(_loop(m, x, w, maximum_iterations=6) ** 2),
        "while_limited": m.reduce_sum(_loop(m, x, w, maximum_iterations=3) ** 2),
        "while_two_carried": m.reduce_sum(m.add_n(m.while_loop(
            lambda i, a, b: i < 3, lambda i, a, b: (i + 1, a * b, m.tanh(a) + w), [0, x, w * 0.5],
            maximum_iterations=3)[1:])),
        "while_cond_inside": m.reduce_sum(m.while_loop(
            lambda i, a: i < 4,
            lambda i, a: (i + 1, m.cond(m.equal(i % 2, 0), lambda: a * w, lambda: m.tanh(a) + x)), [0, x],
            maximum_iterations=4)[1]),
        "while_inside_cond": m.reduce_sum(m.cond(p, lambda: _loop(m, x, w, maximum_iterations=5), lambda: x * w)),
        "while_nested": m.reduce_sum(m.while_loop(
            lambda i, a: i < 3, lambda i, a: (i + 1, _inner_loop(m, a, w) + x), [0, x], maximum_iterations=3)[1]),
        "while_matmul": m.reduce_sum(m.while_loop(
            lambda i, a: i < 3, lambda i, a: (i + 1, m.tanh(m.matmul(a, m.reshape(w, [3, 1]) * w) + x)),
            [0, m.reshape(x, [1, 3])], maximum_iterations=3)[1] ** 2),
        "scan": m.reduce_sum(m.scan(lambda a, e: m.tanh(a * w + e), elems, initializer=x) ** 2),
        "map_fn": m.reduce_sum(m.map_fn(lambda e: e * w * e, elems)),
        "foldl": m.reduce_sum(m.foldl(lambda a, e: a * m.tanh(e) + w, elems, initializer=x)),
        "foldr": m.reduce_sum(m.foldr(lambda a, e: m.sin(a * e) * w, elems, initializer=x)),
    }


def _build(m):
    g = m.Graph()
    with g.as_default():
        x = m.placeholder(m.float32, [3], name="x")
        p = m.placeholder(m.bool, [], name="p")
        w = m.Variable(W0, name="w")
        losses = _cases(m, x, p, w)
        grads = {k: m.gradients(v, [x, w], unconnected_gradients="zero") for k, v in losses.items()}
        no_prop = m.while_loop(lambda i, s: i < 2, lambda i, s: (i + 1, s * w), [0, x], back_prop=False)[1]
        none = m.gradients(m.reduce_sum(no_prop), [x, w])
        init = m.global_variables_initializer()
    return g, x, p, losses, grads, none, init


@pytest.fixture(scope="module")
def ours():
    g, x, p, losses, grads, none, init = _build(lf)
    sess = lf.Session(graph=g)
    sess.run(init)
    yield sess, x, p, losses, grads, none
    sess.close()


@pytest.fixture(scope="module")
def theirs():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    g, x, p, losses, grads, none, init = _build(tf1)
    with tf1.Session(graph=g) as sess:
        sess.run(init)
        yield {pv: sess.run((losses, grads), {x: X, p: pv}) for pv in (True, False)}, none


@pytest.fixture(scope="module")
def values(ours):
    sess, x, p, losses, grads, _ = ours
    return {pv: sess.run((losses, grads), {x: X, p: pv}) for pv in (True, False)}


CASES = [
    "cond", "cond_passthrough", "cond_nested", "while_replayed", "while_stacked", "while_limited",
    "while_two_carried", "while_cond_inside", "while_inside_cond", "while_nested", "while_matmul", "scan", "map_fn",
    "foldl", "foldr"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("pv", [True, False])
def test_matches_tensorflow(values, theirs, name, pv):
    ours_loss, ours_grads = values[pv][0][name], values[pv][1][name]
    their_loss, their_grads = theirs[0][pv][0][name], theirs[0][pv][1][name]
    np.testing.assert_allclose(ours_loss, their_loss, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["cond", "while_replayed", "while_stacked", "while_limited", "while_nested",
                                  "while_cond_inside", "while_matmul", "scan", "foldr"])
def test_matches_finite_differences(ours, values, name):
    sess, x, p, losses, _, _ = ours
    eps = 1e-3
    numeric = []
    for k in range(3):
        d = np.zeros(3, np.float32)
        d[k] = eps
        hi, lo = (sess.run(losses[name], {x: X + s * d, p: True}) for s in (1, -1))
        numeric.append((hi - lo) / (2 * eps))
    np.testing.assert_allclose(values[True][1][name][0], numeric, rtol=2e-2, atol=2e-3)


def test_back_prop_false_gives_no_gradient(ours, theirs):
    assert ours[5] == [None, None]
    assert theirs[1] == [None, None]


def test_stacks_are_added_once_to_a_bounded_loop(ours):
    sess = ours[0]
    loops = [op for op in sess.graph.get_operations() if op.type in WHILE_TYPES]
    stacked = [op for op in loops if len(op.outputs) > len(op.ir_attr("cond").loop_vars)]
    assert 0 < len(stacked) < len(loops)  # the loops without a static bound have none
    for op in stacked:  # one stack per loop variable but the counter and limit, one per product
        products = sum(o.type == "MatMul" for o in op.ir_attr("body").ops)
        assert len(op.outputs) == 2 * len(op.ir_attr("cond").loop_vars) - 2 + products
    assert any(o.type == "MatMul" for op in stacked for o in op.ir_attr("body").ops)


def test_the_backward_loop_reads_the_kept_products():
    """A bounded loop's matrix product is kept in a stack, not recomputed: the lowered
    backward loop has only the two products of the MatMul's gradient."""
    from lowerflow import ir
    from lowerflow.frontend.lowering import lower

    with lf.Graph().as_default():
        x, w = lf.placeholder(lf.float32, [1, 3]), lf.constant(np.ones((3, 3), np.float32))
        h = lf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, lf.tanh(lf.matmul(a, w))), [0, x],
                          maximum_iterations=3)[1]
        gx = lf.gradients(lf.reduce_sum(h), [x])[0]
        step = lower([gx], [], {x: ir.TensorType((1, 3), lf.float32.ir)})
    forward, backward = [op for op in step.func.ops if op.name == "lf.while"]
    assert [o.name for o in forward.regions[1].walk()].count("lf.matmul") == 1
    assert [o.name for o in backward.regions[1].walk()].count("lf.matmul") == 2


def _train(m, steps: int):
    """Three SGD steps on an RNN-like loss through a bounded while loop."""
    g = m.Graph()
    with g.as_default():
        rng = np.random.RandomState(0)
        xs = m.constant(rng.randn(5, 2, 3).astype(np.float32))
        kernel = m.Variable(rng.randn(3, 3).astype(np.float32) * 0.5, name="kernel")
        bias = m.Variable(np.zeros(3, np.float32), name="bias")

        def body(t, h):
            return t + 1, m.tanh(m.matmul(h, kernel) + m.gather(xs, t) + bias)

        h = m.while_loop(lambda t, h: t < 5, body, [0, m.zeros([2, 3])], maximum_iterations=5)[1]
        loss = m.reduce_mean(m.square(h - 0.5))
        train = m.train.GradientDescentOptimizer(0.5).minimize(loss)
        with m.Session() as sess:
            sess.run(m.global_variables_initializer())
            seen = [sess.run([loss, train])[0] for _ in range(steps)]
            return seen, sess.run([kernel, bias])


def test_training_step_through_a_while_loop_matches_tensorflow():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    ours_losses, ours_vars = _train(lf, 3)
    their_losses, their_vars = _train(tf1, 3)
    np.testing.assert_allclose(ours_losses, their_losses, rtol=1e-5)
    assert ours_losses[-1] < ours_losses[0]
    for a, b in zip(ours_vars, their_vars):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_bounded_loop_keeps_its_random_draws_for_the_gradient():
    """s1 = tanh(x*w)*m + x with m drawn in the body: d sum(s1)/dx = (1 - tanh^2(x*w))*w*m + 1,
    with the m of the same run (carried out of the loop to compare)."""
    with lf.Graph().as_default():
        x = lf.placeholder(lf.float32, [3])
        w = lf.constant(W0)

        def body(i, s, acc):
            m = lf.random_uniform([3], seed=1)
            return i + 1, lf.tanh(s * w) * m + x, acc + m

        _, s, m = lf.while_loop(lambda i, s, acc: i < 1, body, [0, x, lf.zeros([3])], maximum_iterations=1)
        gx = lf.gradients(lf.reduce_sum(s), x)[0]
        with lf.Session() as sess:
            for _ in range(2):
                got, mask = sess.run([gx, m], {x: X})
                np.testing.assert_allclose(got, (1 - np.tanh(X * W0) ** 2) * W0 * mask + 1, rtol=1e-5)


@pytest.mark.parametrize("where", ["unbounded_loop", "cond"])
def test_random_draws_that_would_be_redrawn_are_refused(where):
    with lf.Graph().as_default():
        x = lf.placeholder(lf.float32, [3])
        if where == "cond":
            y = lf.cond(x[0] > 0, lambda: x * lf.random_uniform([3]), lambda: x)
        else:
            y = lf.while_loop(lambda i, s: i < 2, lambda i, s: (i + 1, s * lf.random_uniform([3])), [0, x])[1]
        with pytest.raises(NotImplementedError, match="would be drawn again"):
            lf.gradients(y, x)
