"""`tf.nn` losses through native code, against the float64 oracles: values (ordinary and
huge logits), dtypes, static shapes, names and build-time errors."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from tests.losses import oracles
from tests.losses.helpers import rng, run_graph

R = rng(1)
X = R.standard_normal((4, 6)) * 3
X3 = R.standard_normal((2, 3, 5)) * 3
SOFT = np.exp(R.standard_normal((4, 6)))
SOFT /= SOFT.sum(-1, keepdims=True)
BIN = R.uniform(size=(4, 6))
SPARSE = R.integers(0, 6, 4)
SPARSE3 = R.integers(0, 5, (2, 3))
HUGE = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, 5.0, 1e4], [20.0, -20.0, 1e4, -1e4]])
HUGE_LABELS = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
HUGE_SPARSE = np.array([1, 3, 2])
POS_WEIGHT = 2.5


def _build(tf):
    f64 = {name: tf.placeholder(tf.float64, a.shape, name=name) for name, a in
           [("x", X), ("x3", X3), ("soft", SOFT), ("bin", BIN)]}
    huge = tf.placeholder(tf.float32, HUGE.shape, name="huge")
    huge_labels = tf.placeholder(tf.float32, HUGE.shape, name="huge_labels")
    x, x3, soft, binary = f64["x"], f64["x3"], f64["soft"], f64["bin"]
    nn = tf.nn
    outs = {
        "xent_v1": nn.softmax_cross_entropy_with_logits(labels=soft, logits=x),
        "xent_v1_dim0": nn.softmax_cross_entropy_with_logits(labels=soft, logits=x, dim=0),
        "xent_v1_axis0": nn.softmax_cross_entropy_with_logits(labels=soft, logits=x, dim=None, axis=0),
        "xent_v1_positional": nn.softmax_cross_entropy_with_logits(soft, x),
        "xent_v2": nn.softmax_cross_entropy_with_logits_v2(labels=soft, logits=x),
        "xent_v2_axis0": nn.softmax_cross_entropy_with_logits_v2(labels=soft, logits=x, axis=0),
        "xent_v2_3d_axis1": nn.softmax_cross_entropy_with_logits_v2(labels=tf.nn.softmax(x3, 1), logits=x3, axis=1),
        "sparse": nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(SPARSE), logits=x),
        "sparse3_i64": nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(SPARSE3, tf.int64), logits=x3),
        "sigmoid": nn.sigmoid_cross_entropy_with_logits(labels=binary, logits=x),
        "weighted": nn.weighted_cross_entropy_with_logits(labels=binary, logits=x, pos_weight=POS_WEIGHT),
        "weighted_targets": nn.weighted_cross_entropy_with_logits(targets=binary, logits=x,
                                                                  pos_weight=tf.constant(POS_WEIGHT, tf.float64)),
        "l2_loss": nn.l2_loss(x),
        "log_softmax": nn.log_softmax(x),
        "log_softmax_axis0": nn.log_softmax(x, axis=0),
        "log_softmax_3d_dim1": nn.log_softmax(x3, dim=1),
        "huge_xent": nn.softmax_cross_entropy_with_logits_v2(labels=huge_labels, logits=huge),
        "huge_sparse": nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(HUGE_SPARSE), logits=huge),
        "huge_sigmoid": nn.sigmoid_cross_entropy_with_logits(labels=huge_labels, logits=huge),
        "huge_weighted": nn.weighted_cross_entropy_with_logits(labels=huge_labels, logits=huge, pos_weight=POS_WEIGHT),
        "huge_log_softmax": nn.log_softmax(huge),
        "huge_l2": nn.l2_loss(huge),
    }
    feeds = {x: X, x3: X3, soft: SOFT, binary: BIN, huge: HUGE, huge_labels: HUGE_LABELS}
    return outs, feeds


@pytest.fixture(scope="module")
def run():
    return run_graph(_build)


def _softmax(x, axis=-1):
    return np.exp(oracles.log_softmax(x, axis))


WANT = {
    "xent_v1": lambda: oracles.softmax_xent(SOFT, X),
    "xent_v1_dim0": lambda: oracles.softmax_xent(SOFT, X, 0),
    "xent_v1_axis0": lambda: oracles.softmax_xent(SOFT, X, 0),
    "xent_v1_positional": lambda: oracles.softmax_xent(SOFT, X),
    "xent_v2": lambda: oracles.softmax_xent(SOFT, X),
    "xent_v2_axis0": lambda: oracles.softmax_xent(SOFT, X, 0),
    "xent_v2_3d_axis1": lambda: oracles.softmax_xent(_softmax(X3, 1), X3, 1),
    "sparse": lambda: oracles.sparse_xent(SPARSE, X),
    "sparse3_i64": lambda: oracles.sparse_xent(SPARSE3, X3),
    "sigmoid": lambda: oracles.sigmoid_xent(BIN, X),
    "weighted": lambda: oracles.weighted_xent(BIN, X, POS_WEIGHT),
    "weighted_targets": lambda: oracles.weighted_xent(BIN, X, POS_WEIGHT),
    "l2_loss": lambda: (X ** 2).sum() / 2,
    "log_softmax": lambda: oracles.log_softmax(X),
    "log_softmax_axis0": lambda: oracles.log_softmax(X, 0),
    "log_softmax_3d_dim1": lambda: oracles.log_softmax(X3, 1),
    "huge_xent": lambda: oracles.softmax_xent(HUGE_LABELS, HUGE),
    "huge_sparse": lambda: oracles.sparse_xent(HUGE_SPARSE, HUGE),
    "huge_sigmoid": lambda: oracles.sigmoid_xent(HUGE_LABELS, HUGE),
    "huge_weighted": lambda: oracles.weighted_xent(HUGE_LABELS, HUGE, POS_WEIGHT),
    "huge_log_softmax": lambda: oracles.log_softmax(HUGE),
    "huge_l2": lambda: (HUGE ** 2).sum() / 2,
}


@pytest.mark.parametrize("name", sorted(WANT))
def test_values_match_the_oracle(run, name):
    values, outputs = run
    got, want = values[name], WANT[name]()
    huge = name.startswith("huge")
    assert outputs[name].dtype == (tf.float32 if huge else tf.float64)
    assert outputs[name].shape.as_list() == list(np.shape(want)) and got.shape == np.shape(want)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6 if huge else 1e-12, atol=1e-4 if huge else 1e-12)


def test_names_follow_tf(run):
    _, outputs = run
    assert outputs["xent_v1"].op.name == "softmax_cross_entropy_with_logits_sg"
    assert outputs["xent_v2"].op.name.startswith("softmax_cross_entropy_with_logits")
    assert outputs["sparse"].name == "SparseSoftmaxCrossEntropyWithLogits/SparseSoftmaxCrossEntropyWithLogits:0"
    assert outputs["sigmoid"].name == "logistic_loss:0"
    assert outputs["weighted"].name.startswith("logistic_loss_")
    assert outputs["l2_loss"].name == "L2Loss:0"
    assert outputs["log_softmax"].name == "LogSoftmax:0"


def test_float16_is_computed_in_float32():
    x = np.array([[10.0, -10.0, 0.5], [3.0, 3.0, 3.0]], np.float16)
    labels = np.array([[0.0, 1.0, 0.0], [0.5, 0.25, 0.25]], np.float16)
    with tf.Graph().as_default():
        loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.constant(labels), logits=tf.constant(x))
        assert loss.dtype == tf.float16 and loss.op.type == "Cast"
        with tf.Session() as sess:
            got = sess.run(loss)
    np.testing.assert_allclose(got, oracles.softmax_xent(labels.astype(np.float64), x.astype(np.float64)),
                               rtol=1e-3)


def test_labels_stop_gradient_in_v1():
    with tf.Graph().as_default():
        labels = tf.placeholder(tf.float32, [2, 3])
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=tf.placeholder(tf.float32, [2, 3]))
        stop = tf.get_default_graph().get_operation_by_name("softmax_cross_entropy_with_logits_sg/labels_stop_gradient")
        assert stop.type == "StopGradient"
        assert stop.inputs[0] is labels and loss.shape.as_list() == [2]


def test_sparse_label_out_of_range_fails_the_run():
    with tf.Graph().as_default():
        labels = tf.placeholder(tf.int32, [2])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=tf.constant(X[:2]))
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(loss, {labels: [0, 5]}), oracles.sparse_xent(np.array([0, 5]), X[:2]))
            with pytest.raises(tf.errors.InvalidArgumentError, match="Received a label value outside the valid range"):
                sess.run(loss, {labels: [6, 0]})


ERRORS = [
    (lambda: tf.nn.softmax_cross_entropy_with_logits(logits=tf.ones([2, 3])), ValueError,
     "Both `labels` and `logits` must be provided for softmax_cross_entropy_with_logitsReceived"),
    (lambda: tf.nn.softmax_cross_entropy_with_logits(labels=tf.ones([2, 3]), logits=tf.ones([2, 3]), axis=0),
     ValueError, "Cannot specify both"),
    (lambda: tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.ones([2, 4]), logits=tf.ones([2, 3])),
     ValueError, "Dimensions must be equal"),
    (lambda: tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.ones([3], tf.int32), logits=tf.ones([3], tf.int32)),
     TypeError, "Value passed to parameter 'features' has DataType int32 not in list of allowed values"),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.ones([2, 3], tf.int32), logits=tf.ones([2, 3])),
     ValueError, r"`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: labels.shape=\(2, 3\) of rank 2"),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.ones([3], tf.int32), logits=tf.ones([2, 3])),
     ValueError, r"`labels.shape` must equal `logits.shape` except for the last dimension. Received: labels.shape=\(3,\)"),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.ones([], tf.int32), logits=tf.ones([])),
     ValueError, "`logits` cannot be a scalar"),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.ones([2]), logits=tf.ones([2, 3])),
     TypeError, "parameter 'labels' has DataType float32 not in list of allowed values: int32, int64"),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.ones([2], tf.int32)), ValueError,
     "Both `labels` and `logits` must be provided"),
    (lambda: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones([2, 4]), logits=tf.ones([2, 3])), ValueError,
     r"`logits` and `labels` must have the same shape, received \(\(2, 3\) vs \(2, 4\)\)."),
    (lambda: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones([3], tf.float64), logits=tf.ones([3])),
     TypeError, "f64"),
    (lambda: tf.nn.weighted_cross_entropy_with_logits(labels=tf.ones([3]), logits=tf.ones([4]), pos_weight=1.0),
     ValueError, "`logits` and `labels` must have the same shape"),
    (lambda: tf.nn.weighted_cross_entropy_with_logits(labels=tf.ones([3]), targets=tf.ones([3]),
                                                      logits=tf.ones([3]), pos_weight=1.0),
     ValueError, "Cannot specify both"),
    (lambda: tf.nn.l2_loss(tf.ones([3], tf.int32)), TypeError, "parameter 't' has DataType int32"),
    (lambda: tf.nn.log_softmax(tf.ones([2], tf.int32)), TypeError, "parameter 'logits' has DataType int32"),
    (lambda: tf.nn.log_softmax(tf.ones([2, 3]), axis=2), ValueError, "Invalid reduction dimension 2"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_build_time_errors(case):
    build, error, message = ERRORS[case]
    with tf.Graph().as_default(), pytest.raises(error, match=message):
        build()
