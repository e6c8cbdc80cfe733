"""The "conv2d" micro-kernel with its epilogue: what "loop.call_fused" {name = "conv2d"} (an
"lf.conv2d_fusion", `ir/loop_lowering_gemm.py`) emits; without one it is `kernels_conv.py`'s
forward convolution. And `row_epilogue`, which the "gemm" micro-kernel's fused form uses too
(`kernels_matmul.py`).

The convolution of `kernels_conv.py` and the GEMMs take the epilogue as a function of a row
range that the kernel calls on each block of output rows once the block is computed (on the
thread that computed it, while the block is in cache): the bias and relu of Grappler's
_FusedConv2D cost no pass over memory of their own. The function reads each row's product
elements from the first result buffer, each epilogue buffer at its broadcast offset (a
row's part computed once per row, then contiguous or constant along the row), runs the
call's region (its "loop.scalar"s, through the loop emitter) and stores every yielded
value (the first in place). A convolution over no channels zeroes the product and runs the
epilogue over all of it.
"""
from __future__ import annotations

from math import prod

from llvmlite import ir
from lowerflow.backend import kernels_conv, parallel
from lowerflow.backend.lltypes import I32, I64, PTR, load_elem, store_elem
from lowerflow.backend.loops import for_range
from lowerflow.backend.kernels import Buffer, KernelCtx


def row_epilogue(kc: KernelCtx, epilogue) -> ir.Function:
    """`i32 epi(results..., epilogue buffers..., lo, hi)`: the epilogue over rows [lo, hi) of
    the [rows, n] product in the first result."""
    results, operands = kc.results, epilogue.buffers
    shape = tuple(results[0].type.shape)
    n = shape[-1]
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
            values = [load_elem(b, host.ptr, at, host.type.dtype)]
            for buf, base, st in zip(ekc.operands, bases, strides):
                values.append(load_elem(b, buf.ptr, b.add(base, b.mul(j, ir.Constant(I64, st[-1]))), buf.type.dtype))
            for buf, v in zip(ekc.results, epilogue.apply(ekc, values)):
                store_elem(b, v, buf.ptr, at, buf.type.dtype)
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


def lower_conv2d(kc: KernelCtx, attrs: dict, epilogue=None) -> None:
    """The "conv2d" micro-kernel, with `epilogue` (a `kernels_loops.Epilogue`) when fused."""
    if epilogue is None:
        kernels_conv.lower_conv2d(kc, attrs)
        return
    kernels_conv.require_float32(kc, "lf.conv2d")
    (x, f), host = kc.operands, kc.results[0]
    g = kernels_conv.forward_geometry(attrs, x.type.shape, f.type.shape, host.type.shape)
    if not prod(host.type.shape):
        return
    fn = row_epilogue(kc, epilogue)
    buffers = [*kc.results, *epilogue.buffers]
    if g.k == 0:  # a product of zeros, then the epilogue over every row
        kernels_conv.call(kc, kernels_conv.emit_conv, g, [x, f, host])
        rows = ir.Constant(I64, prod(host.type.shape[:-1]))
        kc.return_status(kc.b.call(fn, [buf.ptr for buf in buffers] + [ir.Constant(I64, 0), rows]))
        return
    kernels_conv.call(kc, kernels_conv.emit_conv, g, [x, f, *buffers], epilogue=fn,
                      extra=len(buffers) - 1)

