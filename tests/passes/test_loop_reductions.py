"""Reductions at the loop level: interp(tensor IR) == interp(loop IR) == native on random
shapes, axes and dtypes (NaN included), for lone reductions and reduce fusions; what the
verifier says about loops carrying values; a hand-written carrying loop interpreted and run."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.backend import compile_function
from lowerflow.ir import Module, parse_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.types import F64
from lowerflow.ir.verifier import VerifyError, verify
from lowerflow.passes import PassManager

LOOPS = "fuse,plan-buffers,lower-to-loops"
KINDS = {"f32": ["sum", "mean", "max", "min", "prod"], "f64": ["sum", "max"], "f16": ["sum", "mean", "min"],
         "i32": ["sum", "mean", "max", "prod"], "i1": ["any", "all"]}
RTOL = {"f32": 2e-5, "f64": 1e-12, "f16": 4e-3}


def _t(shape: tuple, dtype: str) -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{dtype}>" if shape else f"tensor<{dtype}>"


def _reduced(shape: tuple, axes: list[int], keep: bool) -> tuple:
    return tuple(1 if d in axes else n for d, n in enumerate(shape) if keep or d not in axes)


def reductions(shape: tuple, axes: list[int], keep: bool, dtype: str, fused: bool) -> str:
    """A function applying every reduction kind of `dtype` to %x (to exp(x) * x when `fused`)."""
    t, out = _t(shape, dtype), _t(_reduced(shape, axes, keep), dtype)
    body, src = [], "%x"
    if fused:
        body += [f'  %e = "lf.abs"(%x) : ({t}) -> {t}', f'  %p = "lf.mul"(%e, %x) : ({t}, {t}) -> {t}']
        src = "%p"
    for k, kind in enumerate(KINDS[dtype]):
        body.append(f'  %r{k} = "lf.reduce_{kind}"({src}) {{axes = {axes}, keepdims = {str(keep).lower()}}} '
                    f': ({t}) -> {out}')
    names = ", ".join(f"%r{k}" for k in range(len(KINDS[dtype])))
    types = ", ".join([out] * len(KINDS[dtype]))
    return (f"func.func @f(%x: {t}) -> ({types}) {{\n" + "\n".join(body) +
            f'\n  "func.return"({names}) : ({types}) -> ()\n}}')


def _input(shape: tuple, dtype: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "i1":
        return rng.random(shape) < 0.7
    if dtype == "i32":
        return rng.integers(-3, 4, shape).astype(np.int32)
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    x[rng.random(shape) < 0.05] = np.nan
    return x.astype({"f32": np.float32, "f64": np.float64, "f16": np.float16}[dtype])


def _same(got: np.ndarray, want: np.ndarray, dtype: str, what: str) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape, what
    if dtype in RTOL:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=RTOL[dtype],
                                   atol=RTOL[dtype], err_msg=what)  # NaN where NaN, too
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@st.composite
def cases(draw):
    shape = tuple(draw(st.lists(st.sampled_from([0, 1, 2, 3, 5, 7]), min_size=1, max_size=3)))
    axes = sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    dtype = draw(st.sampled_from(sorted(KINDS)))
    return shape, axes, draw(st.booleans()), dtype, dtype != "i1" and draw(st.booleans()), draw(st.integers(0, 99))


@settings(max_examples=30, deadline=None)
@given(case=cases())
def test_reductions_mean_the_same_at_every_level(case):
    shape, axes, keep, dtype, fused, seed = case
    text = reductions(shape, axes, keep, dtype, fused)
    tensor_level = parse_module(text).functions[0]
    m = parse_module(text)
    PassManager(LOOPS).run(m)
    (func,) = m.functions
    assert all(op.name == "loop.kernel" for op in func.ops[:-1]), [op.name for op in func.ops]
    x = _input(shape, dtype, seed)
    want = run_function(tensor_level, [x])
    for level, got in (("loop IR", run_function(func, [x])), ("native", compile_function(func).run([x]))):
        for kind, g, w in zip(KINDS[dtype], got, want):
            _same(g, w, dtype, f"{level} {kind} {case}")


def test_nan_propagates_through_max_and_min():
    text = reductions((3, 4), [1], False, "f32", False)
    m = parse_module(text)
    PassManager(LOOPS).run(m)
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    x[1, 2] = np.nan
    for got in (run_function(m.functions[0], [x]), compile_function(m.functions[0]).run([x])):
        _, _, mx, mn, _ = got
        np.testing.assert_array_equal(mx, [3, np.nan, 11])
        np.testing.assert_array_equal(mn, [0, np.nan, 8])


CARRIED = pathlib.Path(__file__).parents[1] / "ir" / "loop-carried.mlir"


def test_hand_written_carrying_loop_interprets_and_runs():
    """Two values carried over a step-2 loop (the backend's non-canonical counted form)."""
    m = parse_module(CARRIED.read_text())
    verify(m)
    x = np.array([1, 9, 2, 9, 3, 9, -4, 9], np.float32)
    for got in (run_function(m.functions[0], [x]), compile_function(m.functions[0]).run([x])):
        np.testing.assert_array_equal(got[0], [2, 3])  # 1 + 2 + 3 - 4, max(1, 2, 3, -4)


def _edit(old: str, new: str) -> Module:
    text = CARRIED.read_text()
    assert old in text
    return parse_module(text.replace(old, new))


@pytest.mark.parametrize("old, new, message", [
    ('"lf.yield"(%s2, %m2) : (f32, f32) -> ()', '"lf.yield"(%s2) : (f32) -> ()',
     r"the body must yield \(f32, f32\), got \(f32\)"),
    ("^bb0(%i: index, %s: f32, %m: f32):", "^bb0(%i: index, %s: f32, %m: f32, %n: f32):", "the body takes"),
    ("{lower = 0, step = 2, upper = 8}", "{lower = 0, parallel = true, step = 2, upper = 8}",
     "a loop carrying values is not parallel"),
    ('{op = "lf.max"}', '{op = "lf.sub"}', "unknown fold op 'lf.sub'"),
    ('{type = f32, value = 0.0}', '{type = f32, value = 0}', "value 0 is no f32"),
    ('{type = f32, value = 0.0}', '{type = i1, value = 0.0}', "is no i1"),
])
def test_verifier_rejects(old, new, message):
    try:
        m = _edit(old, new)
    except Exception as e:  # noqa: BLE001  (the parser may refuse first)
        assert message.replace("\\", "") in str(e)
        return
    with pytest.raises(VerifyError, match=message):
        verify(m)


def test_carried_results_match_the_operands():
    m = parse_module(CARRIED.read_text())
    (loop,) = [op for op in m.functions[0].body.walk() if op.name == "loop.for"]
    loop.results[1].type = F64  # the parser checks uses against their types first
    with pytest.raises(VerifyError, match="one result per carried value"):
        verify(m)



ROWS = [((16, 40), [0]), ((2, 3, 17), [0, 1]), ((2, 5, 3, 16), [0, 1, 2]), ((4, 1, 20), [0, 1]),
        ((3, 4, 18), [1]), ((7, 3), [0]), ((0, 16), [0]), ((5, 0), [0])]


@pytest.mark.parametrize("shape,axes", ROWS, ids=[f"{s}-{a}" for s, a in ROWS])
@pytest.mark.parametrize("dtype", sorted(KINDS))
def test_leading_axis_reductions_fold_row_by_row(shape, axes, dtype):
    """Reductions whose innermost dim is kept (16 wide or more) fold row by row into the
    output buffer (no
    accumulator carried, but for float16 and the integer mean, which keep the per-element
    nest): interp(tensor IR) == interp(loop IR) == native, and in the row form native is bit
    for bit the loop interpreter (each output element folds its elements in the same order)."""
    for keep in (False, True):
        for fused in (False, True) if dtype != "i1" else (False,):
            text = reductions(shape, axes, keep, dtype, fused)
            m = parse_module(text)
            PassManager(LOOPS).run(m)
            (func,) = m.functions
            rows = dtype in ("f32", "f64", "i1") and shape[-1] >= 16
            if rows:
                assert not [op for op in func.body.walk() if op.name == "loop.for" and op.operands], text
            x = _input(shape, dtype, len(shape))
            want = run_function(parse_module(text).functions[0], [x])
            loops, native = run_function(func, [x]), compile_function(func).run([x])
            for kind, w, g, n in zip(KINDS[dtype], want, loops, native):
                what = f"{kind} {shape} {axes} keep={keep} fused={fused}"
                _same(g, w, dtype, "loop IR " + what)
                if not rows:
                    _same(n, g, dtype, "native " + what)
                else:
                    np.testing.assert_array_equal(n, g, err_msg="native " + what)


def test_leading_axis_integer_sum_wraps():
    text = reductions((3, 16), [0], False, "i32", False)
    m = parse_module(text)
    PassManager(LOOPS).run(m)
    x = np.full((3, 16), 2**30 + 7, np.int32)
    total, mean, top, _ = compile_function(m.functions[0]).run([x])
    np.testing.assert_array_equal(total, np.full(16, 3 * (2**30 + 7) - 2**32, np.int32))
    np.testing.assert_array_equal(mean, np.full(16, 2**30 + 7, np.int32))  # summed in int64
    np.testing.assert_array_equal(top, np.full(16, 2**30 + 7, np.int32))
