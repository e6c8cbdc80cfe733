"""`tf.keras.regularizers`: weight penalties for `get_variable(regularizer=...)` and
`variable_scope(regularizer=...)` (cf. Keras's regularizers.py, whose names, defaults and
formulas these are: l1 * sum(|x|), l2 * sum(x ** 2)).
"""
from __future__ import annotations

from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Tensor
from lowerflow.frontend.math_ops import abs, multiply, square
from lowerflow.frontend.reduction_ops import reduce_sum


def _factor(value, name: str) -> float:
    """A finite float factor, as Keras validates it."""
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"Invalid value for argument {name}: expected a float. Received: {name}={value}")
    return value


def _penalty(factor: float, x: Tensor, elementwise) -> Tensor:
    return multiply(convert_to_tensor(factor, dtype=x.dtype), reduce_sum(elementwise(x)))


class Regularizer:
    """A callable from a weight tensor to a scalar penalty."""

    def __call__(self, x) -> Tensor:
        return convert_to_tensor(0.0, dtype=convert_to_tensor(x).dtype)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _factor(l1, "l1")

    def __call__(self, x) -> Tensor:
        return _penalty(self.l1, convert_to_tensor(x), abs)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _factor(l2, "l2")

    def __call__(self, x) -> Tensor:
        return _penalty(self.l2, convert_to_tensor(x), square)

    def get_config(self) -> dict:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """Both penalties; a zero factor adds no term (note the defaults are 0, as in Keras)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x) -> Tensor:
        x = convert_to_tensor(x)
        total = super().__call__(x)
        if self.l1:
            total = total + _penalty(self.l1, x, abs)
        if self.l2:
            total = total + _penalty(self.l2, x, square)
        return total

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}
