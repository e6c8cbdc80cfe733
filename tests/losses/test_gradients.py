"""Gradients of the losses (tf.gradients through the primitive ops' rules) against central
finite differences: float64 `tf.nn` losses against differences of the same native run, and
the float32 `tf.losses` against differences of their float64 oracles, under every reduction,
with zero weights giving zero gradients (not NaN)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from tests.losses import oracles
from tests.losses.helpers import rng, run_graph

N, C = 3, 4
R = rng(7)
X = R.standard_normal((N, C)) * 2
SOFT = np.exp(R.standard_normal((N, C)))
SOFT /= SOFT.sum(1, keepdims=True)
BIN = (R.uniform(size=(N, C)) > 0.5) * 1.0
LABELS = R.uniform(size=(N, C))
CLASSES = R.integers(0, C, N)
ONEHOT = np.eye(C)[CLASSES]
PRED = R.uniform(0.1, 0.9, (N, C))
ROWS = np.array([[1.0], [0.0], [2.5]])
OUT_W = {shape: R.standard_normal(shape) for shape in [(N,), (C,), (N, C), ()]}

NN = {  # float64 losses of the logits x
    "xent_v1": lambda tf, x: tf.nn.softmax_cross_entropy_with_logits(labels=SOFT, logits=x),
    "xent_v2_axis0": lambda tf, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=SOFT, logits=x, axis=0),
    "sparse": lambda tf, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=CLASSES, logits=x),
    "sigmoid": lambda tf, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=LABELS, logits=x),
    "weighted": lambda tf, x: tf.nn.weighted_cross_entropy_with_logits(labels=LABELS, logits=x, pos_weight=3.0),
    "l2_loss": lambda tf, x: tf.nn.l2_loss(x),
    "log_softmax_axis0": lambda tf, x: tf.nn.log_softmax(x, axis=0),
}


def _weighted_sum(tf, y):
    """sum(y * w) for fixed random w, so every output element matters."""
    return tf.reduce_sum(y * tf.constant(OUT_W[tuple(y.shape.as_list())]))


def finite_difference(f, x: np.ndarray, eps: float) -> np.ndarray:
    """Central differences of every output of `f` (a vector of losses) w.r.t. each x[i]."""
    cols = []
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        cols.append((np.asarray(f(up)) - np.asarray(f(down))) / (2 * eps))
    return np.stack(cols, -1).reshape(np.shape(f(x)) + x.shape)


@pytest.fixture(scope="module")
def nn_run():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [N, C])
        losses = [_weighted_sum(tf, build(tf, x)) for build in NN.values()]
        grads = [tf.gradients(loss, x)[0] for loss in losses]
        with tf.Session() as sess:
            got = sess.run(grads, {x: X})
            want = finite_difference(lambda v: sess.run(losses, {x: v}), X, 1e-6)
    return dict(zip(NN, got)), dict(zip(NN, want))


@pytest.mark.parametrize("name", sorted(NN))
def test_nn_gradients_match_finite_differences(nn_run, name):
    got, want = nn_run
    assert got[name].dtype == np.float64 and got[name].shape == (N, C)
    np.testing.assert_allclose(got[name], want[name], rtol=1e-6, atol=1e-8)


def test_label_gradients_v1_blocked_v2_flows():
    with tf.Graph().as_default():
        x, labels = tf.placeholder(tf.float64, [N, C]), tf.placeholder(tf.float64, [N, C])
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=x)
        v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=x)
        assert tf.gradients(v1, labels) == [None]
        g_labels, g_logits = tf.gradients(v2, [labels, x])
        with tf.Session() as sess:
            got_labels, got_logits = sess.run([g_labels, g_logits], {x: X, labels: SOFT})
    np.testing.assert_allclose(got_labels, -oracles.log_softmax(X), rtol=1e-12)
    np.testing.assert_allclose(got_logits, np.exp(oracles.log_softmax(X)) - SOFT, rtol=1e-12, atol=1e-15)


def test_huge_logits_give_finite_exact_gradients():
    """At ±1e4 the softmax saturates: the gradient is softmax - labels, exactly 0 or ±1."""
    huge = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], np.float32)
    labels = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, huge.shape)
        losses = [tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=x),
                  tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2], logits=x),
                  tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=x)]
        grads = [tf.gradients(tf.reduce_sum(loss), x)[0] for loss in losses]
        with tf.Session() as sess:
            got = sess.run(grads, {x: huge})
    soft = np.exp(oracles.log_softmax(huge.astype(np.float64)))
    sigmoid = np.where(huge > 0, 1.0, np.where(huge < 0, 0.0, 0.5))
    for g, want in zip(got, [soft - labels, soft - np.eye(3)[[1, 2]], sigmoid - labels]):
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, want, atol=1e-6)


REDUCTIONS = ["none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
              "weighted_sum_by_nonzero_weights"]
# name: (builder(tf, p, weights, reduction) with p the differentiated input, per-element oracle of p)
LOSSES = {
    "mse": (lambda tf, p, w, r: tf.losses.mean_squared_error(LABELS, p, w, reduction=r), lambda p: (p - LABELS) ** 2),
    "abs": (lambda tf, p, w, r: tf.losses.absolute_difference(LABELS, p, w, reduction=r), lambda p: np.abs(p - LABELS)),
    "huber": (lambda tf, p, w, r: tf.losses.huber_loss(LABELS, p * 3, w, delta=0.7, reduction=r),
              lambda p: oracles.huber(LABELS, p * 3, 0.7)),
    "log_loss": (lambda tf, p, w, r: tf.losses.log_loss(BIN, p, w, reduction=r), lambda p: oracles.log_loss(BIN, p)),
    "hinge": (lambda tf, p, w, r: tf.losses.hinge_loss(BIN, p * 4 - 2, w, reduction=r),
              lambda p: oracles.hinge(BIN, p * 4 - 2)),
    "sigmoid_smooth": (lambda tf, p, w, r: tf.losses.sigmoid_cross_entropy(BIN, p * 4, w, 0.1, reduction=r),
                       lambda p: oracles.sigmoid_xent(BIN * 0.9 + 0.05, p * 4)),
    "softmax_smooth": (lambda tf, p, w, r: tf.losses.softmax_cross_entropy(ONEHOT, p * 4, w[:, 0], 0.2, reduction=r),
                       lambda p: oracles.softmax_xent(ONEHOT * 0.8 + 0.2 / C, p * 4)),
    "sparse": (lambda tf, p, w, r: tf.losses.sparse_softmax_cross_entropy(CLASSES, p * 4, w, reduction=r),
               lambda p: oracles.sparse_xent(CLASSES, p * 4)),
}
ROW_LOSSES = {"softmax_smooth", "sparse"}


def _row_weights(name, weights):
    return weights[:, 0] if name in ROW_LOSSES else weights


def _oracle_loss(name, weights, reduction):
    per_element = LOSSES[name][1]
    return lambda p: np.sum(oracles.reduce(per_element(p), _row_weights(name, weights), reduction))


CASES = {f"{n}-{w}-{r}": (n, weights, r) for n in LOSSES for w, weights in [("rows", ROWS), ("zeros", 0 * ROWS)]
         for r in REDUCTIONS}


@pytest.fixture(scope="module")
def losses_run():
    def build(tf):
        p = tf.placeholder(tf.float32, [N, C])
        grads = {}
        for case, (name, weights, r) in CASES.items():
            loss = LOSSES[name][0](tf, p, weights.astype(np.float32), r)
            grads[case] = tf.gradients(tf.reduce_sum(loss), p)[0]
        return grads, {p: PRED.astype(np.float32)}
    return run_graph(build)[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_losses_gradients_match_oracle_differences(losses_run, case):
    name, weights, reduction = CASES[case]
    got = losses_run[case]
    want = finite_difference(_oracle_loss(name, weights, reduction), PRED, 1e-6)
    assert got.dtype == np.float32 and np.all(np.isfinite(got))
    if not weights.any():
        assert not got.any()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
