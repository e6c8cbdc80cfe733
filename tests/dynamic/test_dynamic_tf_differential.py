"""Value-dependent shapes against TensorFlow's tf.compat.v1 (graph mode): the same graphs
built with lowerflow and with TF give the same values, dtypes, static shapes and error
classes, for several fed values per graph. Skipped when TensorFlow is not installed."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from fidelity.tf1 import assert_same_outcome, tf1

NAN = np.nan


def _mask(m):
    x = m.placeholder(m.float32, [None, 3])
    k = m.placeholder(m.bool, [None])
    y = m.boolean_mask(x, k)
    return [y, m.reduce_sum(y, 0), m.reduce_max(y, 1), m.reduce_mean(y), m.shape(y), y * 2.0 + 1.0], (x, k)


def _where(m):
    c = m.placeholder(m.float32, [None, 2])
    return [m.where(c), m.where(c > 0.5)], (c,)


def _unique(m):
    v = m.placeholder(m.float32, [None])
    u, u64 = m.unique(v), m.unique(v, out_idx=m.int64)
    return [u.y, u.idx, u64.idx, m.reduce_sum(u.y * 0.0 + 1.0)], (v,)


def _partition(m):
    v = m.placeholder(m.float32, [None, 2])
    p = m.placeholder(m.int32, [None])
    return m.dynamic_partition(v, p, 3), (v, p)


def _fed_slice(m):
    x = m.placeholder(m.float32, [None, 2])
    n = m.placeholder(m.int32, [])
    return [x[:n], x[1:n], x[-3:n], m.reduce_sum(x[:n], 0)], (x, n)


def _consumers(m):
    x = m.placeholder(m.float32, [None, 3])
    k = m.placeholder(m.bool, [None])
    labels = m.placeholder(m.int32, [None])
    y = m.boolean_mask(x, k)
    xent = m.nn.sparse_softmax_cross_entropy_with_logits(labels=m.boolean_mask(labels, k), logits=y)
    return [m.nn.softmax(y), y[:, 0], y[..., 1:], m.concat([y, y * 2.0], 1), m.transpose(m.expand_dims(y, 1), [0, 2, 1]),
            xent, m.gradients(m.reduce_sum(xent), [x])[0], m.stack([y, -y], 1), m.cast(y > 0.0, m.int32),
            m.zeros_like(y), m.reduce_any(m.not_equal(y, y), 1)], (x, k, labels)


def _reshapes(m):
    x = m.placeholder(m.float32, [None, 3])
    k = m.placeholder(m.bool, [None])
    y = m.boolean_mask(x, k)
    c = m.concat([y, y * 2.0], 1)
    a, b = m.split(c, 2, axis=1)
    return [m.reshape(y, [m.shape(y)[0], -1]), m.reshape(y, m.stack([m.shape(y)[0], 3, 1])), m.reshape(y, [-1]),
            m.squeeze(m.expand_dims(y, 2), [2]), b, m.gradients(m.reduce_sum(c * c) + m.reduce_sum(a), x)[0]], (x, k)


def _fed_size(m):
    x = m.placeholder(m.float32, [None, 3])
    n = m.placeholder(m.int32, [])
    y = m.slice(x, [1, 0], [n, -1])
    return [y, m.slice(x, [0, 1], m.stack([n, 2])), m.reduce_sum(y)], (x, n)


def _grad(m):
    x = m.placeholder(m.float32, [None, 3])
    k = m.placeholder(m.bool, [None])
    w = m.constant(np.arange(6, dtype=np.float32).reshape(3, 2) / 5)
    loss = m.reduce_sum(m.square(m.matmul(m.boolean_mask(x, k), w)))
    return m.gradients(loss, [x]), (x, k)


X4 = np.array([[1, -2, 3], [NAN, 5, 6], [-7, 8, 9], [0, 0, 1]], np.float32)
CASES = {
    "boolean_mask": (_mask, [(X4, [1, 0, 1, 0]), (X4, [0, 0, 0, 0]), (X4, [1, 1, 1, 1]), (X4, [0, 1, 0, 1])]),
    "where": (_where, [(np.array([[0, NAN], [1, 0.25], [-0.0, 2]], np.float32),),
                       (np.zeros((3, 2), np.float32),), (np.ones((3, 2), np.float32),)]),
    "unique": (_unique, [(np.array([3, 1, 3, NAN, 0, -0.0, NAN, 1], np.float32),),
                         (np.full(8, 2, np.float32),), (np.arange(8, dtype=np.float32),)]),
    "dynamic_partition": (_partition, [(X4[:, :2], [0, 2, 0, 1]), (X4[:, :2], [2, 2, 2, 2]),
                                       (X4[:, :2], [0, 3, 1, 1]), (X4[:, :2], [-1, 0, 1, 2])]),
    "fed_slice": (_fed_slice, [(X4[:, :2], 2), (X4[:, :2], -1), (X4[:, :2], 0), (X4[:, :2], 99), (X4[:, :2], -9)]),
    "consumers": (_consumers, [(X4, [1, 0, 1, 1], [0, 1, 2, 0]), (X4, [0, 0, 0, 0], [0, 0, 0, 0]),
                               (X4, [1, 1, 1, 1], [2, 2, 1, 0]), (X4, [0, 1, 0, 0], [3, 2, 1, 0])]),
    "reshapes": (_reshapes, [(X4, [1, 0, 1, 1]), (X4, [0, 0, 0, 0]), (X4, [0, 0, 1, 0])]),
    "mask_lengths": (_mask, [(X4, [1, 0, 1, 0, 1]), (X4, [1, 0]), (X4, [0, 0, 0, 0, 0]), (X4[:0], [0, 0]),
                             (X4[:0], [0, 1])]),
    "fed_size": (_fed_size, [(X4, 2), (X4, 0), (X4, -1), (X4, 3), (X4, 4), (X4, -2)]),
    "mask_gradient": (_grad, [(X4, [1, 0, 1, 1]), (X4, [0, 0, 0, 0])]),
}


def _runs(m, build, values: list) -> list:
    """The outcome of each feed in `values`, all through one graph and session of `m`."""
    out = []
    with m.Graph().as_default():
        fetches, phs = build(m)
        shapes = [f.shape.as_list() for f in fetches]
        with m.Session() as sess:
            for v in values:
                feed = {p: np.asarray(a, np.bool_ if p.dtype == m.bool else p.dtype.as_numpy_dtype)
                        for p, a in zip(phs, v)}
                try:
                    out.append(("ok", sess.run(fetches, feed)))
                except Exception as e:  # noqa: BLE001 - the class is the outcome compared
                    out.append(("raises", type(e).__name__))
    return [shapes] + out


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_tensorflow(name):
    build, values = CASES[name]
    want = _runs(tf1(), build, values)
    got = _runs(lf, build, values)
    assert got[0] == want[0]  # static shapes at build time
    for g, w in zip(got[1:], want[1:]):
        if g[0] == w[0] == "ok":  # a few ulp: sums may associate differently
            for a, b in zip(g[1], w[1]):
                a, b = np.asarray(a), np.asarray(b)
                assert a.dtype == b.dtype and a.shape == b.shape, (name, a, b)
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        else:
            assert_same_outcome(g, w)


def test_errors_as_tensorflow():
    """Build-time errors: the same class (and for the mask's rank, the same words)."""
    tf = tf1()
    for m in (tf, lf):
        with m.Graph().as_default():
            x = m.placeholder(m.float32, [2, 3])
            with pytest.raises(ValueError, match="mask cannot be scalar"):
                m.boolean_mask(x, True)
            with pytest.raises(ValueError, match=r"Shapes \(2,\) and \(5,\) are incompatible"):
                m.boolean_mask(x, m.placeholder(m.bool, [5]))
            with pytest.raises(ValueError, match="rank 1"):
                m.unique(x)
            with pytest.raises(TypeError, match="partitions"):
                m.dynamic_partition(x, m.placeholder(m.int64, [2]), 2)
            assert x[m.placeholder(m.bool, [None])].shape.as_list() == [None, 3]


def test_exported_graph_runs_in_tensorflow():
    """The GraphDef of these ops (a fed slice bound as its tensor input) runs in TF with the
    values lowerflow computes."""
    tf = tf1()
    with lf.Graph().as_default() as g:
        x = lf.placeholder(lf.float32, [None, 2], name="x")
        n = lf.placeholder(lf.int32, [], name="n")
        p = lf.placeholder(lf.int32, [None], name="p")
        outs = [x[:n], lf.slice(x, [1, 0], [n, -1]), lf.boolean_mask(x, x[:, 0] > 0), lf.unique(x[:, 1]).y,
                *lf.dynamic_partition(x, p, 2)]
        feed = {x: X4[:, :2], n: 2, p: [1, 0, 0, 1]}
        with lf.Session() as sess:
            want = sess.run(outs, feed)
        graph_def = tf.GraphDef.FromString(g.as_graph_def().SerializeToString())
    with tf.Graph().as_default() as h:
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            got = sess.run([o.name for o in outs], {f"{k.op.name}:0": v for k, v in feed.items()})
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
