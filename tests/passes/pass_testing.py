"""Shared helpers for pass tests: random elementwise graphs, comparison, a side-effecting op.

`random_function(seed)` is deterministic, so building it twice from one seed gives
two independent copies: one to transform, one to keep as the oracle.
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir import Function, Module, build, tensor
from lowerflow.ir.interp import run_function
from lowerflow.ir.opdef import OPS, OpDef, register
from lowerflow.ir.types import BOOL, F32

#: A registered op with no "pure" trait (like a print or an assign): dce must keep it.
EFFECT = "test.effect"
if EFFECT not in OPS:
    register(OpDef(EFFECT, lambda types, attrs: [types[0]], lambda args, attrs: [args[0].copy()]))

UNARY = ["lf.neg", "lf.abs", "lf.exp", "lf.tanh", "lf.sigmoid", "lf.square", "lf.floor",
         "lf.relu", "lf.sqrt", "lf.identity"]
BINARY = ["lf.add", "lf.sub", "lf.mul", "lf.div", "lf.max", "lf.min", "lf.squared_difference"]
COMPARE = ["lf.lt", "lf.ge", "lf.eq"]
#: Values where float rewrites go wrong: signed zeros, NaN, infinities.
SPECIALS = np.array([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf], np.float32)


def _family(rng: np.random.Generator) -> list[tuple]:
    """Shapes that all broadcast together: a base shape, with dims set to 1 or dropped."""
    base = tuple(int(d) for d in rng.integers(1, 5, size=rng.integers(0, 4)))
    shapes = {base}
    for _ in range(3):
        s = tuple(1 if rng.random() < 0.4 else d for d in base)
        shapes.add(s[rng.integers(0, len(s) + 1):] if rng.random() < 0.3 else s)
    return sorted(shapes, key=lambda s: (len(s), s))


def random_function(seed: int, max_ops: int = 14, specials: bool = False) -> tuple[Function, list[np.ndarray]]:
    """A random function of elementwise ops and constants, and inputs for it.

    With `specials`, splat constants and some input elements are drawn from SPECIALS.
    """
    rng = np.random.default_rng(seed)
    shapes = _family(rng)

    def shape() -> tuple:
        return shapes[rng.integers(len(shapes))]

    func = Function("step", [tensor(shape(), F32) for _ in range(rng.integers(1, 4))])
    floats, bools = list(func.args), []
    body = func.body

    def pick(pool: list):
        # Favour recent values so chains (fusion candidates) form.
        if rng.random() < 0.7:
            return pool[max(0, len(pool) - int(rng.geometric(0.4)))]
        return pool[rng.integers(len(pool))]

    def constant(dtype) -> None:
        s = shape()
        value = (rng.random(s) < 0.5) if dtype is BOOL else rng.normal(size=s).astype(np.float32)
        if dtype is not BOOL and rng.random() < 0.3:
            value = np.full(s, rng.choice(SPECIALS) if specials else np.float32(rng.normal()))
        value = np.asarray(value)
        (bools if dtype is BOOL else floats).append(build(body, "lf.constant", [], {"value": value}).result)

    for _ in range(rng.integers(1, max_ops + 1)):
        kind = rng.choice(["const", "unary", "binary", "binary", "compare", "select", "bool", "cast", "effect"],
                          p=[.2, .2, .2, .15, .07, .07, .04, .03, .04])
        if kind == "const" or (kind in ("select", "bool", "cast") and not bools):
            constant(BOOL if kind != "const" and rng.random() < 0.5 else F32)
        elif kind == "unary":
            floats.append(build(body, str(rng.choice(UNARY)), [pick(floats)]).result)
        elif kind == "binary":
            floats.append(build(body, str(rng.choice(BINARY)), [pick(floats), pick(floats)]).result)
        elif kind == "compare":
            bools.append(build(body, str(rng.choice(COMPARE)), [pick(floats), pick(floats)]).result)
        elif kind == "select":
            floats.append(build(body, "lf.select", [pick(bools), pick(floats), pick(floats)]).result)
        elif kind == "bool":
            op = "lf.not" if rng.random() < 0.5 else "lf.and"
            bools.append(build(body, op, [pick(bools)] * (1 if op == "lf.not" else 2)).result)
        elif kind == "cast":
            floats.append(build(body, "lf.cast", [pick(bools)], {"to": F32}).result)
        else:
            floats.append(build(body, EFFECT, [pick(floats)]).result)
    values = floats[len(func.args):] + bools or list(func.args)
    chosen = rng.choice(len(values), size=min(len(values), int(rng.integers(1, 4))), replace=False)
    func.set_return([values[i] for i in sorted(chosen)])
    args = [rng.normal(size=a.type.shape).astype(np.float32) for a in func.args]
    if specials:
        args = [np.where(rng.random(np.shape(a)) < 0.4, rng.choice(SPECIALS, np.shape(a)), a).astype(np.float32)
                for a in args]
    return func, args


def random_module(seed: int, max_ops: int = 14) -> tuple[Module, list[np.ndarray]]:
    func, args = random_function(seed, max_ops)
    return Module([func]), args


def assert_same_results(before: Function, after: Function, args: list[np.ndarray]) -> None:
    """Equal dtypes, shapes and values (NaN equals NaN) under the reference interpreter."""
    want, got = run_function(before, args), run_function(after, args)
    assert len(want) == len(got)
    for w, g in zip(want, got):
        assert w.dtype == g.dtype and w.shape == g.shape
        np.testing.assert_array_equal(w, g)


def assert_same_bits(before: Function, after: Function, args: list[np.ndarray]) -> None:
    """Like assert_same_results, but -0.0 differs from 0.0 (a NaN still equals any NaN)."""
    assert_same_results(before, after, args)
    for w, g in zip(run_function(before, args), run_function(after, args)):
        if w.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(w) | np.isnan(w), np.signbit(g) | np.isnan(g))


def op_names(func: Function) -> list[str]:
    return [op.name for op in func.ops]
