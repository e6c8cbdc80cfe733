"""The reference interpreter: runs IR with each op's numpy `reference` (cf. tinygrad's
ops_python: the living definition of what the ops mean).

It is the oracle for pass tests (interp(before) == interp(after)) and for the
backend (interp == native). It never serves a Session.run.
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.core import Block, Function, Operation
from lowerflow.ir.opdef import get_op


def run_op(op: Operation, args: list[np.ndarray]) -> list[np.ndarray]:
    """One op's results from its operand values."""
    if op.regions:
        return run_block(op.regions[0], args)
    opdef = get_op(op.name)
    if opdef.reference is None:
        raise NotImplementedError(f"op '{op.name}' has no reference semantics")
    outs = opdef.reference(args, op.attributes)
    return [np.asarray(o).astype(r.type.dtype.np_dtype, copy=False).reshape(o.shape)
            for o, r in zip(outs, op.results)]


def run_block(block: Block, args) -> list[np.ndarray]:
    """Run a block whose last op is a terminator; return the terminator's operand values."""
    env = {a: np.asarray(x) for a, x in zip(block.args, args)}
    for op in block.ops[:-1]:
        for r, v in zip(op.results, run_op(op, [env[o] for o in op.operands])):
            env[r] = v
    return [env[v] for v in block.terminator.operands]


def run_function(func: Function, args) -> list[np.ndarray]:
    """Interpret `func` on numpy inputs, converted to the argument dtypes."""
    if len(args) != len(func.args):
        raise ValueError(f"@{func.name} takes {len(func.args)} arguments, got {len(args)}")
    conv = [np.asarray(x, dtype=a.type.dtype.np_dtype) for x, a in zip(args, func.args)]
    return run_block(func.body, conv)
