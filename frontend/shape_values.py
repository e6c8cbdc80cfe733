"""Shape-like arguments known once a run signature fixes the fed shapes (cf. XLA's
compile-time constant arguments, TF's `constant_value_as_shape`).

`tf.reshape(x, [tf.shape(x)[0], -1])` passes a tensor computed from shapes that are only
known per run signature. Such an argument becomes a `RunValue` attribute: the tensor is an
extra (trailing) input of the graph op, so the slice a run needs includes it, and when a
signature is lowered `resolve` replaces the attribute with the tensor's value, evaluated by
the reference interpreter over the already-lowered IR that defines it. That IR is made of
shape queries (trait `type_only`, whose values the signature's static types give), constants
and pure ops on them; a value that depends on fed *values* is refused. This is the one
mechanism for every op family: the IR op sees plain attributes and the backend static shapes.
At build time `partial_shape` gives the best static shape TF1's shape functions would.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lowerflow import ir
from lowerflow.frontend import dtypes
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.tensor_shape import TensorShape
from lowerflow.ir.interp import run_op
from lowerflow.ir.opdef import PURE, TYPE_ONLY
from lowerflow.ir.ops.random import COUNTER_TYPE, RUN_COUNTER


@dataclass(frozen=True, eq=False)
class RunValue:
    """An attribute holding `tensor`'s value at run-signature time. `standin` is a valid value
    of the attribute's form (an int or a list of ints) for build-time dtype inference."""

    tensor: Tensor
    standin: object

    def __repr__(self) -> str:
        return f"RunValue({self.tensor.name})"


def run_values(attrs: dict) -> list[RunValue]:
    return [v for v in attrs.values() if isinstance(v, RunValue)]


def dense_inputs(op: Operation) -> list[Tensor]:
    """The op's inputs less the trailing tensors of its RunValue attributes."""
    n = len(run_values(op._attrs))
    return list(op.inputs[:len(op.inputs) - n]) if n else list(op.inputs)


def create(op_type: str, inputs: list[Tensor], attrs: dict, name: str, shape=None, graph=None) -> Operation:
    """The graph op of TF1 type `op_type` with RunValue attributes: dtypes are inferred with
    the stand-ins (inputs as unknown dims), the static shape is `shape` (None: the rank the
    stand-ins give, every dim unknown)."""
    standin = {k: v.standin if isinstance(v, RunValue) else v for k, v in attrs.items()}
    rank = next((len(v) for v in standin.values() if isinstance(v, list)), 0)
    types = [ir.TensorType((None,) * (rank if t.shape.ndims is None else t.shape.ndims), t.dtype.ir)
             for t in inputs]
    if ir.get_op(ir.TF_TO_IR[op_type]).has(RUN_COUNTER):
        types.insert(0, COUNTER_TYPE)
    outs = ir.get_op(ir.TF_TO_IR[op_type]).infer(types, standin)
    shapes = [TensorShape(shape) if shape is not None or i else TensorShape([None] * o.rank)
              for i, o in enumerate(outs)]
    graph = graph or (inputs[0].graph if inputs else run_values(attrs)[0].tensor.graph)
    extra = [r.tensor for r in run_values(attrs)]
    return graph.create_op(op_type, list(inputs) + extra,
                           [(dtypes.as_dtype(o.dtype), s) for o, s in zip(outs, shapes)], attrs, name)


# ---- lowering: the values, per run signature ------------------------------------------

class RunValueError(ValueError, NotImplementedError):
    """A shape-like argument depends on fed values, not only on fed shapes (a Session reports
    it as UnimplementedError)."""


def resolve(op: Operation, value_of) -> tuple[list, dict]:
    """(IR operands, attributes) of graph op `op` at this signature: RunValue attributes
    replaced by their values; `value_of(tensor)` is the lowered IR value of a tensor."""
    operands = [value_of(t) for t in dense_inputs(op)]
    if not run_values(op._attrs):
        return operands, op._attrs
    attrs = {}
    for k, v in op._attrs.items():
        if isinstance(v, RunValue):
            arr = evaluate(value_of(v.tensor), f"'{k}' of {op.name}")
            v = [int(a) for a in arr.reshape(-1)] if isinstance(v.standin, list) else arr.reshape(()).item()
        attrs[k] = v
    return operands, attrs


def evaluate(value: ir.Value, what: str, memo: dict | None = None) -> np.ndarray:
    """`value`'s array, from constants and shape queries of the lowered IR alone."""
    memo = {} if memo is None else memo
    if value in memo:
        return memo[value]
    op = value.op
    opdef = None if op is None else ir.get_op(op.name)
    if op is None or op.regions or not opdef.has(PURE) or opdef.has(RUN_COUNTER):
        raise RunValueError(f"lowerflow needs the {what} from the fed shapes alone, but it depends on "
                            f"{'a fed value' if op is None else repr(op.name)}: values known only at run "
                            f"time cannot set shapes")
    if op.name == "lf.constant":
        result = [op.attributes["value"]]
    elif opdef.has(TYPE_ONLY):
        if not all(v.type.is_static for v in op.operands):
            raise RunValueError(f"the {what} needs shapes that are not static")
        result = run_op(op, [np.broadcast_to(np.zeros((), v.type.dtype.np_dtype), v.type.shape)
                             for v in op.operands])
    else:
        result = run_op(op, [evaluate(v, what, memo) for v in op.operands])
    for r, a in zip(op.results, result):
        memo[r] = np.asarray(a)
    return memo[value]


# ---- build time: the best partial value -------------------------------------------------

def partial_scalar(t: Tensor) -> int | None:
    """A scalar int tensor's value when the graph already determines it, else None."""
    vals = _partial(t)
    return vals[0] if vals is not None and t.shape.ndims == 0 else None


def partial_shape(t: Tensor) -> list | None:
    """A 1-D shape tensor as known dims and None (TF1's constant_value_as_shape); None when
    even its length is unknown."""
    vals = _partial(t)
    if vals is not None:
        return vals
    n = t.shape.as_list()[0] if t.shape.ndims == 1 else None
    return None if n is None else [None] * n


def _partial(t: Tensor) -> list | None:
    """Flat known values (None for unknown elements) of small int tensors, or None."""
    op = t.op
    if op.type == "Const":
        return [int(v) for v in np.asarray(op.ir_attr("value")).reshape(-1)]
    if op.type == "Shape":
        dims = op.inputs[0].shape.as_list() if op.inputs[0].shape.ndims is not None else None
        return dims
    if op.type == "Pack" and op.ir_attr("axis") == 0 and all(x.shape.ndims == 0 for x in op.inputs):
        return [partial_scalar(x) for x in op.inputs]
    if op.type == "ConcatV2":
        parts = [partial_shape(x) for x in op.inputs]
        return None if any(p is None for p in parts) else [d for p in parts for d in p]
    if op.type == "StridedSlice" and op.ir_attr("shrink_axis_mask") == 1 and op.ir_attr("strides") == [1]:
        whole = _partial(op.inputs[0])
        i = op.ir_attr("begin")[0]
        return None if whole is None or not -len(whole) <= i < len(whole) else [whole[i]]
    if op.type in ("Mul", "AddV2", "Sub", "FloorDiv") and t.shape.ndims == 0:
        a, b = (partial_scalar(x) for x in op.inputs)
        if a is None or b is None:
            return [None]
        return [{"Mul": a * b, "AddV2": a + b, "Sub": a - b}.get(op.type, a // b if b else None)]
    return None
