"""`lf.mask_positions`: the native count pass of every value-dependent shape
(`ir/ops/dynamic.py`, `frontend/dynamic_lowering.py`).

One loop over the mask stores position i at slot `count` and adds the mask bit to
`count` (branch-free: the slot is at most i, so always in bounds, and a later true element
overwrites what a false one left); a second loop zeroes the slots from `count` on, so the
padding is a valid index for the gathers that read through the positions.
"""
from __future__ import annotations

from llvmlite import ir

from lowerflow.backend.kernels import KERNEL_LOWERINGS, KernelCtx
from lowerflow.backend.kernels_reduce import fold_range
from lowerflow.backend.lltypes import I64, load_elem, store_elem
from lowerflow.backend.loops import for_range
from lowerflow.ir import Operation
from lowerflow.ir.types import I64 as I64_ELEM


def lower_mask_positions(kc: KernelCtx, op: Operation) -> None:
    (mask,), (positions, count) = kc.operands, kc.results
    b, n = kc.b, mask.type.size
    zero = ir.Constant(I64, 0)
    total = zero
    if n:
        def step(i: ir.Value, accs: list[ir.Value]) -> list[ir.Value]:
            store_elem(b, i, positions.ptr, accs[0], I64_ELEM)
            bit = b.zext(load_elem(b, mask.ptr, i, mask.type.dtype), I64)
            return [b.add(accs[0], bit, flags=("nuw", "nsw"))]

        (total,) = fold_range(b, n, [zero], step)

        def pad(i: ir.Value) -> None:
            old = load_elem(b, positions.ptr, i, I64_ELEM)
            store_elem(b, b.select(b.icmp_signed("<", i, total), old, zero), positions.ptr, i, I64_ELEM)

        for_range(b, n, pad, name="pad")
    store_elem(b, total, count.ptr, zero, I64_ELEM)


KERNEL_LOWERINGS["lf.mask_positions"] = lower_mask_positions
