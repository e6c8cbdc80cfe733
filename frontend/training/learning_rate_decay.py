"""TF1's learning-rate schedules (`tf.train.exponential_decay`, ...): scalar graph ops of the
global step (cf. TF1's legacy_learning_rate_decay.py and its schedule classes).

Each schedule computes in the dtype of the initial learning rate (a Python float is float32),
with the step and the other parameters cast to it the way TF1 casts them, so a fed or
incremented global step changes the rate inside the same native step.
"""
from __future__ import annotations

import math

from lowerflow.frontend.core_ops import constant, convert_to_tensor
from lowerflow.frontend.graph import Tensor, get_default_graph
from lowerflow.frontend.math_ops import (
    add, cast, ceil, cos, divide, equal, exp, floor, minimum, multiply, negative, where,
)
from lowerflow.frontend import dtypes, math_ops


def _prologue(learning_rate, global_step) -> tuple[Tensor, Tensor]:
    """The initial rate as a tensor and the step cast to its dtype."""
    lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
    return lr, cast(global_step, lr.dtype)


def _exponential(learning_rate, global_step, decay_steps, decay_rate, staircase, name,
                 default) -> Tensor:
    with get_default_graph().name_scope(name or default) as scope:
        lr, step = _prologue(learning_rate, global_step)
        p = step / cast(decay_steps, lr.dtype)
        if staircase:
            p = floor(p)
        return multiply(lr, math_ops.pow(cast(decay_rate, lr.dtype), p), name=scope)


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None) -> Tensor:
    """learning_rate * decay_rate ^ (global_step / decay_steps), the exponent floored if staircase."""
    return _exponential(learning_rate, global_step, decay_steps, decay_rate, staircase, name,
                        "ExponentialDecay")


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None) -> Tensor:
    """learning_rate * exp(-decay_rate * global_step / decay_steps)."""
    rate = exp(negative(decay_rate))
    return _exponential(learning_rate, global_step, decay_steps, rate, staircase, name,
                        "ExponentialDecay")


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None) -> Tensor:
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    with get_default_graph().name_scope(name or "InverseTimeDecay") as scope:
        lr, step = _prologue(learning_rate, global_step)
        p = step / cast(decay_steps, lr.dtype)
        if staircase:
            p = floor(p)
        denom = add(cast(constant(1), lr.dtype), multiply(cast(decay_rate, lr.dtype), p))
        return divide(lr, denom, name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0,
                     cycle=False, name=None) -> Tensor:
    """(lr - end) * (1 - step / decay_steps) ^ power + end, the step clamped at decay_steps,
    or with `cycle` the horizon stretched to the next multiple of decay_steps."""
    with get_default_graph().name_scope(name or "PolynomialDecay") as scope:
        lr, step = _prologue(learning_rate, global_step)
        end = cast(end_learning_rate, lr.dtype)
        power = cast(power, lr.dtype)
        horizon = cast(decay_steps, lr.dtype)
        if cycle:
            multiplier = where(equal(step, 0), 1.0, ceil(step / decay_steps))
            horizon = multiply(horizon, multiplier)
        else:
            step = minimum(step, horizon)
        p = divide(step, horizon)
        return add(multiply(lr - end, math_ops.pow(1 - p, power)), end, name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None) -> Tensor:
    """learning_rate * ((1 - alpha) * (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2 + alpha)."""
    with get_default_graph().name_scope(name or "CosineDecay"):
        lr, step = _prologue(learning_rate, global_step)
        horizon = cast(decay_steps, lr.dtype)
        fraction = minimum(step, horizon) / horizon
        cosine = 0.5 * (1.0 + cos(constant(math.pi) * fraction))
        return multiply(lr, (1 - alpha) * cosine + alpha)


def piecewise_constant(x, boundaries, values, name=None) -> Tensor:
    """values[i] where boundaries[i-1] < x <= boundaries[i] (values[0] up to the first
    boundary, values[-1] past the last)."""
    boundaries = [convert_to_tensor(b) for b in _flat(boundaries)]
    values = [convert_to_tensor(v) for v in _flat(values)]
    x = convert_to_tensor(x)
    for i, b in enumerate(boundaries):
        if b.dtype is not x.dtype:
            if b.dtype is dtypes.int32 and x.dtype is dtypes.int64:
                boundaries[i] = cast(b, x.dtype)
            else:
                raise ValueError(f"Boundaries ({b.dtype}) must have the same dtype as x ({x.dtype}).")
    for v in values[1:]:
        if v.dtype is not values[0].dtype:
            raise ValueError(f"Values must have elements all with the same dtype "
                             f"({values[0].dtype} vs {v.dtype}).")
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with get_default_graph().name_scope(name or "PiecewiseConstant"):
        result = values[-1]
        for b, v in zip(reversed(boundaries), reversed(values[:-1])):
            result = where(x <= b, v, result)
        return result


piecewise_constant_decay = piecewise_constant


def _flat(values) -> list:
    return list(values) if isinstance(values, (list, tuple)) else [values]
