"""TF1 `tf.nn` activations, softmax and moments, composed from elementwise ops and reductions
as TF1's python layer composes its own (cf. TF1's nn_ops.py / nn_impl.py).

Each function opens a name scope named after the TF1 op (or `name`) and gives its
result op that exact name, so `tf.nn.softmax(x, name="p")` is fetchable as "p:0"
like TF1's single op. Softmax and its relatives subtract the row max before exp:
stable for large logits, NaN for a row with no finite maximum, as in TF1's kernels. The
losses are in nn_losses.py.
"""
from __future__ import annotations

import numpy as np

from lowerflow.frontend import dtypes
from lowerflow.frontend.array_ops import reshape
from lowerflow.frontend.core_ops import convert_operands, convert_to_tensor, stop_gradient
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.math_ops import (  # TF1 names, `abs` included
    abs, add, cast, exp, expm1, greater, log, log1p, maximum, minimum, multiply, negative, not_equal,
    reciprocal, rsqrt, square, squared_difference, subtract, where_v2,
)
from lowerflow.frontend.op_builder import _shape_str
from lowerflow.frontend.reduction_ops import deprecated_argument_lookup, reduce_max, reduce_mean, reduce_sum


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def relu6(features, name=None) -> Tensor:
    """min(max(x, 0), 6)."""
    with name_scope(name, "Relu6", [features]) as scope:
        x = convert_to_tensor(features)
        return minimum(maximum(x, 0), 6, name=scope)


def elu(features, name=None) -> Tensor:
    """x where x > 0, else exp(x) - 1."""
    with name_scope(name, "Elu", [features]) as scope:
        x = convert_to_tensor(features)
        return where_v2(greater(x, 0), x, expm1(x), name=scope)


def selu(features, name=None) -> Tensor:
    """scale * elu(x) with alpha, the self-normalising constants of Klambauer et al."""
    with name_scope(name, "Selu", [features]) as scope:
        x = convert_to_tensor(features)
        negative_part = multiply(expm1(x), SELU_ALPHA)
        return multiply(where_v2(greater(x, 0), x, negative_part), SELU_SCALE, name=scope)


def softplus(features, name=None) -> Tensor:
    """log(1 + exp(x)) computed as max(x, 0) + log1p(exp(-|x|)), which never overflows."""
    with name_scope(name, "Softplus", [features]) as scope:
        x = convert_to_tensor(features)
        return add(maximum(x, 0), log1p(exp(negative(abs(x)))), name=scope)


def leaky_relu(features, alpha=0.2, name=None) -> Tensor:
    """x where x > 0, else alpha * x; integer inputs become float32 first, as in TF1."""
    with name_scope(name, "LeakyRelu", [features, alpha]) as scope:
        x = convert_to_tensor(features)
        if x.dtype.is_integer:
            x = cast(x, dtypes.float32)
        if not isinstance(alpha, Tensor):  # TF's LeakyRelu holds alpha as a float32 attribute
            alpha = float(np.float32(alpha))
        return where_v2(greater(x, 0), x, multiply(x, alpha), name=scope)


_FLOATS = "float16, bfloat16, float32, float64"


def check_float(t: Tensor, parameter: str) -> None:
    """TF's op-definition check of a float-only input, in its words."""
    if not t.dtype.is_floating:
        raise TypeError(f"Value passed to parameter '{parameter}' has DataType {t.dtype.name} not in "
                        f"list of allowed values: {_FLOATS}")


def shifted_logits(logits, axis) -> Tensor:
    """logits - max(logits) along `axis`: the stable argument of exp. The max is a constant
    to differentiation (the results do not depend on it), so gradients skip its rule."""
    x = convert_to_tensor(logits)
    check_float(x, "logits")
    return subtract(x, reduce_max(stop_gradient(x), axis, keepdims=True))


def softmax(logits, axis=None, name=None, dim=None) -> Tensor:
    """exp(x - max) * (1 / sum(exp(x - max))) along `axis` (default the last): TF's CPU
    kernel multiplies by the sum's inverse too (softmax_op_functor.h).

    float32 rows holding NaN or +-inf come out as TF's (oneDNN) float32 kernel gives them:
    the max ignores NaN, and where exp(x - max) has a NaN (x NaN, or inf - inf) the sum
    counts as infinite, so the other entries are 0 ([1, inf, 2] -> [0, nan, 0])."""
    axis = _axis(axis, dim)
    with name_scope(name, "Softmax", [logits]) as scope:
        x = convert_to_tensor(logits)
        if x.dtype is not dtypes.float32:
            e = exp(shifted_logits(x, axis))
            return multiply(e, reciprocal(reduce_sum(e, axis, keepdims=True)), name=scope)
        peak = reduce_max(where_v2(not_equal(x, x), float("-inf"), x), axis, keepdims=True)
        e = exp(subtract(x, peak))
        total = reduce_sum(e, axis, keepdims=True)
        inverse = where_v2(not_equal(total, total), 0.0, reciprocal(total))
        return multiply(e, inverse, name=scope)


def log_softmax(logits, axis=None, name=None, dim=None) -> Tensor:
    """(x - max) - log(sum(exp(x - max))) along `axis` (default the last)."""
    axis = _axis(axis, dim)
    with name_scope(name, "LogSoftmax", [logits]) as scope:
        shifted = shifted_logits(logits, axis)
        return subtract(shifted, log(reduce_sum(exp(shifted), axis, keepdims=True)), name=scope)


def _axis(axis, dim) -> int:
    axis = deprecated_argument_lookup(axis, "axis", dim, "dim")
    return -1 if axis is None else axis


def bias_add(value, bias, data_format=None, name=None) -> Tensor:
    """value + bias, `bias` 1-D along the channel dim: the last one (NHWC) or dim 1 (NCHW),
    as TF1's BiasAdd checks it."""
    if data_format not in (None, "NHWC", "N..C", "NCHW", "NC.."):
        raise ValueError(f"data_format must be NHWC or NCHW, got {data_format!r}")
    first = data_format in ("NCHW", "NC..")
    with name_scope(name, "BiasAdd", [value, bias]) as scope:
        value, bias = convert_operands([value, bias])
        _check_bias(value, bias, scope, 1 if first else -1)
        if first and value.shape.ndims is None:
            raise ValueError("bias_add with data_format NCHW needs the value's rank when the graph is built")
        if first and value.shape.ndims > 2:
            bias = reshape(bias, [-1] + [1] * (value.shape.ndims - 2))
        return add(value, bias, name=scope)


def _check_bias(value: Tensor, bias: Tensor, scope: str, axis: int) -> None:
    """TF1's BiasAdd shape function, in its words."""
    where_ = f" for '{scope.rstrip('/')}' (op: 'BiasAdd') with input shapes: {_shape_str(value)}, {_shape_str(bias)}."
    rank, bias_rank = value.shape.ndims, bias.shape.ndims
    if rank is not None and rank < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {rank}{where_}")
    if bias_rank is not None and bias_rank != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {bias_rank}{where_}")
    if rank is not None and bias_rank is not None:
        channels, size = value.shape[axis].value, bias.shape[0].value
        if channels is not None and size is not None and channels != size:
            raise ValueError(f"Dimensions must be equal, but are {channels} and {size}{where_}")


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None) -> Tensor:
    """x / sqrt(max(sum(x**2), epsilon)) along `axis` (default: all axes)."""
    axis = deprecated_argument_lookup(axis, "axis", dim, "dim")
    with name_scope(name, "l2_normalize", [x]) as scope:
        x = convert_to_tensor(x)
        square_sum = reduce_sum(square(x), axis, keepdims=True)
        return multiply(x, rsqrt(maximum(square_sum, epsilon)), name=scope)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None) -> tuple[Tensor, Tensor]:
    """(mean, variance) over `axes`; float16 is computed in float32, as in TF1."""
    keepdims = bool(deprecated_argument_lookup(keepdims, "keepdims", keep_dims, "keep_dims"))
    with name_scope(name, "moments", [x, axes]):
        x = convert_to_tensor(x)
        y = cast(x, dtypes.float32) if x.dtype is dtypes.float16 else x
        mean = reduce_mean(y, axes, keepdims=True, name="mean")
        variance = reduce_mean(squared_difference(y, stop_gradient(mean)), axes, keepdims=keepdims,
                               name="variance")
        if not keepdims:  # TF1 squeezes; the same reduction without kept dims needs no reshape
            mean = reduce_mean(y, axes)
        return cast(mean, x.dtype), cast(variance, x.dtype)
