"""Optional differential tests against TensorFlow itself (tf.compat.v1, graph mode): the
same shape/array graphs built with `lowerflow` and with TensorFlow give the same values,
dtypes, static shapes and error classes. Skipped when TensorFlow is not installed."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from ops_b.cases import CASES, SHAPES, applicable, flatten, sample
from ops_b.test_slicing import INDICES

real_tf = pytest.importorskip("tensorflow")
tf1 = real_tf.compat.v1
if hasattr(tf1, "disable_eager_execution"):
    tf1.disable_eager_execution()


def _run(module, build, feed: np.ndarray, dims):
    """(values, static shapes) of build(module, placeholder) run on `feed`."""
    with module.Graph().as_default():
        ph = module.placeholder(module.as_dtype(feed.dtype), dims)
        outs = flatten(build(module, ph))
        shapes = [o.shape.as_list() if o.shape.ndims is not None else None for o in outs]
        with module.Session() as sess:
            return sess.run(outs, {ph: feed}), shapes


def _compare(build, feed, dims, tol: float = 0.0):
    want, want_shapes = _run(tf1, build, feed, dims)
    got, got_shapes = _run(lf, build, feed, dims)
    assert got_shapes == want_shapes
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


@pytest.mark.parametrize("dims", ["static", "unknown"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cases_match_tensorflow(shape, dtype, dims):
    names = applicable(shape)
    _compare(lambda m, x: [CASES[n].build(m, x, shape) for n in names], sample(shape, dtype),
             shape if dims == "static" else [None] * len(shape))


def test_slicing_matches_tensorflow():
    _compare(lambda m, x: [x[i] for i in INDICES], sample((2, 3, 4), np.float64), [2, None, 4])


def test_generated_tensors_match_tensorflow():
    def build(m, x):
        return [m.range(7), m.range(2, 11, 3), m.range(10, 1, -4), m.range(3, dtype=m.float64),
                m.linspace(0.0, 1.0, 7), m.linspace(-1.0, 1.0, 1), m.one_hot(x, 3), m.one_hot(x, 4, axis=0),
                m.one_hot(x, 3, on_value=5, off_value=-1, axis=1), m.zeros([2, 3], m.int64), m.ones([1000, 2]),
                m.fill([2, 2], 3.5)]
    _compare(build, np.array([[0, 2], [5, -1], [1, 1]], np.int64), [None, 2])


def test_float_ranges_match_tensorflow_to_rounding():
    """TF1's Range kernel adds delta to a running value (lowerflow does too); TF 2's computes
    start + i * delta, so the two agree to float rounding only."""
    def build(m, x):
        return [m.range(1.0, 2.0, 0.1), m.range(-3.5, 4.0, 0.7), m.range(0.0, 1.0, 1 / 3, dtype=m.float64)]
    _compare(build, np.zeros(1, np.float32), [1], tol=1e-6)


ERRORS = {
    "reshape": lambda m, x: m.reshape(x, [4]),
    "reshape_divisible": lambda m, x: m.reshape(x, [-1, 4]),
    "transpose": lambda m, x: m.transpose(x, [0, 1, 2]),
    "expand_dims": lambda m, x: m.expand_dims(x, 3),
    "squeeze": lambda m, x: m.squeeze(x, [1]),
    "concat_dims": lambda m, x: m.concat([x, m.zeros([3, 3])], 1),
    "concat_rank": lambda m, x: m.concat([x, m.zeros([3])], 0),
    "concat_dtype": lambda m, x: m.concat([x, m.zeros([2, 3], m.int32)], 0),
    "stack": lambda m, x: m.stack([x, m.zeros([2, 4])]),
    "stack_axis": lambda m, x: m.stack([x, x], 3),
    "split": lambda m, x: m.split(x, 2, 1),
    "tile": lambda m, x: m.tile(x, [2]),
    "pad_mode": lambda m, x: m.pad(x, [[1, 1], [1, 1]], "WRAP"),
    "strided_slice": lambda m, x: x[2],
    "zero_step": lambda m, x: x[::0],
    "gather_indices": lambda m, x: m.gather(x, [0.5]),
    "range_delta": lambda m, x: m.range(0, 5, 0),
    "fill_value": lambda m, x: m.fill([2], [1.0, 2.0]),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_build_errors_match_tensorflow(name):
    def error_of(module):
        with module.Graph().as_default():
            try:
                ERRORS[name](module, module.placeholder(module.float32, [2, 3]))
            except (TypeError, ValueError) as e:
                return type(e)
        return None

    assert error_of(lf) is error_of(tf1)


RUN_ERRORS = {
    "gather": (lambda m, x: m.gather(x, m.cast(x[:, 0], m.int32)), np.array([[0.0], [7.0]], np.float32)),
    "reshape": (lambda m, x: m.reshape(x, [2, -1]), np.zeros((3, 3), np.float32)),
    "shrink": (lambda m, x: x[5], np.zeros((2, 3), np.float32)),
    "slice": (lambda m, x: m.slice(x, [1, 0], [2, 1]), np.zeros((2, 3), np.float32)),
}


@pytest.mark.parametrize("name", sorted(RUN_ERRORS))
def test_run_errors_match_tensorflow(name):
    build, feed = RUN_ERRORS[name]
    for module in (tf1, lf):
        with module.Graph().as_default():
            ph = module.placeholder(module.float32, [None, None])
            out = build(module, ph)
            with module.Session() as sess, pytest.raises(module.errors.InvalidArgumentError):
                sess.run(out, {ph: feed})
