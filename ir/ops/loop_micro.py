"""The loop level's named micro-kernels (`MICRO_KERNELS`): pieces of code on buffers written by
hand once per target, that "loop.call_kernel" and "loop.call_fused" name (cf. the BLIS
micro-kernel beside its loops, oneDNN's primitives with post-ops). Each has a `check` of its
operand buffers and attributes (TypeError when it does not take them) and a numpy
`reference` (its meaning at this level: it writes its first buffer in place), so the loop
interpreter runs it and the verifier types it.

- "gemm_tile" (c, a, b): c += a @ b over a register tile.
- "gemm" (c, a, b) {transpose_a, transpose_b}: c = "lf.matmul"(a, b) on whole C-contiguous
  buffers, batch dims included (the backend's packed, narrow or loop-nest GEMM, threaded by
  its own tickets: `backend/kernels_matmul.py`).
- "conv2d" (y, x, f), "conv2d_backprop_input" (dx, x, f, dy), "conv2d_backprop_filter"
  (df, x, dy) {strides, dilations, explicit_paddings[, filter_sizes]}: the tensor op of that
  name on its buffers (the implicit GEMMs of `backend/kernels_conv.py`). "conv2d" also takes
  an epilogue ("loop.call_fused"), which the backend applies to each block of output rows
  as soon as the block is computed.

The coarse kernels are the tensor op's computation on buffers: their check is the op's own
`infer` on the operand buffers' types, their reference the op's reference. They are coarse
because the GEMM's thread scheme (tickets that pack B, then row tickets that each wait only
for the panels they read: `backend/parallel.py`) lives inside them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from lowerflow.ir.opdef import get_op
from lowerflow.ir.types import MemRefType, TensorType


@dataclass(frozen=True)
class MicroKernel:
    """`check(types, attrs)` raises TypeError for buffers or attributes it does not take;
    `reference(buffers, attrs)` writes its meaning into `buffers[0]`; `epilogue`: whether
    "loop.call_fused" may apply an elementwise epilogue to its first buffer."""

    check: Callable[[list, dict], None]
    reference: Callable[[list, dict], None]
    epilogue: bool = False


def _gemm_tile_check(types: list, attrs: dict) -> None:
    if len(types) != 3 or not all(isinstance(t, MemRefType) and t.rank == 2 for t in types):
        raise TypeError("gemm_tile takes three rank-2 memrefs (c, a, b)")
    c, a, b = types
    if len({c.dtype, a.dtype, b.dtype}) != 1 or not c.dtype.is_float:
        raise TypeError("gemm_tile needs one float dtype")
    if (a.shape[0], b.shape[1], a.shape[1]) != (c.shape[0], c.shape[1], b.shape[0]):
        raise TypeError(f"gemm_tile shapes do not chain: c {c.shape}, a {a.shape}, b {b.shape}")


def _gemm_tile(bufs: list, attrs: dict) -> None:
    c, a, b = bufs
    c += a @ b


def tensor_op_kernel(op_name: str, epilogue: bool = False) -> MicroKernel:
    """The micro-kernel computing tensor op `op_name` from C-contiguous buffers (inputs in the
    op's operand order) into the first one, with the op's attributes."""
    def check(types: list, attrs: dict) -> None:
        opdef = get_op(op_name)
        if len(types) < 2 or not all(isinstance(t, MemRefType) and t.is_contiguous for t in types):
            raise TypeError(f"{op_name} kernel takes C-contiguous memrefs (result, operands...), got "
                            f"({', '.join(map(str, types))})")
        missing = [k for k in opdef.attrs if k not in attrs]
        if missing:
            raise TypeError(f"{op_name} kernel needs attribute(s) {', '.join(missing)}")
        try:
            (want,) = opdef.infer([TensorType(t.shape, t.dtype) for t in types[1:]], attrs)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{op_name} kernel: {e}") from None
        if (tuple(want.shape), want.dtype) != (tuple(types[0].shape), types[0].dtype):
            raise TypeError(f"{op_name} kernel writes {want}, not {types[0]}")

    def reference(bufs: list, attrs: dict) -> None:
        bufs[0][...] = get_op(op_name).reference([np.asarray(b) for b in bufs[1:]], attrs)[0]

    return MicroKernel(check, reference, epilogue)


MICRO_KERNELS: dict[str, MicroKernel] = {
    "gemm_tile": MicroKernel(_gemm_tile_check, _gemm_tile),  # c[m, n] += a[m, k] @ b[k, n] (backend: gemm.py)
    "gemm": tensor_op_kernel("lf.matmul", epilogue=True),
    "conv2d": tensor_op_kernel("lf.conv2d", epilogue=True),
    "conv2d_backprop_input": tensor_op_kernel("lf.conv2d_backprop_input"),
    "conv2d_backprop_filter": tensor_op_kernel("lf.conv2d_backprop_filter"),
}


def micro_kernel(name) -> MicroKernel:
    """The micro-kernel `name`; ValueError naming the known ones if none."""
    try:
        return MICRO_KERNELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown micro-kernel {name!r} (one of {', '.join(MICRO_KERNELS)})") from None
