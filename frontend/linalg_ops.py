"""TF1 matrix products: `tf.matmul` (also Tensor's `@`), `tf.linalg.matmul`.

As in TF1 1.15, operands of rank 2 make a "MatMul" op and anything else (rank > 2
or unknown) a "BatchMatMulV2" with numpy-style batch broadcasting; both are the IR
op "lf.matmul" (`lowerflow/ir/ops/linalg.py`). Adjoints equal transposes for the
real dtypes lowerflow supports; the sparsity hints only change TF's kernel choice.
"""
from __future__ import annotations

from lowerflow.frontend.core_ops import convert_operands
from lowerflow.frontend.graph import Tensor
from lowerflow.frontend.reduction_ops import apply_unknown_rank


def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False, adjoint_a: bool = False,
           adjoint_b: bool = False, a_is_sparse: bool = False, b_is_sparse: bool = False,
           name: str | None = None) -> Tensor:
    """a @ b over the last two dims, each optionally transposed."""
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    a, b = convert_operands([a, b])
    ranks = [t.shape.ndims for t in (a, b)]
    op_type = "BatchMatMulV2" if any(r is None or r > 2 for r in ranks) else "MatMul"
    attrs = {"transpose_a": bool(transpose_a or adjoint_a), "transpose_b": bool(transpose_b or adjoint_b)}
    return apply_unknown_rank(op_type, [a, b], attrs, name or "MatMul", 2)
