"""`narrow-products`: a matrix product of which a split keeps one part computes only that
part: split(A @ B, axis=1)[j] = A @ split(B, axis=1)[j], and the same for rows and A.

Why: the gradient of `concat([x_t, h]) @ kernel` with respect to its input is a product
`dgates @ kernel^T` split into the x part and the h part; when only h needs a gradient (x
is fed), the x part is dead, yet the product computes it (an LSTM's 28 of 156 columns, per
step). Splitting the kernel instead is one copy per run, shared by every step after `cse`.
Runs on each region too (a loop body).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.build import typed
from lowerflow.ir.core import Function, Operation
from lowerflow.ir.opdef import get_op
from lowerflow.ir.ops.array import norm_axis
from lowerflow.passes.manager import FunctionPass, register_pass


def _narrowed(split: Operation, uses: Counter) -> tuple[int, list[Operation]] | None:
    """(the kept result's index, the ops computing it narrowly), or None for no match."""
    product = split.operands[0].op
    kept = [j for j, r in enumerate(split.results) if uses[r]]
    if product is None or product.name != "lf.matmul" or uses[product.results[0]] != 1 or len(kept) != 1 \
            or any(o.type.rank != 2 for o in product.operands):
        return None
    axis = norm_axis(split.attributes["axis"], 2)
    ta, tb = bool(product.attributes.get("transpose_a")), bool(product.attributes.get("transpose_b"))
    side = 1 if axis == 1 else 0                       # columns come from B, rows from A
    flipped = tb if side == 1 else ta
    along = (0 if flipped else 1) if side == 1 else (1 if flipped else 0)
    attrs = dict(split.attributes) | {"axis": along}
    operand = product.operands[side]
    part = Operation("lf.split", [operand], get_op("lf.split").infer([operand.type], attrs), attrs,
                     location=split.location)
    operands = list(product.operands)
    operands[side] = part.results[kept[0]]
    attrs = dict(product.attributes)
    narrow = typed("lf.matmul", operands, attrs, product.location)
    return kept[0], [part, narrow]


@register_pass
@dataclass(frozen=True)
class NarrowProducts(FunctionPass):
    """Compute only the part of a matrix product that a split keeps."""

    name: ClassVar[str] = "narrow-products"

    def run_on_function(self, func: Function) -> bool:
        uses = Counter(v for op in func.ops for v in op.operands)
        ops, replaced = [], {}
        for op in func.ops:
            op.operands = [replaced.get(v, v) for v in op.operands]
            hit = _narrowed(op, uses) if op.name == "lf.split" else None
            if hit is not None:
                j, new = hit
                ops.extend(new)
                replaced[op.results[j]] = new[-1].results[0]
            ops.append(op)
        for op in ops:
            op.parent = func.body
        func.body.ops = ops
        return bool(replaced)
