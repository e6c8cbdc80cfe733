"""Sizes set by fed values with no static bound (frontend/run_dims.py): one_hot(depth=n),
range, fill/zeros/ones, tile and reshape with fed sizes, against TensorFlow's tf.compat.v1
(values, dtypes, static shapes, error classes and words), several values through ONE
compiled signature per fetch (the shape prelude and the main step, compiled once)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import lowerflow as lf
from lowerflow.backend import NATIVE_STATS
from fidelity.tf1 import tf1


def _one_hot(m):
    n = m.placeholder(m.int32, [])
    idx = m.constant([[0, 2], [1, -1], [5, 3]])
    return [m.one_hot(idx, n), m.one_hot(idx, n, axis=0, on_value=3, off_value=-1),
            m.one_hot(m.constant([1, 0], m.uint8), n, axis=-1, dtype=m.float64)], (n,), [4, 0, 1, 6, -1]


def _range(m):
    n = m.placeholder(m.int32, [])
    return [m.range(n), m.range(n, dtype=m.float32), m.range(2, n, 3), m.range(n, -4, -2)], (n,), \
        [5, 0, 1, 9, -3]


def _range3(m):
    p = m.placeholder(m.float32, [3])
    q = m.placeholder(m.int64, [3])
    return [m.range(p[0], p[1], p[2]), m.range(q[0], q[1], q[2])], (p, q), \
        [([0, 1, 0.3], [0, 10, 3]), ([5, 1, -0.5], [10, 0, -3]), ([0, 1, 0], [3, 3, 1]),
         ([5, 1, 1], [5, 1, 1]), ([1, 5, -1], [1, 5, -1]), ([1, 2, 1], [0, 10, 0])]


def _range_nonfinite(m):
    """NaN bounds fail TF's `start <= limit` checks; a size past int64 fails its own check."""
    p = m.placeholder(m.float32, [3])
    q = m.placeholder(m.float64, [3])
    nan, inf = float("nan"), float("inf")
    return [m.range(p[0], p[1], p[2]), m.range(q[0], q[1], q[2])], (p, q), \
        [([0, nan, 1], [0, nan, 1]), ([nan, 5, 1], [nan, 5, -1]), ([0, 5, nan], [5, 0, nan]),
         ([0, inf, 1], [-inf, 0, 1]), ([0, 1, inf], [0, 1, -inf]), ([0, 1e30, 1e-5], [0, 1e300, 1e-300])]


def _filled(m):
    n = m.placeholder(m.int32, [])
    d = m.placeholder(m.int64, [2])
    return [m.zeros([n, 4]), m.ones(d, m.int32), m.fill(d, 2.5), m.fill([n], True)], (n, d), \
        [(3, [2, 3]), (0, [0, 2]), (1, [4, 1]), (-1, [2, 2]), (2, [-1, 3]), (2, [3, -2])]


def _tile(m):
    k = m.placeholder(m.int32, [2])
    x = m.constant([[1, 2, 3], [4, 5, 6]], m.float32)
    return [m.tile(x, k), m.tile(m.constant([[7]], m.int64), k)], (k,), [[2, 2], [0, 3], [1, 1], [3, 0], [-1, 2]]


def _reshape(m):
    s = m.placeholder(m.int32, [2])
    t = m.placeholder(m.int64, [3])
    x = m.constant(np.arange(12, dtype=np.float32))
    return [m.reshape(x, s), m.reshape(m.constant(np.arange(12)), t)], (s, t), \
        [([3, 4], [2, 3, 2]), ([-1, 6], [2, -1, 3]), ([5, 2], [1, 1, 12]), ([-1, -1], [2, 2, 2]),
         ([-2, -6], [-1, 5, 1]), ([0, -1], [0, 2, 6]), ([12, 1], [12, -3, 1])]


def _reshape_empty(m):
    """TF infers a -1 beside a 0 from the data's nonzero dims (and checks nothing then)."""
    s = m.placeholder(m.int32, [2])
    datas = [m.zeros([2, 0, 3]), m.zeros([0]), m.constant(np.arange(6, dtype=np.float32))]
    return [m.reshape(x, s) for x in datas], (s,), [[0, -1], [-1, 0], [6, -1], [2, -1], [0, 5], [4, -1]]


def _consumers(m):
    n = m.placeholder(m.int32, [])
    x = m.placeholder(m.float32, [])
    r = m.range(n)
    hot = m.one_hot([[0, 2], [1, 3]], n)
    return [r * 2 + 1, m.cast(r, m.float32) / x, m.reduce_sum(r), m.reduce_mean(m.cast(r, m.float32)),
            m.reduce_sum(hot, [2]), m.reduce_max(hot * x, [1, 2]), m.reduce_mean(r + 3, keepdims=True),
            m.reduce_prod(r + 1), m.reduce_any(r > 3), m.square(hot) - hot, m.reduce_sum(m.zeros([n, 3]) + x, [0, 1]),
            m.reduce_min(m.floordiv(r, n)), m.shape(hot), m.size(r, out_type=m.int64), m.shape(m.fill([n, 2], x)),
            m.rank(hot), m.reduce_sum(hot, 0), m.where(hot > 0.5, hot * x, m.cast(hot, m.float32)), m.reduce_mean(hot * x, [0, 1], keepdims=True)], (n, x), \
        [(4, 2.0), (6, -0.5), (1, 0.0), (0, 1.0)]


def _gradients(m):
    """A one-hot of a fed depth times a static matrix: the prelude checks the depth, after
    which the one-hot has a static type (its gradients are static ops)."""
    n = m.placeholder(m.int32, [])
    w = m.placeholder(m.float32, [5, 2])
    hot = m.one_hot([0, 3, 1], n)
    y = m.matmul(hot, w)
    loss = m.reduce_sum(y * y) + m.reduce_sum(hot * 0.5)
    return [y, m.gradients(loss, [w])[0], m.matmul(w, hot, transpose_a=True, transpose_b=True),
            m.reduce_sum(hot * m.ones([5]) * 2.0)], (n, w), [(5, np.arange(10).reshape(5, 2)), (4, np.ones((5, 2)))]


def _broadcasts(m):
    """Static operands as the trailing dims of a run-time-sized value: checked at run time."""
    n = m.placeholder(m.int32, [])
    logits = m.placeholder(m.float32, [3, 4])
    hot = m.one_hot([0, 3, 1], n)
    return [m.reduce_sum(hot * m.nn.log_softmax(logits), 1), hot + m.constant([1.0, 2, 3, 4]),
            m.zeros([n, 4]) + logits], (n, logits), \
        [(v, np.arange(12).reshape(3, 4) / 7) for v in (4, 5, 3, 0)]


CASES = {"one_hot": _one_hot, "range": _range, "range3": _range3, "range_nonfinite": _range_nonfinite, "filled": _filled, "tile": _tile,
         "reshape": _reshape, "reshape_empty": _reshape_empty, "consumers": _consumers, "broadcasts": _broadcasts,
         "gradients": _gradients}


def _feed(phs, v):
    v = v if isinstance(v, tuple) else (v,)
    return {p: np.asarray(a, p.dtype.as_numpy_dtype) for p, a in zip(phs, v)}


def _runs(m, build):
    """Per fetch: its static shape, then the outcome of each value (a value, or the error's
    class and message) through one session; and the compile counts after the first run."""
    out, compiles = [], []
    with m.Graph().as_default():
        fetches, phs, values = build(m)
        with m.Session() as sess:
            for f in fetches:
                runs = [f.shape.as_list(), f.dtype.name]
                for j, v in enumerate(values):
                    try:
                        runs.append(("ok", sess.run(f, _feed(phs, v))))
                    except Exception as e:  # noqa: BLE001 - the class and words are the outcome compared
                        runs.append(("raises", type(e).__name__, str(e)))
                    if m is lf and j == 0:
                        before = NATIVE_STATS["compiles"] + NATIVE_STATS["cache_hits"], len(sess._plans)
                if m is lf:
                    compiles.append((NATIVE_STATS["compiles"] + NATIVE_STATS["cache_hits"], len(sess._plans))
                                    == before)
                out.append(runs)
    return out, compiles


def _tf_words(message: str) -> str:
    """TF's message less its node context and the allocator's name."""
    return re.split(r"\n|\[\[|\s+by allocator", message)[0].strip().replace("Graph execution error:", "").strip()


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_tensorflow(name):
    tf = tf1()
    want, _ = _runs(tf, CASES[name])
    got, one_compile = _runs(lf, CASES[name])
    assert all(one_compile), one_compile  # no recompile (and no new plan) per value
    for g, w in zip(got, want):
        assert g[:2] == w[:2], (name, g[:2], w[:2])  # static shape and dtype at build time
        for a, b in zip(g[2:], w[2:]):
            assert a[0] == b[0], (name, a, b)
            if a[0] == "ok":
                a, b = np.asarray(a[1]), np.asarray(b[1])
                assert a.dtype == b.dtype and a.shape == b.shape, (name, a, b)
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)  # log_softmax's last ulp
            else:
                assert a[1] == b[1], (name, a, b)
                words = _tf_words(b[2])
                if words:  # TF 2.x graph mode puts the kernel's words in the log, not always the message
                    assert a[2].startswith(words), (name, a[2], words)


def test_values_match_numpy_without_tensorflow():
    """The same graphs against numpy where TensorFlow is absent."""
    with lf.Graph().as_default():
        fetches, (n,), _ = _one_hot(lf)
        r = lf.range(n)
        with lf.Session() as sess:
            for depth in (3, 0, 7):
                idx = np.array([[0, 2], [1, -1], [5, 3]])
                np.testing.assert_array_equal(sess.run(fetches[0], {n: depth}),
                                              (idx[..., None] == np.arange(depth)).astype(np.float32))
                np.testing.assert_array_equal(sess.run(r, {n: depth}), np.arange(depth, dtype=np.int32))


def test_absurd_size_is_resource_exhausted():
    with lf.Graph().as_default():
        n = lf.placeholder(lf.int64, [])
        d = lf.placeholder(lf.int32, [])
        big = [lf.range(n), lf.one_hot(lf.zeros([1000], lf.int32), d), lf.zeros(lf.stack([d, d, d]))]
        with lf.Session() as sess:
            for f, feed in zip(big, ({n: 1 << 50}, {d: 2**31 - 1}, {d: 2**30})):
                with pytest.raises(lf.errors.ResourceExhaustedError, match=r"OOM when allocating tensor with shape\["):
                    sess.run(f, feed)
            assert sess.run(big[1], {d: 3}).shape == (1000, 3)


def test_uses_other_than_fetching_are_refused():
    """An op on such a value is refused when the signature is lowered, in words that say why."""
    with lf.Graph().as_default():
        n = lf.placeholder(lf.int32, [])
        with lf.Session() as sess:
            k = lf.placeholder(lf.bool, [None])
            for y in ([lf.range(n), lf.boolean_mask(lf.ones([4]), k)], lf.range(n) + lf.range(n), lf.one_hot([1, 2], n) * lf.ones([2, 1]), lf.reduce_sum(lf.fill(lf.stack([n, n]), 1.0), 0),
                      lf.matmul(lf.one_hot([1], n), lf.one_hot([1], n), transpose_b=True), lf.expand_dims(lf.range(n), 0)):
                with pytest.raises(lf.errors.UnimplementedError, match="sizes a value by fed values"):
                    sess.run(y, {n: 3, k: [True, False, True, True]})
            assert sess.run([lf.range(n), n + 1], {n: 2})[0].tolist() == [0, 1]
            with pytest.raises(lf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[3\] vs. \[2\]"):
                sess.run(lf.range(n) + lf.constant([1, 2]), {n: 3})


def test_graph_defs_both_ways():
    """Exported, a fed size is TF's tensor input and the graph runs in TF with lowerflow's
    values; TF's own GraphDef of such ops imports and runs here."""
    tf = tf1()
    with lf.Graph().as_default() as g:
        n = lf.placeholder(lf.int32, [], name="n")
        d = lf.placeholder(lf.int32, [2], name="d")
        outs = [lf.one_hot([0, 2, 1], n), lf.range(n), lf.range(1, n, 2, dtype=lf.float32), lf.zeros([n, 4]),
                lf.fill(d, 1.5), lf.tile([[1, 2]], d), lf.reshape(lf.range(6), lf.stack([n, -1]))]
        with lf.Session() as sess:
            want = sess.run(outs, {n: 3, d: [2, 2]})
        graph_def = tf.GraphDef.FromString(g.as_graph_def().SerializeToString())
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            got = sess.run([o.name for o in outs], {"n:0": 3, "d:0": [2, 2]})
    for a, b in zip(got, want):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    with tf.Graph().as_default() as h:
        n = tf.placeholder(tf.int32, [], name="n")
        outs = [tf.one_hot([0, 2, 1], n), tf.range(n), tf.zeros([n, 4]), tf.range(1, n, 2, dtype=tf.float32)]
        with tf.Session() as sess:
            want = sess.run(outs, {n: 4})
    with lf.Graph().as_default():
        lf.import_graph_def(h.as_graph_def(), name="")
        with lf.Session() as sess:
            got = sess.run([o.name for o in outs], {"n:0": 4})
    for a, b in zip(got, want):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
