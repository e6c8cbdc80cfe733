"""Valid TF1 code that used to be refused, with TF1's values: one_hot's Python on/off
values in a float dtype, tf.div's operand conversion, v1 tf.where selecting rows,
truncatediv/truncatemod, tuple feed keys, bytes fetch names."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from fidelity.tf1 import assert_same_outcome, outcome, tf1


def _two_placeholders(m):
    a, b = m.placeholder(m.float32, [2]), m.placeholder(m.float32, [2])
    return a, b


CASES = {
    "one_hot_int_values_float64": lambda m: (
        [m.one_hot([0, 2], 3, on_value=5, off_value=-1, dtype=m.float64)], None),
    "one_hot_int_values": lambda m: ([m.one_hot([0, 2], 3, on_value=5, off_value=-1)], None),
    "div_float_by_python_int": lambda m: ([m.div(m.constant([7.0, 8.0]), 2), m.div(7.0, 2)], None),
    "div_numpy_mixed": lambda m: ([m.div(np.array([7.0, 8.0]), np.array([2, 3])),
                                   m.div(np.array([7, 8]), np.array([2.0, 3.0]))], None),
    "div_unsigned": lambda m: ([m.div(m.constant([7, 250], m.uint8), m.constant([2, 3], m.uint8))], None),
    "div_int64_min": lambda m: ([m.div(m.constant([-2**63, -7], m.int64), m.constant([-1, 2], m.int64))], None),
    "where_rows": lambda m: ([m.where(m.constant([True, False]), m.constant([[1, 2], [3, 4]]),
                                      m.constant([[5, 6], [7, 8]]))], None),
    "where_scalar": lambda m: ([m.where(True, m.constant([1, 2]), m.constant([3, 4]))], None),
    "where_v2_broadcasts": lambda m: ([m.where_v2(m.constant([True, False]), m.constant([[1, 2], [3, 4]]),
                                                  m.constant([[5, 6], [7, 8]]))], None),
    "truncate_int": lambda m: ([m.truncatediv(m.constant([7, -7, -2**31]), m.constant([2, 2, -1])),
                                m.truncatemod(m.constant([7, -7, 5]), m.constant([2, 2, -3]))], None),
    "truncate_float": lambda m: ([m.truncatediv(m.constant([7.5, -7.5]), m.constant([2.0, 2.0])),
                                  m.truncatemod(m.constant([-7.5, 7.5]), m.constant([2.0, -2.0]))], None),
}
EXPECTED = {
    "one_hot_int_values_float64": [np.float64([[5, -1, -1], [-1, -1, 5]])],
    "one_hot_int_values": [np.int32([[5, -1, -1], [-1, -1, 5]])],
    "div_float_by_python_int": [np.float32([3.5, 4.0]), np.float32(3.5)],
    "div_numpy_mixed": [np.float64([3.5, 8 / 3]), np.int64([3, 2])],
    "div_unsigned": [np.uint8([3, 83])],
    "div_int64_min": [np.int64([-2**63, -4])],
    "where_rows": [np.int32([[1, 2], [7, 8]])],
    "where_scalar": [np.int32([1, 2])],
    "where_v2_broadcasts": [np.int32([[1, 6], [3, 8]])],
    "truncate_int": [np.int32([3, -3, -2**31]), np.int32([1, -1, 2])],
    "truncate_float": [np.float32([3.0, -3.0]), np.float32([-1.5, 1.5])],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_runs_as_tf1(case):
    assert_same_outcome(outcome(lf, CASES[case]), ("ok", EXPECTED[case]))


def test_cases_match_tensorflow():
    tf = tf1()
    for case in sorted(CASES):
        assert_same_outcome(outcome(lf, CASES[case]), outcome(tf, CASES[case]))


@pytest.mark.parametrize("m", ["lf", "tf"])
def test_refused_as_tf1_refuses(m):
    m = lf if m == "lf" else tf1()
    with m.Graph().as_default():
        with pytest.raises(TypeError):
            m.div(m.constant([7, 8]), 2.5)  # y takes x's dtype: 2.5 is no int32
        with pytest.raises(ValueError):
            m.div(7.0, m.constant(2))
        with pytest.raises(TypeError):
            m.one_hot([0, 2], 3, on_value=5.5, dtype=m.int32)


@pytest.mark.parametrize("m", ["lf", "tf"])
def test_tuple_feed_keys_and_bytes_names(m):
    m = lf if m == "lf" else tf1()
    with m.Graph().as_default():
        a, b = _two_placeholders(m)
        total = m.add(a, b, name="total")
        with m.Session() as sess:
            got = sess.run(total, {(a, b): (np.ones(2), np.full(2, 2.0))})
            by_name = sess.run(b"total:0", {a: [1, 2], b"Placeholder_1:0": [3, 4]})
            op = sess.run(b"total", {a: [1, 2], b: [3, 4]})
    np.testing.assert_array_equal(got, np.float32([3, 3]))
    np.testing.assert_array_equal(by_name, np.float32([4, 6]))
    assert op is None
