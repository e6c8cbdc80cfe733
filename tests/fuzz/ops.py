"""The fuzzer's op set: how to build each op with either module, which dtypes it takes,
and how closely two implementations must agree (its tolerance class).

Tolerance classes: "exact" (bit for bit, NaN equal to NaN, -0.0 equal to 0.0); "rounded"
(a correctly rounded IEEE op or two: a few ulp); "math" (transcendental: both sides use
their own polynomials); "sum" (a reduction or product over n terms, whose summation order
is free). Only ops exact for a dtype feed other ops, so an inexact result is compared
where it is made and never amplified downstream.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

FLOATS = ("float16", "float32", "float64")
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16")
INTS = SIGNED + UNSIGNED
REAL = FLOATS + INTS
ALL = REAL + ("bool",)


@dataclass(frozen=True)
class FuzzOp:
    name: str
    arity: int
    dtypes: tuple  # operand dtypes it is tried on
    build: Callable  # (module, [tensors], attrs) -> tensor
    tolerance: str = "exact"  # for float results
    exact_on: tuple = INTS + ("bool",)  # dtypes whose results may feed further ops
    attrs: Callable | None = None  # (rng, operand shapes) -> attrs
    same_shape: bool = False  # operands of one shape (no broadcasting)
    extra: dict = field(default_factory=dict)


def _axis_attrs(rng, shapes):
    rank = len(shapes[0])
    axis = None if rank == 0 or rng.random() < 0.25 else int(rng.integers(-rank, rank))
    return {"axis": axis, "keepdims": bool(rng.random() < 0.3)}


def _arg_attrs(rng, shapes):
    rank = len(shapes[0])
    return {"axis": int(rng.integers(-rank, rank)) if rank else 0}


def _cast_attrs(rng, shapes):
    return {"to": str(rng.choice(ALL))}


def _alpha_attrs(rng, shapes):
    return {"alpha": float(rng.choice([0.2, 0.1, 0.01, 1.5]))}


def _clip_attrs(rng, shapes):
    lo = float(rng.choice([1.0, 0.0, 3.5]))
    return {"lo": lo, "hi": lo + float(rng.choice([0.0, 1.0, 2.5]))}


def _pad_attrs(rng, shapes):
    mode = str(rng.choice(["CONSTANT", "REFLECT", "SYMMETRIC"]))
    return {"paddings": [[int(rng.integers(0, 3)), int(rng.integers(0, 3))] for _ in shapes[0]], "mode": mode}


def _unary(fn_name: str, dtypes=REAL, tolerance="exact", exact_on=INTS + ("bool",), attrs=None, nn=False):
    def build(m, xs, a):
        fn = getattr(m.nn if nn else m, fn_name)
        return fn(xs[0], **a) if a else fn(xs[0])
    return FuzzOp(fn_name, 1, dtypes, build, tolerance, exact_on, attrs)


def _binary(fn_name: str, dtypes=REAL, tolerance="rounded", exact_on=INTS + ("bool",)):
    return FuzzOp(fn_name, 2, dtypes, lambda m, xs, a: getattr(m, fn_name)(xs[0], xs[1]), tolerance, exact_on)


def _reduce(fn_name: str, dtypes=REAL, tolerance="sum", exact_on=INTS):
    def build(m, xs, a):
        return getattr(m, fn_name)(xs[0], axis=a["axis"], keepdims=a["keepdims"])
    return FuzzOp(fn_name, 1, dtypes, build, tolerance, exact_on, _axis_attrs)


SIGNED_REAL = FLOATS + SIGNED
ANYFLOAT = FLOATS + INTS + ("bool",)

OPS = [
    _unary("negative", SIGNED_REAL, exact_on=ANYFLOAT),
    _unary("abs", SIGNED_REAL, exact_on=ANYFLOAT),
    _unary("square", REAL, "rounded"),
    _unary("sign", SIGNED_REAL, exact_on=ANYFLOAT),
    _unary("floor", FLOATS, exact_on=FLOATS),
    _unary("ceil", FLOATS, exact_on=FLOATS),
    _unary("round", FLOATS, exact_on=FLOATS),
    _unary("sqrt", FLOATS, "rounded"),
    _unary("rsqrt", FLOATS, "math"),
    _unary("reciprocal", FLOATS, "rounded"),
    _unary("exp", FLOATS, "math"),
    _unary("expm1", FLOATS, "math"),
    _unary("log", FLOATS, "math"),
    _unary("log1p", FLOATS, "math"),
    _unary("tanh", FLOATS, "math"),
    _unary("sigmoid", FLOATS, "math"),
    _unary("sin", FLOATS, "math"),
    _unary("cos", FLOATS, "math"),
    _unary("relu", SIGNED_REAL, exact_on=ANYFLOAT, nn=True),
    _unary("relu6", SIGNED_REAL, exact_on=ANYFLOAT, nn=True),
    _unary("elu", FLOATS, "math", nn=True),
    _unary("selu", FLOATS, "math", nn=True),
    _unary("softplus", FLOATS, "math", nn=True),
    _unary("leaky_relu", FLOATS, "rounded", attrs=_alpha_attrs, nn=True),
    _unary("softmax", FLOATS, "sum", nn=True),
    _unary("log_softmax", FLOATS, "sum", nn=True),
    _binary("add"),
    _binary("subtract"),
    _binary("multiply"),
    _binary("div"),
    _binary("truediv"),
    _binary("floordiv"),
    _binary("floormod"),
    _binary("truncatediv", INTS + FLOATS),
    _binary("truncatemod", INTS + FLOATS),
    _binary("pow", SIGNED_REAL, "math"),
    _binary("maximum", REAL, "exact", ANYFLOAT),
    _binary("minimum", REAL, "exact", ANYFLOAT),
    _binary("squared_difference", SIGNED_REAL),
    _binary("less", REAL, "exact", ANYFLOAT),
    _binary("less_equal", REAL, "exact", ANYFLOAT),
    _binary("greater", REAL, "exact", ANYFLOAT),
    _binary("equal", ALL, "exact", ANYFLOAT),
    _binary("not_equal", ALL, "exact", ANYFLOAT),
    _binary("logical_and", ("bool",), "exact", ANYFLOAT),
    _binary("logical_xor", ("bool",), "exact", ANYFLOAT),
    _reduce("reduce_sum"),
    _reduce("reduce_mean"),
    _reduce("reduce_prod"),
    _reduce("reduce_max", REAL, "exact", ANYFLOAT),
    _reduce("reduce_min", REAL, "exact", ANYFLOAT),
    _reduce("reduce_any", ("bool",), "exact", ("bool",)),
    FuzzOp("argmax", 1, REAL, lambda m, xs, a: m.argmax(xs[0], a["axis"]), "exact", ANYFLOAT, _arg_attrs),
    FuzzOp("argmin", 1, REAL, lambda m, xs, a: m.argmin(xs[0], a["axis"]), "exact", ANYFLOAT, _arg_attrs),
    FuzzOp("cast", 1, ALL, lambda m, xs, a: m.cast(xs[0], getattr(m, a["to"])), "exact", ANYFLOAT, _cast_attrs),
    FuzzOp("where", 3, ALL, lambda m, xs, a: m.where_v2(m.cast(xs[0], m.bool), xs[1], xs[2]), "exact", ANYFLOAT),
    FuzzOp("clip_by_value", 1, REAL, lambda m, xs, a: m.clip_by_value(
        xs[0], *(np.asarray(a[k]).astype(xs[0].dtype.as_numpy_dtype) for k in ("lo", "hi"))),
        "exact", ANYFLOAT, _clip_attrs),
    FuzzOp("pad", 1, ALL, lambda m, xs, a: m.pad(xs[0], a["paddings"], a["mode"]), "exact", ANYFLOAT, _pad_attrs),
    FuzzOp("transpose", 1, ALL, lambda m, xs, a: m.transpose(xs[0]), "exact", ANYFLOAT),
    FuzzOp("reshape", 1, ALL, lambda m, xs, a: m.reshape(xs[0], [-1]), "exact", ANYFLOAT),
    FuzzOp("concat", 2, ALL, lambda m, xs, a: m.concat([xs[0], xs[1]], 0), "exact", ANYFLOAT, same_shape=True),
    FuzzOp("matmul", 2, ("float32", "float64", "int32"), lambda m, xs, a: m.matmul(xs[0], xs[1]), "sum",
           ("int32",), extra={"matmul": True}),
]
BY_NAME = {op.name: op for op in OPS}
