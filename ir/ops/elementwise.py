"""Elementwise ops: one line each, with the TF1 op types they stand for and numpy meaning.

Binary ops broadcast like numpy (and TF1). Operands share one dtype: the
frontend converts Python scalars to the other operand's dtype first, as TF1's
`convert_to_tensor` does, and mixed dtypes are a build-time TypeError.
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.opdef import COMMUTATIVE, ELEMENTWISE, PURE, OpDef, broadcast_shapes, register, same_dtype
from lowerflow.ir.types import BOOL, ELEM_TYPES, TensorType

_EW = frozenset({ELEMENTWISE, PURE})


def _kinds(types: list[TensorType], kinds: str, name: str) -> None:
    for t in types:
        if t.dtype.kind not in kinds.split(","):
            raise TypeError(f"{name} does not support dtype {t.dtype}")


def unary(name, tf_names, fn, kinds="float,int,uint", result=None):
    def infer(types, attrs):
        _kinds(types, kinds, name)
        return [types[0] if result is None else types[0].with_dtype(result)]

    def reference(args, attrs):
        out = np.asarray(fn(args[0]))
        return [out.astype(result.np_dtype if result else args[0].dtype, copy=False)]

    return register(OpDef(name, infer, reference, tuple(tf_names), _EW))


def binary(name, tf_names, fn, kinds="float,int,uint", result=None, commutative=False):
    def infer(types, attrs):
        same_dtype(types)
        _kinds(types, kinds, name)
        shape = broadcast_shapes(*(t.shape for t in types))
        return [TensorType(shape, result or types[0].dtype)]

    def reference(args, attrs):
        with np.errstate(all="ignore"):
            out = np.asarray(fn(*args))
        return [out.astype(result.np_dtype if result else args[0].dtype, copy=False)]

    traits = _EW | {COMMUTATIVE} if commutative else _EW
    return register(OpDef(name, infer, reference, tuple(tf_names), traits))


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _int_divisor(x, y):
    """Integer kernels of TF's division family raise on a zero divisor, and so does this
    reference: constant folding then leaves the op to the run, which raises the same error."""
    if x.dtype.kind in "iu" and np.broadcast(x, y).size and not np.all(y):
        raise ZeroDivisionError("Integer division by zero")


def _c_quotient(x, y):
    """C's truncating integer quotient, exact for every int64 (INT_MIN / -1 wraps)."""
    q = np.floor_divide(x, y)
    return q + ((np.remainder(x, y) != 0) & ((x < 0) != (y < 0))).astype(q.dtype)


def _div(x, y):
    """RealDiv/Div: true division of floats; C-style integer division (TF's Div on integers)."""
    _int_divisor(x, y)
    return x / y if x.dtype.kind == "f" else _c_quotient(x, y)


def _floordiv(x, y):
    _int_divisor(x, y)
    return np.floor_divide(x, y) if x.dtype.kind != "f" else np.floor(x / y)


def _mod(x, y):
    _int_divisor(x, y)
    return np.mod(x, y)


def _truncdiv(x, y):
    """TruncateDiv: the quotient rounded toward zero (floats too)."""
    _int_divisor(x, y)
    return np.trunc(x / y) if x.dtype.kind == "f" else _c_quotient(x, y)


def _truncmod(x, y):
    """TruncateMod: C's remainder, with the dividend's sign (fmod for floats)."""
    _int_divisor(x, y)
    return np.fmod(x, y)


def _pow(x, y):
    if x.dtype.kind == "i" and np.broadcast(x, y).size and np.any(y < 0):
        raise ValueError("Integers to negative integer powers are not allowed")
    return np.power(x, y)


def _ew(fn):
    """Wrap a numpy ufunc so float warnings (log(0), 0/0) stay quiet like TF."""
    def call(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    return call


FLOAT, SIGNED, ANY = "float", "float,int", "float,int,uint,bool"

unary("lf.neg", ["Neg"], np.negative, SIGNED)
unary("lf.abs", ["Abs"], np.abs, SIGNED)
unary("lf.square", ["Square"], np.square)
unary("lf.sqrt", ["Sqrt"], _ew(np.sqrt), FLOAT)
unary("lf.rsqrt", ["Rsqrt"], _ew(lambda x: 1 / np.sqrt(x)), FLOAT)
unary("lf.exp", ["Exp"], _ew(np.exp), FLOAT)
unary("lf.expm1", ["Expm1"], _ew(np.expm1), FLOAT)
unary("lf.log", ["Log"], _ew(np.log), FLOAT)
unary("lf.log1p", ["Log1p"], _ew(np.log1p), FLOAT)
unary("lf.tanh", ["Tanh"], np.tanh, FLOAT)
unary("lf.sigmoid", ["Sigmoid"], _sigmoid, FLOAT)
unary("lf.sin", ["Sin"], np.sin, FLOAT)
unary("lf.cos", ["Cos"], np.cos, FLOAT)
unary("lf.floor", ["Floor"], np.floor, FLOAT)
unary("lf.ceil", ["Ceil"], np.ceil, FLOAT)
unary("lf.round", ["Round"], np.round, FLOAT)
unary("lf.sign", ["Sign"], np.sign, SIGNED)
unary("lf.reciprocal", ["Reciprocal", "Inv"], _ew(lambda x: 1 / x), FLOAT)
unary("lf.relu", ["Relu"], lambda x: np.maximum(x, 0), SIGNED)
unary("lf.not", ["LogicalNot"], np.logical_not, "bool")

binary("lf.add", ["Add", "AddV2"], np.add, commutative=True)
binary("lf.sub", ["Sub"], np.subtract)
binary("lf.mul", ["Mul"], np.multiply, commutative=True)
binary("lf.div", ["RealDiv", "Div"], _div)
binary("lf.floordiv", ["FloorDiv"], _floordiv)
binary("lf.mod", ["FloorMod"], _mod)
binary("lf.truncdiv", ["TruncateDiv"], _truncdiv)
binary("lf.truncmod", ["TruncateMod"], _truncmod)
binary("lf.pow", ["Pow"], _pow, SIGNED)  # TF has no unsigned Pow kernel
binary("lf.max", ["Maximum"], np.maximum)  # not commutative bit for bit: max(-0.0, 0.0) is 0.0,
binary("lf.min", ["Minimum"], np.minimum)  # max(0.0, -0.0) is -0.0 (likewise min)
binary("lf.squared_difference", ["SquaredDifference"], lambda x, y: np.square(x - y), commutative=True)
binary("lf.and", ["LogicalAnd"], np.logical_and, "bool", commutative=True)
binary("lf.or", ["LogicalOr"], np.logical_or, "bool", commutative=True)
binary("lf.lt", ["Less"], np.less, result=BOOL)
binary("lf.le", ["LessEqual"], np.less_equal, result=BOOL)
binary("lf.gt", ["Greater"], np.greater, result=BOOL)
binary("lf.ge", ["GreaterEqual"], np.greater_equal, result=BOOL)
binary("lf.eq", ["Equal"], np.equal, ANY, result=BOOL, commutative=True)
binary("lf.ne", ["NotEqual"], np.not_equal, ANY, result=BOOL, commutative=True)


def _cast_infer(types, attrs):
    to = attrs["to"]
    if isinstance(to, str):
        to = ELEM_TYPES[to]
    return [types[0].with_dtype(to)]


def _cast_reference(args, attrs):
    with np.errstate(all="ignore"):
        return [args[0].astype(attrs["to"].np_dtype)]


register(OpDef("lf.cast", _cast_infer, _cast_reference, ("Cast",), _EW, ("to",)))


def _select_infer(types, attrs):
    cond, x, y = types
    if not cond.dtype.is_bool:
        raise TypeError(f"select condition must be bool, got {cond.dtype}")
    same_dtype([x, y])
    return [TensorType(broadcast_shapes(cond.shape, x.shape, y.shape), x.dtype)]


register(OpDef("lf.select", _select_infer, lambda a, at: [np.where(a[0], a[1], a[2])],
               ("SelectV2",), _EW))
