"""Learning-rate schedules of the global step: numpy formulas and TensorFlow, over a range of
steps fed to one compiled session (the step is an int64 placeholder standing for global_step)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import lowerflow as tf

STEPS = np.array([0, 1, 5, 9, 10, 11, 25, 40, 99, 100, 150], np.int64)

SCHEDULES = {  # name -> (builder(m, step), numpy formula of the step)
    "exponential": (lambda m, s: m.train.exponential_decay(0.1, s, 10, 0.5),
                    lambda s: 0.1 * 0.5 ** (s / 10)),
    "exponential_staircase": (lambda m, s: m.train.exponential_decay(0.1, s, 10, 0.5, staircase=True),
                              lambda s: 0.1 * 0.5 ** np.floor(s / 10)),
    "natural_exp": (lambda m, s: m.train.natural_exp_decay(0.2, s, 20, 0.3),
                    lambda s: 0.2 * np.exp(-0.3 * s / 20)),
    "natural_exp_staircase": (lambda m, s: m.train.natural_exp_decay(0.2, s, 20, 0.3, staircase=True),
                              lambda s: 0.2 * np.exp(-0.3 * np.floor(s / 20))),
    "inverse_time": (lambda m, s: m.train.inverse_time_decay(0.5, s, 10, 2.0),
                     lambda s: 0.5 / (1 + 2.0 * s / 10)),
    "inverse_time_staircase": (lambda m, s: m.train.inverse_time_decay(0.5, s, 10, 2.0, staircase=True),
                               lambda s: 0.5 / (1 + 2.0 * np.floor(s / 10))),
    "polynomial": (lambda m, s: m.train.polynomial_decay(0.1, s, 40, 0.01, power=2.0),
                   lambda s: (0.1 - 0.01) * (1 - np.minimum(s, 40) / 40) ** 2 + 0.01),
    "polynomial_cycle": (lambda m, s: m.train.polynomial_decay(0.1, s, 40, cycle=True),
                         lambda s: (0.1 - 1e-4) * (1 - s / (40 * np.where(s == 0, 1, np.ceil(s / 40)))) + 1e-4),
    "cosine": (lambda m, s: m.train.cosine_decay(0.3, s, 100, alpha=0.1),
               lambda s: 0.3 * (0.9 * 0.5 * (1 + np.cos(math.pi * np.minimum(s, 100) / 100)) + 0.1)),
    "piecewise": (lambda m, s: m.train.piecewise_constant(s, [10, 40], [1.0, 0.5, 0.1]),
                  lambda s: np.where(s <= 10, 1.0, np.where(s <= 40, 0.5, 0.1))),
    "piecewise_int64_boundaries": (
        lambda m, s: m.train.piecewise_constant(s, [np.int64(5), np.int64(99)], [3, 2, 1]),
        lambda s: np.where(s <= 5, 3, np.where(s <= 99, 2, 1))),
}


def _values(m) -> dict:
    graph = m.Graph()
    with graph.as_default():
        step = m.placeholder(m.int64, [], name="step")
        outs = {name: build(m, step) for name, (build, _) in SCHEDULES.items()}
        with m.Session() as sess:
            return {name: np.array([sess.run(out, {step: s}) for s in STEPS]) for name, out in outs.items()}


@pytest.fixture(scope="module")
def ours():
    return _values(tf)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_formula(ours, name):
    want = SCHEDULES[name][1](STEPS.astype(np.float64))
    got = ours[name]
    assert got.dtype == (np.int32 if name == "piecewise_int64_boundaries" else np.float32)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)


def test_schedules_match_tensorflow(ours):
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    theirs = _values(tf1)
    for name in SCHEDULES:
        assert ours[name].dtype == theirs[name].dtype, name
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-6, err_msg=name)


def test_decay_follows_the_global_step_variable():
    """The schedule reads the global step each run; the optimizer bumps it after its update."""
    with tf.Graph().as_default():
        gs = tf.train.get_or_create_global_step()
        w = tf.Variable(1.0, name="w")
        lr = tf.train.exponential_decay(1.0, gs, 1, 0.5)
        train = tf.train.GradientDescentOptimizer(lr).apply_gradients([(tf.constant(1.0), w)],
                                                                      global_step=gs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            seen = []
            for _ in range(3):
                seen.append(sess.run(lr))
                sess.run(train)
            assert seen == [1.0, 0.5, 0.25]
            assert sess.run(w) == pytest.approx(1.0 - 1.0 - 0.5 - 0.25)
            assert sess.run(gs) == 3


def test_schedule_names_and_errors():
    with tf.Graph().as_default():
        s = tf.placeholder(tf.int64, [])
        assert tf.train.exponential_decay(0.1, s, 10, 0.5).op.name == "ExponentialDecay"
        assert tf.train.inverse_time_decay(0.1, s, 10, 0.5, name="itd").op.name == "itd"
        assert tf.train.polynomial_decay(0.1, s, 10).op.name == "PolynomialDecay"
        with pytest.raises(ValueError, match="must have the same dtype as x"):
            tf.train.piecewise_constant(s, [1.5], [1.0, 2.0])
        with pytest.raises(ValueError, match="Values must have elements all with the same dtype"):
            tf.train.piecewise_constant(s, [1], [1.0, 2])
        with pytest.raises(ValueError, match="1 less than the length of values"):
            tf.train.piecewise_constant(s, [1, 2], [1.0, 2.0])
