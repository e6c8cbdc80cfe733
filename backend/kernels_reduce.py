"""The fold pieces the loop level's reductions (`kernels_loops.py`) and the GEMM share
(cf. XLA's reduction emitter, much simplified).

Sum ... All, ArgMax/ArgMin, row fusions and the sparse cross entropy go through the loop
level (`ir/loop_lowering*.py`; their loop nests are the ones the kernels once here used).
What they share: `fold_range` (accumulators in
phis, bottom-tested), `float_sum` (`fadd reassoc`: float sums may reassociate so LLVM
vectorises them, as TF's Eigen kernels do) and `float_extreme` (`llvm.maximum`/`minimum`
with `nsz`: NaN propagates, either zero may win a tie of -0.0 and +0.0, which neither TF1
nor numpy promises): the two liberties a reduction takes; products fold in order, integers
wrap; float16 accumulates in float32.
Semantics, empty reductions included, are those of `lowerflow/ir/ops/reduction.py`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from llvmlite import ir
from lowerflow.backend.kernels import KernelCtx
from lowerflow.backend.lltypes import I64, declare, reg_type
from lowerflow.backend.loops import for_range
from lowerflow.backend.scalar_ops import SCALAR_LOWERINGS, ScalarCtx
from lowerflow.ir import ElemType

FLOAT_SUM = ("reassoc", "contract")  # reassociation: float sums only, so they vectorise


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
