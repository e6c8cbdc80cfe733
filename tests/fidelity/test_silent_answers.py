"""Answers that used to be silently wrong, each as TF1 gives it: tf.div floors integers,
folding never hides a division by zero, integer pow refuses negative exponents, an int32
mean does not overflow, argmax/argmin skip NaN, softmax rows holding +-inf or NaN, and
leaky_relu's alpha rounded to float32. One graph per case, run natively; then the same
graphs against TensorFlow."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from fidelity.tf1 import assert_same_outcome, outcome, tf1
from lowerflow.ir import ELEM_TYPES, Function, build, tensor
from lowerflow.ir.interp import run_function

NAN, INF = np.nan, np.inf
I32MAX = 2**31 - 1


def _const(fn):
    """A case of constants only (the folding path)."""
    return lambda m: (fn(m), None)


def _fed(dtype, value, fn):
    """A case computing on a fed value (the native path)."""
    def build(m):
        x = m.placeholder(getattr(m, dtype), np.shape(value))
        return fn(m, x), {x: np.asarray(value, getattr(np, dtype))}
    return build


CASES = {
    "div_int_floors": _const(lambda m: m.div([7, -7], [2, 2])),
    "div_int_fed": _fed("int32", [7, -7, 0], lambda m, x: m.div(x, 2)),
    "div_float_divides": _const(lambda m: m.div([7.0, -7.0], [2.0, 2.0])),
    "div_int_by_zero": _fed("int32", [7, 0], lambda m, x: m.div(x, x)),
    "floordiv_by_zero_folded": _const(lambda m: (lambda c: c // c)(m.constant([5, 0, -3]))),
    "floormod_by_zero_folded": _const(lambda m: (lambda c: c % c)(m.constant([5, 0, -3]))),
    "div_by_zero_folded": _const(lambda m: m.div(m.constant([5, 1]), m.constant([0, 1]))),
    "pow_negative_folded": _const(lambda m: m.pow(m.constant([2, 3]), m.constant([-1, 2]))),
    "pow_negative_fed": _fed("int32", [1, -1], lambda m, x: m.pow(x, -3)),
    "pow_positive_fed": _fed("int64", [3, -2], lambda m, x: m.pow(x, 3)),
    "mean_int32_no_overflow": _const(lambda m: m.reduce_mean(m.constant([I32MAX, I32MAX]))),
    "mean_int32_fed": _fed("int32", [[I32MAX, I32MAX, -7]], lambda m, x: m.reduce_mean(x, 1)),
    "mean_int8_fed": _fed("int8", [100, 100, 100], lambda m, x: m.reduce_mean(x)),
    "argmax_nan": _fed("float32", [[1.0, NAN, 0.5], [NAN, 2, 3], [NAN, NAN, 1], [NAN, NAN, NAN]],
                       lambda m, x: [m.argmax(x, 1), m.argmin(x, 1), m.argmax(x, 0), m.argmin(x, 0)]),
    "argmax_nan_folded": _const(lambda m: [m.argmax([1.0, NAN, 0.5]), m.argmin([NAN, -INF])]),
    "softmax_inf": _fed("float32", [[1, INF, 2], [-INF, 0, 1], [INF, INF, 0], [-INF, -INF, -INF],
                                    [-INF, NAN, 1], [1, NAN, 2]], lambda m, x: m.nn.softmax(x)),
    "leaky_relu_f64": _fed("float64", [-1.0, 2.0, -3.0], lambda m, x: m.nn.leaky_relu(x, alpha=0.1)),
    "clip_lo_above_hi": _fed("int32", [0, 5, 2], lambda m, x: m.clip_by_value(x, 3, 1)),  # found by the fuzzer
    "reflect_pad_too_large": _fed("float32", [1.0, 2.0], lambda m, x: m.pad(
        m.placeholder_with_default(x, [None]), [[2, 0]], "REFLECT")),
}

EXPECTED = {  # what TF1 gives (checked against TensorFlow below)
    "div_int_floors": [np.int32([3, -4])],
    "div_float_divides": [np.float32([3.5, -3.5])],
    "div_int_fed": [np.int32([3, -4, 0])],
    "pow_positive_fed": [np.int64([27, -8])],
    "mean_int32_no_overflow": [np.int32(I32MAX)],
    "mean_int32_fed": [np.int32([1431655762])],
    "mean_int8_fed": [np.int8(100)],
    "argmax_nan": [np.int64([0, 2, 2, 0]), np.int64([2, 1, 2, 0]), np.int64([0, 1, 1]), np.int64([0, 1, 0])],
    "argmax_nan_folded": [np.int64(0), np.int64(1)],
    "softmax_inf": [np.float32([[0, NAN, 0], [0, 0.26894143, 0.73105854], [NAN, NAN, 0], [NAN, NAN, NAN],
                                [0, NAN, 0], [0, NAN, 0]])],
    "clip_lo_above_hi": [np.int32([3, 3, 3])],
    "leaky_relu_f64": [np.float64([-0.10000000149011612, 2.0, -0.30000000447034836])],
}
RAISES = {"div_int_by_zero": "InvalidArgumentError", "floordiv_by_zero_folded": "InvalidArgumentError",
          "floormod_by_zero_folded": "InvalidArgumentError", "div_by_zero_folded": "InvalidArgumentError",
          "pow_negative_folded": "InvalidArgumentError", "pow_negative_fed": "InvalidArgumentError",
          "reflect_pad_too_large": "InvalidArgumentError"}


def _wrap(case: str, build):
    def fetch_list(m):
        fetches, feeds = build(m)
        return (fetches if isinstance(fetches, list) else [fetches]), feeds
    return fetch_list


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_gives_tf1s_answer(case):
    got = outcome(lf, _wrap(case, CASES[case]))
    if case in RAISES:
        assert got == ("raises", RAISES[case])
    else:
        assert_same_outcome(got, ("ok", EXPECTED[case]))


def test_cases_match_tensorflow():
    tf = tf1()
    for case in sorted(CASES):
        assert_same_outcome(outcome(lf, _wrap(case, CASES[case])), outcome(tf, _wrap(case, CASES[case])))


def test_reference_interpreter_agrees_with_native_code():
    """The numpy references raise where the native code raises, so folding and the
    interpreter never disagree with a run."""
    i32 = ELEM_TYPES["i32"]
    for name in ("lf.div", "lf.floordiv", "lf.mod", "lf.truncdiv", "lf.truncmod"):
        f = Function("step", [tensor([2], i32), tensor([2], i32)])
        f.set_return([build(f.body, name, list(f.args)).result])
        with pytest.raises(ZeroDivisionError):
            run_function(f, [np.int32([1, 2]), np.int32([1, 0])])
