"""lowerflow: TensorFlow 1.x graphs, compiled through an SSA IR and LLVM to native code.

`import lowerflow as tf` gives the TF1 graph API; every `Session.run` executes
code that lowerflow generated. This module only re-exports names.
"""
from lowerflow.frontend.core_ops import (
    constant, convert_to_tensor, group, identity, no_op, placeholder, placeholder_with_default,
    stop_gradient,
)
from lowerflow.frontend.core_ops import tuple_ as tuple  # noqa: A001  (TF1 name)
from lowerflow.frontend.dtypes import (
    DType, as_dtype, bool_ as bool, double, float16, float32, float64, half, int8, int16, int32,  # noqa: A001
    int64, string, uint8, uint16, uint32, uint64,
)
from lowerflow.frontend.graph import (
    Graph, Operation, Tensor, control_dependencies, device, get_default_graph, get_default_session,
    name_scope, reset_default_graph,
)
from lowerflow.frontend.math_ops import (
    abs, add, cast, ceil, cos, div, divide, equal, exp, expm1, floor, floor_div, floordiv, floormod,  # noqa: A004
    greater, greater_equal, less, less_equal, log, log1p, logical_and, logical_not, logical_or,
    logical_xor, maximum, minimum, mod, multiply, negative, not_equal, pow, realdiv, reciprocal,
    round, rsqrt, sigmoid, sign, sin, sqrt, square, squared_difference, subtract, tanh, to_float,
    to_int32, to_int64, truediv, where,
)
from lowerflow.frontend.tensor_shape import Dimension, TensorShape
from lowerflow.frontend.variables import (
    GLOBAL_VARIABLES, TRAINABLE_VARIABLES, Variable, all_variables, assign, assign_add, assign_sub,
    global_variables, global_variables_initializer, initialize_all_variables,
    is_variable_initialized, local_variables, local_variables_initializer,
    report_uninitialized_variables, trainable_variables, variables_initializer,
)
from lowerflow.runtime import errors
from lowerflow.runtime.config import (
    ConfigProto, GPUOptions, GraphOptions, OptimizerOptions, RunMetadata, RunOptions,
)
from lowerflow.runtime.session import InteractiveSession, Session
from lowerflow import math, nn, train  # noqa: E402  (namespaces built from the names above)
from lowerflow.tooling import to_ir  # noqa: E402

neg = negative
sub = subtract
mul = multiply
where_v2 = where
select = where


class GraphKeys:
    GLOBAL_VARIABLES = GLOBAL_VARIABLES
    TRAINABLE_VARIABLES = TRAINABLE_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    VARIABLES = GLOBAL_VARIABLES


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


newaxis = None
