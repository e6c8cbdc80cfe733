"""Deep copies of IR (cf. MLIR's `Operation::clone` with an `IRMapping`).

`copy.deepcopy` recurses once per def-use hop and overflows the stack on long
chains, so cloning walks ops in order with an explicit value mapping instead.
Fusion uses `clone_op` to move ops into a region; tests clone a function to
compare interpreter results before and after a pass.
"""
from __future__ import annotations

from lowerflow.ir.core import Block, Function, Module, Operation, Value


def clone_op(op: Operation, mapping: dict[Value, Value]) -> Operation:
    """A copy of `op` whose operands go through `mapping`; records its results there.

    Attribute values are shared, not copied: passes treat them as immutable.
    """
    regions = [clone_block(b, mapping) for b in op.regions]
    new = Operation(op.name, [mapping.get(v, v) for v in op.operands], [r.type for r in op.results],
                    op.attributes, regions, op.location)
    mapping.update(zip(op.results, new.results))
    return new


def clone_block(block: Block, mapping: dict[Value, Value]) -> Block:
    new = Block([a.type for a in block.args])
    mapping.update(zip(block.args, new.args))
    for op in block.ops:
        new.append(clone_op(op, mapping))
    return new


def clone_function(func: Function) -> Function:
    new = Function(func.name, [a.type for a in func.args], func.arg_names)
    mapping = dict(zip(func.args, new.args))
    for op in func.ops:
        new.body.append(clone_op(op, mapping))
    new.result_names = list(func.result_names)
    return new


def clone_module(module: Module) -> Module:
    return Module([clone_function(f) for f in module.functions])
