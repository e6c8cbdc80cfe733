"""Slot variables: per-variable optimizer state named after its primary (cf. TF1's
training/slot_creator.py).

A slot of `w` made with op name "Adam" is the variable `w/Adam` (then `w/Adam_1`, ... as the
variable scope `w/Adam` is reopened), created through `get_variable` in the current variable
scope, so its name ignores name scopes exactly as TF1's does. Slots are not trainable and live
in GLOBAL_VARIABLES: `global_variables_initializer` initialises them and `Saver` saves them.
"""
from __future__ import annotations

from lowerflow.frontend.graph import Tensor
from lowerflow.frontend.init_ops import Zeros
from lowerflow.frontend.variable_scope import get_variable, variable_scope
from lowerflow.frontend.variables import Variable


def _prefix(primary) -> str:
    return primary.op.name


def _create(primary, name: str, **kwargs) -> Variable:
    with variable_scope(None, default_name=f"{_prefix(primary)}/{name}"):
        return get_variable("", trainable=False, **kwargs)


def create_slot(primary, val: Tensor, name: str) -> Variable:
    """A slot of `primary` whose initial value is the tensor `val`."""
    return _create(primary, name, initializer=val, validate_shape=val.shape.is_fully_defined())


def create_slot_with_initializer(primary, initializer, shape, dtype, name: str) -> Variable:
    """A slot of `primary` made by `initializer(shape, dtype)`."""
    return _create(primary, name, initializer=initializer, shape=shape, dtype=dtype)


def create_zeros_slot(primary, name: str, dtype=None) -> Variable:
    """A slot of `primary`'s shape filled with zeros."""
    shape = primary.get_shape()
    if not shape.is_fully_defined():
        raise ValueError(f"Cannot create a slot for '{_prefix(primary)}': its shape {shape} "
                         "is not fully defined")
    return create_slot_with_initializer(primary, Zeros(), shape, dtype or primary.dtype, name)
