"""TF1's `tf.nn.fused_batch_norm` and `tf.nn.local_response_normalization` (`tf.nn.lrn`), composed
from ops that already lower natively; their gradients are those of the parts.

fused_batch_norm returns (y, mean, variance) as TF1's FusedBatchNorm does: training normalizes
with the batch's biased variance but returns the unbiased one (n / (n - 1), the value moving
averages are updated with); inference normalizes with the given statistics and returns them. As
TF1's FusedBatchNormGrad, only y carries gradients (to x, scale and offset): the returned
statistics and the given mean and variance get none. `exponential_avg_factor` f < 1 returns the
running averages (1 - f) * given + f * batch instead. LRN sums the squares of each channel's
window of 2r + 1 channels as one matmul with a band matrix of ones (the products with its zeros
are exact zeros, so the sums are the window's).
"""
from __future__ import annotations

import numpy as np

from lowerflow.frontend import array_ops, dtypes
from lowerflow.frontend.core_ops import constant, convert_to_tensor, identity, stop_gradient
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.linalg_ops import matmul
from lowerflow.frontend.math_ops import add, cast, exp, log, maximum, multiply, rsqrt, square
from lowerflow.frontend.nn_ops import moments

def _check_input(x: Tensor, data_format: str, what: str) -> int:
    """The channel axis of a 4-D `x` (NHWC or NCHW), checking rank and format as TF1."""
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"Invalid data format: {data_format}")
    if x.shape.ndims not in (None, 4):
        raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims} for '{what}' with input shapes: {x.shape}.")
    return 1 if data_format == "NCHW" else 3


def _per_channel(t, depth, what: str) -> Tensor:
    t = convert_to_tensor(t, dtype=dtypes.float32)
    if t.shape.ndims != 1 or t.shape[0].value not in (None, depth):
        raise ValueError(f"{what} must be a 1-D tensor of the {depth} channels, got shape {t.shape}")
    return t


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001, data_format="NHWC",
                     is_training=True, name=None, exponential_avg_factor=1.0) -> tuple[Tensor, Tensor, Tensor]:
    """tf.nn.fused_batch_norm: (y, batch or given mean, unbiased batch or given variance)."""
    factor = float(exponential_avg_factor)
    if (not is_training or factor != 1.0) and (mean is None or variance is None):
        raise ValueError("Both `mean` and `variance` must be a 1D tensor when `is_training` is False or "
                         f"`exponential_avg_factor` != 1.0. Received: `mean` {mean!r} and `variance` {variance!r}")
    with name_scope(name, "FusedBatchNormV3", [x, scale, offset]) as scope:
        x = convert_to_tensor(x)
        axis = _check_input(x, data_format, "FusedBatchNormV3")
        depth = x.shape[axis].value
        scale, offset = _per_channel(scale, depth, "scale"), _per_channel(offset, depth, "offset")
        epsilon = float(epsilon)
        xf = cast(x, dtypes.float32)
        keep = [depth if a == axis else 1 for a in range(4)]
        if is_training:
            axes = [a for a in range(4) if a != axis]
            batch_mean, biased = moments(xf, axes)
            n = cast(array_ops.size(x), dtypes.float32) / float(depth)
            unbiased = multiply(biased, n / maximum(n - 1.0, 1.0))
            if factor == 1.0:
                mean, variance = batch_mean, unbiased
            else:  # the running averages, as TF1's kernel updates them
                mean = _per_channel(mean, depth, "mean") * (1 - factor) + batch_mean * factor
                variance = _per_channel(variance, depth, "variance") * (1 - factor) + unbiased * factor
            normalize_mean = batch_mean
        else:
            mean = stop_gradient(_per_channel(mean, depth, "mean"))
            variance = stop_gradient(_per_channel(variance, depth, "variance"))
            normalize_mean, biased = mean, variance
        inv = multiply(rsqrt(add(biased, epsilon)), scale)
        shift = offset - normalize_mean * inv
        y = add(multiply(xf, array_ops.reshape(inv, keep)), array_ops.reshape(shift, keep))
        return identity(cast(y, x.dtype), name=scope), stop_gradient(mean), stop_gradient(variance)


def local_response_normalization(input, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, name=None) -> Tensor:
    """tf.nn.local_response_normalization: x / (bias + alpha * sum of the squares of the
    channels within `depth_radius`) ** beta, over the last axis of a 4-D input."""
    with name_scope(name, "LRN", [input]) as scope:
        x = convert_to_tensor(input)
        _check_input(x, "NHWC", "LRN")
        if x.dtype not in (dtypes.float32, dtypes.float16):
            raise TypeError(f"Value passed to parameter 'input' has DataType {x.dtype.name} not in list of allowed "
                            f"values: float16, bfloat16, float32")
        depth = x.shape[3].value
        if depth is None:
            raise ValueError("lowerflow needs the channel dim of local_response_normalization's input")
        r = int(depth_radius)
        band = (np.abs(np.arange(depth)[:, None] - np.arange(depth)[None, :]) <= r).astype(np.float32)
        xf = cast(x, dtypes.float32)
        sums = matmul(array_ops.reshape(square(xf), [-1, depth]), constant(band))
        base = add(multiply(array_ops.reshape(sums, array_ops.shape(xf)), float(alpha)), float(bias))
        y = multiply(xf, exp(multiply(log(base), -float(beta))))
        return identity(cast(y, x.dtype), name=scope)


lrn = local_response_normalization
