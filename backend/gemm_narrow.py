"""Narrow float32 products (N <= 12 columns): C = A @ B with every lane busy.

Why: the packed GEMM (`gemm.py`) broadcasts A[i, k] against a row of B, so with N = 10
columns in a 16-lane vector 6 lanes of every FMA are padding: the logistic-regression
step's X @ W (256x784x10) took 73 µs and its Xᵀ @ G 95 µs, numpy 49 and 64. Here the
vectors run along the long axis instead, whichever of A's axes is contiguous:

- A contiguous along k (X @ W), the "dot" form: C[i, j] = A[i, :] . Bt[j, :]. RB rows x N
  columns of vector accumulators; per vector of k, RB loads of A and N of Bt (B's columns
  as rows: B itself when it is given transposed, else packed once per call), RB*N FMAs.
  A row's N accumulators are then summed across lanes together by a shuffle tree (11
  adds and 22 shuffles for N = 10, against 40 + 40 one by one) into one vector, C's row.
  Columns come in groups (`_groups`) of at most one vector (and half the accumulators) each:
  in ymm N = 10 is two groups of 5 over blocks of 2 rows, the rows' A vectors reread from L1.
- A contiguous along m (Xᵀ @ G, transpose_a), the "axpy" form: C[m:m+W, j] += A[i, m:m+W]
  * B[i, j] over i. MB vectors of rows x N columns of accumulators; per i, MB loads of A,
  N broadcasts of B, MB*N FMAs; the finished block is scattered into C's rows.
Tails along k (dot) and m (axpy) use masked loads; no operand is read past its end. With
`threads` > 1 one fork splits C's rows (whole register blocks per thread); each element's
sum runs in the same order whatever the split. In the dot form each thread transposes B into
a copy of its own: halves met at a barrier, or one copy that the other core just wrote, left
the 256x784x10 product at 28 µs on 2 threads (one: 29 µs); its own copy, 17.5 µs.
"""
from __future__ import annotations

from llvmlite import ir

from lowerflow.backend import parallel
from lowerflow.backend.errors import OUT_OF_MEMORY
from lowerflow.backend.gemm import Gemm, _c, _elem, _function, _splat
from lowerflow.backend.lltypes import I1, I32, I64, PTR, declare
from lowerflow.backend.loops import counted_loop, for_range

F32 = ir.FloatType()
FM = ("fast",)  # the reduction tree reassociates, as any float sum here may
SPLIT_FROM_NS = 20_000.0
MAX_COLUMNS = 12  # the widest product taken (`handles`)


def lanes(vector_registers: int) -> int:
    """Floats per vector: zmm with AVX-512's 32 registers, else ymm."""
    return 16 if vector_registers >= 32 else 8


def _budget(vector_registers: int) -> int:
    """Vector accumulators a register block may hold: the registers less the loads'."""
    return 24 if vector_registers >= 32 else 12


def handles(g: Gemm, vector_registers: int) -> bool:
    """Whether the narrow kernel takes this product rather than the packed GEMM (or, under 4
    columns, the scalar loop nest, which it always beats: 64x600x3 2.9 against 821 µs).

    Measured one thread, Zen 4, against the packed GEMM: better from a register block of 2
    (N <= 12 in zmm) and K >= 4 vectors (256x784x10 1.4x, 500x200x12 1.2x, 784x500x12
    transposed 4.4x); worse with K under 4 vectors (the lane sums or the scatter per block
    outweigh the FMAs: 500x40x8 0.5x) and at N = 16 (the packed tile is full: 0.7-0.8x).
    In ymm N = 7..12 take two column groups (`_groups`): on Zen 3 (AVX2), one thread,
    256x784x10 55 against the packed GEMM's 96 µs (its 6x16 tile), transposed 784x256x10
    64 against 117 (numpy 48 and 50)."""
    w = lanes(vector_registers)
    return g.n < 4 or (g.n <= MAX_COLUMNS and g.k >= 4 * w)


def _groups(n: int, vector_registers: int) -> tuple[list[tuple[int, int]], int]:
    """C's columns as (first, count) groups of at most one vector and half the accumulator
    budget each, balanced, and the rows (dot) or row vectors (axpy) of a register block: as
    many as keep RB times a group's columns of accumulators within the budget, at most 4. A
    block computes its groups one after the other, its rows of A staying in L1 between them."""
    cap = min(lanes(vector_registers), _budget(vector_registers) // 2)
    count = -(-n // cap)
    sizes = [n // count + (i < n % count) for i in range(count)]
    firsts = [sum(sizes[:i]) for i in range(count)]
    return list(zip(firsts, sizes)), max(1, min(4, _budget(vector_registers) // sizes[0]))


def _mask(b: ir.IRBuilder, count: ir.Value | int, w: int, first: int = 0) -> ir.Value:
    """<w x i1>: lane l is set when first + l < count."""
    idx = ir.Constant(ir.VectorType(I64, w), [first + lane for lane in range(w)])
    if isinstance(count, int):
        return ir.Constant(ir.VectorType(I1, w), [first + lane < count for lane in range(w)])
    return b.icmp_signed("<", idx, _splat(b, count, w))


def _masked_load(b: ir.IRBuilder, ptr: ir.Value, mask: ir.Value, w: int) -> ir.Value:
    v = ir.VectorType(F32, w)
    fn = declare(b.module, f"llvm.masked.load.v{w}f32.p0", v, [PTR, I32, mask.type, v])
    return b.call(fn, [ptr, ir.Constant(I32, 4), mask, ir.Constant(v, [0.0] * w)])


def _fma(b: ir.IRBuilder, x: ir.Value, y: ir.Value, acc: ir.Value) -> ir.Value:
    w = x.type.count
    v = ir.VectorType(F32, w)
    return b.call(declare(b.module, f"llvm.fma.v{w}f32", v, [v, v, v]), [x, y, acc])


def lane_sums(b: ir.IRBuilder, vectors: list[ir.Value], w: int) -> ir.Value:
    """One vector whose lane j is the sum of the lanes of vectors[j] (len <= w; lanes past
    it are 0). Each level halves the lanes every source occupies: pairs of vectors become
    one, the lower halves of each source's segments added to the upper halves."""
    zero = ir.Constant(ir.VectorType(F32, w), [0.0] * w)
    half = w // 2
    while half:
        if len(vectors) % 2:
            vectors = vectors + [zero]
        segs = w // (2 * half)  # segments (one per source) in each input vector

        def pick(offset: int) -> ir.Constant:
            lanes_ = [src * w + s * 2 * half + offset + lane for src in (0, 1)
                      for s in range(segs) for lane in range(half)]
            return ir.Constant(ir.VectorType(I32, w), lanes_)
        vectors = [b.fadd(b.shuffle_vector(x, y, pick(0)), b.shuffle_vector(x, y, pick(half)), flags=FM)
                   for x, y in zip(vectors[::2], vectors[1::2])]
        half //= 2
    return vectors[0] if vectors else zero


def _dot_rows(m: ir.Module, g: Gemm, w: int, rb: int, ldbt: int, groups: list[tuple[int, int]]) -> ir.Function:
    """`void rows(a, bt, c)`: rb rows of C from rb rows of A (row stride a_strides[0]) and
    the N rows of Bt (row stride ldbt), one column group after the other."""
    fn, b = _function(m, f"gemm_narrow.dot{rb}", ir.VoidType(), [PTR, PTR, PTR])
    a, bt, c = fn.args
    n, k, lda = g.n, g.k, g.a_strides[0]
    vt = ir.VectorType(F32, w)
    zero = ir.Constant(vt, [0.0] * w)

    def step(off: ir.Value, accs: list[ir.Value], mask: ir.Value | None, j0: int, nj: int) -> list[ir.Value]:
        def load(ptr: ir.Value) -> ir.Value:
            return b.load(ptr, typ=vt, align=4) if mask is None else _masked_load(b, ptr, mask, w)
        av = [load(_elem(b, a, b.add(_c(r * lda), off))) for r in range(rb)]
        new = list(accs)
        for j in range(nj):
            bv = load(_elem(b, bt, b.add(_c((j0 + j) * ldbt), off)))
            for r in range(rb):
                new[r * nj + j] = _fma(b, av[r], bv, accs[r * nj + j])
        return new

    mstore = declare(m, f"llvm.masked.store.v{w}f32.p0", ir.VoidType(), [vt, PTR, I32, ir.VectorType(I1, w)])
    for j0, nj in groups:
        accs = for_range(b, k // w, lambda t, ac: step(b.mul(t, _c(w)), ac, None, j0, nj), "t", [zero] * (rb * nj))
        if k % w:
            accs = step(_c(k - k % w), accs, _mask(b, k % w, w), j0, nj)
        for r in range(rb):
            row = lane_sums(b, accs[r * nj:(r + 1) * nj], w)
            b.call(mstore, [row, _elem(b, c, _c(r * n + j0)), ir.Constant(I32, 4), _mask(b, nj, w)])
    b.ret_void()
    return fn


def _axpy_cols(m: ir.Module, g: Gemm, w: int, mb: int, partial: bool, groups: list[tuple[int, int]]) -> ir.Function:
    """`void cols(a, bm, c, count)`: C's rows [m0, m0 + min(count, mb*w)) (`a` and `c` point
    at row m0's first element of A's rows and of C) over every i, one column group after
    the other. Only a `partial` block masks its loads and stores: a whole one keeps masks
    out of the loop, where they would take vector ALU slots from the FMAs."""
    fn, b = _function(m, f"gemm_narrow.axpy{mb}", ir.VoidType(), [PTR, PTR, PTR, I64])
    a, bm, c, count = fn.args
    n, k = g.n, g.k
    sa_i = g.a_strides[1]  # A[i, m] at i*sa_i + m: contiguous along m
    sb_i, sb_j = g.b_strides
    vt = ir.VectorType(F32, w)
    masks = [_mask(b, count if partial else mb * w, w, v * w) for v in range(mb)]

    def load(ptr: ir.Value, v: int) -> ir.Value:
        return _masked_load(b, ptr, masks[v], w) if partial else b.load(ptr, typ=vt, align=4)

    def step(i: ir.Value, accs: list[ir.Value], j0: int, nj: int) -> list[ir.Value]:
        av = [load(_elem(b, a, b.add(b.mul(i, _c(sa_i)), _c(v * w))), v) for v in range(mb)]
        new = list(accs)
        for j in range(nj):
            bj = _splat(b, b.load(_elem(b, bm, b.add(b.mul(i, _c(sb_i)), _c((j0 + j) * sb_j))), typ=F32), w)
            for v in range(mb):
                new[v * nj + j] = _fma(b, av[v], bj, accs[v * nj + j])
        return new

    ptrs = ir.VectorType(PTR, w)
    scatter = declare(m, f"llvm.masked.scatter.v{w}f32.v{w}p0", ir.VoidType(), [vt, ptrs, I32, masks[0].type])
    base = _splat(b, b.ptrtoint(c, I64), w)
    for j0, nj in groups:
        accs = for_range(b, k, lambda i, ac: step(i, ac, j0, nj), "t", [ir.Constant(vt, [0.0] * w)] * (mb * nj))
        for v in range(mb):
            for j in range(nj):
                at = ir.Constant(ir.VectorType(I64, w), [4 * ((v * w + lane) * n + j0 + j) for lane in range(w)])
                b.call(scatter, [accs[v * nj + j], b.inttoptr(b.add(base, at), ptrs), ir.Constant(I32, 4), masks[v]])
    b.ret_void()
    return fn


def _dot(m: ir.Module, g: Gemm, w: int, rb: int, ldbt: int, groups: list[tuple[int, int]]):
    """The rows [lo, hi) loop of the dot form: whole blocks of rb rows, then single rows."""
    full = _dot_rows(m, g, w, rb, ldbt, groups)
    single = _dot_rows(m, g, w, 1, ldbt, groups) if rb > 1 else None

    def rows(bb: ir.IRBuilder, a: ir.Value, bt: ir.Value, c: ir.Value, lo: ir.Value, hi: ir.Value) -> None:
        def call(fn: ir.Function, i: ir.Value) -> None:
            bb.call(fn, [_elem(bb, a, bb.mul(i, _c(g.a_strides[0]))), bt, _elem(bb, c, bb.mul(i, _c(g.n)))])
        split = bb.add(lo, bb.mul(bb.sdiv(bb.sub(hi, lo), _c(rb)), _c(rb)))
        counted_loop(bb, lo, split, lambda i: call(full, i), step=rb, name="i")
        if single is not None:
            counted_loop(bb, split, hi, lambda i: call(single, i), name="i1")
    return rows


def _axpy(m: ir.Module, g: Gemm, w: int, mb: int, groups: list[tuple[int, int]]):
    """The rows [lo, hi) loop of the axpy form: blocks of mb*w rows, then the rest one vector
    of rows at a time (masked: the last may be partial), so no block computes more than
    one vector of padding."""
    whole, single = _axpy_cols(m, g, w, mb, False, groups), _axpy_cols(m, g, w, 1, True, groups)

    def rows(bb: ir.IRBuilder, a: ir.Value, bm: ir.Value, c: ir.Value, lo: ir.Value, hi: ir.Value) -> None:
        def call(cols: ir.Function, m0: ir.Value) -> None:
            bb.call(cols, [_elem(bb, a, m0), bm, _elem(bb, c, bb.mul(m0, _c(g.n))), bb.sub(hi, m0)])
        split = bb.add(lo, bb.mul(bb.sdiv(bb.sub(hi, lo), _c(mb * w)), _c(mb * w)))
        counted_loop(bb, lo, split, lambda m0: call(whole, m0), step=mb * w, name="m")
        counted_loop(bb, split, hi, lambda m0: call(single, m0), step=w, name="m1")
    return rows


def emit_narrow_gemm(m: ir.Module, g: Gemm, threads: int, vector_registers: int) -> ir.Function:
    """`i32 gemm(A, B, C)` for `g` (`handles(g)`, M, N, K >= 1) in module `m`: 0, or
    OUT_OF_MEMORY when B's transposed copy cannot be allocated. Products of the same shape
    and layout in one module share the function."""
    (sa_i, sa_k), (sb_k, sb_j) = g.a_strides, g.b_strides
    name = f"gemm_narrow.{g.m}x{g.k}x{g.n}.a{sa_i}_{sa_k}.b{sb_k}_{sb_j}.t{threads}.r{vector_registers}"
    if name in m.globals:
        return m.globals[name]
    w, (groups, blk) = lanes(vector_registers), _groups(g.n, vector_registers)
    dot = sa_k == 1
    packed = dot and sb_k != 1  # the dot form reads B's columns contiguously: copy them
    bt_floats = -(-g.n * g.k // 16) * 16  # one copy, whole 64-byte lines
    fn, entry = _function(m, name, I32, [PTR, PTR, PTR], captured=threads > 1)
    a, bm, c = fn.args
    b = ir.IRBuilder(fn.append_basic_block("body"))
    free = declare(m, "free", ir.VoidType(), [PTR])
    src = bm
    if packed:
        src = b.call(declare(m, "aligned_alloc", PTR, [I64, I64]), [_c(64), _c(bt_floats * 4 * threads)])
        with b.if_then(b.icmp_unsigned("==", src, ir.Constant(PTR, None))):
            b.ret(ir.Constant(I32, OUT_OF_MEMORY))

    rows = _dot(m, g, w, blk, g.k if packed else sb_j, groups) if dot else _axpy(m, g, w, blk, groups)

    def transpose(bb: ir.IRBuilder, bm_: ir.Value, bt: ir.Value) -> None:
        """Bt[j, k] = B[k, j]: for a C-contiguous B, `w` rows at a time, loaded as one
        vector and split into one vector of each column by shuffles (a scalar loop took
        ~13 µs for 784x10 in a thread's region, where its pointers may alias); the other
        rows one element at a time."""
        whole = g.k // w * w if (sb_k, sb_j) == (g.n, 1) else 0
        if whole:
            def block(kb: ir.Value) -> None:
                kk = bb.mul(kb, _c(w))
                rows_ = bb.load(_elem(bb, bm_, bb.mul(kk, _c(g.n))), typ=ir.VectorType(F32, w * g.n), align=4)
                for j in range(g.n):
                    col = bb.shuffle_vector(rows_, ir.Constant(rows_.type, None),
                                            ir.Constant(ir.VectorType(I32, w), [j + r * g.n for r in range(w)]))
                    bb.store(col, _elem(bb, bt, bb.add(_c(j * g.k), kk)), align=4)
            for_range(bb, whole // w, block, name="pkv")

        def column(kk: ir.Value) -> None:
            for j in range(g.n):
                v = bb.load(_elem(bb, bm_, bb.add(bb.mul(kk, _c(sb_k)), _c(j * sb_j))), typ=F32)
                bb.store(v, _elem(bb, bt, bb.add(_c(j * g.k), kk)))
        counted_loop(bb, _c(whole), _c(g.k), column, name="pk")

    if threads == 1:
        if packed:
            transpose(b, bm, src)
        rows(b, a, src, c, _c(0), _c(g.m))
    else:
        align = blk if dot else w  # whole vectors of rows per thread (whole blocks but for one)

        def span(wb: ir.IRBuilder, tid: ir.Value, n: int, unit: int) -> tuple[ir.Value, ir.Value]:
            """Thread `tid`'s contiguous share of range(n), in multiples of `unit`."""
            nt = parallel.team_size(wb)
            units = wb.sdiv(wb.add(_c(-(-n // unit) - 1), nt), nt)
            lo = wb.mul(wb.mul(tid, units), _c(unit))
            hi = wb.add(lo, wb.mul(units, _c(unit)))
            clamp = lambda v: wb.select(wb.icmp_signed("<", v, _c(n)), v, _c(n))  # noqa: E731
            return clamp(lo), clamp(hi)

        def share(wb: ir.IRBuilder, v: list[ir.Value], team: parallel.Team) -> None:
            """Each thread transposes B into a copy of its own (cheaper than meeting at a
            barrier over halves, or reading a copy another core just wrote), then does its
            rows of C: fixed shares, as a product this small cannot wait for tickets'
            bookkeeping."""
            bt = v[3]
            if packed:
                bt = _elem(wb, v[3], wb.mul(team.tid, _c(bt_floats)))
                transpose(wb, v[1], bt)
            rows(wb, v[0], bt, v[2], *span(wb, team.tid, g.m, align))

        def serial() -> None:  # the fork alone (a congested machine, a forked child)
            if packed:
                transpose(b, bm, src)
            rows(b, a, src, c, _c(0), _c(g.m))
        parallel.fork(b, entry, [a, bm, c, src], threads, share, f"{fn.name}.omp", serial, judged=False)
    if packed:
        b.call(free, [src])
    b.ret(ir.Constant(I32, 0))
    entry.branch(fn.blocks[1])
    return fn
