"""Elementwise ops: one line each, with the TF1 op types they stand for and numpy meaning.

Binary ops broadcast like numpy (and TF1). Operands share one dtype: the
frontend converts Python scalars to the other operand's dtype first, as TF1's
`convert_to_tensor` does, and mixed dtypes are a build-time TypeError.

The last argument of a line is its gradient rule (as TF's `math_grad.py`): a unary
rule maps (x, y, g) to x's gradient, a binary one (x, y, z, g) to both operands'
gradients before broadcasting, which `binary` sums back to each operand's shape
("lf.sum_to"). Rounding, sign and comparison ops give no gradient, as in TF.
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.opdef import (COMMUTATIVE, ELEMENTWISE, PURE, GradOp, OpDef, broadcast_shapes,
                                not_differentiable, register, same_dtype)
from lowerflow.ir.types import BOOL, ELEM_TYPES, TensorType

_EW = frozenset({ELEMENTWISE, PURE})


def _kinds(types: list[TensorType], kinds: str, name: str) -> None:
    for t in types:
        if t.dtype.kind not in kinds.split(","):
            raise TypeError(f"{name} does not support dtype {t.dtype}")


def unary(name, tf_names, fn, kinds="float,int,uint", result=None, grad=None):
    def infer(types, attrs):
        _kinds(types, kinds, name)
        return [types[0] if result is None else types[0].with_dtype(result)]

    def reference(args, attrs):
        out = np.asarray(fn(args[0]))
        return [out.astype(result.np_dtype if result else args[0].dtype, copy=False)]

    def rule(e, op: GradOp, grads):
        return [grad(e, op.inputs[0], op.outputs[0], grads[0])]

    return register(OpDef(name, infer, reference, tuple(tf_names), _EW,
                          grad=rule if grad else not_differentiable))


def binary(name, tf_names, fn, kinds="float,int,uint", result=None, commutative=False, grad=None):
    def infer(types, attrs):
        same_dtype(types)
        _kinds(types, kinds, name)
        shape = broadcast_shapes(*(t.shape for t in types))
        return [TensorType(shape, result or types[0].dtype)]

    def reference(args, attrs):
        with np.errstate(all="ignore"):
            out = np.asarray(fn(*args))
        return [out.astype(result.np_dtype if result else args[0].dtype, copy=False)]

    def rule(e, op: GradOp, grads):
        (x, y), z = op.inputs, op.outputs[0]
        return [_unbroadcast(e, g, v, z) for g, v in zip(grad(e, x, y, z, grads[0]), (x, y))]

    traits = _EW | {COMMUTATIVE} if commutative else _EW
    return register(OpDef(name, infer, reference, tuple(tf_names), traits,
                          grad=rule if grad else not_differentiable))


def _unbroadcast(e, g, operand, result):
    """`g` summed back to `operand`'s shape, unless both are known to be the result's shape."""
    if g is None:
        return None
    shape = e.shape(operand)
    if shape is not None and None not in shape and shape == e.shape(result):
        return g
    return e("lf.sum_to", g, operand)


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


def _c(e, v, like):
    return e.const(v, like)


def _mask(e, cond, g):
    """g where cond holds, else 0 (TF's ReluGrad and Maximum/Minimum masks)."""
    return e("lf.select", cond, g, e("lf.fill_like", g, value=0))


unary("lf.neg", ["Neg"], np.negative, SIGNED, grad=lambda e, x, y, g: e("lf.neg", g))
unary("lf.abs", ["Abs"], np.abs, SIGNED, grad=lambda e, x, y, g: e("lf.mul", g, e("lf.sign", x)))
unary("lf.square", ["Square"], np.square, grad=lambda e, x, y, g: e("lf.mul", g, e("lf.mul", x, _c(e, 2, x))))
unary("lf.sqrt", ["Sqrt"], _ew(np.sqrt), FLOAT, grad=lambda e, x, y, g: e("lf.div", e("lf.mul", g, _c(e, 0.5, y)), y))
unary("lf.rsqrt", ["Rsqrt"], _ew(lambda x: 1 / np.sqrt(x)), FLOAT,
      grad=lambda e, x, y, g: e("lf.mul", e("lf.mul", g, _c(e, -0.5, y)), e("lf.mul", y, e("lf.square", y))))
unary("lf.exp", ["Exp"], _ew(np.exp), FLOAT, grad=lambda e, x, y, g: e("lf.mul", g, y))
unary("lf.expm1", ["Expm1"], _ew(np.expm1), FLOAT, grad=lambda e, x, y, g: e("lf.mul", g, e("lf.exp", x)))
unary("lf.log", ["Log"], _ew(np.log), FLOAT, grad=lambda e, x, y, g: e("lf.mul", g, e("lf.reciprocal", x)))
unary("lf.log1p", ["Log1p"], _ew(np.log1p), FLOAT,
      grad=lambda e, x, y, g: e("lf.mul", g, e("lf.reciprocal", e("lf.add", x, _c(e, 1, x)))))
unary("lf.tanh", ["Tanh"], np.tanh, FLOAT,
      grad=lambda e, x, y, g: e("lf.mul", g, e("lf.sub", _c(e, 1, y), e("lf.square", y))))
unary("lf.sigmoid", ["Sigmoid"], _sigmoid, FLOAT,
      grad=lambda e, x, y, g: e("lf.mul", g, e("lf.mul", y, e("lf.sub", _c(e, 1, y), y))))
unary("lf.sin", ["Sin"], np.sin, FLOAT, grad=lambda e, x, y, g: e("lf.mul", g, e("lf.cos", x)))
unary("lf.cos", ["Cos"], np.cos, FLOAT, grad=lambda e, x, y, g: e("lf.neg", e("lf.mul", g, e("lf.sin", x))))
unary("lf.floor", ["Floor"], np.floor, FLOAT)
unary("lf.ceil", ["Ceil"], np.ceil, FLOAT)
unary("lf.round", ["Round"], np.round, FLOAT)
unary("lf.sign", ["Sign"], np.sign, SIGNED, grad=lambda e, x, y, g: e("lf.fill_like", x, value=0))
unary("lf.reciprocal", ["Reciprocal", "Inv"], _ew(lambda x: 1 / x), FLOAT,
      grad=lambda e, x, y, g: e("lf.neg", e("lf.mul", g, e("lf.square", y))))
unary("lf.relu", ["Relu"], lambda x: np.maximum(x, 0), SIGNED,
      grad=lambda e, x, y, g: _mask(e, e("lf.gt", y, _c(e, 0, y)), g))
unary("lf.not", ["LogicalNot"], np.logical_not, "bool")


def _div_grad(e, x, y, z, g):
    return e("lf.div", g, y), e("lf.neg", e("lf.mul", g, e("lf.div", e("lf.div", x, y), y)))


def _pow_grad(e, x, y, z, g):
    """TF's _PowGrad: d/dy is z*log(x) where x > 0, else 0."""
    gx = e("lf.mul", g, e("lf.mul", y, e("lf.pow", x, e("lf.sub", y, _c(e, 1, y)))))
    positive = e("lf.gt", x, _c(e, 0, x))
    safe_log = e("lf.log", e("lf.select", positive, x, e("lf.fill_like", x, value=1)))
    return gx, e("lf.mul", g, e("lf.mul", z, e("lf.select", positive, safe_log, e("lf.fill_like", x, value=0))))


def _extreme_grad(compare):
    """Maximum/Minimum: the gradient goes to x where x wins (ties included), else to y."""
    def grad(e, x, y, z, g):
        wins = e(compare, x, y)
        zeros = e("lf.fill_like", g, value=0)
        return e("lf.select", wins, g, zeros), e("lf.select", wins, zeros, g)
    return grad


def _squared_difference_grad(e, x, y, z, g):
    scaled = e("lf.mul", g, e("lf.mul", e("lf.sub", x, y), _c(e, 2, x)))
    return scaled, e("lf.neg", scaled)


def _mod_grad(e, x, y, z, g):
    """FloorMod: x - floor(x / y) * y."""
    return g, e("lf.mul", g, e("lf.neg", e("lf.floor", e("lf.div", x, y))))


binary("lf.add", ["AddV2", "Add"], np.add, commutative=True, grad=lambda e, x, y, z, g: (g, g))
binary("lf.sub", ["Sub"], np.subtract, grad=lambda e, x, y, z, g: (g, e("lf.neg", g)))
binary("lf.mul", ["Mul"], np.multiply, commutative=True, grad=lambda e, x, y, z, g: (e("lf.mul", g, y), e("lf.mul", x, g)))
binary("lf.div", ["RealDiv", "Div"], _div, grad=_div_grad)
binary("lf.floordiv", ["FloorDiv"], _floordiv)
binary("lf.mod", ["FloorMod"], _mod, grad=_mod_grad)
binary("lf.truncdiv", ["TruncateDiv"], _truncdiv)
binary("lf.truncmod", ["TruncateMod"], _truncmod)
binary("lf.pow", ["Pow"], _pow, SIGNED, grad=_pow_grad)  # TF has no unsigned Pow kernel
binary("lf.max", ["Maximum"], np.maximum, grad=_extreme_grad("lf.ge"))  # not commutative bit for bit:
binary("lf.min", ["Minimum"], np.minimum, grad=_extreme_grad("lf.le"))  # max(-0.0, 0.0) is 0.0, max(0.0, -0.0) -0.0
binary("lf.squared_difference", ["SquaredDifference"], lambda x, y: np.square(x - y), commutative=True,
       grad=_squared_difference_grad)
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


def _cast_grad(e, op: GradOp, grads):
    """Float to float casts pass the gradient back in the source dtype; others give none."""
    (x,), g = op.inputs, grads[0]
    float_path = e.dtype(x).is_float and e.dtype(g).is_float
    return [e("lf.cast", g, to=e.dtype(x)) if float_path else None]


register(OpDef("lf.cast", _cast_infer, _cast_reference, ("Cast",), _EW, ("to",), grad=_cast_grad))


def _select_infer(types, attrs):
    cond, x, y = types
    if not cond.dtype.is_bool:
        raise TypeError(f"select condition must be bool, got {cond.dtype}")
    same_dtype([x, y])
    return [TensorType(broadcast_shapes(cond.shape, x.shape, y.shape), x.dtype)]


def _select_grad(e, op: GradOp, grads):
    (cond, x, y), g = op.inputs, grads[0]
    zeros = e("lf.fill_like", g, value=0)
    return [None, e("lf.sum_to", e("lf.select", cond, g, zeros), x),
            e("lf.sum_to", e("lf.select", cond, zeros, g), y)]


register(OpDef("lf.select", _select_infer, lambda a, at: [np.where(a[0], a[1], a[2])],
               ("SelectV2",), _EW, grad=_select_grad))
