"""The sparse softmax cross entropy as a kernel, and the fold pieces the loop level's
reductions (`kernels_loops.py`), row fusions and the GEMM share (cf. XLA's reduction
emitter, much simplified).

Sum ... All and ArgMax/ArgMin go through the loop level (`ir/loop_lowering.py`,
`ir/loop_lowering_arg.py`; their loop nests are the ones these kernels used). What they and the kernels here share: `fold_range` (accumulators in
phis, bottom-tested), `float_sum` (`fadd reassoc`: float sums may reassociate so LLVM
vectorises them, as TF's Eigen kernels do) and `float_extreme` (`llvm.maximum`/`minimum`
with `nsz`: NaN propagates, either zero may win a tie of -0.0 and +0.0, which neither TF1
nor numpy promises): the two liberties a reduction takes; products fold in order, integers
wrap; float16 accumulates in float32. `Reducer` is one reduction's fold for row fusion.
Semantics, empty reductions included, are those of `lowerflow/ir/ops/reduction.py`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llvmlite import ir
from lowerflow.backend.errors import LABEL_RANGE
from lowerflow.backend.kernels import KERNEL_LOWERINGS, KernelCtx
from lowerflow.backend.lltypes import I64, declare, load_elem, reg_type, store_elem
from lowerflow.backend.loops import for_range
from lowerflow.backend.scalar_ops import SCALAR_LOWERINGS, ScalarCtx
from lowerflow.ir import ElemType, Operation, elem_type_of
from lowerflow.ir.ops.reduction import (
    COMBINE,
    accumulator_dtype,
    identity_element,
    mean_accumulator_dtype,
)

FLOAT_SUM = ("reassoc", "contract")  # reassociation: float sums only, so they vectorise
#: (builder, one element, accumulators) -> the next accumulators
Fold = Callable[[ir.IRBuilder, ir.Value, list[ir.Value]], list[ir.Value]]

FLOAT_EXTREME = {"lf.reduce_max": "maximum", "lf.reduce_min": "minimum"}


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    """Element strides of a C-contiguous array of `shape`."""
    strides, step = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = step
        step *= shape[d]
    return strides


def fold_range(b: ir.IRBuilder, n: int, init: list[ir.Value],
               body: Callable[[ir.Value, list[ir.Value]], list[ir.Value]]) -> list[ir.Value]:
    """`for i in range(n): accs = body(i, accs)` with the accumulators in phis, for a
    constant n >= 1: `loops.for_range` carrying `init`; returns the final values."""
    return for_range(b, n, body, name="k", carried=init)


def offset(b: ir.IRBuilder, base: ir.Value, *terms: tuple[ir.Value, int]) -> ir.Value:
    """base + sum(index * stride) over (index, stride) terms, in elements."""
    for index, stride in terms:
        step = index if stride == 1 else b.mul(index, ir.Constant(I64, stride), flags=("nuw", "nsw"))
        base = b.add(base, step, flags=("nuw", "nsw"))
    return base


def convert(kc: KernelCtx, b: ir.IRBuilder, value: ir.Value, src: ElemType, dst: ElemType) -> ir.Value:
    """A register value converted like "lf.cast" (float16 <-> float32 for the accumulators)."""
    ctx = ScalarCtx(kc.module, [src], dst, {"to": dst}, kc.error_if)
    return SCALAR_LOWERINGS["lf.cast"](b, [value], ctx)


def scalar_op(kc: KernelCtx, name: str, dtype: ElemType) -> Callable[[ir.IRBuilder, ir.Value, ir.Value], ir.Value]:
    """Elementwise op `name` on two register values of `dtype`."""
    ctx = ScalarCtx(kc.module, [dtype, dtype], dtype, {}, kc.error_if)
    return lambda b, x, y: SCALAR_LOWERINGS[name](b, [x, y], ctx)


def float_extreme(kc: KernelCtx, name: str) -> Callable[[ir.IRBuilder, ir.Value, ir.Value], ir.Value]:
    """NaN-propagating max/min (`llvm.maximum`) that may pick either zero of -0.0 and +0.0:
    the sign-of-zero ordering costs a dependent blend per step (2x on the fold's latency)
    and neither TF1's kernels nor numpy promise it."""
    def combine(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
        fn = declare(kc.module, f"llvm.{name}.{x.type.intrinsic_name}", x.type, [x.type, x.type])
        return b.call(fn, [x, y], fastmath=("nsz",))
    return combine


def float_sum(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    """x + y for a float reduction: reassociable, so the fold vectorises."""
    return b.fadd(x, y, flags=FLOAT_SUM)


def constant(dtype: ElemType, value) -> ir.Constant:
    return ir.Constant(reg_type(dtype), float(value) if dtype.is_float else int(value))


@dataclass(frozen=True)
class Reducer:
    """One reduction's fold in registers: from `start`, `step(b, element, acc)` folds one
    element in; `finish(b, acc)` is the result in the result dtype (a mean divided), with
    acc None for an empty reduction. Shared by the reduction kernels and row fusion."""

    start: ir.Value
    step: Callable[[ir.IRBuilder, ir.Value, ir.Value], ir.Value]
    finish: Callable[[ir.IRBuilder, ir.Value | None], ir.Value]


def reducer(kc: KernelCtx, op: Operation, count: int) -> Reducer:
    """The fold of reduction `op` (Sum ... All) over `count` elements."""
    dtype = op.operands[0].type.dtype
    wide = mean_accumulator_dtype if op.name == "lf.reduce_mean" else accumulator_dtype
    acc = elem_type_of(wide(dtype.np_dtype))
    identity = identity_element(op.name, dtype.np_dtype)
    if acc.is_float and op.name in ("lf.reduce_sum", "lf.reduce_mean"):
        combine, start = float_sum, constant(acc, -0.0)  # -0.0 + x == x, also for x == -0.0
    elif acc.is_float and op.name in FLOAT_EXTREME:
        combine, start = float_extreme(kc, FLOAT_EXTREME[op.name]), constant(acc, identity)
    else:
        combine, start = scalar_op(kc, COMBINE[op.name], acc), constant(acc, identity)

    def step(b: ir.IRBuilder, value: ir.Value, a: ir.Value) -> ir.Value:
        return combine(b, a, convert(kc, b, value, dtype, acc))

    def finish(b: ir.IRBuilder, a: ir.Value | None) -> ir.Value:
        value = constant(acc, identity) if a is None else a
        if op.name == "lf.reduce_mean" and (acc.is_float or count):
            value = scalar_op(kc, "lf.div", acc)(b, value, constant(acc, count))
        return convert(kc, b, value, acc, dtype)

    return Reducer(start, step, finish)


def lower_sparse_xent(kc: KernelCtx, op: Operation) -> None:
    """SparseSoftmaxCrossEntropyWithLogits, one row at a time: fold the max, fold the sum of
    exp(x - max), then log(sum) - (x[label] - max); a label outside [0, classes) fails the
    step with `LABEL_RANGE` (TF1's CPU kernel raises InvalidArgumentError)."""
    (logits, labels), out = kc.operands, kc.results[0]
    dtype, rows, classes = logits.type.dtype, out.type.size, logits.type.shape[-1]
    acc = elem_type_of(accumulator_dtype(dtype.np_dtype))
    ctx = ScalarCtx(kc.module, [acc], acc)
    maximum = scalar_op(kc, "lf.max", acc)
    b = kc.b

    def element(offset: ir.Value) -> ir.Value:
        return convert(kc, b, load_elem(b, logits.ptr, offset, dtype), dtype, acc)

    def row(r: ir.Value) -> None:
        label = load_elem(b, labels.ptr, r, labels.type.dtype)
        label = label if labels.type.dtype.bits == 64 else b.sext(label, I64)
        valid = b.and_(b.icmp_signed(">=", label, ir.Constant(I64, 0)),
                       b.icmp_signed("<", label, ir.Constant(I64, classes)))
        kc.error_if(b, b.not_(valid), LABEL_RANGE)
        if classes == 0:  # every label is invalid
            return
        base = b.mul(r, ir.Constant(I64, classes), flags=("nuw", "nsw"))
        def at(k: ir.Value) -> ir.Value:
            return element(offset(b, base, (k, 1)))
        (peak,) = fold_range(b, classes, [constant(acc, float("-inf"))], lambda k, a: [maximum(b, a[0], at(k))])
        (total,) = fold_range(b, classes, [constant(acc, -0.0)], lambda k, a: [
            float_sum(b, a[0], ctx.intrinsic(b, "exp", b.fsub(at(k), peak)))])
        picked = at(b.select(valid, label, ir.Constant(I64, 0)))  # never read out of bounds
        loss = b.fsub(ctx.intrinsic(b, "log", total), b.fsub(picked, peak))
        store_elem(b, convert(kc, b, loss, acc, dtype), out.ptr, r, dtype)

    if rows:
        for_range(b, rows, row, name="row")


KERNEL_LOWERINGS["lf.sparse_softmax_xent"] = lower_sparse_xent
