"""The reference interpreter: runs IR with each op's numpy `reference` (cf. tinygrad's
ops_python: the living definition of what the ops mean).

It is the oracle for pass tests (interp(before) == interp(after)) and for the
backend (interp == native). It never serves a Session.run.

The loop level runs here too: a buffer is a numpy array (a strided view for a memref with
other strides), an index a Python int, a scalar a numpy scalar; ops with regions or side
effects say what they do through their definition's `interpret` hook, and a nested block
sees the values of the blocks around it.
"""
from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

import numpy as np

from lowerflow.ir.core import Block, Function, Operation, Value
from lowerflow.ir.opdef import get_op
from lowerflow.ir.types import ElemType, TensorType


def run_op(op: Operation, args: list, env: Mapping | None = None) -> list:
    """One op's results from its operand values (`env`: the values around it, for regions
    that see them)."""
    opdef = get_op(op.name)
    if opdef.interpret is not None:
        return opdef.interpret(op, args, lambda block, block_args: run_block(block, block_args, env))
    if op.regions:
        return run_block(op.regions[0], args)
    if opdef.reference is None:
        raise NotImplementedError(f"op '{op.name}' has no reference semantics")
    outs = opdef.reference(args, op.attributes)
    return [_as_type(o, r.type) for o, r in zip(outs, op.results)]


def _as_type(value, type):
    if isinstance(type, TensorType):
        return np.asarray(value).astype(type.dtype.np_dtype, copy=False).reshape(np.shape(value))
    if isinstance(type, ElemType):
        return type.np_dtype.type(value)
    return value


def run_block(block: Block, args, outer: Mapping | None = None) -> list:
    """Run a block whose last op is a terminator; return the terminator's operand values.
    `outer`: the values of the blocks around it (for a region that sees them)."""
    local: dict[Value, object] = {a: _as_arg(x, a.type) for a, x in zip(block.args, args)}
    env = local if outer is None else ChainMap(local, outer)
    for op in block.ops[:-1]:
        for r, v in zip(op.results, run_op(op, [env[o] for o in op.operands], env)):
            local[r] = v
    return [env[v] for v in block.terminator.operands]


def _as_arg(value, type):
    """Tensors as arrays; buffers, indices and scalars as they are."""
    return np.asarray(value) if isinstance(type, TensorType) else value


def run_function(func: Function, args) -> list[np.ndarray]:
    """Interpret `func` on numpy inputs, converted to the argument dtypes."""
    if len(args) != len(func.args):
        raise ValueError(f"@{func.name} takes {len(func.args)} arguments, got {len(args)}")
    conv = [np.asarray(x, dtype=a.type.dtype.np_dtype) for x, a in zip(args, func.args)]
    return run_block(func.body, conv)
