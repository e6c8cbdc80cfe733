"""The algebraic rules of `canonicalize`, as data: one rule per line, its identity as the
trailing comment, so soundness can be audited line by line (cf. tinygrad's
`uop/symbolic.py`, Grappler's ArithmeticOptimizer, MLIR's canonicalization patterns).

A rule is (name, root, tag, rewrite). `root` is the op name it applies to, or
"trait:NAME" for every op with that trait. `rewrite(*operands)` gets the root's
operands and returns None (no match), an existing value to use instead of the root's
result, or a new op to build in its place: `New(name, operands)`, `SWAP` (the root
with its two operands swapped) or `Fill(x)` (a constant of the root's type, all x).
The driver uses a replacement only if its type is the root's result type, so no rule
changes a shape through broadcasting (`x + zeros` of a larger shape stays), a new op
whose operands its OpDef rejects is no match, and `cast(x) -> x` fires exactly when the
dtype does not change.

Tags: EXACT rules give the same bits for every input, -0.0 and Inf included (integers
wrap alike on both sides); a NaN stays a NaN, its sign and payload unspecified as in
IEEE 754. FAST rules assume no NaN, no Inf and no signed zeros; their comment says
where they break. Only `canonicalize{fast-math=true}` runs them (Grappler shipped
such float rewrites as if exact; we tag them instead). Every rule has a trigger in
tests/passes/test_canonicalize_pass.py: exact ones must keep every bit of special
values, fast-math ones must show an input they change.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from lowerflow.ir.core import Value
from lowerflow.ir.ops.structure import constant_value

EXACT, FAST = "exact", "fast-math"


class New(NamedTuple):
    name: str
    operands: tuple


class Fill(NamedTuple):
    value: float


class Swap(NamedTuple):
    pass


SWAP = Swap()
Replacement = Value | New | Fill | Swap | None


class Rule(NamedTuple):
    name: str
    root: str
    tag: str
    rewrite: Callable[..., Replacement]


const = constant_value  # the value of a constant operand, else None


def splat(v: Value, x: float) -> bool:
    """Whether `v` is a constant whose every element is `x`; bit-exact for floats, so -0.0 != 0.0."""
    a = const(v)
    if a is None:
        return False
    if a.dtype.kind != "f":
        return bool(np.all(a == x))
    bits = f"u{a.dtype.itemsize}"
    return bool(np.all(a.view(bits) == np.array(x, a.dtype).view(bits)))


def args(v: Value, name: str) -> tuple:
    """The operands of `v`'s defining op if that op is `name`, else ()."""
    return tuple(v.op.operands) if v.op is not None and v.op.name == name else ()


def under(v: Value, name: str) -> Value | None:
    """The operand of `v`'s defining unary op if it is `name`: under(-x, "lf.neg") is x."""
    return (args(v, name) or (None,))[0]


def new(name: str, *operands: Value) -> New | None:
    """`New(name, operands)` when every operand matched (none is None), else no match."""
    return New(name, operands) if operands and None not in operands else None


def is_int(v: Value) -> bool:
    return v.type.dtype.is_int


def is_float(v: Value) -> bool:
    return v.type.dtype.is_float


# Binary rules see (x, y) = the root's operands; canonical order puts a constant in y.
RULES: list[Rule] = [
    Rule("constant-right", "trait:commutative", EXACT, lambda x, y: SWAP if const(x) is not None and const(y) is None else None),  # c op x -> x op c
    Rule("add-zero-int", "lf.add", EXACT, lambda x, y: x if is_int(x) and splat(y, 0) else None),  # x + 0 -> x (integers)
    Rule("add-neg-zero", "lf.add", EXACT, lambda x, y: x if is_float(x) and splat(y, -0.0) else None),  # x + -0.0 -> x
    Rule("add-zero", "lf.add", FAST, lambda x, y: x if is_float(x) and splat(y, 0.0) else None),  # x + 0.0 -> x (breaks: -0.0 + 0.0 is +0.0)
    Rule("add-neg", "lf.add", EXACT, lambda x, y: new("lf.sub", x, under(y, "lf.neg"))),  # x + -y -> x - y
    Rule("sub-zero", "lf.sub", EXACT, lambda x, y: x if splat(y, 0.0) else None),  # x - 0 -> x (floats too: -0.0 - 0.0 is -0.0)
    Rule("sub-neg", "lf.sub", EXACT, lambda x, y: new("lf.add", x, under(y, "lf.neg"))),  # x - -y -> x + y
    Rule("zero-sub-int", "lf.sub", EXACT, lambda x, y: new("lf.neg", y) if is_int(x) and splat(x, 0) else None),  # 0 - x -> -x (integers)
    Rule("neg-zero-sub", "lf.sub", EXACT, lambda x, y: new("lf.neg", y) if is_float(x) and splat(x, -0.0) else None),  # -0.0 - x -> -x
    Rule("zero-sub", "lf.sub", FAST, lambda x, y: new("lf.neg", y) if is_float(x) and splat(x, 0.0) else None),  # 0.0 - x -> -x (breaks: 0.0 - 0.0 is +0.0)
    Rule("sub-self-int", "lf.sub", EXACT, lambda x, y: Fill(0) if x is y and is_int(x) else None),  # x - x -> 0 (integers)
    Rule("sub-self", "lf.sub", FAST, lambda x, y: Fill(0) if x is y and is_float(x) else None),  # x - x -> 0.0 (breaks: Inf - Inf, NaN)
    Rule("mul-one", "lf.mul", EXACT, lambda x, y: x if splat(y, 1) else None),  # x * 1 -> x
    Rule("mul-minus-one", "lf.mul", EXACT, lambda x, y: new("lf.neg", x) if splat(y, -1) else None),  # x * -1 -> -x
    Rule("mul-zero-int", "lf.mul", EXACT, lambda x, y: Fill(0) if is_int(x) and splat(y, 0) else None),  # x * 0 -> 0 (integers)
    Rule("mul-zero", "lf.mul", FAST, lambda x, y: Fill(0) if is_float(x) and splat(y, 0.0) else None),  # x * 0.0 -> 0.0 (breaks: NaN, Inf, -x gives -0.0)
    Rule("mul-self", "lf.mul", EXACT, lambda x, y: new("lf.square", x) if x is y else None),  # x * x -> square(x)
    Rule("div-one", "lf.div", EXACT, lambda x, y: x if splat(y, 1) else None),  # x / 1 -> x
    Rule("neg-neg", "lf.neg", EXACT, lambda x: under(x, "lf.neg")),  # -(-x) -> x
    Rule("neg-sub-int", "lf.neg", EXACT, lambda x: new("lf.sub", *args(x, "lf.sub")[::-1]) if is_int(x) else None),  # -(a - b) -> b - a (integers)
    Rule("neg-sub", "lf.neg", FAST, lambda x: new("lf.sub", *args(x, "lf.sub")[::-1]) if is_float(x) else None),  # -(a - b) -> b - a (breaks: a = b gives -0.0)
    Rule("abs-abs", "lf.abs", EXACT, lambda x: x if args(x, "lf.abs") else None),  # |(|x|)| -> |x|
    Rule("abs-neg", "lf.abs", EXACT, lambda x: new("lf.abs", under(x, "lf.neg"))),  # |-x| -> |x|
    Rule("square-neg", "lf.square", EXACT, lambda x: new("lf.square", under(x, "lf.neg"))),  # square(-x) -> square(x)
    Rule("square-abs", "lf.square", EXACT, lambda x: new("lf.square", under(x, "lf.abs"))),  # square(|x|) -> square(x)
    Rule("sqrt-square", "lf.sqrt", FAST, lambda x: new("lf.abs", under(x, "lf.square"))),  # sqrt(square(x)) -> |x| (breaks: square overflows or underflows)
    Rule("not-not", "lf.not", EXACT, lambda x: under(x, "lf.not")),  # !!x -> x
    Rule("identity", "lf.identity", EXACT, lambda x: x),  # identity(x) -> x
    Rule("cast-same", "lf.cast", EXACT, lambda x: x),  # cast(x) -> x when the dtype stays (the driver's type check)
    Rule("select-same", "lf.select", EXACT, lambda c, x, y: x if x is y else None),  # select(c, x, x) -> x
    Rule("max-self", "lf.max", EXACT, lambda x, y: x if x is y else None),  # max(x, x) -> x
    Rule("min-self", "lf.min", EXACT, lambda x, y: x if x is y else None),  # min(x, x) -> x
    Rule("and-self", "lf.and", EXACT, lambda x, y: x if x is y else None),  # x && x -> x
    Rule("or-self", "lf.or", EXACT, lambda x, y: x if x is y else None),  # x || x -> x
]
