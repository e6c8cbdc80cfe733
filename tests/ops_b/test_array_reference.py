"""Shape and array ops at the IR level: built with the TF1 API, lowered to IR, run by the
reference interpreter, compared with numpy (values, dtypes and static shapes)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from ops_a.helpers import reference_run
from ops_b.cases import CASES, SHAPES, applicable, flatten, sample


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cases_match_numpy(shape):
    x = sample(shape, np.float32)
    names = applicable(shape)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float32, shape)
        outs = flatten([CASES[n].build(tf, ph, shape) for n in names])
        got = reference_run(outs, {ph: x})
    want = flatten([CASES[n].want(x) for n in names])
    assert len(got) == len(want) == len(outs)
    for out, g, w in zip(outs, got, want):
        w = np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, out.name
        assert out.shape.as_list() == list(w.shape), out.name
        np.testing.assert_array_equal(g, w, err_msg=out.name)


def test_range_and_linspace_follow_tf1_kernels():
    """Range adds delta to a running value (float rounding accumulates, unlike np.arange)."""
    with tf.Graph().as_default():
        outs = [tf.range(5), tf.range(2, 11, 3), tf.range(10, 1, -4), tf.range(1.0, 2.0, 0.1),
                tf.range(3, dtype=tf.float64), tf.range(0, 5, 2, dtype=tf.int64), tf.linspace(0.0, 1.0, 7),
                tf.linspace(-1.0, 1.0, 1), tf.lin_space(np.float64(2), 3.0, 4)]
        got = reference_run(outs)
    acc = np.float32(1.0) + np.float32(0.1) * 0  # running float32 sum, as TF1's kernel
    running = []
    for _ in range(10):
        running.append(acc)
        acc = np.float32(acc + np.float32(0.1))
    want = [np.arange(5, dtype=np.int32), np.arange(2, 11, 3, dtype=np.int32), np.array([10, 6, 2], np.int32),
            np.array(running, np.float32), np.arange(3.0), np.arange(0, 5, 2), None, np.array([-1.0], np.float32),
            np.linspace(2.0, 3.0, 4)]
    for out, g, w in zip(outs, got, want):
        assert out.shape.as_list() == list(g.shape)
        if w is not None:
            assert g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=1e-15, err_msg=out.name)
    step = np.float32(1.0) / np.float32(6)
    np.testing.assert_array_equal(got[6], [np.float32(step * np.float32(i)) for i in range(6)] + [1.0])


def test_one_hot_matches_numpy():
    idx = np.array([[0, 2], [5, -1], [1, 1]], np.int64)
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.int64, [None, 2])
        outs = [tf.one_hot(ph, 3), tf.one_hot(ph, 4, axis=0), tf.one_hot(ph, 3, on_value=5, off_value=-1, axis=1),
                tf.one_hot(tf.cast(ph, tf.int32), 2, on_value=True, off_value=False), tf.one_hot([1], 0)]
        got = reference_run(outs, {ph: idx})
    eye = (idx[..., None] == np.arange(4)).astype(np.float32)
    want = [eye[..., :3], np.moveaxis(eye, -1, 0), np.moveaxis(np.where(eye[..., :3] > 0, 5, -1), -1, 1).astype(np.int32),
            eye[..., :2] > 0, np.zeros((1, 0), np.float32)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_gather_reference_rejects_out_of_range_indices():
    with tf.Graph().as_default():
        p, i = tf.placeholder(tf.float32, [3, 2]), tf.placeholder(tf.int32, [2])
        with pytest.raises(ValueError, match=r"indices\[1\] = 3 is not in \[0, 3\)"):
            reference_run([tf.gather(p, i)], {p: np.zeros((3, 2)), i: [0, 3]})
