"""The GEMM family at the loop level: "lf.matmul", the convolutions and their output fusions
as calls of named micro-kernels (`ir/ops/loop_micro.py`), the epilogues as loop IR (cf.
BLIS and oneDNN: blocked, packed, threaded kernels written by hand, called from the
compiler's own loops; XLA's CPU backend calling Eigen's contraction from its emitted code).

- "lf.matmul" is one "loop.call_kernel" {name = "gemm", transpose_a, transpose_b} on the
  result and operand buffers; "lf.conv2d", "lf.conv2d_backprop_input" and
  "lf.conv2d_backprop_filter" one call of the micro-kernel of their name, with their
  attributes. The kernels keep their blocking, packing and thread tickets inside: the
  packed GEMM's scheme (tickets that pack B, then row tickets each waiting only for the
  panels they read) has no barrier to cut it at, so its loops do not come up to this level.
- "lf.matmul_fusion" of one matrix of at least FUSED_COLUMNS columns, and
  "lf.conv2d_fusion": one "loop.call_fused" of the micro-kernel, the epilogue as its region
  of "loop.scalar"s: the backend applies it to each block of output rows the kernel has
  just computed, on that thread, while the block is in cache (Grappler's _FusedConv2D; a
  nest after the call is one more pass over the whole product, partly in the other core's
  cache: the MLP's bias + relu layers, 1.17-1.19x numpy that way, 1.20-1.21x fused).
- Any other "lf.matmul_fusion" (a batch, or narrow rows): the "gemm" call into the first
  result buffer, then the epilogue as the elementwise nest (`loop_build.elementwise_nest`) over the product's shape,
  loading each product element from that buffer and each operand the epilogue reads at its
  broadcast strides, and storing every yielded value (the first in place: each point is
  read before it is written); its outer loop may split across threads.
"""
from __future__ import annotations

from math import prod

from lowerflow.ir.buffers import OFFSET_ATTR
from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import compute_scalars, elementwise_nest, empty_kernel
from lowerflow.ir.ops.fusion import CONV_FUSION, MATMUL_FUSION, fusion_parts
from lowerflow.ir.ops.loop import CALL_FUSED, CALL_KERNEL

#: the micro-kernel each tensor op calls
MICRO = {"lf.matmul": "gemm", "lf.conv2d": "conv2d", "lf.conv2d_backprop_input": "conv2d_backprop_input",
         "lf.conv2d_backprop_filter": "conv2d_backprop_filter"}
GEMM_OPS = (*MICRO, MATMUL_FUSION, CONV_FUSION)
#: The narrowest product whose epilogue the GEMM applies to its rows: the kernel's row
#: epilogue runs one row at a time, so a row under one vector (the logistic regression's 10
#: classes) stays scalar there, while the nest over the whole product vectorises it (the
#: logistic-regression step measured ~2 µs slower fused).
FUSED_COLUMNS = 16


def _attrs(op: Operation) -> dict:
    return {k: v for k, v in op.attributes.items() if k != OFFSET_ATTR}


def gemm_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of a matmul, a convolution or their output fusion."""
    kernel, outs, ins = empty_kernel(op)
    body = kernel.regions[0]
    if not outs:  # a fusion whose results are all unused: nothing to compute
        pass
    elif op.name in MICRO:
        body.add(CALL_KERNEL, [outs[0], *ins], [], {"name": MICRO[op.name], **_attrs(op)})
    else:
        _fusion(op, body, outs, ins)
    body.add("lf.yield")
    return kernel


def _fusion(op: Operation, body: Block, outs: list[Value], ins: list[Value]) -> None:
    core, epilogue = fusion_parts(op)  # ValueError naming a malformed body
    block = op.regions[0]
    buffer_of = dict(zip(block.args, ins))
    inputs = [buffer_of[v] for v in core.operands]
    yielded = block.terminator.operands
    used = [*(v for e in epilogue for v in e.operands), *yielded]
    read = list(dict.fromkeys(v for v in used if v in buffer_of))  # first-use order
    params, extra = [core.result, *read], [buffer_of[v] for v in read]
    attrs = {"name": MICRO[core.name], **_attrs(core)}
    shape = core.result.type.shape
    if op.name == CONV_FUSION or (len(shape) == 2 and shape[-1] >= FUSED_COLUMNS):
        region = Block([core.result.type.dtype, *(v.type.dtype for v in read)])
        region.add("lf.yield", compute_scalars(region, epilogue, params, yielded, region.args))
        body.add(CALL_FUSED, [*outs, *inputs, *extra], [], {**attrs, "inputs": len(inputs)}, [region])
        return
    body.add(CALL_KERNEL, [outs[0], *inputs], [], attrs)
    if prod(shape) and (epilogue or list(yielded) != [core.result]):
        elementwise_nest(body, shape, [outs[0], *extra], outs,
                         lambda b, loaded: compute_scalars(b, epilogue, params, yielded, loaded))
