"""ArgMax/ArgMin and the sparse softmax cross entropy as kernels, and the fold pieces the
loop level's reductions (`kernels_loops.py`), row fusions and the GEMM share (cf. XLA's
reduction emitter, much simplified).

Sum ... All go through the loop level (`ir/loop_lowering.py`; their loop nest is the one
these kernels used). What they and the kernels here share: `fold_range` (accumulators in
phis, bottom-tested), `float_sum` (`fadd reassoc`: float sums may reassociate so LLVM
vectorises them, as TF's Eigen kernels do) and `float_extreme` (`llvm.maximum`/`minimum`
with `nsz`: NaN propagates, either zero may win a tie of -0.0 and +0.0, which neither TF1
nor numpy promises): the two liberties a reduction takes; products fold in order, integers
wrap; float16 accumulates in float32. `Reducer` is one reduction's fold for row fusion.
Semantics, empty reductions included, are those of `lowerflow/ir/ops/reduction.py`.

ArgMax/ArgMin run one loop nest over the output and fold, per output element, the value
and index of the best element so far (`reduce_loops` over a `ReduceInput`). They stay
direct: their fold carries a value and an index and compares with a strict ordered
predicate, which the loop level would express as compare + two selects + an index-to-int
conversion it has no op for yet.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod

from llvmlite import ir
from lowerflow.backend.errors import LABEL_RANGE
from lowerflow.backend.kernels import KERNEL_LOWERINGS, Buffer, KernelCtx
from lowerflow.backend.lltypes import I64, declare, load_elem, reg_type, store_elem
from lowerflow.backend.loops import for_range, loop_nest
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


def nontrivial(dims: Sequence[int], strides: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """`dims` without its size-1 dims (no loop needed), with each access's strides."""
    keep = [d for d, n in enumerate(dims) if n != 1]
    return [dims[d] for d in keep], [[st[d] for d in keep] for st in strides]


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


def fold_nest(b: ir.IRBuilder, dims: Sequence[int], strides: Sequence[Sequence[int]], base: list[ir.Value],
              init: list[ir.Value], step: Callable[[list[ir.Value], list[ir.Value]], list[ir.Value]]
              ) -> list[ir.Value]:
    """Fold `step(offsets, accs)` over every point of `dims` (all >= 1) in order, where
    offsets[a] = base[a] + sum(i_k * strides[a][k]) for each access a."""
    def level(k: int, at: list[ir.Value], accs: list[ir.Value]) -> list[ir.Value]:
        if k == len(dims):
            return step(at, accs)
        return fold_range(b, dims[k], accs, lambda i, a: level(
            k + 1, [offset(b, o, (i, st[k])) for o, st in zip(at, strides)], a))
    return level(0, base, init)


@dataclass(frozen=True)
class ReduceInput:
    """Where a reduction's elements come from: `shape` is the reduced tensor's, `strides[a]`
    access a's element strides over it (0 where it broadcasts), `load(b, offsets)` one element
    from the accesses' offsets."""

    shape: tuple[int, ...]
    strides: list[list[int]]
    load: Callable[[ir.IRBuilder, list[ir.Value]], ir.Value]


def buffer_input(buf: Buffer) -> ReduceInput:
    """The elements of one C-contiguous operand buffer."""
    return ReduceInput(tuple(buf.type.shape), [contiguous_strides(buf.type.shape)],
                       lambda b, offsets: load_elem(b, buf.ptr, offsets[0], buf.type.dtype))


def reduce_loops(kc: KernelCtx, source: ReduceInput, axes: Sequence[int],
                 init: Callable[[list[ir.Value]], list[ir.Value]], step: Fold,
                 finish: Callable[[ir.Value, list[ir.Value] | None], None]) -> None:
    """For each output element (offset `out`, C order over the kept dims): fold `step` over
    the elements of `source` reducing into it, from `init(offsets of the first)`, then
    `finish(out, accs)` stores it; accs is None when there is nothing to fold."""
    shape = source.shape
    kept = [d for d in range(len(shape)) if d not in axes]
    kept_shape = [shape[d] for d in kept]
    if prod(kept_shape) == 0:
        return
    outer, (*in_outer, out_outer) = nontrivial(kept_shape, [*([st[d] for d in kept] for st in source.strides),
                                                            contiguous_strides(kept_shape)])
    inner, in_inner = nontrivial([shape[d] for d in axes], [[st[d] for d in axes] for st in source.strides])
    b = kc.b
    empty = prod(shape[d] for d in axes) == 0

    def fold(offsets: list[ir.Value], accs: list[ir.Value]) -> list[ir.Value]:
        return step(b, source.load(b, offsets), accs)

    def body(offsets: list[ir.Value]) -> None:
        *src, out = offsets
        finish(out, None if empty else fold_nest(b, inner, in_inner, src, init(src), fold))

    if outer:
        loop_nest(b, outer, [*in_outer, out_outer], body)
    else:
        body([ir.Constant(I64, 0)] * (len(source.strides) + 1))


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


def lower_arg_extreme(kc: KernelCtx, op: Operation) -> None:
    """ArgMax/ArgMin along `axis`: the first index of the extreme. Floats start from -inf
    (argmax) or +inf (argmin) at index 0 and move only to a strictly better value, so NaN
    never wins, as in TF's kernel."""
    x, out = kc.operands[0], kc.results[0]
    source = buffer_input(x)
    dtype = x.type.dtype
    axis = op.attributes["axis"] % x.type.rank
    better = ">" if op.name == "lf.argmax" else "<"

    def step(b: ir.IRBuilder, v: ir.Value, accs: list[ir.Value]) -> list[ir.Value]:
        best, best_i, i = accs
        if dtype.is_float:
            wins = b.fcmp_ordered(better, v, best)
        else:
            wins = (b.icmp_signed if dtype.is_signed else b.icmp_unsigned)(better, v, best)
        nxt = b.add(i, ir.Constant(I64, 1), flags=("nuw", "nsw"))
        return [b.select(wins, v, best), b.select(wins, i, best_i), nxt]

    def init(src: list[ir.Value]) -> list[ir.Value]:
        first = constant(dtype, float("-inf" if better == ">" else "inf")) if dtype.is_float \
            else source.load(kc.b, src)
        return [first, ir.Constant(I64, 0), ir.Constant(I64, 0)]

    def finish(offset: ir.Value, accs: list[ir.Value] | None) -> None:
        index = accs[1]
        if out.type.dtype.bits < 64:
            index = kc.b.trunc(index, reg_type(out.type.dtype))
        store_elem(kc.b, index, out.ptr, offset, out.type.dtype)

    reduce_loops(kc, source, [axis], init, step, finish)


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


KERNEL_LOWERINGS["lf.argmax"] = lower_arg_extreme
KERNEL_LOWERINGS["lf.argmin"] = lower_arg_extreme
KERNEL_LOWERINGS["lf.sparse_softmax_xent"] = lower_sparse_xent
