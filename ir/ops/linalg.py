"""Matrix products: TF1's MatMul, BatchMatMul and BatchMatMulV2 as one op, "lf.matmul".

Operands have rank >= 2; the last two dims are the matrices (transposed first
when `transpose_a`/`transpose_b` is set), leading dims are batch dims that
broadcast like numpy's (BatchMatMulV2; MatMul is the rank-2 case). Build-time
errors keep TF1's shape-function wording, e.g. "Dimensions must be equal, but
are 3 and 4", to which the frontend appends the op and its input shapes.
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.opdef import PURE, GradOp, OpDef, broadcast_shapes, register
from lowerflow.ir.ops.reduction import accumulator_dtype
from lowerflow.ir.types import TensorType

_KINDS = ("float", "int")


def matrix_dims(t: TensorType, transpose: bool) -> tuple:
    """(rows, cols) of the matrices of `t` as the product sees them."""
    rows, cols = t.shape[-2:]
    return (cols, rows) if transpose else (rows, cols)


def _infer(types, attrs):
    a, b = types
    if a.dtype != b.dtype:  # TF checks the op's types before its shape function runs
        raise TypeError(f"Input 'b' of 'MatMul' Op has type {b.dtype.np_name} that does not match "
                        f"type {a.dtype.np_name} of argument 'a'.")
    if a.dtype.kind not in _KINDS:
        raise TypeError(f"Value passed to parameter 'a' has DataType {a.dtype.np_name} not in list of "
                        "allowed values: float16, float32, float64, int32, int64")
    batched = max(a.rank, b.rank) > 2  # MatMul's shape function wants rank 2 exactly
    for t in types:
        if t.rank < 2:
            raise ValueError(f"Shape must be {'at least ' if batched else ''}rank 2 but is rank {t.rank}")
    m, k = matrix_dims(a, attrs["transpose_a"])
    k2, n = matrix_dims(b, attrs["transpose_b"])
    if k is not None and k2 is not None and k != k2:
        raise ValueError(f"Dimensions must be equal, but are {k} and {k2}")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return [TensorType(batch + (m, n), a.dtype)]


def _reference(args, attrs):
    a, b = args
    if attrs["transpose_a"]:
        a = np.swapaxes(a, -1, -2)
    if attrs["transpose_b"]:
        b = np.swapaxes(b, -1, -2)
    acc = accumulator_dtype(a.dtype)  # float16 products accumulate in float32
    with np.errstate(all="ignore"):
        return [np.matmul(a.astype(acc, copy=False), b.astype(acc, copy=False))]


def _grad(e, op: GradOp, grads):
    """TF's _MatMulGrad: products of the gradient with the other operand, transposed through
    the GEMM's flags (no transpose is materialised); batch broadcasting summed back."""
    (a, b), g = op.inputs, grads[0]
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]

    def mm(x, y, tx, ty):
        return e("lf.matmul", x, y, transpose_a=tx, transpose_b=ty)

    if not ta and not tb:
        ga, gb = mm(g, b, False, True), mm(a, g, True, False)
    elif not ta:
        ga, gb = mm(g, b, False, False), mm(g, a, True, False)
    elif not tb:
        ga, gb = mm(b, g, False, True), mm(a, g, False, False)
    else:
        ga, gb = mm(b, g, True, True), mm(g, a, True, True)
    if len(e.shape(a) or ()) == len(e.shape(b) or ()) == 2:
        return [ga, gb]
    return [e("lf.sum_to", ga, a), e("lf.sum_to", gb, b)]


register(OpDef("lf.matmul", _infer, _reference, ("MatMul", "BatchMatMul", "BatchMatMulV2"),
               frozenset({PURE}), ("transpose_a", "transpose_b"), grad=_grad))
