"""The kernel of "lf.matmul_fusion", the output fusion of `ir/ops/fusion.py` (XLA's kOutput
fusion); "lf.reduce_fusion" (kInput) goes through the loop level (`ir/loop_lowering.py`).

- "lf.matmul_fusion": the matmul lowering of `kernels_matmul.py` (whichever kernel it picks)
  writes the product into the fusion's first result buffer, then one elementwise loop in the
  same kernel function reads each product element there, evaluates the epilogue and stores
  every yielded value (the first in place). The product needs no buffer of its own; the
  epilogue pass is O(m*n) after the O(m*n*k) product, so it stays on one thread (split
  across threads, the in-place buffer would be two `noalias` parameters of each chunk).
"""
from __future__ import annotations

import copy

from llvmlite import ir
from lowerflow.backend.kernels import (
    KERNEL_LOWERINGS,
    Buffer,
    KernelCtx,
    elementwise_loop,
    scalar_lowering,
)
from lowerflow.ir import Block, Operation, Value
from lowerflow.ir.ops.fusion import MATMUL_FUSION, fusion_parts


def _evaluate(kc: KernelCtx, b: ir.IRBuilder, env: dict[Value, ir.Value], ops: list[Operation]) -> None:
    """Add the register value of every elementwise op of `ops` to `env` (which holds their operands')."""
    for op in ops:
        env[op.result] = kc.scalar(op, [env[v] for v in op.operands], b)


def _view(kc: KernelCtx, results: list[Buffer], operands: list[Buffer], serial: bool = False) -> KernelCtx:
    """`kc` (same function, builder and error flags) seen as a kernel of other buffers."""
    view = copy.copy(kc)
    view.results, view.operands = results, operands
    if serial:
        view.target = kc.target.serial()
    return view


def _parts(op: Operation) -> tuple[Block, Operation, list[Operation]]:
    """(body, core op, elementwise ops) of a consumer fusion; fails on a missing scalar
    lowering even when the kernel would emit nothing."""
    core, elementwise = fusion_parts(op)
    for e in elementwise:
        scalar_lowering(e.name)
    return op.regions[0], core, elementwise


def lower_matmul_fusion(kc: KernelCtx, op: Operation) -> None:
    block, matmul, epilogue = _parts(op)
    if not kc.results:
        return
    buffer_of = dict(zip(block.args, kc.operands))
    host = kc.results[0]  # the product's type (fusion_parts checks every yield has it)
    KERNEL_LOWERINGS["lf.matmul"](_view(kc, [host], [buffer_of[v] for v in matmul.operands]), matmul)
    used = [*(v for e in epilogue for v in e.operands), *block.terminator.operands]
    read = list(dict.fromkeys(v for v in used if v in buffer_of))

    def compute(k: KernelCtx, values: list[ir.Value]) -> list[ir.Value]:
        env = dict(zip([matmul.result, *read], values))
        _evaluate(k, k.b, env, epilogue)
        return [env[v] for v in block.terminator.operands]

    # the product is an operand of the loop as well as its first result (same pointer)
    loop = _view(kc, kc.results, [host, *(buffer_of[v] for v in read)], serial=True)
    elementwise_loop(loop, tuple(host.type.shape), compute, epilogue)


KERNEL_LOWERINGS[MATMUL_FUSION] = lower_matmul_fusion
