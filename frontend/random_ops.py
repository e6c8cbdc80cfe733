"""TF1 random tensors: `tf.random_normal`, `tf.truncated_normal`, `tf.random_uniform`,
`tf.set_random_seed` (cf. TF1's random_ops.py and framework/random_seed.py).

Seeds follow TF1's `get_seed`: a graph-level seed (`tf.set_random_seed`) plus an
op seed (default: the graph's last op id) make the op's (seed, seed2) attributes,
so a rebuilt graph reproduces its values. The ops keep a run counter as session
state (`lowerflow/ir/ops/random.py`): each run of an op draws new values and a
fresh session replays them. Unlike TF1, an op with neither seed draws its
(seed, seed2) once when it is built rather than once per session.
"""
from __future__ import annotations

import secrets

from lowerflow import ir
from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Graph, Tensor, get_default_graph, name_scope
from lowerflow.frontend.math_ops import add, multiply, subtract
from lowerflow.frontend.op_builder import ir_type
from lowerflow.frontend import shape_values
from lowerflow.frontend.array_ops import shape_arg
from lowerflow.frontend.tensor_shape import TensorShape
from lowerflow.ir.ops.random import COUNTER_TYPE

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1
_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def set_random_seed(seed) -> None:
    """tf.set_random_seed: the default graph's seed, from which op seeds derive."""
    get_default_graph().seed = seed


def get_seed(op_seed, graph: Graph | None = None) -> tuple:
    """TF1's (seed, seed2) for an op: (None, None) when neither seed is set."""
    graph = graph or get_default_graph()
    if graph.seed is not None:
        seeds = graph.seed % _MAXINT32, (graph.version if op_seed is None else op_seed) % _MAXINT32
    elif op_seed is not None:
        seeds = DEFAULT_GRAPH_SEED, op_seed % _MAXINT32
    else:
        return None, None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds


def _shape(shape) -> list[int] | shape_values.RunValue:
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"lowerflow needs a fully defined shape for random values, got {shape}")
        return shape.as_list()
    dims = shape_arg(shape, "shape")
    if isinstance(dims, shape_values.RunValue):
        return dims
    if any(d < 0 for d in dims):
        raise ValueError(f"Dimension -1 must be >= 0 in shape {dims}")
    return dims


def _random(op_type: str, shape, dtype: dtypes.DType, seed, inputs=(), name=None) -> Tensor:
    """The stateful random op; its run counter is not a graph input (the lowering adds it)."""
    seed1, seed2 = get_seed(seed)
    if seed1 is None:
        seed1, seed2 = secrets.randbits(31), secrets.randbits(31)
    attrs = {"seed": seed1, "seed2": seed2, "shape": _shape(shape), "dtype": dtype.ir}
    inputs = list(inputs)
    if isinstance(attrs["shape"], shape_values.RunValue):
        return shape_values.create(op_type, inputs, attrs, name or op_type,
                                   shape_values.partial_shape(attrs["shape"].tensor)).outputs[0]
    (out,) = ir.get_op(ir.TF_TO_IR[op_type]).infer([COUNTER_TYPE] + [ir_type(t) for t in inputs], attrs)
    graph = get_default_graph()
    return graph.create_op(op_type, inputs, [(dtype, TensorShape(out.shape))], attrs,
                           name or op_type).outputs[0]


def _float_dtype(dtype) -> dtypes.DType:
    dtype = dtypes.as_dtype(dtype)
    if dtype not in _FLOATS:
        raise TypeError(f"Value passed to parameter 'dtype' has DataType {dtype.name} not in list "
                        "of allowed values: float16, float32, float64")
    return dtype


def _scaled(op_type: str, scope_name: str):
    def sample(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
        dtype = _float_dtype(dtype)
        with name_scope(name, scope_name, [shape, mean, stddev]) as scope:
            mean = convert_to_tensor(mean, dtype=dtype, name="mean")
            stddev = convert_to_tensor(stddev, dtype=dtype, name="stddev")
            rnd = _random(op_type, shape, dtype, seed)
            return add(multiply(rnd, stddev), mean, name=scope)

    sample.__doc__ = f"TF1's {scope_name}: `{op_type}` values times stddev plus mean."
    return sample


random_normal = _scaled("RandomStandardNormal", "random_normal")
truncated_normal = _scaled("TruncatedNormal", "truncated_normal")


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
    """Uniform in [minval, maxval): floats scale [0, 1); ints need `maxval` (RandomUniformInt)."""
    dtype = dtypes.as_dtype(dtype)
    if dtype not in _FLOATS + (dtypes.int32, dtypes.int64):
        raise ValueError(f"Invalid dtype {dtype!r}")
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    # As TF1: a Python 0 / 1 range skips the affine map, so the op itself is the output.
    minval_is_zero = isinstance(minval, (int, float)) and minval == 0
    maxval_is_one = isinstance(maxval, (int, float)) and maxval == 1
    with name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
        minval = convert_to_tensor(minval, dtype=dtype, name="min")
        maxval = convert_to_tensor(maxval, dtype=dtype, name="max")
        if dtype.is_integer:
            return _random("RandomUniformInt", shape, dtype, seed, [minval, maxval], name=scope)
        rnd = _random("RandomUniform", shape, dtype, seed)
        if minval_is_zero:
            return rnd if maxval_is_one else multiply(rnd, maxval, name=scope)
        return add(multiply(rnd, subtract(maxval, minval)), minval, name=scope)
