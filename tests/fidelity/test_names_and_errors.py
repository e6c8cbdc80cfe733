"""Op names and errors as TF1 gives them: operators name their ops after themselves
(`a + b` is "add"), run-time shape errors in the words of TF's kernels, Session argument
and context errors, feed conversion errors of numpy's class, ResourceExhaustedError for
outputs too large to allocate, and CancelledError from a callable of a closed session."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from fidelity.tf1 import tf1


def _modules():
    return [pytest.param("lf", id="lowerflow"), pytest.param("tf", id="tensorflow")]


def _m(name):
    return lf if name == "lf" else tf1()


def _operator_names(m) -> list[str]:
    with m.Graph().as_default():
        x, t = m.ones([1, 1]), m.constant([True])
        ops = [x + 1, x - 1, x * 2, x / 2, x // 2, x % 2, x ** 2, -x, abs(x), x > 1, x <= 1, x @ x,
               2 + x, 2 - x, np.float32(2) * x, t & t, t | t, t ^ t, ~t,
               m.add(x, 1), m.subtract(x, 1), m.multiply(x, 1), m.floordiv(x, 1), m.floormod(x, 1),
               m.truediv(x, 1), m.div(x, 1), m.pow(x, 1), m.matmul(x, x), m.truncatediv(x, x),
               m.add(x, 1, name="Add"), m.add(x, 1, name="ADD")]
        return [o.op.name for o in ops]


def test_operators_name_ops_as_tf():
    assert _operator_names(lf)[:19] == [
        "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "Neg", "Abs", "Greater", "LessEqual",
        "matmul", "add_1", "sub_1", "mul_1", "and", "or", "xor", "LogicalNot"]


def test_operator_names_match_tensorflow():
    assert _operator_names(lf) == _operator_names(tf1())


def _run_error(m, fetch, feeds):
    with m.Graph().as_default():
        a, b = m.placeholder(m.float32), m.placeholder(m.float32)
        with m.Session() as sess:
            with pytest.raises(m.errors.InvalidArgumentError) as info:
                sess.run(fetch(m, a, b), {a: feeds[0], b: feeds[1]})
    return info.value.message


@pytest.mark.parametrize("m", _modules())
@pytest.mark.parametrize("fetch, feeds, words", [
    (lambda m, a, b: m.matmul(a, b), (np.ones((2, 3)), np.ones((4, 5))),
     "Matrix size-incompatible: In[0]: [2,3], In[1]: [4,5]"),
    (lambda m, a, b: a + b, (np.ones(2), np.ones(3)), "Incompatible shapes: [2] vs. [3]"),
    (lambda m, a, b: a * b, (np.ones((2, 3)), np.ones((4, 3))), "Incompatible shapes: [2,3] vs. [4,3]"),
    (lambda m, a, b: m.matmul(a, b), (np.ones((2, 2, 3)), np.ones((3, 3, 4))),
     "In[0] and In[1] must have compatible batch dimensions: [2,2,3] vs. [3,3,4]"),
], ids=["matmul", "add", "mul", "batch_matmul"])
def test_run_time_shape_errors_in_tf_words(m, fetch, feeds, words):
    assert words in _run_error(_m(m), fetch, feeds)


@pytest.mark.parametrize("m", _modules())
@pytest.mark.parametrize("graph", [3, "g"])
def test_session_graph_must_be_a_graph(m, graph):
    with pytest.raises(TypeError, match="must be a tf.Graph"):
        _m(m).Session(graph=graph)


@pytest.mark.parametrize("m", _modules())
def test_session_context_is_not_reentrant(m):
    m = _m(m)
    with m.Graph().as_default() as g:
        c = m.constant(2.0)
        sess = m.Session()
        with sess:
            with pytest.raises(RuntimeError, match="not re-entrant"):
                with sess:
                    pass
            assert m.get_default_graph() is g and m.get_default_session() is sess
            assert sess.run(c) == 2.0
        assert m.get_default_session() is None


@pytest.mark.parametrize("m", _modules())
@pytest.mark.parametrize("dtype, value, error", [
    ("float32", object(), TypeError), ("float32", {1: 2}, TypeError), ("int64", 2**70, OverflowError),
    ("int32", 2**40, TypeError), ("float32", "abc", ValueError), ("float32", [[1], [1, 2]], ValueError),
], ids=["object", "dict", "huge_int64", "int32_overflow", "string", "ragged"])
def test_unconvertible_feeds_raise_numpys_class(m, dtype, value, error):
    m = _m(m)
    with m.Graph().as_default():
        x = m.placeholder(getattr(m, dtype))
        with m.Session() as sess:
            with pytest.raises(error):
                sess.run(x, {x: value})


@pytest.mark.parametrize("m", _modules())
@pytest.mark.parametrize("feed_dict", [[1], "x"], ids=["list", "string"])
def test_feed_dict_must_be_a_mapping(m, feed_dict):
    m = _m(m)
    with m.Graph().as_default():
        x = m.placeholder(m.float32)
        with m.Session() as sess:
            with pytest.raises(TypeError):
                sess.run(x, feed_dict)


def test_outputs_too_large_are_resource_exhausted():
    """(TF raises the same class, after 20 s of trying to allocate: not run here.)"""
    m = lf
    with m.Graph().as_default():
        big = m.zeros([2**20, 2**20, 1024])
        with m.Session() as sess:
            with pytest.raises(m.errors.ResourceExhaustedError):
                sess.run(big)


@pytest.mark.parametrize("m", _modules())
def test_callable_of_a_closed_session_is_cancelled(m):
    m = _m(m)
    with m.Graph().as_default():
        sess = m.Session()
        fn = sess.make_callable(m.constant(1.0))
        assert fn() == 1.0
        sess.close()
        with pytest.raises(m.errors.CancelledError, match="Session has been closed"):
            fn()
        with pytest.raises(RuntimeError, match="closed Session"):
            sess.run(m.constant(2.0))
