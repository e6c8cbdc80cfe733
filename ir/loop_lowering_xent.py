""""lf.sparse_softmax_xent" (SparseSoftmaxCrossEntropyWithLogits' loss) as a loop nest, one
row of logits at a time, the way TF1's CPU kernel computes it:

    loop.for r in [0, rows)
      label = labels[r]; "loop.check" {error = "label_range"} unless 0 <= label < classes
      peak  = loop.for j {vector} carrying -inf: max(peak, x[r, j])
      total = loop.for j {vector} carrying -0.0: total + exp(x[r, j] - peak)   ("loop.fold")
      out[r] = log(total) - (x[r, label] - peak)

in the logits' accumulator type (float16 in float32, cast back). A bad label fails the step
(TF1 raises InvalidArgumentError); the logit it would pick is read at class 0 instead
("loop.to_index" of a label kept in bounds by a select), so no load leaves the row. The
max is `lf.max` (NaN propagates), the sum a "loop.fold" (reassociated, so it vectorises),
exp and log the elementwise ops' own lowerings (float32: the vectorisable polynomials).
"""
from __future__ import annotations

from math import prod

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import counted, empty_kernel, plain_loops, scalar_constant, view
from lowerflow.ir.ops.loop import CHECK, FOLD, LOAD, SCALAR, STORE, TO_INDEX
from lowerflow.ir.ops.reduction import accumulator_dtype
from lowerflow.ir.types import BOOL, INDEX, ElemType, elem_type_of

XENT_OPS = ("lf.sparse_softmax_xent",)


def xent_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of a sparse softmax cross entropy (the nest the module docstring shows)."""
    kernel, outs, ins = empty_kernel(op)
    body = kernel.regions[0]
    shape = op.operands[0].type.shape
    rows, classes = prod(shape[:-1]), shape[-1]
    if rows:
        _rows(body, outs[0], ins, rows, classes)
    body.add("lf.yield")
    return kernel


def _scalar(block: Block, name: str, operands: list[Value], t: ElemType, **attrs) -> Value:
    return block.add(SCALAR, operands, [t], {"op": name, **attrs}).result


def _rows(body: Block, out: Value, ins: list[Value], rows: int, classes: int) -> None:
    logits, labels = ins
    dtype, label_type = logits.type.dtype, labels.type.dtype
    acc = elem_type_of(accumulator_dtype(dtype.np_dtype))
    x = view(body, logits, [rows, classes], [classes, 1])
    lab, res = view(body, labels, [rows], [1]), view(body, out, [rows], [1])
    zero, count = scalar_constant(body, 0, label_type), scalar_constant(body, classes, label_type)
    starts = [scalar_constant(body, float("-inf"), acc), scalar_constant(body, -0.0, acc)] if classes else []

    def element(block: Block, r: Value, j: Value) -> Value:
        v = block.add(LOAD, [x, r, j], [dtype]).result
        return v if dtype == acc else _scalar(block, "lf.cast", [v], acc, to=acc)

    def fold(block: Block, r: Value, start: Value, step) -> Value:
        loop = counted(block, 0, classes, [start], vector=True)
        inner = loop.regions[0]
        inner.add("lf.yield", [step(inner, inner.args[1], element(inner, r, inner.args[0]))])
        return loop.result

    def row(block: Block, ivs: list[Value]) -> None:
        (r,) = ivs
        label = block.add(LOAD, [lab, r], [label_type]).result
        valid = _scalar(block, "lf.and", [_scalar(block, "lf.ge", [label, zero], BOOL),
                                          _scalar(block, "lf.lt", [label, count], BOOL)], BOOL)
        block.add(CHECK, [_scalar(block, "lf.not", [valid], BOOL)], [], {"error": "label_range"})
        if not classes:  # every label is invalid
            return
        peak = fold(block, r, starts[0], lambda b, a, v: _scalar(b, "lf.max", [a, v], acc))
        total = fold(block, r, starts[1], lambda b, a, v: b.add(
            FOLD, [a, _scalar(b, "lf.exp", [_scalar(b, "lf.sub", [v, peak], acc)], acc)], [acc],
            {"op": "lf.add"}).result)
        at = block.add(TO_INDEX, [_scalar(block, "lf.select", [valid, label, zero], label_type)], [INDEX]).result
        picked = _scalar(block, "lf.sub", [element(block, r, at), peak], acc)
        loss = _scalar(block, "lf.sub", [_scalar(block, "lf.log", [total], acc), picked], acc)
        block.add(STORE, [loss if acc == dtype else _scalar(block, "lf.cast", [loss], dtype, to=dtype), res, r])

    plain_loops(body, [rows], row)
