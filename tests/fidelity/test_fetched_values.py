"""Fetched values and dtype names as TF1 returns and reads them: a 0-d result is a numpy
scalar (hashable, `np.float32(30.0)`) from run, eval and make_callable alike; "float" is
float32 and "double" float64, and numpy-only spellings such as "int" are refused."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from fidelity.tf1 import assert_same_outcome, outcome, tf1


def _scalar_fetches(m):
    """(run, eval, make_callable) results of 0-d fetches, plus a 1-d one, built with module m."""
    with m.Graph().as_default():
        v = m.constant([1.0, 4.0, 2.0])
        total, arg = m.reduce_sum(v * 10), m.argmax(v)
        x = m.placeholder(m.int32, [])
        with m.Session() as sess:
            run = sess.run([total, arg, v, x + 1], {x: 4})
            evaluated = total.eval()
            called = sess.make_callable([arg, x * 2], [x])(5)
            single = sess.run(total)
    return run, evaluated, called, single


def test_zero_d_fetches_are_numpy_scalars():
    run, evaluated, called, single = _scalar_fetches(lf)
    assert type(run[0]) is np.float32 and run[0] == 70.0
    assert type(run[1]) is np.int64 and {run[1]: "a"} == {1: "a"}  # hashable, as TF's
    assert type(run[2]) is np.ndarray and run[2].shape == (3,)
    assert type(run[3]) is np.int32 and run[3] == 5
    assert type(evaluated) is np.float32 and evaluated == 70.0
    assert [type(c) for c in called] == [np.int64, np.int32] and called == [1, 10]
    assert type(single) is np.float32 and single == 70.0


def test_session_state_queries_are_scalars():
    with lf.Graph().as_default():
        w = lf.Variable(1.0)
        with lf.Session() as sess:
            before = sess.run(lf.is_variable_initialized(w))
            assert type(before) is np.bool_ and not before


def test_fetched_types_match_tensorflow():
    got, want = _scalar_fetches(lf), _scalar_fetches(tf1())
    flat = lambda r: list(r[0]) + [r[1]] + list(r[2]) + [r[3]]  # noqa: E731
    for g, w in zip(flat(got), flat(want)):
        assert type(g) is type(w)
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name, dtype", [("float", lf.float32), ("double", lf.float64), ("half", lf.float16),
                                          ("float32", lf.float32), ("int64", lf.int64), ("bool", lf.bool)])
def test_dtype_names_mean_what_tf_means(name, dtype):
    assert lf.as_dtype(name) is dtype
    with lf.Graph().as_default():
        assert lf.placeholder(name).dtype is dtype


@pytest.mark.parametrize("name", ["int", "f4", "long", "float_"])
def test_numpy_only_dtype_names_are_refused(name):
    with pytest.raises(TypeError, match="to a TensorFlow DType"):
        lf.as_dtype(name)
    with pytest.raises(TypeError):
        tf1().as_dtype(name)


def test_float_placeholder_trains_a_variable():
    """The TF1 tutorial idiom: a "float" placeholder feeding float32 variables."""
    with lf.Graph().as_default():
        x = lf.placeholder("float", [None, 2])
        w = lf.Variable(lf.ones([2, 1]))
        loss = lf.reduce_mean(lf.matmul(x, w))
        with lf.Session() as sess:
            sess.run(w.initializer)
            assert sess.run(loss, {x: [[1.0, 2.0]]}) == np.float32(3.0)


SCALAR_FEEDS = [("float32", np.float64(0.1)), ("float32", np.float32(0.1)), ("float32", 2**29 + 3), ("float32", -7),
                ("float64", np.float32(0.1)), ("float64", 2**29 + 3), ("int32", 5), ("int32", np.int32(-7)),
                ("int32", 2**29 + 3), ("int64", -(2**29)), ("int64", np.int64(12345)), ("bool", True),
                ("bool", np.bool_(False)), ("float32", True), ("int32", 2**40)]


@pytest.mark.parametrize("dtype,value", SCALAR_FEEDS, ids=[f"{d}-{type(v).__name__}-{v}" for d, v in SCALAR_FEEDS])
def test_scalar_feeds_convert_as_tensorflow_does(dtype, value):
    """Numpy scalars, Python ints and bools fed to 0-d placeholders (the native entry
    converts most of them, `backend/pyentry.py`): TF1's values and dtypes, or its error,
    on a first run and on the warm runs after it."""
    def build(m):
        x = m.placeholder(getattr(m, dtype), [])
        return [m.identity(x), m.logical_not(x) if dtype == "bool" else x * 2], {x: value}
    want = outcome(tf1(), build)
    with lf.Graph().as_default():
        fetches, feeds = build(lf)
        with lf.Session() as sess:
            for _ in range(3):  # the first run, then the warm path's
                try:
                    got = "ok", sess.run(fetches, feeds)
                except Exception as e:  # noqa: BLE001 - the class is the outcome compared
                    got = "raises", type(e).__name__
                assert_same_outcome(got, want)
