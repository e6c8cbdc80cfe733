"""Shape and array ops through tf.Session (native code) against numpy: every case of
`cases.py` per (shape, dtype) in one graph, so each pair compiles once. Feeds are
non-contiguous views; placeholders with unknown dims take the same path once fed."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from ops_a.helpers import reference_run
from ops_b.cases import CASES, SHAPES, applicable, flatten, sample

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_]


def _run_cases(shape: tuple, dtype, dynamic: bool) -> None:
    base = sample(shape + (2,), dtype)
    x = base[..., 1]  # a strided view: the session must not assume C-contiguous feeds
    names = applicable(shape)
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.as_dtype(dtype), [None] * len(shape) if dynamic else shape)
        outs = flatten([CASES[n].build(tf, ph, shape) for n in names])
        got = sess.run(outs, {ph: x})
    want = flatten([CASES[n].want(x) for n in names])
    assert len(got) == len(want)
    for out, g, w in zip(outs, got, want):
        w = np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (out.name, g.dtype, g.shape, w.shape)
        assert out.shape.is_compatible_with(w.shape), out.name
        np.testing.assert_array_equal(g, w, err_msg=out.name)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cases_match_numpy(shape, dtype):
    _run_cases(shape, dtype, dynamic=False)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cases_with_unknown_dims(shape):
    _run_cases(shape, np.float32, dynamic=True)


def test_generated_tensors_match_the_reference():
    """Range, LinSpace and OneHot natively == the reference interpreter, bit for bit."""
    idx = np.array([[0, 2], [5, -1], [1, 1]], np.int64)
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.int64, [None, 2])
        u8 = tf.placeholder(tf.uint8, [3])
        outs = [tf.range(7), tf.range(2, 11, 3), tf.range(10, 1, -4), tf.range(1.0, 2.0, 0.1),
                tf.range(3, dtype=tf.float64), tf.range(-3.5, 4.0, 0.7), tf.range(0), tf.linspace(0.0, 1.0, 7),
                tf.linspace(-1.0, 1.0, 1), tf.lin_space(np.float64(2), 3.0, 50), tf.one_hot(ph, 3),
                tf.one_hot(ph, 4, axis=0), tf.one_hot(tf.cast(ph, tf.int32), 3, on_value=5, off_value=-1, axis=1),
                tf.one_hot(ph, 2, on_value=True, off_value=False), tf.one_hot(u8, 300, dtype=tf.float64)]
        feeds = {ph: idx, u8: np.array([0, 255, 7], np.uint8)}
        got = sess.run(outs, feeds)
        want = reference_run(outs, feeds)
    for out, g, w in zip(outs, got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, out.name
        np.testing.assert_array_equal(g, w, err_msg=out.name)


def test_shape_of_unknown_dims_is_computed_at_run_time():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [None, 3])
        s = tf.shape(x)
        assert s.op.type == "Shape" and s.shape.as_list() == [2]
        doubled = s[0] * 2
        flat = tf.zeros_like(tf.reshape(x, [-1]))
        for n in (0, 1, 4):
            got = sess.run([s, doubled, tf.size(x), flat], {x: np.ones((n, 3))})
            np.testing.assert_array_equal(got[0], [n, 3])
            assert got[1] == 2 * n and got[2] == 3 * n and got[3].shape == (3 * n,)
        unknown = tf.placeholder(tf.int32)
        assert tf.rank(unknown).op.type == "Rank" and tf.shape(unknown).shape.as_list() == [None]
        assert sess.run([tf.rank(unknown), tf.shape(unknown)], {unknown: np.zeros((2, 1, 5), np.int32)})[0] == 3


def test_generated_tensors_take_a_run_time_shape():
    """TF1's `tf.zeros(tf.shape(x))` idiom: the shape of unknown dims is x's at run time."""
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [None, 3])
        v = tf.placeholder(tf.int32, [])
        outs = [tf.zeros(tf.shape(x)), tf.ones(tf.shape(x), tf.int64), tf.fill(tf.shape(x), 2.5),
                tf.fill(tf.shape(x), v)]
        assert [o.shape.as_list() for o in outs] == [[None, 3]] * 4
        got = sess.run(outs, {x: np.zeros((2, 3)), v: 7})
    for g, w in zip(got, [np.zeros((2, 3), np.float32), np.ones((2, 3), np.int64), np.full((2, 3), 2.5, np.float32),
                          np.full((2, 3), 7, np.int32)]):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_views_share_memory_safely():
    """Reshapes of temporaries, of feeds and of constants: fetched, and used by later ops."""
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    with tf.Graph().as_default(), tf.Session() as sess:
        ph = tf.placeholder(tf.float32, [3, 4])
        y = tf.exp(ph)
        r = tf.reshape(y, [2, 6])
        z = tf.expand_dims(tf.reshape(r, [-1]), 0) * 2.0
        w = tf.squeeze(tf.tanh(z)) + tf.reshape(ph, [12])
        c = tf.reshape(tf.constant(x), [4, 3])
        got = sess.run([r, z, w, tf.reshape(ph, [6, 2]), c, tf.reshape(ph, [12]), y], {ph: x})
    ex = np.exp(x)
    for g, want in zip(got, [ex.reshape(2, 6), ex.reshape(1, 12) * 2, np.tanh(ex.reshape(12) * 2) + x.reshape(12),
                             x.reshape(6, 2), x.reshape(4, 3), x.reshape(12), ex]):
        np.testing.assert_allclose(g, want, rtol=1e-6)


def test_packing_lists_and_large_fills():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [2])
        packed = tf.stack([tf.convert_to_tensor([x[0], 1.0]), [2.0, x[1]]])
        assert packed.op.type == "Pack" and packed.shape.as_list() == [2, 2]
        big = tf.zeros([200, 30], tf.int64) + tf.ones([30], tf.int64)
        assert tf.zeros([200, 30]).op.type == "Fill" and tf.zeros([2, 3]).op.type == "Const"
        filled = tf.fill([3, 2], x[1])
        got = sess.run([packed, big, filled, tf.ones([40, 40], tf.bool)], {x: [5.0, 7.0]})
    np.testing.assert_array_equal(got[0], [[5, 1], [2, 7]])
    assert got[1].dtype == np.int64 and (got[1] == 1).all() and got[1].shape == (200, 30)
    np.testing.assert_array_equal(got[2], np.full((3, 2), 7.0, np.float32))
    assert got[3].dtype == np.bool_ and got[3].all()


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gather_index_out_of_range_is_invalid_argument(index_dtype):
    with tf.Graph().as_default(), tf.Session() as sess:
        params = tf.placeholder(tf.float32, [None, 2])
        indices = tf.placeholder(tf.as_dtype(index_dtype), [None])
        out = tf.gather(params, indices)
        table = np.arange(6, dtype=np.float32).reshape(3, 2)
        for bad in ([0, 3], [-1], [2, 1, 1 << 20]):
            with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
                sess.run(out, {params: table, indices: np.array(bad, index_dtype)})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(out, {params: np.zeros((0, 2), np.float32), indices: np.array([0], index_dtype)})
        np.testing.assert_array_equal(sess.run(out, {params: table, indices: np.array([2, 0], index_dtype)}),
                                      table[[2, 0]])  # the session still works


RUN_SHAPE_ERRORS = {
    "reshape": (lambda x, y: tf.reshape(x, [2, -1]), (3, 3), (1, 1)),
    "reshape_fixed": (lambda x, y: tf.reshape(x, [4]), (1, 3), (1, 1)),
    "concat": (lambda x, y: tf.concat([x, y], 1), (2, 3), (3, 3)),
    "stack": (lambda x, y: tf.stack([x, y]), (2, 3), (2, 4)),
    "squeeze": (lambda x, y: tf.squeeze(x, [0]), (2, 3), (1, 1)),
    "slice": (lambda x, y: tf.slice(x, [1, 0], [2, -1]), (2, 3), (1, 1)),
    "strided_slice": (lambda x, y: x[5], (2, 3), (1, 1)),
    "split": (lambda x, y: tf.split(x, 2)[0], (3, 3), (1, 1)),
    "unstack": (lambda x, y: tf.unstack(x, num=2)[0], (3, 3), (1, 1)),
    "pad_reflect": (lambda x, y: tf.pad(x, [[2, 2], [0, 0]], "REFLECT"), (2, 3), (1, 1)),
    "broadcast_to": (lambda x, y: tf.broadcast_to(x, [4, 3]), (2, 3), (1, 1)),
}


def test_slice_bounds_are_checked_at_run_time_as_in_tf1():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [2, 3])
        out = tf.slice(x, [1, 0], [2, -1])
        assert out.shape.as_list() == [2, 3]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected size\[0\] in \[0, 1\], but got 2"):
            sess.run(out, {x: np.zeros((2, 3))})


@pytest.mark.parametrize("name", sorted(RUN_SHAPE_ERRORS))
def test_run_time_shape_mismatch_is_invalid_argument(name):
    """Shapes the graph could not know are checked when the run fixes them."""
    build, x_shape, y_shape = RUN_SHAPE_ERRORS[name]
    with tf.Graph().as_default(), tf.Session() as sess:
        x, y = tf.placeholder(tf.float32, [None, None]), tf.placeholder(tf.float32, [None, None])
        out = build(x, y)
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(out, {x: np.zeros(x_shape), y: np.zeros(y_shape)})
