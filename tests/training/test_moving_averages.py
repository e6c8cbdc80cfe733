"""tf.train.ExponentialMovingAverage: shadows of variables and tensors, num_updates,
zero_debias, names for restoring; against numpy and TensorFlow."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf

W0 = np.array([1.0, -2.0, 3.0], np.float32)
GRADS = np.random.default_rng(4).standard_normal((4, 3)).astype(np.float32)
XS = np.random.default_rng(5).standard_normal((4, 2)).astype(np.float32)


def _run(m) -> dict:
    """GD on w, then (after it) the EMA of w with num_updates = global step, and a
    zero-debiased EMA of a fed tensor."""
    with m.Graph().as_default():
        w = m.Variable(W0, name="w")
        b = m.Variable(np.float64(0.5), name="b")
        grad = m.placeholder(m.float32, [3])
        x = m.placeholder(m.float32, [2], name="x")
        t = m.multiply(x, 2.0, name="t")
        gs = m.train.get_or_create_global_step()
        opt = m.train.GradientDescentOptimizer(0.5).apply_gradients([(grad, w)], global_step=gs)
        ema = m.train.ExponentialMovingAverage(0.9, num_updates=gs)
        ema_t = m.train.ExponentialMovingAverage(0.7, zero_debias=True, name="tavg")
        with m.control_dependencies([opt]):
            train = m.group(ema.apply([w, b]), ema_t.apply([t]))
        out = {"names": [v.name for v in m.global_variables()],
               "average_name": [ema.average_name(w), ema_t.average_name(t), ema.average_name(gs)],
               "restore": sorted(ema.variables_to_restore()),
               "moving": [v.name for v in m.get_collection(m.GraphKeys.MOVING_AVERAGE_VARIABLES)],
               "steps": []}
        fetch = [w, ema.average(w), ema.average(b), ema_t.average(t)]
        with m.Session() as sess:
            sess.run(m.global_variables_initializer())
            out["initial"] = sess.run(fetch)
            for g, xv in zip(GRADS, XS):
                sess.run(train, {grad: g, x: xv})
                out["steps"].append(sess.run(fetch))
        return out


@pytest.fixture(scope="module")
def ours():
    return _run(tf)


def test_shadows_follow_numpy(ours):
    w, avg, avg_b, avg_t = W0.astype(np.float64), W0.astype(np.float64), 0.5, np.zeros(2)
    biased = np.zeros(2)
    np.testing.assert_allclose(ours["initial"][1], W0)
    for step, (g, xv, got) in enumerate(zip(GRADS, XS, ours["steps"])):
        w = w - 0.5 * g
        n = step + 1  # the global step, read after the optimizer bumped it
        decay = min(0.9, (1.0 + n) / (10.0 + n))
        avg = avg - (avg - w) * (1 - decay)
        avg_b = avg_b - (avg_b - 0.5) * (1 - decay)
        biased = biased - (biased - 2.0 * xv) * (1 - 0.7)
        avg_t = biased / (1 - 0.7 ** n)
        for value, want in zip(got, [w, avg, avg_b, avg_t]):
            np.testing.assert_allclose(value, want, rtol=1e-5, err_msg=f"step {step}")
    assert got[2].dtype == np.float64


def test_names(ours):
    assert ours["names"] == ["w:0", "b:0", "global_step:0", "w/ExponentialMovingAverage:0",
                             "b/ExponentialMovingAverage:0", "t/tavg:0", "t/tavg/biased:0",
                             "t/tavg/local_step:0"]
    assert ours["average_name"] == ["w/ExponentialMovingAverage", "t/tavg",
                                    "global_step/ExponentialMovingAverage"]
    assert ours["moving"] == ["w:0", "b:0"]
    assert ours["restore"] == ["b/ExponentialMovingAverage", "global_step", "t/tavg",
                               "t/tavg/biased", "t/tavg/local_step", "w/ExponentialMovingAverage"]


def test_matches_tensorflow(ours):
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    theirs = _run(tf1)
    for key in ("names", "average_name", "restore", "moving"):
        assert ours[key] == theirs[key], key
    for got, want in zip([ours["initial"]] + ours["steps"], [theirs["initial"]] + theirs["steps"]):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-6)


def test_restore_averages_into_variables(tmp_path):
    """Saver(ema.variables_to_restore()) loads the shadows' values into the variables."""
    with tf.Graph().as_default():
        w = tf.Variable(W0, name="w")
        ema = tf.train.ExponentialMovingAverage(0.5)
        update = ema.apply()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign(W0 * 3))
            sess.run(update)
            path = tf.train.Saver().save(sess, str(tmp_path / "ema"))
            np.testing.assert_allclose(sess.run(ema.average(w)), W0 * 2)
    with tf.Graph().as_default():
        w = tf.Variable(np.zeros(3, np.float32), name="w")
        restore = tf.train.ExponentialMovingAverage(0.5).variables_to_restore()
        assert restore == {"w/ExponentialMovingAverage": w}
        with tf.Session() as sess:
            tf.train.Saver(restore).restore(sess, path)
            np.testing.assert_allclose(sess.run(w), W0 * 2)


def test_errors():
    with tf.Graph().as_default():
        i = tf.Variable(1, name="i")
        with pytest.raises(TypeError, match="must be half, float, or double: i:0"):
            tf.train.ExponentialMovingAverage(0.9).apply([i])
