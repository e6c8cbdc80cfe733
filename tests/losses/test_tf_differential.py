"""Differential tests against TensorFlow (tf.compat.v1, graph mode): every loss built the same
way with `lowerflow` and with TensorFlow gives the same values, dtypes, static shapes and
result names, and the same gradients (tf.gradients w.r.t. every float input, None where
TF has no path), on several input sets (ordinary, wide, huge logits, all-zero weights), and
the same build-time error classes and messages. Each input set is one graph and one run per
library. Skipped when TensorFlow is not installed."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import lowerflow as lf

real_tf = pytest.importorskip("tensorflow")
tf1 = real_tf.compat.v1
tf1.disable_eager_execution()


def _inputs(seed: int, n: int, c: int, scale: float, huge: bool = False) -> dict:
    r = np.random.default_rng(seed)
    logits = r.standard_normal((n, c)) * scale
    if huge:
        logits[r.uniform(size=(n, c)) < 0.4] = 1e4
        logits[r.uniform(size=(n, c)) < 0.3] = -1e4
    soft = np.exp(r.standard_normal((n, c)))
    classes = r.integers(0, c, n).astype(np.int32)
    return {
        "logits": logits, "soft": soft / soft.sum(1, keepdims=True), "soft0": soft / soft.sum(0, keepdims=True),
        "binary": (r.uniform(size=(n, c)) > 0.5) * 1.0,
        "labels": r.uniform(size=(n, c)), "predictions": r.uniform(0.02, 0.98, (n, c)), "onehot": np.eye(c)[classes],
        "classes": classes, "rows": np.where(r.uniform(size=(n, 1)) > 0.3, r.uniform(size=(n, 1)), 0.0),
        "zeros": np.zeros((n, c)), "row_zeros": np.zeros(n),
    }


# "small" and "huge" share a shape, hence one compiled step; "wide" checks values only (a
# graph with gradients is a few hundred kernels, seconds of LLVM time each).
INPUTS = {"small": _inputs(10, 4, 5, 3.0), "wide": _inputs(11, 2, 37, 10.0), "huge": _inputs(12, 4, 5, 3.0, True)}
GRADIENT_SETS = {"small", "huge"}

M = "none"
NB = {"loss_collection": None}  # the unreduced losses stay out of the total
CASES = {
    "xent_v1": lambda m, t: m.nn.softmax_cross_entropy_with_logits(labels=t["soft"], logits=t["logits"]),
    "xent_v1_dim0": lambda m, t: m.nn.softmax_cross_entropy_with_logits(labels=t["soft0"], logits=t["logits"], dim=0),
    "xent_v2": lambda m, t: m.nn.softmax_cross_entropy_with_logits_v2(labels=t["soft"], logits=t["logits"]),
    "xent_v2_axis0": lambda m, t: m.nn.softmax_cross_entropy_with_logits_v2(labels=t["soft"], logits=t["logits"],
                                                                            axis=0),  # columns not summing to 1
    "xent_multi_hot": lambda m, t: m.losses.softmax_cross_entropy(t["binary"], t["logits"]),
    "xent_f64": lambda m, t: m.nn.softmax_cross_entropy_with_logits(labels=m.cast(t["soft"], m.float64),
                                                                    logits=m.cast(t["logits"], m.float64)),
    "xent_broadcast_labels": lambda m, t: m.nn.softmax_cross_entropy_with_logits_v2(labels=t["soft"][:1],
                                                                                    logits=t["logits"]),
    "sparse": lambda m, t: m.nn.sparse_softmax_cross_entropy_with_logits(labels=t["classes"], logits=t["logits"]),
    "sparse_3d": lambda m, t: m.nn.sparse_softmax_cross_entropy_with_logits(
        labels=m.stack([t["classes"], t["classes"][::-1]]), logits=m.stack([t["logits"], t["logits"] * 0.5])),
    "sigmoid": lambda m, t: m.nn.sigmoid_cross_entropy_with_logits(labels=t["labels"], logits=t["logits"]),
    "weighted": lambda m, t: m.nn.weighted_cross_entropy_with_logits(labels=t["binary"], logits=t["logits"],
                                                                     pos_weight=3.0),
    "weighted_targets": lambda m, t: m.nn.weighted_cross_entropy_with_logits(
        targets=t["labels"], logits=t["logits"], pos_weight=m.constant(0.5), name="wxent"),
    "l2_loss": lambda m, t: m.nn.l2_loss(t["logits"]),
    "log_softmax": lambda m, t: m.nn.log_softmax(t["logits"]),
    "log_softmax_axis0": lambda m, t: m.nn.log_softmax(t["logits"], axis=0),
    "mse": lambda m, t: m.losses.mean_squared_error(t["labels"], t["logits"]),
    "mse_rows_none": lambda m, t: m.losses.mean_squared_error(t["labels"], t["logits"], t["rows"], reduction=M, **NB),
    "mse_zeros_mean": lambda m, t: m.losses.mean_squared_error(t["labels"], t["logits"], t["zeros"],
                                                               reduction="weighted_mean"),
    "mse_zero_float": lambda m, t: m.losses.mean_squared_error(t["labels"], t["logits"], 0.0),
    "abs_sum": lambda m, t: m.losses.absolute_difference(t["labels"], t["logits"], 2, reduction="weighted_sum"),
    "huber_batch": lambda m, t: m.losses.huber_loss(t["labels"], t["logits"], t["rows"], delta=0.5,
                                                    reduction="weighted_sum_over_batch_size"),
    "log_loss": lambda m, t: m.losses.log_loss(t["binary"], t["predictions"]),
    "log_loss_zeros": lambda m, t: m.losses.log_loss(t["binary"], t["predictions"], t["zeros"]),
    "hinge_rows": lambda m, t: m.losses.hinge_loss(t["binary"], t["logits"], t["rows"]),
    "softmax": lambda m, t: m.losses.softmax_cross_entropy(t["onehot"], t["logits"]),
    "softmax_smooth_none": lambda m, t: m.losses.softmax_cross_entropy(t["onehot"], t["logits"], label_smoothing=0.1,
                                                                       reduction=M, **NB),
    "softmax_zeros": lambda m, t: m.losses.softmax_cross_entropy(t["onehot"], t["logits"], t["row_zeros"],
                                                                 reduction="weighted_mean"),
    "sparse_rows": lambda m, t: m.losses.sparse_softmax_cross_entropy(t["classes"], t["logits"], t["rows"]),
    "sparse_column_labels": lambda m, t: m.losses.sparse_softmax_cross_entropy(
        m.expand_dims(t["classes"], 1), t["logits"], scope="col"),
    "sigmoid_smooth_mean": lambda m, t: m.losses.sigmoid_cross_entropy(t["binary"], t["logits"], t["rows"], 0.2,
                                                                       reduction="weighted_mean"),
    "sigmoid_f64_none": lambda m, t: m.losses.sigmoid_cross_entropy(
        m.cast(t["binary"], m.float64), m.cast(t["logits"], m.float64), reduction=M, **NB),
    "cosine": lambda m, t: m.losses.cosine_distance(m.nn.l2_normalize(t["labels"], 1),
                                                    m.nn.l2_normalize(t["logits"], 1), axis=1, weights=t["rows"]),
    "compute_weighted": lambda m, t: m.losses.compute_weighted_loss(t["labels"], t["rows"]),
    "total": lambda m, t: m.losses.get_total_loss(),
    "reg_none": lambda m, t: m.losses.get_regularization_loss(),
}
# TF reshapes or transposes around its 2-D kernels; lowerflow reduces along the axis directly.
OTHER_NAMES = {"xent_v1", "xent_v1_dim0", "xent_v2", "xent_v2_axis0", "xent_f64", "xent_broadcast_labels", "sparse_3d",
               "log_softmax_axis0", "reg_none"}


GRAD_INPUTS = ["logits", "predictions", "labels", "soft", "soft0"]
NO_TF_GRADIENT = {"xent_broadcast_labels"}  # TF's gradient of broadcast labels fails its own shape check


def _gradients(m, out, t: dict) -> list:
    """d sum(out * w) / d (each float input) for a fixed w: None where TF finds no path."""
    w = np.cos(np.arange(int(np.prod(out.shape.as_list())))).reshape(out.shape.as_list())
    return m.gradients(m.reduce_sum(out * m.constant(w, out.dtype)), [t[k] for k in GRAD_INPUTS])


def _build_and_run(m, arrays: dict, with_gradients: bool) -> dict:
    with m.Graph().as_default():
        t = {k: m.placeholder(m.int32 if v.dtype.kind == "i" else m.float32, v.shape, name=k)
             for k, v in arrays.items()}
        outs = {name: build(m, t) for name, build in CASES.items()}
        differentiable = {name: out for name, out in outs.items() if name not in NO_TF_GRADIENT and with_gradients}
        all_grads = {name: _gradients(m, out, t) for name, out in differentiable.items()}
        grads = {name: [g for g in gs if g is not None] for name, gs in all_grads.items()}
        connected = {name: [g is not None for g in gs] for name, gs in all_grads.items()}
        with m.Session() as sess:
            values, grad_values = sess.run([outs, grads], {t[k]: v for k, v in arrays.items()})
    return {name: (values[name], out.dtype.name, out.shape.as_list(), out.name, connected.get(name),
                   grad_values.get(name, [])) for name, out in outs.items()}


@functools.lru_cache(maxsize=None)
def _results(input_set: str) -> tuple[dict, dict]:
    """Both libraries' results on one input set, computed once for the module's tests."""
    arrays, with_gradients = INPUTS[input_set], input_set in GRADIENT_SETS
    return _build_and_run(lf, arrays, with_gradients), _build_and_run(tf1, arrays, with_gradients)


@pytest.mark.parametrize("input_set", sorted(INPUTS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(input_set, name):
    mine, theirs = _results(input_set)
    got, got_dtype, got_shape, got_name, _, _ = mine[name]
    want, want_dtype, want_shape, want_name, _, _ = theirs[name]
    assert (got_dtype, got_shape) == (want_dtype, want_shape)
    assert got.dtype == want.dtype and got.shape == want.shape
    if name not in OTHER_NAMES:
        assert got_name == want_name
    assert np.array_equal(np.isfinite(got), np.isfinite(want))
    scale = np.abs(want).max(initial=1.0) if name == "total" else 1.0
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("input_set", sorted(GRADIENT_SETS))
@pytest.mark.parametrize("name", sorted(set(CASES) - NO_TF_GRADIENT))
def test_gradients_match_tensorflow(input_set, name):
    mine, theirs = _results(input_set)
    *_, got_connected, got = mine[name]
    *_, want_connected, want = theirs[name]
    assert got_connected == want_connected  # labels of the v1 and smoothed losses are cut, as in TF
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape and np.all(np.isfinite(g))
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(w).max()))


def _errors(m):
    ph = lambda shape, dtype=None: m.placeholder(dtype or m.float32, shape)  # noqa: E731
    return {
        "xent_missing": lambda: m.nn.softmax_cross_entropy_with_logits(logits=ph([2, 3])),
        "xent_axis_and_dim": lambda: m.nn.softmax_cross_entropy_with_logits(labels=ph([2, 3]), logits=ph([2, 3]),
                                                                            axis=0),
        "xent_int": lambda: m.nn.softmax_cross_entropy_with_logits_v2(labels=ph([3], m.int32), logits=ph([3], m.int32)),
        "sparse_rank": lambda: m.nn.sparse_softmax_cross_entropy_with_logits(labels=ph([2, 3], m.int32),
                                                                            logits=ph([2, 3])),
        "sparse_shape": lambda: m.nn.sparse_softmax_cross_entropy_with_logits(labels=ph([3], m.int32),
                                                                             logits=ph([2, 3])),
        "sparse_float_labels": lambda: m.nn.sparse_softmax_cross_entropy_with_logits(labels=ph([2]), logits=ph([2, 3])),
        "sparse_int_logits": lambda: m.nn.sparse_softmax_cross_entropy_with_logits(labels=ph([2], m.int32),
                                                                                  logits=ph([2, 3], m.int32)),
        "sigmoid_shape": lambda: m.nn.sigmoid_cross_entropy_with_logits(labels=ph([2, 4]), logits=ph([2, 3])),
        "sigmoid_missing": lambda: m.nn.sigmoid_cross_entropy_with_logits(labels=ph([2, 4])),
        "weighted_shape": lambda: m.nn.weighted_cross_entropy_with_logits(labels=ph([3]), logits=ph([4]),
                                                                          pos_weight=2.0),
        "l2_int": lambda: m.nn.l2_loss(ph([3], m.int32)),
        "log_softmax_int": lambda: m.nn.log_softmax(ph([3], m.int32)),
        "reduction": lambda: m.losses.mean_squared_error(ph([2]), ph([2]), reduction="sum"),
        "labels_none": lambda: m.losses.absolute_difference(None, ph([2])),
        "predictions_none": lambda: m.losses.huber_loss(ph([2]), None),
        "shapes": lambda: m.losses.log_loss(ph([2, 3]), ph([2, 4])),
        "weights_rank": lambda: m.losses.mean_squared_error(ph([2, 3]), ph([2, 3]), weights=np.ones(3, np.float32)),
        "weights_dims": lambda: m.losses.hinge_loss(ph([2, 3]), ph([2, 3]), weights=np.ones((2, 2), np.float32)),
        "cosine_axis": lambda: m.losses.cosine_distance(ph([2, 3]), ph([2, 3])),
        "sparse_loss_shape": lambda: m.losses.sparse_softmax_cross_entropy(ph([2], m.int32), ph([3, 4])),
        "total_empty": lambda: m.losses.get_total_loss(),
    }


# Messages that differ: lowerflow's own op-builder wording ("Dimensions must be equal" for
# lowerflow's ops, dtype lists), weights' printed form, and add_n's message.
SAME_MESSAGE = {"xent_missing", "xent_int", "sparse_rank", "sparse_shape", "sparse_float_labels", "sparse_int_logits",
                "sigmoid_shape", "weighted_shape", "l2_int", "log_softmax_int", "reduction", "labels_none",
                "predictions_none", "shapes", "cosine_axis", "sparse_loss_shape"}


def _raised(m, name):
    with m.Graph().as_default():
        try:
            _errors(m)[name]()
        except Exception as e:  # noqa: BLE001  (the class is what is compared)
            return e
    return None


@pytest.mark.parametrize("name", sorted(_errors(lf)))
def test_errors_match_tensorflow(name):
    got, want = _raised(lf, name), _raised(tf1, name)
    assert want is not None and got is not None
    assert type(got).__name__ == type(want).__name__
    if name in SAME_MESSAGE:
        assert str(got).split("Received: labels=")[0] == str(want).split("Received: labels=")[0]
    else:
        assert str(want).split(".")[0].split(" ")[0] in str(got) or name in ("xent_axis_and_dim", "total_empty")


def test_keras_regularizers_match():
    x = np.array([[1.5, -2.0], [0.25, 3.0]], np.float32)
    got, want = [], []
    for m, out in ((lf, got), (tf1, want)):
        with m.Graph().as_default():
            t = m.constant(x)
            k = m.keras.regularizers
            with m.Session() as sess:
                out += sess.run([k.l2(0.3)(t), k.l1(0.2)(t), k.L1L2(l1=0.1, l2=0.2)(t)])
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("shape", [(3, 0), (0, 4), (2, 0, 5)])
def test_softmax_xent_of_no_classes_matches_tensorflow(shape):
    """A row of no classes costs 0 in TF's kernel (its log-sum-exp is -inf)."""
    got = []
    for m in (lf, tf1):
        with m.Graph().as_default(), m.Session() as sess:
            x = m.placeholder(m.float32, shape)
            cost = m.nn.softmax_cross_entropy_with_logits_v2(labels=m.nn.softmax(x, axis=1), logits=x, axis=1)
            got.append(sess.run(cost, {x: np.zeros(shape, np.float32)}))
    assert got[0].shape == got[1].shape
    np.testing.assert_array_equal(got[0], got[1])
