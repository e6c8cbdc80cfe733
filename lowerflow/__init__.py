"""lowerflow: TensorFlow 1.x graphs, compiled through an SSA IR and LLVM to native code.

`import lowerflow as tf` gives the TF1 graph API; every `Session.run` executes
code that lowerflow generated. This module only re-exports names.
"""
from lowerflow.frontend.array_ops import (
    broadcast_to, concat, expand_dims, fill, gather, unsorted_segment_sum, lin_space, linspace, one_hot, ones, ones_like, pad,
    rank, reshape, shape, size, split, squeeze, stack, strided_slice, tile, transpose, unstack, zeros,
    zeros_like,
)
from lowerflow.frontend.array_ops import range_ as range, slice_ as slice  # noqa: A004  (TF1 names)
from lowerflow.frontend.clip_ops import clip_by_global_norm, clip_by_norm, global_norm
from lowerflow.frontend.control_flow import case, cond, while_loop
from lowerflow.frontend.functional_ops import foldl, foldr, map_fn, scan
from lowerflow.frontend.dynamic_ops import boolean_mask, dynamic_partition, unique
from lowerflow.frontend.tensor_array import TensorArray
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
    abs, add, add_n, cast, ceil, clip_by_value, cos, div, divide, equal, exp, expm1, floor, floor_div, floordiv, floormod,  # noqa: A004
    greater, greater_equal, less, less_equal, log, log1p, logical_and, logical_not, logical_or,
    logical_xor, maximum, minimum, mod, multiply, negative, not_equal, pow, realdiv, reciprocal,
    round, rsqrt, sigmoid, sign, sin, sqrt, square, squared_difference, subtract, tanh, to_float,
    to_int32, to_int64, truediv, truncatediv, truncatemod, where, where_v2,
)
from lowerflow.frontend.graph_def import import_graph_def
from lowerflow.frontend.protos import (
    AttrValue, Event, GraphDef, HistogramProto, MetaGraphDef, NodeDef, SaverDef, Summary, TensorProto,
    TensorShapeProto, VersionDef,
)
from lowerflow.frontend.gradients import RegisterGradient, gradients, no_gradient
from lowerflow.frontend.gradients import no_gradient as NotDifferentiable  # noqa: N812  (TF1 name)
from lowerflow.frontend.gradients import no_gradient as NoGradient  # noqa: N812  (TF1 name)
from lowerflow.frontend.init_ops import (
    Constant as constant_initializer, GlorotNormal as glorot_normal_initializer,
    GlorotUniform as glorot_uniform_initializer, Ones as ones_initializer,
    RandomNormal as random_normal_initializer, RandomUniform as random_uniform_initializer,
    TruncatedNormal as truncated_normal_initializer, VarianceScaling as variance_scaling_initializer,
    Zeros as zeros_initializer,
)
from lowerflow.frontend.linalg_ops import matmul, tensordot
from lowerflow.frontend.layers import UPDATE_OPS
from lowerflow.frontend.losses import LOSSES
from lowerflow.frontend.nn_impl import arg_max, arg_min
from lowerflow.frontend.random_ops import random_normal, random_uniform, set_random_seed, truncated_normal
from lowerflow.frontend.reduction_ops import (
    argmax, argmin, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum,
)
from lowerflow.frontend.tensor_shape import Dimension, TensorShape
from lowerflow.frontend.variable_scope import (
    AUTO_REUSE, REGULARIZATION_LOSSES, VariableScope, get_variable, get_variable_scope, variable_scope,
)
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
from lowerflow import initializers, keras, linalg, losses, random  # noqa: E402
from lowerflow import app, flags, layers  # noqa: E402  (tf.layers, tf.app.run, tf.app.flags)
from lowerflow import graph_util, summary  # noqa: E402
from lowerflow import gfile, logging  # noqa: E402  (tf.gfile, tf.logging)
from lowerflow.frontend.logging_ops import Print  # noqa: E402
from lowerflow.tooling import to_ir  # noqa: E402
from lowerflow import aot  # noqa: E402  (ahead-of-time compilation, docs/aot.md)

neg = negative
sub = subtract
mul = multiply
select = where


class GraphKeys:
    GLOBAL_VARIABLES = GLOBAL_VARIABLES
    TRAINABLE_VARIABLES = TRAINABLE_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    VARIABLES = GLOBAL_VARIABLES
    REGULARIZATION_LOSSES = REGULARIZATION_LOSSES
    LOSSES = LOSSES
    GLOBAL_STEP = "global_step"
    TRAIN_OP = "train_op"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    UPDATE_OPS = UPDATE_OPS
    SUMMARIES = "summaries"


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


newaxis = None
