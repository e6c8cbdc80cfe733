"""backend/mathlib.py: float32 polynomial exp/expm1/log/log1p/tanh/sigmoid.

Accuracy is asserted in ulps against numpy's float64 result over a dense sweep (the
bounds are the measured maxima of the module docstring, plus a little slack for other
FMA-capable CPUs); IEEE special values exactly; vectorisation on the optimised IR.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir import ELEM_TYPES, Function, build, tensor

F32 = ELEM_TYPES["f32"]
N = 1 << 20
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _sigmoid64(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


#: op -> (float64 reference, sweep, max ulp allowed)
CASES = {
    "lf.exp": (np.exp, np.linspace(-103.9, 88.72, N), 1.5),
    "lf.expm1": (np.expm1, np.concatenate([np.linspace(-20, 88.72, N // 2), np.linspace(-1, 1, N // 2)]), 2.0),
    "lf.log": (np.log, np.geomspace(1e-45, 3.4e38, N), 1.5),
    "lf.log1p": (np.log1p, np.concatenate([-np.geomspace(0.9999999, 1e-30, N // 2),
                                           np.geomspace(1e-30, 1e6, N // 2)]), 2.0),
    "lf.tanh": (np.tanh, np.linspace(-12, 12, N), 3.0),
    "lf.sigmoid": (_sigmoid64, np.linspace(-105, 30, N), 3.0),
}
SPECIAL_IN = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, -2.0, 1e-45, -1e-45, 1e-38, 3.4e38,
                       -3.4e38, 88.72, 88.73, -103.97, -104.0, 20.0, -20.0], np.float32)


def unary_fn(names: list[str], n: int) -> Function:
    f = Function("step", [tensor([n], F32) for _ in names])
    f.set_return([build(f.body, name, [a]).result for name, a in zip(names, f.args)])
    return f


@pytest.fixture(scope="module")
def sweep_exe():
    return compile_function(unary_fn(list(CASES), N))


@pytest.fixture(scope="module")
def special_exe():
    return compile_function(unary_fn(list(CASES), SPECIAL_IN.size))


def ulp_error(got: np.ndarray, want64: np.ndarray) -> np.ndarray:
    """|got - want| in units of the float32 spacing at want (subnormal spacing below)."""
    spacing = np.spacing(np.abs(want64.astype(np.float32))).astype(np.float64)
    return np.abs(got.astype(np.float64) - want64) / spacing


@pytest.mark.parametrize("name", list(CASES))
def test_max_ulp_error(name, sweep_exe):
    ref, _, bound = CASES[name]
    xs = [v.astype(np.float32) for _, v, _ in CASES.values()]
    got = sweep_exe.run(xs)[list(CASES).index(name)]
    x = xs[list(CASES).index(name)].astype(np.float64)
    with np.errstate(all="ignore"):
        want = ref(x)
    finite = np.isfinite(want)
    err = ulp_error(got[finite], want[finite])
    assert err.max() <= bound, f"{name}: {err.max():.2f} ulp at x={x[finite][np.argmax(err)]!r}"
    assert np.array_equal(np.isinf(got), np.isinf(want)), f"{name}: overflow boundary differs"


@pytest.mark.parametrize("name", list(CASES))
def test_special_values(name, special_exe):
    """NaN -> NaN, infinities, signed zeros, log of 0/negatives, overflow and underflow."""
    got = special_exe.run([SPECIAL_IN] * len(CASES))[list(CASES).index(name)]
    with np.errstate(all="ignore"):
        want = CASES[name][0](SPECIAL_IN.astype(np.float64)).astype(np.float32)
    exact = ~np.isfinite(want) | (want == 0) | (np.abs(want) == 1)
    np.testing.assert_array_equal(got[exact], want[exact], err_msg=f"{name} at {SPECIAL_IN[exact]}")
    np.testing.assert_array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0]))
    assert ulp_error(got[~exact], want[~exact].astype(np.float64)).max() <= 3


def test_fixed_points():
    f = unary_fn(list(CASES), 4)
    x = np.array([0.0, -0.0, np.inf, -np.inf], np.float32)
    exp, expm1, log, log1p, tanh, sigmoid = compile_function(f).run([x] * len(CASES))
    assert exp.tolist() == [1, 1, np.inf, 0] and tanh.tolist() == [0, 0, 1, -1]
    assert sigmoid.tolist() == [0.5, 0.5, 1, 0] and np.signbit(expm1[1]) and np.signbit(log1p[1])
    assert log[:2].tolist() == [-np.inf, -np.inf] and np.isnan(log[3]) and log[2] == np.inf
    (log1p_m1,) = compile_function(unary_fn(["lf.log1p"], 2)).run([np.array([-1, -1.5], np.float32)])
    assert log1p_m1[0] == -np.inf and np.isnan(log1p_m1[1])


def test_chain_vectorises_without_libm():
    """tanh(x*2+1)*sigmoid(x) - x*x + 0.5: one loop of float vectors (8 lanes on AVX2,
    16 on AVX-512 hosts) and no scalar libm call left in the optimised IR."""
    f = Function("step", [tensor([4096], F32)])
    x = f.args[0]

    def op(name, *a):
        return build(f.body, name, list(a)).result

    def c(v):
        return build(f.body, "lf.constant", [], {"value": np.array(v, np.float32)}).result
    t = op("lf.tanh", op("lf.add", op("lf.mul", x, c(2.0)), c(1.0)))
    f.set_return([op("lf.add", op("lf.sub", op("lf.mul", t, op("lf.sigmoid", x)), op("lf.mul", x, x)), c(0.5))])
    exe = compile_function(f)
    widths = {int(w) for w in re.findall(r"<(\d+) x float>", exe.llvm_ir)}
    assert widths and min(widths) >= 8, widths
    assert not re.search(r"@(expf|tanhf|llvm\.(exp|tanh)\.)", exe.llvm_ir)
    xv = np.linspace(-10, 10, 4096, dtype=np.float32)
    (got,) = exe.run([xv])
    x64 = xv.astype(np.float64)
    np.testing.assert_allclose(got, np.tanh(x64 * 2 + 1) * _sigmoid64(x64) - x64 * x64 + 0.5, rtol=2e-6, atol=2e-6)
