"""One reduction's accumulator at the loop level, shared by the reduction nests
(`loop_lowering.py`) and the row fusion's (`loop_lowering_rows.py`): its element type (float16
folded in float32, an integer mean in int64), its start (-0.0 for a float sum, so a sum of
-0.0s stays -0.0; else the identity), one fold step, and the finish (a mean divided by the
count, the result cast back to the reduction's dtype)."""
from __future__ import annotations

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import counted, scalar_constant
from lowerflow.ir.ops.loop import FOLD, LOAD, SCALAR, STORE
from lowerflow.ir.ops.reduction import COMBINE, accumulator_dtype, identity_element, mean_accumulator_dtype
from lowerflow.ir.types import ElemType, elem_type_of


def accumulator(op: Operation) -> ElemType:
    """The element type reduction `op` accumulates in."""
    wide = mean_accumulator_dtype if op.name == "lf.reduce_mean" else accumulator_dtype
    return elem_type_of(wide(op.operands[0].type.dtype.np_dtype))


class Fold:
    """One reduction's accumulator over `count` elements: its dtype, start and combining op,
    and its result. Its constants are added to `body` (the kernel's block) when it is made."""

    def __init__(self, op: Operation, count: int, body: Block, vector: bool):
        self.op, self.count, self.vector = op, count, vector
        self.dtype = op.operands[0].type.dtype
        self.acc = acc = accumulator(op)
        identity = identity_element(op.name, self.dtype.np_dtype)
        summing = acc.is_float and op.name in ("lf.reduce_sum", "lf.reduce_mean")
        self.start = scalar_constant(body, -0.0 if count and summing else identity, acc)
        divide = op.name == "lf.reduce_mean" and (acc.is_float or count)
        self.divisor = scalar_constant(body, count, acc) if divide else None

    def cast(self, block: Block, v: Value, to: ElemType) -> Value:
        return v if v.type == to else block.add(SCALAR, [v], [to], {"op": "lf.cast", "to": to}).result

    def step(self, block: Block, acc: Value, element: Value) -> Value:
        """`acc` with `element` (of the reduction's dtype) folded in."""
        value = self.cast(block, element, self.acc)
        return block.add(FOLD, [acc, value], [self.acc], {"op": COMBINE[self.op.name]}).result

    def finish(self, block: Block, acc: Value) -> Value:
        """The reduced value from the folded `acc`: a mean divided, cast to the result dtype."""
        if self.divisor is not None:
            acc = block.add(SCALAR, [acc, self.divisor], [self.acc], {"op": "lf.div"}).result
        return self.cast(block, acc, self.dtype)

    def result(self, block: Block, ivs: list[Value], dims: list[int], element) -> Value:
        """The reduced value at the outer indices `ivs`, in the result dtype."""
        return self.finish(block, self._carry(block, ivs, dims, self.start, element) if self.count else self.start)

    def rows(self, body: Block, out: Value, dims: list[int], kept: list[int], element) -> None:
        """The row-order nest: `out` set to the start, then loops over every dim in C order
        (the kept innermost one `vector`) folding each element into its output element
        (load, fold, store), then a mean's division. Each output element still sees its
        elements in C order of the reduced dims, one at a time: the old nest's order
        exactly, with the whole row of kept elements vectorised instead of one strided
        column at a time. `kept` are the positions in `dims` of the output's dims."""
        kept_dims = [dims[k] for k in kept]
        vector_loops(body, kept_dims, lambda block, ivs: block.add(STORE, [self.start, out, *ivs]))

        def step(block: Block, ivs: list[Value]) -> None:
            at = [ivs[k] for k in kept]
            acc = block.add(LOAD, [out, *at], [self.acc]).result
            block.add(STORE, [self.step(block, acc, element(block, ivs)), out, *at])
        vector_loops(body, dims, step)
        if self.divisor is not None:
            vector_loops(body, kept_dims, lambda block, ivs: block.add(STORE, [block.add(
                SCALAR, [block.add(LOAD, [out, *ivs], [self.acc]).result, self.divisor], [self.acc],
                {"op": "lf.div"}).result, out, *ivs]))

    def _carry(self, block: Block, ivs: list[Value], dims: list[int], acc: Value, element) -> Value:
        """`acc` with every element at `ivs` + the indices of `dims` folded in, in C order."""
        if not dims:
            return self.step(block, acc, element(block, ivs))
        hints = {"vector": True} if len(dims) == 1 and self.vector else {}
        loop = counted(block, 0, dims[0], [acc], **hints)
        inner = loop.regions[0]
        inner.add("lf.yield", [self._carry(inner, [*ivs, inner.args[0]], dims[1:], inner.args[1], element)])
        return loop.result


def vector_loops(block: Block, dims: list[int], body) -> None:
    """`body(block, ivs)` inside loops over `dims`, the innermost `vector`, nothing carried."""
    ivs = []
    for k, n in enumerate(dims):
        block = counted(block, 0, n, **({"vector": True} if k == len(dims) - 1 else {})).regions[0]
        ivs.append(block.args[0])
    body(block, ivs)
    while ivs:
        block.add("lf.yield")
        block, ivs = block.parent.parent, ivs[:-1]
