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


def tensordot(a, b, axes, name: str | None = None) -> Tensor:
    """Contract `axes` of `a` with `axes` of `b` (TF1's tensordot: transpose, reshape, matmul).

    `axes` is an int N (the last N dims of a with the first N of b) or a pair of axis lists.
    Ranks must be known, and contracted dims too; free dims of `a` may be unknown.
    """
    from lowerflow.frontend.array_ops import reshape, transpose  # array ops build on math ops

    a, b = convert_operands([a, b])
    ra, rb = a.shape.ndims, b.shape.ndims
    if ra is None or rb is None:
        raise ValueError("tensordot needs operands of known rank")
    if isinstance(axes, int):
        if axes < 0 or axes > min(ra, rb):
            raise ValueError(f"'axes' must be at most {min(ra, rb)}, got {axes}")
        a_axes, b_axes = list(range(ra - axes, ra)), list(range(axes))
    else:
        a_axes, b_axes = ([x] if isinstance(x, int) else list(x) for x in axes)
        a_axes, b_axes = [i % ra for i in a_axes], [i % rb for i in b_axes]
    if len(a_axes) != len(b_axes):
        raise ValueError(f"Different number of contraction axes 'a' and 'b', {len(a_axes)} != {len(b_axes)}.")
    sa, sb = a.shape.as_list(), b.shape.as_list()
    for i, j in zip(a_axes, b_axes):
        if None not in (sa[i], sb[j]) and sa[i] != sb[j]:
            raise ValueError(f"Dimensions must be equal, but are {sa[i]} and {sb[j]} for tensordot")
    free_a = [i for i in range(ra) if i not in a_axes]
    free_b = [i for i in range(rb) if i not in b_axes]
    if any(sb[i] is None for i in free_b + b_axes):
        raise ValueError("tensordot needs the dims of 'b' to be known")
    k = _prod([sb[j] for j in b_axes])
    n = _prod([sb[i] for i in free_b])
    a2 = reshape(transpose(a, free_a + a_axes), [-1, k])
    b2 = reshape(transpose(b, b_axes + free_b), [k, n])
    out_a = [sa[i] if sa[i] is not None else -1 for i in free_a]
    return reshape(matmul(a2, b2), out_a + [sb[i] for i in free_b], name=name or "Tensordot")


def _prod(dims: list[int]) -> int:
    n = 1
    for d in dims:
        n *= d
    return n
