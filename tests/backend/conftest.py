"""Shared helpers for backend tests: differential checks against the reference interpreter.

Compiled executables are cached per IR function object so that tests sharing a function
(module-scoped fixtures) compile once; the suite must stay fast on a 2-core CI machine.
"""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir.interp import run_function

#: rtol per float dtype for correctly-rounded ops (single IEEE op in numpy and in LLVM)
EXACT_RTOL = {"float16": 0.0, "float32": 0.0, "float64": 0.0}
#: transcendental ops: libm (LLVM) vs numpy's own vectorised kernels
TRANSCENDENTAL_RTOL = {"float16": 2e-3, "float32": 1e-5, "float64": 1e-12}


def assert_same(got: np.ndarray, want: np.ndarray, rtol: float = 0.0, atol: float = 0.0, what: str = "") -> None:
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.fixture(scope="session")
def native():
    """`native(func)`: the compiled Executable of `func`, compiled once per function."""
    cache: dict[int, tuple] = {}

    def get(func):
        hit = cache.get(id(func))
        if hit is None or hit[0] is not func:
            hit = cache[id(func)] = (func, compile_function(func))
        return hit[1]
    return get


@pytest.fixture(scope="session")
def check(native):
    """`check(func, args, rtol=..)`: native results equal the interpreter's, per result."""
    def run(func, args, rtol=0.0, atol=0.0, names=None):
        got = native(func).run(args)
        want = run_function(func, args)
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            what = names[i] if names else f"result {i}"
            assert_same(g, w, rtol, atol, what)
        return got
    return run
