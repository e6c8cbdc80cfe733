"""`pretranspose`: a matrix product's transposed right operand that is reused is transposed
once: matmul(A, B, transpose_b) becomes matmul(A, transpose(B)).

Why: the GEMM packs B into k-major strips of columns. From B^T each strip is a gather of
strided elements, from B a copy of contiguous rows; for a product with few rows (an RNN
step's batch) packing is a large part of the work, and [64, 512] x [128, 512]^T takes ~1.4x
the time of [64, 512] x [512, 128] (measured, one thread). A transposed copy of B costs about
one packing, so it pays when B is reused: when at least two products of a block read B
transposed (an unrolled RNN's input gradients, `dgates @ kernel^T` per step), or when a loop
body reads a captured B transposed (the same product in a backward loop: the transpose is
put at the body's start, and `hoist-invariants`, which runs after, moves it out of the
loop). The product's value is the same: the contraction runs in the same order.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.build import typed
from lowerflow.ir.core import Block, Function, Operation, Value
from lowerflow.ir.ops.control import WHILE, is_control
from lowerflow.passes.manager import FunctionPass, register_pass

#: The fewest products of one block reading a B transposed for a transposed copy to pay.
MIN_SHARED = 2


def _transposed_b(op: Operation) -> Value | None:
    """The B of a rank-2 float product that reads it transposed, else None."""
    if op.name != "lf.matmul" or not op.attributes.get("transpose_b") \
            or any(v.type.rank != 2 for v in op.operands) or not op.results[0].type.dtype.is_float:
        return None
    return op.operands[1]


def _rewrite(block: Block, captures: set[Value]) -> bool:
    """Pretranspose in `block` (whose arguments in `captures` are a loop's invariants) and in
    the control regions nested in it."""
    users: dict[Value, list[Operation]] = defaultdict(list)
    for op in block.ops:
        b = _transposed_b(op)
        if b is not None:
            users[b].append(op)
    chosen = {b: ops for b, ops in users.items() if len(ops) >= MIN_SHARED or b in captures}
    ops, made = [], {}
    first = {ops_[0]: b for b, ops_ in chosen.items()}
    for b in [b for b in chosen if b in captures]:  # at the body's start, for hoist-invariants
        made[b] = typed("lf.transpose", [b], {"perm": [1, 0]}, chosen[b][0].location)
        ops.append(made[b])
    for op in block.ops:
        b = first.get(op)
        if b is not None and b not in made:
            made[b] = typed("lf.transpose", [b], {"perm": [1, 0]}, op.location)
            ops.append(made[b])
        b = _transposed_b(op)
        if b in made:
            op.operands = [op.operands[0], made[b].results[0]]
            op.attributes = dict(op.attributes) | {"transpose_b": False}
        ops.append(op)
    for op in ops:
        op.parent = block
    block.ops = ops
    changed = bool(made)
    for op in block.ops:
        if op.regions and is_control(op):
            n = len(op.results)
            for k, region in enumerate(op.regions):
                inner = set(region.args[n:]) if op.name == WHILE and k == 1 else set()
                changed |= _rewrite(region, inner)
    return changed


@register_pass
@dataclass(frozen=True)
class Pretranspose(FunctionPass):
    """Transpose once a product's transposed right operand that several products (or a loop) read."""

    name: ClassVar[str] = "pretranspose"
    regions: ClassVar[bool] = False  # it enters control regions itself, knowing a loop's captures

    def run_on_function(self, func: Function) -> bool:
        return _rewrite(func.body, set())
