"""`tf.losses` through native code, against the float64 oracles: every loss under every
`Reduction` with scalar, broadcast and all-zero weights, plus dtypes, names, collections
and build-time errors."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from tests.losses import oracles
from tests.losses.helpers import rng, run_graph

N, C = 4, 5
R = rng(2)
LABELS = R.uniform(size=(N, C))
BINARY = (R.uniform(size=(N, C)) > 0.5).astype(np.float64)
PREDICTIONS = R.uniform(0.05, 0.95, size=(N, C))
LOGITS = R.standard_normal((N, C)) * 3
CLASSES = R.integers(0, C, N)
ONEHOT = np.eye(C)[CLASSES]
UNIT = R.standard_normal((N, C))
UNIT /= np.linalg.norm(UNIT, axis=1, keepdims=True)
REDUCTIONS = ["none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
              "weighted_sum_by_nonzero_weights"]
ROW_WEIGHTS = np.array([[1.0], [0.0], [2.0], [0.5]])
WEIGHTS = {  # per-element weight variants for the [N, C] losses
    "one": 1.0, "int": 2, "scalar_tensor": np.float32(0.5), "rows": ROW_WEIGHTS,
    "cols": np.array([[0.0, 1.0, 2.0, 0.0, 3.0]]), "full": np.where(R.uniform(size=(N, C)) > 0.3, R.uniform(size=(N, C)), 0.0),
    "zeros": np.zeros((N, C)), "zero_float": 0.0,
}

# name: (builder(tf, t, weights, reduction), per-element oracle, weights shape family)
LOSSES = {
    "mse": (lambda tf, t, w, r: tf.losses.mean_squared_error(t["labels"], t["predictions"], w, reduction=r),
            lambda: (PREDICTIONS - LABELS) ** 2),
    "abs": (lambda tf, t, w, r: tf.losses.absolute_difference(t["labels"], t["predictions"], w, reduction=r),
            lambda: np.abs(PREDICTIONS - LABELS)),
    "huber": (lambda tf, t, w, r: tf.losses.huber_loss(t["labels"], t["logits"], w, reduction=r),
              lambda: oracles.huber(LABELS, LOGITS)),
    "huber_delta": (lambda tf, t, w, r: tf.losses.huber_loss(t["labels"], t["logits"], w, delta=0.5, reduction=r),
                    lambda: oracles.huber(LABELS, LOGITS, 0.5)),
    "log_loss": (lambda tf, t, w, r: tf.losses.log_loss(t["binary"], t["predictions"], w, reduction=r),
                 lambda: oracles.log_loss(BINARY, PREDICTIONS)),
    "hinge": (lambda tf, t, w, r: tf.losses.hinge_loss(t["binary"], t["logits"], w, reduction=r),
              lambda: oracles.hinge(BINARY, LOGITS)),
    "sigmoid": (lambda tf, t, w, r: tf.losses.sigmoid_cross_entropy(t["labels"], t["logits"], w, reduction=r),
                lambda: oracles.sigmoid_xent(LABELS, LOGITS)),
    "sigmoid_smooth": (lambda tf, t, w, r: tf.losses.sigmoid_cross_entropy(t["binary"], t["logits"], w, 0.2,
                                                                            reduction=r),
                       lambda: oracles.sigmoid_xent(BINARY * 0.8 + 0.1, LOGITS)),
}
ROW_LOSSES = {  # losses of shape [N] (and cosine's [N, 1])
    "softmax": (lambda tf, t, w, r: tf.losses.softmax_cross_entropy(t["onehot"], t["logits"], w, reduction=r),
                lambda: oracles.softmax_xent(ONEHOT, LOGITS)),
    "softmax_smooth": (lambda tf, t, w, r: tf.losses.softmax_cross_entropy(t["onehot"], t["logits"], w, 0.1,
                                                                            reduction=r),
                       lambda: oracles.softmax_xent(ONEHOT * 0.9 + 0.1 / C, LOGITS)),
    "sparse": (lambda tf, t, w, r: tf.losses.sparse_softmax_cross_entropy(t["classes"], t["logits"], w,
                                                                          reduction=r),
               lambda: oracles.sparse_xent(CLASSES, LOGITS)),
    "sparse_column_labels": (lambda tf, t, w, r: tf.losses.sparse_softmax_cross_entropy(
        tf.reshape(t["classes"], [N, 1]), t["logits"], w, reduction=r), lambda: oracles.sparse_xent(CLASSES, LOGITS)),
}
COSINE = (lambda tf, t, w, r: tf.losses.cosine_distance(t["unit_labels"], t["unit"], axis=1, weights=w, reduction=r),
          lambda: 1 - (UNIT * UNIT[::-1]).sum(1, keepdims=True))
ROW_WEIGHT_VARIANTS = {"one": 1.0, "rows": ROW_WEIGHTS[:, 0], "zeros": np.zeros(N)}


def _cases():
    """(loss, weights name, reduction) for every tested combination, with its builder,
    oracle and weights."""
    cases = {}
    for loss, (build, want) in LOSSES.items():
        names = WEIGHTS if loss == "mse" else ["rows", "zeros"]
        for w in names:
            for r in REDUCTIONS:
                cases[f"{loss}-{w}-{r}"] = (build, want, WEIGHTS[w], r)
    for loss, (build, want) in ROW_LOSSES.items():
        for w, value in ROW_WEIGHT_VARIANTS.items():
            for r in REDUCTIONS:
                cases[f"{loss}-{w}-{r}"] = (build, want, value, r)
    for r in REDUCTIONS:
        cases[f"cosine-rows-{r}"] = (*COSINE, ROW_WEIGHTS, r)
    cases["sparse-column_weights-weighted_mean"] = (ROW_LOSSES["sparse"][0], ROW_LOSSES["sparse"][1], ROW_WEIGHTS,
                                                    "weighted_mean")
    return cases


CASES = _cases()


def _weights(tf, value):
    """Python numbers stay Python; arrays become constants (float32, as TF would make them)."""
    if isinstance(value, np.ndarray):
        return tf.constant(value.astype(np.float32))
    return value


def _build(tf):
    arrays = {"labels": LABELS, "binary": BINARY, "predictions": PREDICTIONS, "logits": LOGITS, "onehot": ONEHOT,
              "unit": UNIT, "unit_labels": UNIT[::-1].copy()}
    t = {k: tf.placeholder(tf.float32, v.shape, name=k) for k, v in arrays.items()}
    t["classes"] = tf.constant(CLASSES, tf.int32)
    outs = {name: build(tf, t, _weights(tf, w), r) for name, (build, _, w, r) in CASES.items()}
    return outs, {t[k]: v for k, v in arrays.items()}


@pytest.fixture(scope="module")
def run():
    return run_graph(_build)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reductions_match_the_oracle(run, name):
    values, outputs = run
    _, want, weights, reduction = CASES[name]
    weights = np.asarray(weights, np.float64)
    if name.startswith("sparse-column_weights"):
        weights = weights[:, 0]
    expected = oracles.reduce(want(), weights, reduction)
    got = values[name]
    assert outputs[name].dtype == tf.float32 and got.dtype == np.float32
    assert got.shape == np.shape(expected) and outputs[name].shape.as_list() == list(np.shape(expected))
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)


def test_all_zero_weights_give_zero_not_nan(run):
    values, _ = run
    zero = [n for n in CASES if "-zero" in n and not n.endswith("-none")]
    assert len(zero) > 40
    for name in zero:
        assert values[name] == 0.0, name


def test_result_names_and_collection(run):
    _, outputs = run
    graph = outputs["mse-one-none"].graph
    assert outputs["mse-one-none"].name == "mean_squared_error/Mul:0"
    assert outputs["mse-one-weighted_sum"].name == "mean_squared_error_1/Sum:0"
    assert outputs["mse-one-weighted_mean"].name == "mean_squared_error_2/value:0"
    assert outputs["hinge-rows-none"].name.endswith("/Mul_2:0")
    collected = graph.get_collection(tf.GraphKeys.LOSSES)
    assert len(collected) == len(CASES) and set(collected) == set(outputs.values())


def test_scope_collection_and_dtypes():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [3, 4])
        y = tf.placeholder(tf.float64, [3, 4])
        mse = tf.losses.mean_squared_error(y, x, scope="my_loss")
        kept = tf.losses.mean_squared_error(y, x, loss_collection=None)
        other = tf.losses.absolute_difference(y, x, loss_collection="mine")
        xent = tf.losses.sigmoid_cross_entropy(y, x)
        plain = tf.losses.compute_weighted_loss(x, reduction=tf.losses.Reduction.NONE)
        assert mse.name == "my_loss/value:0" and mse.dtype == tf.float32  # predictions are cast
        assert xent.dtype == tf.float64 and xent.name == "sigmoid_cross_entropy_loss/Cast_2:0"
        assert plain.dtype == tf.float64 and plain.shape.as_list() == [3, 4]
        assert tf.losses.get_losses() == [mse, xent, plain] == g.get_collection("losses")
        assert tf.losses.get_losses(loss_collection="mine") == [other] and kept not in tf.losses.get_losses()
        assert tf.losses.get_losses(scope="my_") == [mse]
        assert tf.losses.Reduction.SUM_OVER_NONZERO_WEIGHTS == tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS
        assert len(set(tf.losses.Reduction.all())) == 5


def _ph(shape, dtype=None):
    return tf.placeholder(dtype or tf.float32, shape)


ERRORS = [
    (lambda: tf.losses.mean_squared_error(_ph([2, 3]), _ph([2, 3]), reduction="mean"), ValueError,
     r"Invalid Reduction Key mean. Key should be one of \('none', 'weighted_sum'"),
    (lambda: tf.losses.mean_squared_error(None, _ph([2, 3])), ValueError, "Argument `labels` must not be None."),
    (lambda: tf.losses.hinge_loss(_ph([2, 3]), None), ValueError, "Argument `logits` must not be None."),
    (lambda: tf.losses.softmax_cross_entropy(None, _ph([2, 3])), ValueError, "Argument `onehot_labels` must not"),
    (lambda: tf.losses.sigmoid_cross_entropy(None, _ph([2, 3])), ValueError, "Argument `multi_class_labels` must"),
    (lambda: tf.losses.absolute_difference(_ph([2, 3]), _ph([2, 4])), ValueError,
     r"Shapes \(2, 4\) and \(2, 3\) are incompatible"),
    (lambda: tf.losses.mean_squared_error(_ph([2, 3]), _ph([2, 3]), weights=tf.ones([3])), ValueError,
     r"weights can not be broadcast to values. values.rank=2. weights.rank=1. values.shape=\(2, 3\). "
     r"weights.shape=\(3,\)."),
    (lambda: tf.losses.mean_squared_error(_ph([2, 3]), _ph([2, 3]), weights=np.ones((2, 2))), ValueError,
     r"weights can not be broadcast to values. Mismatch at dim 1. values.shape=\[2 3\], weights.shape=\[2 2\]."),
    (lambda: tf.losses.softmax_cross_entropy(_ph([2, 3]), _ph([2, 3]), weights=tf.ones([2, 1])), ValueError,
     "weights can not be broadcast to values. values.rank=1. weights.rank=2."),
    (lambda: tf.losses.cosine_distance(_ph([2, 3]), _ph([2, 3])), ValueError, "You must specify argument `axis`."),
    (lambda: tf.losses.sparse_softmax_cross_entropy(tf.ones([2], tf.int32), _ph([3, 4])), ValueError,
     "`labels.shape` must equal `logits.shape` except for the last dimension"),
    (lambda: tf.losses.get_total_loss(), ValueError, "at least one"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_build_time_errors(case):
    build, error, message = ERRORS[case]
    with tf.Graph().as_default(), pytest.raises(error, match=message):
        build()
