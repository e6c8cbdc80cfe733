"""The global step: one int64 scalar variable counting training steps (cf. TF1's
training/training_util.py). It lives in GLOBAL_VARIABLES and the GLOBAL_STEP collection, is
named `global_step` whatever the name scope, and optimizers increment it after their updates."""
from __future__ import annotations

from lowerflow.frontend import dtypes
from lowerflow.frontend.graph import Graph, Tensor, get_default_graph
from lowerflow.frontend.init_ops import Zeros
from lowerflow.frontend.variable_scope import get_variable
from lowerflow.frontend.variables import GLOBAL_VARIABLES, Variable

GLOBAL_STEP = "global_step"


def get_global_step(graph: Graph | None = None):
    """The global step of `graph`: the GLOBAL_STEP collection's one entry, else the tensor
    `global_step:0`, else None."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GLOBAL_STEP)
    if len(found) > 1:
        return None
    if found:
        step = found[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    assert_global_step(step)
    return step


def create_global_step(graph: Graph | None = None) -> Variable:
    """A new global step (ValueError if the graph has one)."""
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.name_scope(None):
        return get_variable(GLOBAL_STEP, shape=[], dtype=dtypes.int64, initializer=Zeros(),
                            trainable=False, collections=[GLOBAL_VARIABLES, GLOBAL_STEP])


def get_or_create_global_step(graph: Graph | None = None):
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    return create_global_step(graph) if step is None else step


def assert_global_step(global_step_tensor) -> None:
    """TypeError unless the global step is an integer scalar Variable or Tensor."""
    if not isinstance(global_step_tensor, (Variable, Tensor)):
        raise TypeError(f'Existing "global_step" must be a Variable or Tensor: {global_step_tensor}.')
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError(f'Existing "global_step" does not have integer type: {global_step_tensor.dtype}')
    shape = global_step_tensor.get_shape()
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError(f'Existing "global_step" is not scalar: {shape}')


def global_step(sess, global_step_tensor) -> int:
    """The global step's value in `sess`, as a Python int."""
    return int(sess.run(global_step_tensor))
