"""`tf.train.ExponentialMovingAverage` (cf. TF1's training/moving_averages.py).

`apply(var_list)` makes one shadow variable per entry (a slot named `<var>/<ema name>`, first
holding the variable's value) and returns an op that moves each shadow towards its variable:
shadow -= (shadow - var) * (1 - decay). The variables are read where the op runs, so an
`apply` under `control_dependencies([train_op])` averages the values the step just wrote, as
TF1 does. Tensors (not variables) get zero-initialised shadows, bias-corrected when
`zero_debias` is set.
"""
from __future__ import annotations

from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_to_tensor, group, identity
from lowerflow.frontend.graph import Tensor, get_default_graph
from lowerflow.frontend.init_ops import Zeros
from lowerflow.frontend.math_ops import cast, minimum
from lowerflow.frontend.training import slot_creator
from lowerflow.frontend.variable_scope import get_variable, get_variable_scope, variable_scope
from lowerflow.frontend.variables import (
    Variable, assign, assign_sub, global_variables, trainable_variables,
)

MOVING_AVERAGE_VARIABLES = "moving_average_variables"
_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def _fresh(x) -> Tensor:
    """The current value of a variable (a read at this point of the step, so after the
    control dependencies in force) or a tensor."""
    return x._variable if isinstance(x, Variable) else convert_to_tensor(x)


def assign_moving_average(variable: Variable, value, decay, zero_debias: bool = True,
                          name=None) -> Tensor:
    """variable -= (variable - value) * (1 - decay); with zero_debias, the average of a
    zero-started shadow divided by 1 - decay^t."""
    graph = get_default_graph()
    with graph.name_scope(name or "AssignMovingAvg") as scope:
        decay = convert_to_tensor(1.0 - decay, name="decay")
        if decay.dtype is not variable.dtype.base_dtype:
            decay = cast(decay, variable.dtype.base_dtype)
        if zero_debias:
            return _zero_debias(variable, _fresh(value), decay, scope)
        return assign_sub(variable, (_fresh(variable) - _fresh(value)) * decay, name=scope)


def _zero_debias(unbiased: Variable, value: Tensor, decay: Tensor, scope: str) -> Tensor:
    with variable_scope(unbiased.op.name):
        biased = get_variable(_unique_in_scope("biased"), shape=unbiased.get_shape(),
                              dtype=unbiased.dtype, initializer=Zeros(), trainable=False)
        local_step = get_variable(_unique_in_scope("local_step"), shape=[], dtype=unbiased.dtype,
                                  initializer=Zeros(), trainable=False)
    update_biased = assign_sub(biased, (_fresh(biased) - value) * decay)
    update_local_step = local_step.assign_add(1)
    bias_factor = 1 - (1.0 - decay) ** update_local_step
    return assign(unbiased, update_biased / bias_factor, name=scope)


def _unique_in_scope(name: str) -> str:
    """`name`, or `name_N` when the current variable scope already holds it."""
    scope = get_variable_scope()
    if scope.reuse:
        return name
    taken = {v.op.name for v in global_variables()}
    full = f"{scope.name}/{name}"
    if full not in taken:
        return name
    idx = 1
    while f"{full}_{idx}" in taken:
        idx += 1
    return f"{name}_{idx}"


class ExponentialMovingAverage:
    """Shadow variables tracking exponential moving averages of variables or tensors."""

    def __init__(self, decay, num_updates=None, zero_debias: bool = False,
                 name: str = "ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict = {}

    name = property(lambda self: self._name)

    def apply(self, var_list=None):
        """Create the shadows (once) and return an op updating all of them."""
        var_list = trainable_variables() if var_list is None else list(var_list)
        debiased = set()
        graph = get_default_graph()
        for var in var_list:
            if var.dtype.base_dtype not in _FLOATS:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var not in self._averages:
                with graph.control_dependencies(None):
                    self._averages[var] = self._shadow(var, debiased)
        with graph.name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, dtype=dtypes.float32, name="decay")
            if self._num_updates is not None:
                n = cast(_fresh(self._num_updates), dtypes.float32, name="num_updates")
                decay = minimum(decay, (1.0 + n) / (10.0 + n))
            updates = [assign_moving_average(self._averages[v], v, decay,
                                             self._averages[v] in debiased) for v in var_list]
            return group(*updates, name=scope)

    def _shadow(self, var, debiased: set) -> Variable:
        if isinstance(var, Variable):
            avg = slot_creator.create_slot(var, identity(var._variable), self._name)
            get_default_graph().add_to_collection(MOVING_AVERAGE_VARIABLES, var)
            return avg
        avg = slot_creator.create_zeros_slot(var, self._name)
        if self._zero_debias:
            debiased.add(avg)
        return avg

    def average(self, var) -> Variable | None:
        return self._averages.get(var)

    def average_name(self, var) -> str:
        """The shadow's op name (the one it would get if `apply` has not made it yet)."""
        if var in self._averages:
            return self._averages[var].op.name
        return get_default_graph().unique_name(f"{var.op.name}/{self._name}", mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """A Saver name map restoring each shadow's checkpoint value into its variable."""
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + get_default_graph().get_collection(
                MOVING_AVERAGE_VARIABLES)
        averaged = list(dict.fromkeys(moving_avg_variables))
        name_map = {self.average_name(v): v for v in averaged}
        names = {v.name for v in averaged}
        for v in global_variables():
            if v.name not in names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
