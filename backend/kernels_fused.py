"""The kernel of "lf.matmul_fusion", the output fusion of `ir/ops/fusion.py` (XLA's kOutput
fusion); "lf.reduce_fusion" (kInput) goes through the loop level (`ir/loop_lowering.py`).

- "lf.matmul_fusion": the matmul lowering of `kernels_matmul.py` (whichever kernel it picks)
  writes the product into the fusion's first result buffer, then one elementwise loop in the
  same kernel function reads each product element there, evaluates the epilogue and stores
  every yielded value (the first in place). The product needs no buffer of its own; the
  epilogue pass is O(m*n) after the O(m*n*k) product, so it stays on one thread (split
  across threads, the in-place buffer would be two `noalias` parameters of each chunk).
- "lf.conv2d_fusion": the convolution of `kernels_conv.py` with the epilogue as a function
  of a row range that the kernel calls on each block of output rows once the block is
  computed (on the thread that computed it, while the block is in cache): the bias and
  relu of Grappler's _FusedConv2D cost no pass over memory of their own.
"""
from __future__ import annotations

import copy
from math import prod

from llvmlite import ir
from lowerflow.backend import kernels_conv, parallel
from lowerflow.backend.lltypes import I32, I64, PTR, load_elem, store_elem
from lowerflow.backend.loops import for_range
from lowerflow.backend.kernels import (
    KERNEL_LOWERINGS,
    Buffer,
    KernelCtx,
    elementwise_loop,
    scalar_lowering,
)
from lowerflow.ir import Block, Operation, Value
from lowerflow.ir.ops.fusion import CONV_FUSION, MATMUL_FUSION, fusion_parts


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
    _in_place(kc, op)


def _in_place(kc: KernelCtx, op: Operation) -> None:
    """The core op's kernel into the first result buffer, then the epilogue over it."""
    block, core, epilogue = _parts(op)
    if not kc.results:
        return
    buffer_of = dict(zip(block.args, kc.operands))
    host = kc.results[0]  # the product's type (fusion_parts checks every yield has it)
    KERNEL_LOWERINGS[core.name](_view(kc, [host], [buffer_of[v] for v in core.operands]), core)
    read = _read(block, epilogue, buffer_of)

    def compute(k: KernelCtx, values: list[ir.Value]) -> list[ir.Value]:
        env = dict(zip([core.result, *read], values))
        _evaluate(k, k.b, env, epilogue)
        return [env[v] for v in block.terminator.operands]

    # the product is an operand of the loop as well as its first result (same pointer)
    loop = _view(kc, kc.results, [host, *(buffer_of[v] for v in read)], serial=True)
    elementwise_loop(loop, tuple(host.type.shape), compute, epilogue)


def _read(block: Block, epilogue: list[Operation], buffer_of: dict) -> list[Value]:
    """The fusion's operands the epilogue reads, in first-use order."""
    used = [*(v for e in epilogue for v in e.operands), *block.terminator.operands]
    return list(dict.fromkeys(v for v in used if v in buffer_of))


KERNEL_LOWERINGS[MATMUL_FUSION] = lower_matmul_fusion


def _row_epilogue(kc: KernelCtx, block: Block, core: Operation, epilogue: list[Operation],
                  read: list[Value], buffers: list[Buffer]) -> ir.Function:
    """`i32 epi(results..., read..., lo, hi)`: the epilogue over rows [lo, hi) of the
    [rows, n] product in the first result; each operand read at its broadcast offset (a
    row's part computed once per row, then contiguous or constant along the row)."""
    shape = tuple(core.result.type.shape)
    n, results, operands = shape[-1], kc.results, buffers
    fn = ir.Function(kc.module, ir.FunctionType(I32, [PTR] * (len(results) + len(operands)) + [I64] * 2),
                     kc.module.get_unique_name(f"{kc.fn.name}.epilogue"))
    fn.linkage = "internal"
    for a in fn.args[len(results):-2]:
        a.add_attribute("noalias")
    ekc = KernelCtx(fn, [Buffer(a, r.type) for a, r in zip(fn.args, results)],
                    [Buffer(a, o.type) for a, o in zip(fn.args[len(results):], operands)])
    b = ekc.b
    lo, hi = fn.args[-2:]
    host = ekc.results[0]
    strides = [_broadcast_strides(buf.type.shape, shape) for buf in ekc.operands]

    def row(i: ir.Value) -> None:
        coords, rest = [], i
        for size in reversed(shape[:-1]):
            coords.append(b.urem(rest, ir.Constant(I64, size)))
            rest = b.udiv(rest, ir.Constant(I64, size))
        coords.reverse()
        bases = [_dot(b, coords, st[:-1]) for st in strides]

        def column(j: ir.Value) -> None:
            at = b.add(b.mul(i, ir.Constant(I64, n)), j)
            env = {core.result: load_elem(b, host.ptr, at, host.type.dtype)}
            for v, buf, base, st in zip(read, ekc.operands, bases, strides):
                env[v] = load_elem(b, buf.ptr, b.add(base, b.mul(j, ir.Constant(I64, st[-1]))), buf.type.dtype)
            _evaluate(ekc, b, env, epilogue)
            for buf, v in zip(ekc.results, block.terminator.operands):
                store_elem(b, env[v], buf.ptr, at, buf.type.dtype)
        for_range(b, n, column, name="j")
    parallel.counted_loop(b, lo, hi, row, name="i")
    ekc.finish()
    return fn


def _broadcast_strides(shape: tuple, full: tuple) -> list[int]:
    """Element strides of a C-contiguous `shape` broadcast (numpy's rules) to `full`."""
    shape = (1,) * (len(full) - len(shape)) + tuple(shape)
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step if size != 1 else 0)
        step *= size
    return strides[::-1]


def _dot(b: ir.IRBuilder, coords: list[ir.Value], strides: list[int]) -> ir.Value:
    total = ir.Constant(I64, 0)
    for c, s in zip(coords, strides):
        if s:
            total = b.add(total, b.mul(c, ir.Constant(I64, s)))
    return total


def lower_conv2d_fusion(kc: KernelCtx, op: Operation) -> None:
    block, conv, epilogue = _parts(op)
    (x, f), host = (kc.operands[block.args.index(v)] for v in conv.operands), kc.results[0]
    g = kernels_conv.forward_geometry(conv, x.type.shape, f.type.shape, host.type.shape)
    kernels_conv.require_float32(conv)
    if not prod(host.type.shape) or g.k == 0:  # nothing to compute or a product of zeros
        _in_place(kc, op)
        return
    read = _read(block, epilogue, dict(zip(block.args, kc.operands)))
    extra = [kc.operands[block.args.index(v)] for v in read]
    fn = _row_epilogue(kc, block, conv, epilogue, read, extra)
    kernels_conv.call(kc, kernels_conv.emit_conv, g, [x, f, *kc.results, *extra], epilogue=fn,
                      extra=len(kc.results) - 1 + len(extra))


KERNEL_LOWERINGS[CONV_FUSION] = lower_conv2d_fusion
