"""The "gemm" micro-kernel that MatMul / BatchMatMulV2 ("lf.matmul") calls from its loop
kernel (`ir/loop_lowering_gemm.py`): for float32 matrices of at least `PACKED_FROM`
multiply-adds and 4 rows, the narrow GEMM of `gemm_narrow.py` where it wins (few columns:
`gemm_narrow.handles`), else with 4 columns or more the packed GEMM of `gemm.py`
(transposes included); anything else is a loop nest.

Measured single-thread against OpenBLAS (Zen 4): the loop nest reaches 0.33x at 1024^3
and 0.13x at 32^3, the packed GEMM 1.0x and 0.28x; below 32^3 calls are overhead-bound
either way, and with fewer than 4 rows (a row vector times a matrix) the loop nest's
vectorised rows beat a register tile that is mostly padding (1x1024x1024: 31 vs 8
GFLOP/s). Batches call the GEMM once per matrix; it splits rows across threads when
one product is worth ~100 µs (from ~160^3).

For each batch (broadcast batch dims read through stride 0) and each output row i, the
row C[i, :] is zeroed and then, for k in order, C[i, :] += A[i, k] * B[k, :]: the i-k-j
order, whose inner loop over j walks C (and B unless transposed) contiguously, so LLVM
vectorises it; the multiply-add may contract to an FMA, as TF's Eigen kernels do.
Transposes only change strides. With B transposed, and for float16 (which accumulates in
float32, as the reference specifies), each C[i, j] is instead a dot product over k folded
in a register (i-j-k), reassociable like any float sum.
"""
from __future__ import annotations

from math import prod

from llvmlite import ir

from lowerflow.backend import gemm_narrow, kernels_fused, parallel
from lowerflow.backend.errors import OUT_OF_MEMORY
from lowerflow.backend.gemm import Gemm, emit_gemm
from lowerflow.backend.kernels import KernelCtx
from lowerflow.backend.kernels_reduce import constant, convert, float_sum, fold_range, offset, scalar_op
from lowerflow.backend.lltypes import I32, I64, load_elem, store_elem
from lowerflow.backend.loops import collapse_dims, for_range, loop_nest
from lowerflow.ir import elem_type_of
from lowerflow.ir.ops.linalg import matrix_dims
from lowerflow.ir.ops.reduction import accumulator_dtype

PACKED_FROM = 32 ** 3  # multiply-adds per matrix
NS_PER_MAC = 1 / 40  # the packed kernel's rate at 128^3-256^3 (40-50 GMAC/s; 2 threads: 1.4-1.7x)
NS_PER_MAC_NARROW = 1 / 40  # the narrow kernel's (gemm_narrow.py)


def lower_gemm(kc: KernelCtx, attrs: dict, epilogue=None) -> None:
    """The "gemm" micro-kernel: c = matmul(a, b) on `kc`'s buffers (`attrs`: the transposes),
    then with `epilogue` (a `kernels_loops.Epilogue`, one matrix only) that on each block of
    C's rows the kernel computed, where it computed them (`kernels_fused.row_epilogue`)."""
    (a, bm), c = kc.operands, kc.results[0]
    ta, tb = attrs["transpose_a"], attrs["transpose_b"]
    m, k = matrix_dims(a.type, ta)
    n = matrix_dims(bm.type, tb)[1]
    if prod(c.type.shape) == 0:
        return
    a_ik = (1, m) if ta else (k, 1)  # element strides of A[i, k] along i and along k
    b_kj = (1, k) if tb else (n, 1)
    dtype = c.type.dtype
    acc = elem_type_of(accumulator_dtype(dtype.np_dtype))
    mul, add = scalar_op(kc, "lf.mul", acc), scalar_op(kc, "lf.add", dtype)
    acc_add = float_sum if acc.is_float else scalar_op(kc, "lf.add", acc)
    b = kc.b

    def row_dot(i: ir.Value, base_a: ir.Value, base_b: ir.Value, base_c: ir.Value) -> None:
        """C[i, j] = sum over k of A[i, k] * B[k, j], folded in a register of the accumulator
        type (float32 for float16); reassociable, so contiguous k vectorises."""
        def column(j: ir.Value) -> None:
            def step(kk: ir.Value, accs: list[ir.Value]) -> list[ir.Value]:
                x = load_elem(b, a.ptr, offset(b, base_a, (i, a_ik[0]), (kk, a_ik[1])), dtype)
                y = load_elem(b, bm.ptr, offset(b, base_b, (kk, b_kj[0]), (j, b_kj[1])), dtype)
                return [acc_add(b, accs[0], mul(b, convert(kc, b, x, dtype, acc), convert(kc, b, y, dtype, acc)))]
            (total,) = fold_range(b, k, [constant(acc, -0.0)], step) if k else [constant(acc, 0)]
            store_elem(b, convert(kc, b, total, acc, dtype), c.ptr, offset(b, base_c, (i, n), (j, 1)), dtype)
        for_range(b, n, column, name="j")

    def row_axpy(i: ir.Value, base_a: ir.Value, base_b: ir.Value, base_c: ir.Value) -> None:
        """C[i, :] = 0, then C[i, :] += A[i, k] * B[k, :] for each k."""
        row = offset(b, base_c, (i, n))
        for_range(b, n, lambda j: store_elem(b, constant(dtype, 0), c.ptr, offset(b, row, (j, 1)), dtype), name="z")

        def accumulate(kk: ir.Value) -> None:
            x = load_elem(b, a.ptr, offset(b, base_a, (i, a_ik[0]), (kk, a_ik[1])), dtype)
            b_row = offset(b, base_b, (kk, b_kj[0]))

            def axpy(j: ir.Value) -> None:
                at = offset(b, row, (j, 1))
                y = load_elem(b, bm.ptr, offset(b, b_row, (j, b_kj[1])), dtype)
                store_elem(b, add(b, load_elem(b, c.ptr, at, dtype), mul(b, x, y)), c.ptr, at, dtype)
            for_range(b, n, axpy, name="j")
        if k:
            for_range(b, k, accumulate, name="k")

    # i-k-j streams B's rows; with B transposed or a single column (or float16's wider
    # accumulator) the dot-product order i-j-k reads both operands along k instead
    row = row_dot if tb or n == 1 or acc != dtype else row_axpy
    batch = c.type.shape[:-2]
    dims, strides = collapse_dims(batch, [a.type.shape[:-2], bm.type.shape[:-2], batch])
    sizes = (m * k, k * n, m * n)  # elements per matrix of A, B and C
    strides = [[s * size for s in st] for st, size in zip(strides, sizes)]

    g, registers = Gemm(m, n, k, a_ik, b_kj), kc.target.vector_registers
    narrow = gemm_narrow.handles(g, registers)
    fused = {}
    if epilogue is not None:
        assert not dims, "a fused epilogue takes one matrix"
        extra = [buf.ptr for buf in [*kc.results[1:], *epilogue.buffers]]
        fused = {"epilogue": kernels_fused.row_epilogue(kc, epilogue), "extra": len(extra)}

    def all_rows() -> None:
        """The fused epilogue (if any) on all of C, after a kernel that does not apply it."""
        if fused:
            rows = [c.ptr, *extra, ir.Constant(I64, 0), ir.Constant(I64, m)]
            kc.return_status(b.call(fused["epilogue"], rows))

    if dtype.name == "f32" and m >= 4 and (n >= 4 or narrow) and m * n * k >= PACKED_FROM:
        if narrow:  # its rows are narrower than an epilogue is fused for (FUSED_COLUMNS)
            threads = parallel.threads_for(kc, m * n * k * NS_PER_MAC_NARROW, gemm_narrow.SPLIT_FROM_NS)
            gemm, applied = gemm_narrow.emit_narrow_gemm(kc.module, g, threads, registers), {}
        else:
            threads = parallel.threads_for(kc, m * n * k * NS_PER_MAC)
            gemm, applied = emit_gemm(kc.module, g, threads, registers, **fused), fused

        def per_batch(offsets: list[ir.Value]) -> None:
            ptrs = [b.gep(buf.ptr, [off], source_etype=ir.FloatType(), inbounds=True)
                    for buf, off in zip((a, bm, c), offsets)]
            rc = b.call(gemm, ptrs + (extra if applied else []))
            if applied:  # OUT_OF_MEMORY or the epilogue's status
                kc.return_status(rc)
            else:
                kc.error_if(b, b.icmp_unsigned("!=", rc, ir.Constant(I32, 0)), OUT_OF_MEMORY)
                all_rows()
    else:
        def per_batch(offsets: list[ir.Value]) -> None:
            for_range(b, m, lambda i: row(i, *offsets), name="i")
            all_rows()

    if dims:
        loop_nest(b, dims, strides, per_batch)
    else:
        per_batch([ir.Constant(I64, 0)] * 3)

