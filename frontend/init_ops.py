"""TF1 initializers (`tf.zeros_initializer`, ..., `tf.glorot_uniform_initializer`), as in
TF1's init_ops.py: objects called as `init(shape, dtype=None, partition_info=None)`
that build the ops of an initial value. `tf.get_variable` calls them inside the
variable's "Initializer" name scope; the random ones draw through `random_ops`.
The Keras variants only change defaults (Keras 1.x draws with stddev 0.05).
"""
from __future__ import annotations

import math

import numpy as np

from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import constant
from lowerflow.frontend.graph import Tensor
from lowerflow.frontend.random_ops import random_normal, random_uniform, truncated_normal
from lowerflow.frontend.tensor_shape import as_shape

# Stddev of a unit normal truncated to [-2, 2]: VarianceScaling divides by it.
_TRUNCATED_STDDEV = 0.87962566103423978


def _float_dtype(dtype) -> dtypes.DType:
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


class Initializer:
    """Base class: `__call__(shape, dtype, partition_info)` makes the initial-value tensor."""

    dtype: dtypes.DType

    def __call__(self, shape, dtype=None, partition_info=None) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)


class Constant(Initializer):
    """tf.constant_initializer: `value` (a scalar or data matching the shape)."""

    op_name = "Const"

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape: bool = False):
        self.value, self.dtype, self.verify_shape = value, dtypes.as_dtype(dtype), verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None) -> Tensor:
        verify = self.verify_shape if verify_shape is None else verify_shape
        return constant(self.value, dtype or self.dtype, as_shape(shape).as_list(), self.op_name, verify)

    def get_config(self) -> dict:
        return {"value": self.value, "dtype": self.dtype.name, "verify_shape": self.verify_shape}


class Zeros(Constant):
    """tf.zeros_initializer (any dtype, bool included: the value is an array, not Python 0)."""

    op_name = "zeros"

    def __init__(self, dtype=dtypes.float32):
        super().__init__(np.zeros(()), dtype)

    def get_config(self) -> dict:
        return {"dtype": self.dtype.name}


class Ones(Zeros):
    """tf.ones_initializer."""

    op_name = "ones"

    def __init__(self, dtype=dtypes.float32):
        Constant.__init__(self, np.ones(()), dtype)


class _Random(Initializer):
    """A random initializer: `draw(shape, dtype)` with the initializer's parameters."""

    def __init__(self, seed=None, dtype=dtypes.float32, **params):
        self.seed, self.dtype, self.params = seed, _float_dtype(dtype), params

    def __call__(self, shape, dtype=None, partition_info=None) -> Tensor:
        return self.draw(as_shape(shape).as_list(), _float_dtype(dtype or self.dtype))

    def draw(self, shape: list, dtype: dtypes.DType) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {**self.params, "seed": self.seed, "dtype": self.dtype.name}


class RandomNormal(_Random):
    """tf.random_normal_initializer."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        super().__init__(seed, dtype, mean=mean, stddev=stddev)

    def draw(self, shape, dtype):
        return random_normal(shape, self.params["mean"], self.params["stddev"], dtype, seed=self.seed)


class TruncatedNormal(RandomNormal):
    """tf.truncated_normal_initializer."""

    def draw(self, shape, dtype):
        return truncated_normal(shape, self.params["mean"], self.params["stddev"], dtype, seed=self.seed)


class RandomUniform(_Random):
    """tf.random_uniform_initializer: [minval, maxval), maxval 1 when not given."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32):
        super().__init__(seed, dtype, minval=minval, maxval=maxval)

    def draw(self, shape, dtype):
        return random_uniform(shape, self.params["minval"], self.params["maxval"], dtype, seed=self.seed)


def compute_fans(shape: list) -> tuple[float, float]:
    """(fan_in, fan_out) as TF1 counts them: dense [in, out], convolutions [..., in, out]."""
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class VarianceScaling(_Random):
    """tf.variance_scaling_initializer: variance `scale / fan` for the chosen fan."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.0:
            raise ValueError("`scale` must be positive float.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}")
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        super().__init__(seed, dtype, scale=scale, mode=mode, distribution=distribution)

    def draw(self, shape, dtype):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.params["mode"]]
        scale = self.params["scale"] / max(1.0, fan)
        distribution = self.params["distribution"]
        if distribution in ("normal", "truncated_normal"):
            return truncated_normal(shape, 0.0, math.sqrt(scale) / _TRUNCATED_STDDEV, dtype, seed=self.seed)
        if distribution == "untruncated_normal":
            return random_normal(shape, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_uniform(shape, -limit, limit, dtype, seed=self.seed)


class GlorotUniform(VarianceScaling):
    """tf.glorot_uniform_initializer (Xavier): uniform with variance 2 / (fan_in + fan_out)."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(GlorotUniform):
    """tf.glorot_normal_initializer: truncated normal with variance 2 / (fan_in + fan_out)."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        VarianceScaling.__init__(self, 1.0, "fan_avg", "truncated_normal", seed, dtype)


def he_normal(seed=None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


class KerasRandomNormal(RandomNormal):
    """tf.keras.initializers.RandomNormal: TF1's class with Keras's stddev 0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None, dtype=dtypes.float32):
        super().__init__(mean, stddev, seed, dtype)


class KerasTruncatedNormal(TruncatedNormal):
    """tf.keras.initializers.TruncatedNormal: stddev 0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None, dtype=dtypes.float32):
        super().__init__(mean, stddev, seed, dtype)


class KerasRandomUniform(RandomUniform):
    """tf.keras.initializers.RandomUniform: [-0.05, 0.05)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None, dtype=dtypes.float32):
        super().__init__(minval, maxval, seed, dtype)
