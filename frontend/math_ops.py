"""TF1 elementwise math (`tf.add`, `tf.exp`, `tf.nn.relu`, ...) and Tensor's operator overloads.

Each function only names the TF1 op type: what the op means is its IR
definition (`lowerflow/ir/ops/elementwise.py`).
"""
from __future__ import annotations

from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_operands, convert_to_tensor, identity
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.op_builder import apply


def _unary(op_type: str, default_name: str | None = None):
    def fn(x, name=None):
        return apply(op_type, [convert_to_tensor(x)], name=name or default_name or op_type)

    fn.__name__ = (default_name or op_type).lower()
    fn.__doc__ = f"Elementwise TF1 `{op_type}`."
    return fn


def _binary(op_type: str, default_name: str | None = None):
    def fn(x, y, name=None):
        return apply(op_type, convert_operands([x, y]), name=name or default_name or op_type)

    fn.__name__ = (default_name or op_type).lower()
    fn.__doc__ = f"Elementwise TF1 `{op_type}` with broadcasting."
    return fn


negative = neg = _unary("Neg")
abs = _unary("Abs")  # noqa: A001  (TF1 name)
square = _unary("Square")
sqrt = _unary("Sqrt")
rsqrt = _unary("Rsqrt")
exp = _unary("Exp")
expm1 = _unary("Expm1")
log = _unary("Log")
log1p = _unary("Log1p")
tanh = _unary("Tanh")
sigmoid = _unary("Sigmoid")
sin = _unary("Sin")
cos = _unary("Cos")
floor = _unary("Floor")
ceil = _unary("Ceil")
round = _unary("Round")  # noqa: A001
sign = _unary("Sign")
reciprocal = _unary("Reciprocal")
relu = _unary("Relu")
logical_not = _unary("LogicalNot")

add = _binary("AddV2", "Add")
subtract = _binary("Sub")
multiply = _binary("Mul")
floordiv = floor_div = _binary("FloorDiv", "floordiv")
floormod = mod = _binary("FloorMod")
truncatediv = _binary("TruncateDiv")
truncatemod = _binary("TruncateMod")
pow = _binary("Pow")  # noqa: A001
maximum = _binary("Maximum")
minimum = _binary("Minimum")
squared_difference = _binary("SquaredDifference")
logical_and = _binary("LogicalAnd")
logical_or = _binary("LogicalOr")
less = _binary("Less")
less_equal = _binary("LessEqual")
greater = _binary("Greater")
greater_equal = _binary("GreaterEqual")
equal = _binary("Equal")
not_equal = _binary("NotEqual")
realdiv = _binary("RealDiv")
sub = subtract
mul = multiply


def logical_xor(x, y, name: str = "LogicalXor") -> Tensor:
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


def _xor_operator(x, y, name: str = "xor") -> Tensor:
    """`x ^ y`: TF1 builds logical_xor's ops inside a scope named after the operator."""
    with name_scope(None, name, [x, y]) as scope:
        return logical_xor(x, y, name=scope)


def cast(x, dtype, name: str | None = None) -> Tensor:
    """tf.cast; a no-op (the same tensor) when the dtype already matches, as in TF1."""
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if x.dtype is dtype:
        return x
    return apply("Cast", [x], {"to": dtype.ir}, name or "Cast")


def to_float(x, name: str = "ToFloat") -> Tensor:
    return cast(x, dtypes.float32, name)


def to_int32(x, name: str = "ToInt32") -> Tensor:
    return cast(x, dtypes.int32, name)


def to_int64(x, name: str = "ToInt64") -> Tensor:
    return cast(x, dtypes.int64, name)


# TF1's _TRUEDIV_TABLE: integers become floats before a true division.
_TRUEDIV = {dtypes.int8: dtypes.float32, dtypes.uint8: dtypes.float32, dtypes.int16: dtypes.float32,
            dtypes.uint16: dtypes.float32, dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64}


def truediv(x, y, name: str | None = None) -> Tensor:
    x, y = convert_operands([x, y])
    if x.dtype is not y.dtype:
        raise TypeError(f"x and y must have the same dtype, got {x.dtype!r} != {y.dtype!r}.")
    target = _TRUEDIV.get(x.dtype)
    if target is not None:
        x, y = cast(x, target), cast(y, target)
    return apply("RealDiv", [x, y], name=name or "truediv")


def divide(x, y, name: str | None = None) -> Tensor:
    return truediv(x, y, name=name or "truediv")


def div(x, y, name: str | None = None) -> Tensor:
    """TF1's tf.div (Python 2 division): integers floor and keep their dtype (a zero divisor
    raises at run time), floats divide; `y` takes `x`'s dtype, as TF1 converts it."""
    x = convert_to_tensor(x)
    y = convert_to_tensor(y, dtype=x.dtype)
    return apply("RealDiv" if x.dtype.is_floating else "FloorDiv", [x, y], name=name or "div")


def _coordinates(condition, x, y, name: str | None) -> Tensor:
    """One-argument tf.where: the coordinates of the true elements (frontend/dynamic_ops.py)."""
    if x is not None or y is not None:
        raise ValueError("x and y must both be non-None or both be None.")
    from lowerflow.frontend.dynamic_ops import where_coordinates  # it builds on this module

    return where_coordinates(condition, name)


def where_v2(condition, x=None, y=None, name: str | None = None) -> Tensor:
    """3-argument tf.where_v2: condition, x and y broadcast together."""
    if x is None or y is None:
        return _coordinates(condition, x, y, name)
    x, y = convert_operands([x, y])
    return apply("SelectV2", [convert_to_tensor(condition), x, y], name=name or "SelectV2")


def where(condition, x=None, y=None, name: str | None = None) -> Tensor:
    """3-argument TF1 tf.where (op Select): a vector condition selects rows of x and y, as
    in TF1; other shapes broadcast (where TF1 would refuse them: a defined difference)."""
    if x is None or y is None:
        return _coordinates(condition, x, y, name)
    condition = convert_to_tensor(condition)
    x, y = convert_operands([x, y])
    rank, crank = x.shape.ndims, condition.shape.ndims
    if crank == 1 and rank is not None and rank > 1 and x.shape.is_compatible_with(y.shape):
        if not condition.shape[0:1].is_compatible_with(x.shape[0:1]):
            raise ValueError(f"Dimensions must be equal: condition {condition.shape}, x {x.shape} "
                             f"for '{name or 'Select'}' (op: 'Select')")
        from lowerflow.frontend.array_ops import reshape  # array_ops builds on this module

        condition = reshape(condition, [-1] + [1] * (rank - 1))
    return apply("SelectV2", [condition, x, y], name=name or "Select")


select = where


def clip_by_value(t, clip_value_min, clip_value_max, name: str | None = None) -> Tensor:
    """max(min(t, hi), lo) in TF1's order (lo wins when lo > hi), broadcasting; the result
    keeps `t`'s shape as TF1 requires."""
    t = convert_to_tensor(t)
    lo, hi = convert_operands([clip_value_min, clip_value_max], dtype=t.dtype)
    out = maximum(minimum(t, hi), lo, name=name or "clip_by_value")
    if not out.shape.is_compatible_with(t.shape) or out.shape.ndims != t.shape.ndims:
        raise ValueError(f"clip_by_value would change the shape {t.shape} to {out.shape}")
    return out


def add_n(inputs, name: str | None = None) -> Tensor:
    """The sum of a list of tensors of one dtype and shape (TF1's AddN, as a chain of adds)."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype and shape")
    inputs = convert_operands(list(inputs))
    for t in inputs[1:]:
        if not t.shape.is_compatible_with(inputs[0].shape):
            raise ValueError(f"All input shapes must be compatible: {inputs[0].shape} vs {t.shape}")
    if len(inputs) == 1:
        return identity(inputs[0], name=name or "AddN")
    total = inputs[0]
    for i, t in enumerate(inputs[1:], 2):
        total = add(total, t, name=(name or "AddN") if i == len(inputs) else None)
    return total


def _install_operators() -> None:
    """Tensor's Python operators, as TF1's math_ops._OverrideBinaryOperatorHelper does."""
    binary = {"add": add, "sub": subtract, "mul": multiply, "truediv": truediv, "div": truediv,
              "floordiv": floordiv, "mod": floormod, "pow": pow, "and": logical_and,
              "or": logical_or, "xor": _xor_operator}
    for name, fn in binary.items():  # TF names the op after the operator: `a + b` is "add"
        op_name = "truediv" if name == "div" else name
        setattr(Tensor, f"__{name}__", (lambda f, n: lambda self, other: f(self, other, name=n))(fn, op_name))
        setattr(Tensor, f"__r{name}__", (lambda f, n: lambda self, other: f(other, self, name=n))(fn, op_name))
    Tensor.__lt__ = lambda self, other: less(self, other)
    Tensor.__le__ = lambda self, other: less_equal(self, other)
    Tensor.__gt__ = lambda self, other: greater(self, other)
    Tensor.__ge__ = lambda self, other: greater_equal(self, other)
    Tensor.__neg__ = lambda self: negative(self)
    Tensor.__abs__ = lambda self: abs(self)
    Tensor.__invert__ = lambda self: logical_not(self)
    Tensor.__matmul__ = lambda self, other: _matmul()(self, other, name="matmul")
    Tensor.__rmatmul__ = lambda self, other: _matmul()(other, self, name="matmul")


def _matmul():
    from lowerflow.frontend.linalg_ops import matmul  # defined with the op set

    return matmul


_install_operators()
